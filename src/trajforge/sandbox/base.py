"""The sandbox interface: one request model in, one result model out, all async.

A sandbox is one episode's isolated place to run commands: a fresh workspace
directory, a fresh HOME inside it, a scrubbed environment, resource limits,
and cleanup of every process the episode started.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from trajforge.sandbox.files import (
        FileContent,
        FileStat,
        Listing,
        ListRequest,
        ReadRequest,
        RemoveRequest,
        WriteRequest,
        WriteResult,
    )


class SandboxError(Exception):
    """Base of the sandbox package's errors."""


class SandboxUnavailable(SandboxError, RuntimeError):
    """The chosen backend cannot run here (for example bubblewrap is missing)."""


class PathOutsideWorkspace(SandboxError, PermissionError):
    """A path resolves outside the workspace (`..`, an absolute path, a symlink)."""


@dataclass(frozen=True)
class Limits:
    """Resource limits of every command run in a sandbox."""

    cpu_seconds: int = 60
    """CPU time per process (RLIMIT_CPU)."""
    memory_bytes: int = 2 << 30
    """Address space per process (RLIMIT_AS)."""
    file_bytes: int = 256 << 20
    """Largest file a process may write (RLIMIT_FSIZE)."""
    open_files: int = 256
    """Open file descriptors per process (RLIMIT_NOFILE)."""
    processes: int = 128
    """Processes of the sandbox's user (RLIMIT_NPROC); holds where commands run as their own uid."""
    output_bytes: int = 8 << 20
    """Output read from one command before it is killed; the result keeps head and tail."""


@dataclass(frozen=True)
class ExecRequest:
    """One shell command to run in the sandbox."""

    command: str
    timeout: float = 60.0
    """Wall-clock seconds before the command's whole process tree is killed."""
    stdin: str | None = None
    fresh: bool = False
    """Start in the workspace root, ignoring and keeping the terminal's saved directory and variables
    (set-up, checks and one-off programs; the terminal tool's commands share that state)."""


@dataclass(frozen=True)
class ExecResult:
    """What a command did: merged stdout/stderr and how it ended."""

    output: str
    """Merged stdout and stderr; when long, head and tail with an omitted-bytes marker between."""
    exit_code: int | None
    """None when the command was killed (timeout or output cap)."""
    timed_out: bool = False
    output_capped: bool = False
    omitted_bytes: int = 0
    """Bytes of output dropped from the middle (head and tail are kept)."""
    seconds: float = 0.0
    cwd: str | None = None
    """The terminal's working directory after the command (as commands see it); None for `fresh` commands."""
    shell_ended: bool = False
    """The command ended the sandbox's shell (`kill $$`); the next command runs in a new one."""


_UNSET = PurePosixPath()  # a visible path not given: the host's own is seen


@dataclass
class SandboxInfo:
    """Where a sandbox lives and what it isolates, for records and messages.

    `workspace` and `home` are the host's folders; `visible_workspace` and
    `visible_home` are the paths commands and the model see for them (fixed
    under bubblewrap, so traces do not differ by a random folder name; the
    host's own under the local backend).
    """

    backend: str
    workspace: Path
    home: Path
    isolates_filesystem: bool
    isolates_network: bool
    uid: int | None = None
    notes: list[str] = field(default_factory=list)
    visible_workspace: PurePosixPath = _UNSET
    visible_home: PurePosixPath = _UNSET
    user: str = ""
    """The user name commands run as, where fixed (bubblewrap: `agent`)."""

    def __post_init__(self) -> None:
        if self.visible_workspace == _UNSET:
            self.visible_workspace = PurePosixPath(self.workspace)
        if self.visible_home == _UNSET:
            self.visible_home = PurePosixPath(self.home)


class Sandbox(abc.ABC):
    """An episode's isolated execution place.

    `run` never raises for what the command does (exit codes, timeouts and the
    output cap are in the result); it raises SandboxError only when the sandbox
    itself cannot work (HostFailure when the host ran out of processes, files or
    disk). `close` kills every process the episode started and removes the
    workspace unless it is kept.

    Files are reached through the async file API (`read_file`, `write_file`,
    `list_files`, `stat`, `exists`, `remove`, `make_dirs`; paths, caps and raises
    in sandbox/files.py), which tools use; `resolve`, `adopt` and `write_text` are
    host-side helpers for the harness's own set-up, never for tools.
    """

    info: SandboxInfo

    @property
    def workspace(self) -> Path:
        """The directory the agent works in (read-write)."""
        return self.info.workspace

    @abc.abstractmethod
    async def run(self, request: ExecRequest) -> ExecResult:
        """Run one shell command; cwd and exported variables persist between calls."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Kill what the episode left running and remove (or keep) the workspace."""

    @abc.abstractmethod
    async def read_file(self, request: ReadRequest) -> FileContent:
        """A regular file's bytes (its head, up to `request.max_bytes`)."""

    @abc.abstractmethod
    async def write_file(self, request: WriteRequest) -> WriteResult:
        """Create, replace or append to a file, owned by the agent's user; FileTooLarge over the file cap."""

    @abc.abstractmethod
    async def list_files(self, request: ListRequest) -> Listing:
        """A folder's entries (or its tree's), sorted by path, links listed and never entered."""

    @abc.abstractmethod
    async def stat(self, path: str) -> FileStat:
        """The entry `path` names (links followed); FileNotFoundError when there is none."""

    @abc.abstractmethod
    async def exists(self, path: str) -> bool:
        """Whether `path` names an entry inside the sandbox (False also for paths that lead out)."""

    @abc.abstractmethod
    async def remove(self, request: RemoveRequest) -> None:
        """Remove a file, a link (not its target) or, when asked, a folder tree."""

    @abc.abstractmethod
    async def make_dirs(self, path: str) -> FileStat:
        """Create a folder and its missing parents, owned by the agent's user (existing ones are fine)."""

    @abc.abstractmethod
    def locate(self, path: str) -> str:
        """One canonical name for the file a file-API `path` leads to, for telling whether two paths are the
        same file (`~/a`, `/home/agent/a`, a link to it); PathOutsideWorkspace when it leads out. Blocks
        only for a few lookups (links), so it may run on the event loop."""

    @abc.abstractmethod
    def scratch_path(self, stem: str, suffix: str) -> str:
        """A new path in the sandbox's private folder (~/.trajforge) as commands see it, numbered per sandbox.

        For the file API and commands alike (execute_code's program); numbered so repeats read the same.
        """

    def resolve(self, path: str) -> Path:
        """`path` (relative to the workspace, or absolute inside it) as a real host path inside the workspace.

        An absolute path may name the workspace as commands see it (`/workspace/x`
        under bubblewrap) or as the host does. Raises PathOutsideWorkspace for
        `..`, absolute paths elsewhere and symlinks that lead out.
        """
        root = self.workspace.resolve()
        candidate = Path(path)
        seen = self.info.visible_workspace
        if candidate.is_absolute() and (PurePosixPath(candidate) == seen or seen in PurePosixPath(candidate).parents):
            candidate = root / PurePosixPath(candidate).relative_to(seen)
        target = (candidate if candidate.is_absolute() else root / candidate).resolve()
        if target != root and root not in target.parents:
            raise PathOutsideWorkspace(f"{path}: outside the workspace {seen}")
        return target

    def visible(self, path: Path) -> str:
        """A host path in the workspace or HOME as commands and the model see it (others unchanged)."""
        for host, seen in (
            (self.info.workspace, self.info.visible_workspace),
            (self.info.home, self.info.visible_home),
        ):
            if path == host or host in path.parents:
                return str(seen / path.relative_to(host))
        return str(path)

    @abc.abstractmethod
    def scratch_file(self, stem: str, suffix: str) -> Path:
        """A new host path in the sandbox's private folder (HOME/.trajforge), numbered per sandbox.

        Numbered rather than random, so that a program's path in tracebacks is the same in every repeat.
        """

    @abc.abstractmethod
    def adopt(self, path: Path) -> None:
        """Give a file the host created in the workspace to the sandbox's user."""

    def write_text(self, target: Path, text: str) -> None:
        """Write `target` from the host, creating missing folders, all owned by the sandbox's user."""
        for folder in reversed(target.parents):
            if not folder.exists():
                folder.mkdir()
                self.adopt(folder)
        target.write_text(text, encoding="utf-8")
        self.adopt(target)
