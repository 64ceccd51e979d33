"""The sandbox's file API: request and response models, caps and errors.

Tools reach files only through `Sandbox.read_file`, `write_file`, `list_files`,
`stat`, `exists`, `remove` and `make_dirs` (all async), never through host paths,
so that another backend (a container, a remote machine) needs no tool rewritten.

Paths are given as the agent would write them: relative to the workspace, `~`
or `~/...` for the agent's home, or absolute inside the workspace or the home as
commands see them (`/workspace/x`, `/home/agent/x` under bubblewrap) or as the
host does. Symbolic links are followed as the agent's own shell would follow
them (an absolute target means the path inside the sandbox); a path that leads
anywhere else raises `PathOutsideWorkspace`.

Errors, all raised (never returned):
- `PathOutsideWorkspace` (a `SandboxError` and `PermissionError`): the path leads out.
- `FileNotFoundError`, `IsADirectoryError`, `NotADirectoryError`, `FileExistsError`,
  `PermissionError`, `NotARegularFile`: what a file system says about the path; the
  exception's `filename` is the path as the agent sees it, never the host's.
- `FileTooLarge`: a write over `Limits.file_bytes` (the cap the agent's own commands have).
- `HostFailure`: the host cannot do its part (no file descriptors left, no processes,
  disk full, out of memory, an I/O error). It is the harness's error: the toolbox lets it
  through and the agent loop ends the episode with finish `error`; the model never sees it.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass
from typing import Literal

from trajforge.sandbox.base import SandboxError

READ_CAP = 16 << 20
"""Default and largest number of bytes one `read_file` returns (a file's head; `truncated` says so)."""
LIST_CAP = 10_000
"""Default largest number of entries one `list_files` returns (`truncated` says so)."""

HOST_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOSPC, errno.EDQUOT, errno.ENOMEM, errno.EAGAIN, errno.EIO})
"""Errors of the host, not of what the agent asked: out of descriptors, disk, memory or processes (fork's EAGAIN)."""

FileKind = Literal["file", "dir", "symlink", "other"]


class HostFailure(SandboxError, OSError):
    """The host could not do its part (too many open files, fork failed, disk full): the harness's error."""


class FileTooLarge(SandboxError, ValueError):
    """Data over the sandbox's size cap for one file."""


class NotARegularFile(SandboxError, OSError):
    """A device, FIFO or socket where a regular file was needed (reading one could block or harm)."""


def is_host_failure(exc: BaseException) -> bool:
    """Whether `exc` is the host's failure rather than a result of what the agent asked."""
    return isinstance(exc, HostFailure) or (isinstance(exc, OSError) and exc.errno in HOST_ERRNOS)


def host_failure(exc: OSError, doing: str) -> HostFailure:
    """`exc` as a HostFailure naming what the sandbox was doing."""
    failure = HostFailure(exc.errno or 0, f"{doing}: {exc.strerror or exc}")
    failure.__cause__ = exc
    return failure


@dataclass(frozen=True)
class ReadRequest:
    """Read one regular file (links followed inside the sandbox)."""

    path: str
    max_bytes: int = READ_CAP
    """At most this many bytes (clipped to READ_CAP); `FileContent.truncated` says when the file holds more."""
    offset: int = 0
    """First byte to read; negative counts from the end (-4096: the last 4 KiB at most)."""


@dataclass(frozen=True)
class FileContent:
    """A file's bytes (the part asked for; `truncated` when the file holds bytes outside it)."""

    path: str
    """The path as the agent addresses it (relative to the workspace, or absolute in the home)."""
    data: bytes
    size: int
    """The whole file's size in bytes."""
    truncated: bool = False

    def text(self) -> str:
        """The data as UTF-8, undecodable bytes replaced."""
        return self.data.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class WriteRequest:
    """Create or replace one regular file, owned by the agent's user."""

    path: str
    data: bytes | str
    """The complete new content (str is written as UTF-8)."""
    make_parents: bool = True
    """Create missing folders (owned by the agent's user); else a missing folder raises FileNotFoundError."""
    mode: int | None = None
    """Permission bits of a new file (default 0o644); an existing file keeps its own unless given."""
    append: bool = False
    """Add to the end instead of replacing."""


@dataclass(frozen=True)
class WriteResult:
    """What a write did."""

    path: str
    """The path as the agent addresses it."""
    bytes: int
    """Bytes written by this request."""
    created: bool
    """The file did not exist before."""


@dataclass(frozen=True)
class FileStat:
    """One file system entry."""

    path: str
    """The path as the agent addresses it."""
    kind: FileKind
    size: int
    mtime: float
    mode: int
    """Permission bits."""


@dataclass(frozen=True)
class ListRequest:
    """The entries of one folder, or of its whole tree."""

    path: str = "."
    recursive: bool = False
    """Walk the tree (never into linked folders) in name order, folders before their contents."""
    skip_dirs: frozenset[str] = frozenset()
    """Folder names not entered (nor listed) at any depth, e.g. `.git`."""
    limit: int = LIST_CAP
    """At most this many entries (clipped to LIST_CAP); `Listing.truncated` says when more exist."""


@dataclass(frozen=True)
class Listing:
    """Entries of a folder, sorted by path; a symlink is listed as one, not followed."""

    path: str
    """The listed folder as the agent addresses it."""
    entries: tuple[FileStat, ...]
    truncated: bool = False


@dataclass(frozen=True)
class RemoveRequest:
    """Remove a file, a link (not its target) or, with `recursive`, a folder and its contents."""

    path: str
    recursive: bool = False
    missing_ok: bool = False
