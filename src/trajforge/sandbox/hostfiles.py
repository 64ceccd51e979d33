"""The file API done on the host's folders of a sandbox, safe against links the agent plants.

A path is first resolved as the agent's shell would resolve it (links followed
one by one, an absolute target read as a path inside the sandbox), giving an
area (workspace or home) and the link-free names under it. The file is then
reached by opening one folder after another from the area's root with
`O_NOFOLLOW`: if the agent swaps a folder for a link in between, the open
fails instead of leaving the sandbox. These functions block; the sandbox runs
them in a worker thread.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat as stat_module
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from trajforge.sandbox.base import PathOutsideWorkspace, SandboxError, SandboxInfo
from trajforge.sandbox.files import (
    HOST_ERRNOS,
    LIST_CAP,
    READ_CAP,
    FileContent,
    FileKind,
    FileStat,
    FileTooLarge,
    Listing,
    ListRequest,
    NotARegularFile,
    ReadRequest,
    RemoveRequest,
    WriteRequest,
    WriteResult,
    host_failure,
)

_MAX_LINKS = 40  # as the kernel's own limit on links followed in one lookup
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
_CHUNK = 1 << 20


@dataclass(frozen=True)
class _Area:
    """The workspace or the home: the path commands see and the host's folder."""

    visible: PurePosixPath
    host: Path
    relative_display: bool
    """Paths in it are shown relative (the workspace) rather than absolute (the home)."""


@dataclass(frozen=True)
class _Located:
    area: _Area
    names: tuple[str, ...]
    """Link-free names under the area's root (the last one may be a link when not followed)."""


class HostFiles:
    """File operations on a sandbox's workspace and home as its agent would address them."""

    def __init__(self, info: SandboxInfo, file_cap: int) -> None:
        self._workspace = _Area(info.visible_workspace, info.workspace.resolve(), True)
        self._home = _Area(info.visible_home, info.home.resolve(), False)
        self._uid = info.uid
        self._file_cap = file_cap

    # --- operations -----------------------------------------------------------------------------

    def read(self, request: ReadRequest) -> FileContent:
        """A regular file's bytes (the part asked for, up to the cap)."""
        with _errors(request.path, "reading"):
            spot = self._resolve(request.path)
            fd = self._open_file(spot, os.O_RDONLY, request.path)
            try:
                info = os.fstat(fd)
                _require_regular(info, request.path)
                cap = max(0, min(request.max_bytes, READ_CAP))
                start = max(0, info.st_size + request.offset) if request.offset < 0 else request.offset
                if start:
                    os.lseek(fd, start, os.SEEK_SET)
                chunks, got = [], 0
                while got < cap and (chunk := os.read(fd, min(_CHUNK, cap - got))):
                    chunks.append(chunk)
                    got += len(chunk)
            finally:
                os.close(fd)
            data = b"".join(chunks)
            return FileContent(self._display(spot), data, info.st_size, truncated=info.st_size > len(data))

    def write(self, request: WriteRequest) -> WriteResult:
        """Create or replace (or append to) a regular file owned by the agent's user."""
        data = request.data.encode("utf-8") if isinstance(request.data, str) else request.data
        if len(data) > self._file_cap:
            raise FileTooLarge(
                f"{request.path}: {len(data)} bytes is over the sandbox's limit of {self._file_cap} bytes for one file"
            )
        with _errors(request.path, "writing"):
            spot = self._resolve(request.path)
            if not spot.names:
                raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), request.path)
            folder = self._open_dir(spot.area, spot.names[:-1], create=request.make_parents)
            try:
                created, fd = _open_for_write(folder, spot.names[-1], request)
            finally:
                os.close(folder)
            try:
                _require_regular(os.fstat(fd), request.path)
                if created and self._uid is not None:
                    os.fchown(fd, self._uid, self._uid)
                if request.mode is not None or created:
                    os.fchmod(fd, request.mode if request.mode is not None else 0o644)
                if not request.append:
                    os.ftruncate(fd, 0)
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
            finally:
                os.close(fd)
            return WriteResult(self._display(spot), len(data), created)

    def stat(self, path: str) -> FileStat:
        """The entry `path` names, links followed."""
        with _errors(path, "looking at"):
            spot = self._resolve(path)
            folder = self._open_dir(spot.area, spot.names[:-1])
            try:
                info = os.stat(spot.names[-1] if spot.names else ".", dir_fd=folder, follow_symlinks=False)
            finally:
                os.close(folder)
            return _stat_of(self._display(spot), info)

    def exists(self, path: str) -> bool:
        """Whether `path` names an entry (links followed); False for paths that lead out."""
        try:
            self.stat(path)
        except (FileNotFoundError, NotADirectoryError, PathOutsideWorkspace):
            return False
        return True

    def make_dirs(self, path: str) -> FileStat:
        """Create a folder and its missing parents (owned by the agent's user); an existing folder is fine."""
        with _errors(path, "creating"):
            spot = self._resolve(path)
            os.close(self._open_dir(spot.area, spot.names, create=True))
        return self.stat(path)

    def remove(self, request: RemoveRequest) -> None:
        """Remove a file or link (not its target), or a folder (recursively only when asked)."""
        with _errors(request.path, "removing"):
            spot = self._resolve(request.path, follow_last=False)
            if not spot.names:
                raise PermissionError(errno.EPERM, "the workspace and the home cannot be removed", request.path)
            folder = self._open_dir(spot.area, spot.names[:-1])
            name = spot.names[-1]
            try:
                try:
                    info = os.stat(name, dir_fd=folder, follow_symlinks=False)
                except FileNotFoundError:
                    if request.missing_ok:
                        return
                    raise
                if not stat_module.S_ISDIR(info.st_mode):
                    os.unlink(name, dir_fd=folder)
                elif request.recursive:
                    shutil.rmtree(name, dir_fd=folder)  # fd-based: never follows a link out
                else:
                    os.rmdir(name, dir_fd=folder)
            finally:
                os.close(folder)

    def listing(self, request: ListRequest) -> Listing:
        """A folder's entries, or its tree's, sorted by path; links listed, never entered."""
        limit = max(0, min(request.limit, LIST_CAP))
        with _errors(request.path, "listing"):
            spot = self._resolve(request.path)
            folder = self._open_dir(spot.area, spot.names)
            entries: list[FileStat] = []
            try:
                truncated = self._walk(folder, spot, request, entries, limit)
            finally:
                os.close(folder)
            return Listing(self._display(spot), tuple(entries), truncated)

    def _walk(self, folder: int, spot: _Located, request: ListRequest, entries: list[FileStat], limit: int) -> bool:
        """Add `folder`'s entries (and their trees when recursive) to `entries`; True when stopped at `limit`."""
        with os.scandir(folder) as scan:
            found = sorted(scan, key=lambda e: e.name)
        for entry in found:
            info = entry.stat(follow_symlinks=False)
            is_dir = stat_module.S_ISDIR(info.st_mode)
            if is_dir and entry.name in request.skip_dirs:
                continue
            if len(entries) >= limit:
                return True
            child = _Located(spot.area, (*spot.names, entry.name))
            entries.append(_stat_of(self._display(child), info))
            if is_dir and request.recursive:
                try:
                    sub = os.open(entry.name, _DIR_FLAGS | os.O_NOFOLLOW, dir_fd=folder)
                except OSError as exc:
                    if exc.errno in HOST_ERRNOS:
                        raise
                    continue  # gone or replaced meanwhile: the listing shows what could be read
                try:
                    if self._walk(sub, child, request, entries, limit):
                        return True
                finally:
                    os.close(sub)
        return False

    def locate(self, path: str) -> str:
        """One canonical name for the file `path` leads to (links followed), without touching it."""
        with _errors(path, "locating"):
            spot = self._resolve(path)
        return str(spot.area.host.joinpath(*spot.names))

    # --- the harness's own files in the sandbox (the persistent shell's commands and output pipes) ---

    def same_dir(self, folder: int, path: str) -> bool:
        """Whether the descriptor `folder` is still the real folder `path` names (not moved, replaced or linked)."""
        spot = self._resolve(path, follow_last=False)
        try:
            now = os.lstat(spot.area.host.joinpath(*spot.names))
            held = os.fstat(folder)
        except OSError:
            return False
        return stat_module.S_ISDIR(now.st_mode) and (now.st_ino, now.st_dev) == (held.st_ino, held.st_dev)

    def private_dir(self, path: str) -> int:
        """A descriptor of the folder `path` names, made a real folder again if the agent replaced it.

        Whatever the agent put there instead (a link, a file) is removed, so the harness's
        files never follow it; the descriptor lets the caller work inside without another lookup.
        """
        with _errors(path, "preparing"):
            spot = self._resolve(path, follow_last=False)
            parent = self._open_dir(spot.area, spot.names[:-1], create=True)
            name = spot.names[-1]
            try:
                with contextlib.suppress(FileNotFoundError):
                    if not stat_module.S_ISDIR(os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode):
                        os.unlink(name, dir_fd=parent)
                self._mkdir(parent, name)
                return os.open(name, _DIR_FLAGS | os.O_NOFOLLOW, dir_fd=parent)
            finally:
                os.close(parent)

    def put(self, folder: int, name: str, data: bytes) -> None:
        """Write a new file `name` (replacing one there) in the folder `folder`, readable by the agent's user."""
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            fd = os.open(name, flags, 0o644, dir_fd=folder)
        except FileExistsError:  # left by the agent (or a crash): never written through
            os.unlink(name, dir_fd=folder)
            fd = os.open(name, flags, 0o644, dir_fd=folder)
        try:
            if self._uid is not None:
                os.fchown(fd, self._uid, self._uid)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)

    def fifo(self, folder: int, name: str) -> int:
        """A new FIFO `name` in `folder`, writable by the agent's user; returns its read end (non-blocking)."""
        try:
            os.mkfifo(name, 0o600, dir_fd=folder)
        except FileExistsError:
            os.unlink(name, dir_fd=folder)
            os.mkfifo(name, 0o600, dir_fd=folder)
        if self._uid is not None:
            os.chown(name, self._uid, self._uid, dir_fd=folder, follow_symlinks=False)
        return os.open(name, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=folder)

    @staticmethod
    def discard(folder: int, names: list[str]) -> None:
        """Remove the files `names` from `folder` (those already gone are fine)."""
        for name in names:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name, dir_fd=folder)

    # --- paths ----------------------------------------------------------------------------------

    def _display(self, spot: _Located) -> str:
        if spot.area.relative_display:
            return "/".join(spot.names) or "."
        return str(spot.area.visible.joinpath(*spot.names))

    def _start(self, path: str) -> tuple[_Area, list[str]]:
        """The area `path` starts in and its names, as given (links and `..` not yet resolved)."""
        if not path or "\0" in path:
            raise FileNotFoundError(errno.ENOENT, "not a usable path", path)
        if path == "~" or path.startswith("~/"):
            return self._home, path[2:].split("/")
        if path.startswith("/"):
            return self._absolute(path)
        return self._workspace, path.split("/")

    def _absolute(self, path: str) -> tuple[_Area, list[str]]:
        """An absolute path inside the workspace or the home (as commands or the host see them)."""
        pure = PurePosixPath(path)
        for area in (self._workspace, self._home):
            for root in (area.visible, PurePosixPath(area.host)):
                if pure == root or root in pure.parents:
                    return area, list(pure.relative_to(root).parts)
        raise PathOutsideWorkspace(f"{path}: outside the workspace {self._workspace.visible}")

    def _resolve(self, path: str, follow_last: bool = True) -> _Located:
        """`path` as link-free names under an area, following links as the agent's shell would."""
        area, names = self._start(path)
        pending = list(reversed(names))
        done: list[str] = []
        links = 0
        while pending:
            name = pending.pop()
            if name in ("", "."):
                continue
            if name == "..":
                if not done:
                    raise PathOutsideWorkspace(f"{path}: outside the workspace {self._workspace.visible}")
                done.pop()
                continue
            try:
                mode = os.lstat(area.host.joinpath(*done, name)).st_mode
            except (FileNotFoundError, NotADirectoryError):
                mode = 0  # not there (yet): opening it says so, or a write creates it
            if stat_module.S_ISLNK(mode) and (pending or follow_last):
                links += 1
                if links > _MAX_LINKS:
                    raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), path)
                target = os.readlink(area.host.joinpath(*done, name))
                if target.startswith("/"):
                    area, names = self._absolute_target(path, target)
                    done = []
                else:
                    names = target.split("/")
                pending.extend(reversed(names))
                continue
            done.append(name)
        return _Located(area, tuple(done))

    def _absolute_target(self, path: str, target: str) -> tuple[_Area, list[str]]:
        try:
            return self._absolute(target)
        except PathOutsideWorkspace:
            raise PathOutsideWorkspace(f"{path}: leads outside the workspace {self._workspace.visible}") from None

    # --- descriptors ----------------------------------------------------------------------------

    def _open_dir(self, area: _Area, names: tuple[str, ...], create: bool = False) -> int:
        """A descriptor of the folder `names` under `area`, opened link by link without following any."""
        fd = os.open(area.host, _DIR_FLAGS)
        try:
            for name in names:
                try:
                    child = os.open(name, _DIR_FLAGS | os.O_NOFOLLOW, dir_fd=fd)
                except FileNotFoundError:
                    if not create:
                        raise
                    self._mkdir(fd, name)
                    child = os.open(name, _DIR_FLAGS | os.O_NOFOLLOW, dir_fd=fd)
                os.close(fd)
                fd = child
        except OSError as exc:
            os.close(fd)
            if exc.errno == errno.ELOOP:  # a folder became a link after the path was resolved
                raise PathOutsideWorkspace(f"{'/'.join(names)}: changed into a link while being opened") from None
            raise
        return fd

    def _mkdir(self, folder: int, name: str) -> None:
        with contextlib.suppress(FileExistsError):
            os.mkdir(name, 0o755, dir_fd=folder)
            if self._uid is not None:
                os.chown(name, self._uid, self._uid, dir_fd=folder, follow_symlinks=False)

    def _open_file(self, spot: _Located, flags: int, path: str) -> int:
        if not spot.names:
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
        folder = self._open_dir(spot.area, spot.names[:-1])
        try:
            return os.open(spot.names[-1], flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=folder)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise PathOutsideWorkspace(f"{path}: changed into a link while being opened") from None
            raise
        finally:
            os.close(folder)


def _open_for_write(folder: int, name: str, request: WriteRequest) -> tuple[bool, int]:
    """(created, descriptor) of `name` in `folder`, opened for writing without following a link."""
    flags = os.O_WRONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | (os.O_APPEND if request.append else 0)
    try:
        return False, os.open(name, flags, dir_fd=folder)
    except FileNotFoundError:
        pass
    try:
        return True, os.open(name, flags | os.O_CREAT | os.O_EXCL, 0o600, dir_fd=folder)
    except FileExistsError:  # made meanwhile by the agent: write it as found
        return False, os.open(name, flags, dir_fd=folder)


def _require_regular(info: os.stat_result, path: str) -> None:
    if stat_module.S_ISDIR(info.st_mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
    if not stat_module.S_ISREG(info.st_mode):
        raise NotARegularFile(errno.EINVAL, "not a regular file", path)


def _kind(mode: int) -> FileKind:
    if stat_module.S_ISREG(mode):
        return "file"
    if stat_module.S_ISDIR(mode):
        return "dir"
    return "symlink" if stat_module.S_ISLNK(mode) else "other"


def _stat_of(path: str, info: os.stat_result) -> FileStat:
    return FileStat(path, _kind(info.st_mode), info.st_size, info.st_mtime, stat_module.S_IMODE(info.st_mode))


@contextlib.contextmanager
def _errors(path: str, doing: str) -> Iterator[None]:
    """OS errors as the agent should read them (its own path, never the host's), host failures as HostFailure."""
    try:
        yield
    except SandboxError:
        raise
    except OSError as exc:
        if exc.errno in HOST_ERRNOS:
            raise host_failure(exc, f"{doing} {path}") from exc
        if exc.errno is None:
            raise
        raise OSError(exc.errno, exc.strerror or os.strerror(exc.errno), path) from None
