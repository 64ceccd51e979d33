"""Commands as child processes: the part the local and bubblewrap backends share.

Each command runs as a fresh `bash` whose first act is `ulimit` (CPU, address
space, file size, open files, processes: hard and soft, so the command cannot
raise them), in its own session, with a scrubbed environment.
When trajforge runs as root, every sandbox gets a uid of its own, so the
process limit holds and "every process of the episode" is simply "every
process of that uid". The working directory and exported variables persist
between commands through two state files the wrapper script reads and writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import shlex
import shutil
import signal
import time
from pathlib import Path

from trajforge.sandbox.base import ExecRequest, ExecResult, Limits, Sandbox, SandboxInfo
from trajforge.sandbox.files import (
    HOST_ERRNOS,
    FileContent,
    FileStat,
    Listing,
    ListRequest,
    ReadRequest,
    RemoveRequest,
    WriteRequest,
    WriteResult,
    host_failure,
)
from trajforge.sandbox.hostfiles import HostFiles
from trajforge.sandbox.procs import identity_argv, kill_tree, kill_uid, pids_with_marker
from trajforge.sandbox.uids import UidLease
from trajforge.sandbox.workspaces import disown, marker_of

ENV_ALLOWED = ("PATH", "LANG", "TERM")
# Commits made in the sandbox get one fixed date (fixture commits set their own, earlier ones), so their
# hashes, and every trace showing them, are the same in every repeat of an episode.
FIXED_GIT_DATE = "2026-02-01T12:00:00+00:00"
KEEP_BYTES = 64 << 10  # head and tail kept from a command's output, each
_PIPE_GRACE = 0.2  # seconds to read output still arriving after the command exited
# Only builtins around the command: each extra program would cost a process per call.
# One line, so that the shell's messages about the command say "line 1".
_RESTORE = [
    "read -r __trajforge_cwd 2>/dev/null < {cwd}",
    'cd "$__trajforge_cwd" 2>/dev/null || cd {workspace}',
    "unset __trajforge_cwd",
    "[ -f {env} ] && . {env} 2>/dev/null",
    "__trajforge_save() {{ pwd > {cwd}; export -p > {env}; }}",
    "trap __trajforge_save EXIT",
]
_RUN = ["IFS= read -r -d '' __trajforge_command < {command}", 'eval "$__trajforge_command"']
# A builtin, not a `prlimit` in the argv: that was one more program started per command (~2 ms). A limit
# that cannot be set ends the command before it runs, with the shell's message.
_LIMIT = "ulimit -t {cpu} -v {memory_kb} -f {file_kb} -n {files} -u {processes} || exit 126"
_WRAPPER = "; ".join([_LIMIT, *_RESTORE, *_RUN])
_FRESH_WRAPPER = "; ".join([_LIMIT, "cd {workspace}", *_RUN])  # the workspace root, no saved state read or written


class ProcessSandbox(Sandbox):
    """A workspace directory and commands run as limited child processes."""

    def __init__(
        self, info: SandboxInfo, root: Path, limits: Limits, keep: bool, lease: UidLease | None = None
    ) -> None:
        self.info = info
        self._lease = lease
        self._root = root
        self._limits = limits
        self._keep = keep
        self._state = info.home / ".trajforge"
        self._marker = marker_of(root)
        self._calls = itertools.count()
        self._closed = False
        self._started = False  # no command ever ran: no process of the sandbox can exist
        self._files = HostFiles(info, limits.file_bytes)

    def environment(self) -> dict[str, str]:
        """The whole environment a command sees: a small allow-list, never the host's secrets."""
        env = {name: os.environ[name] for name in ENV_ALLOWED if name in os.environ}
        env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
        env.setdefault("LANG", "C.UTF-8")
        env.update(HOME=str(self.info.visible_home), TRAJFORGE_SANDBOX=self._marker, PYTHONDONTWRITEBYTECODE="1")
        env.update(GIT_AUTHOR_DATE=FIXED_GIT_DATE, GIT_COMMITTER_DATE=FIXED_GIT_DATE)
        return env

    def command_argv(self, script: str) -> list[str]:
        """The argv that runs the wrapper script text; backends wrap it (bubblewrap)."""
        return ["bash", "-c", script]

    def _wrapper(self, command: Path, fresh: bool) -> str:
        lim = self._limits
        return (_FRESH_WRAPPER if fresh else _WRAPPER).format(
            cpu=lim.cpu_seconds,
            memory_kb=max(1, lim.memory_bytes >> 10),
            file_kb=max(1, lim.file_bytes >> 10),
            files=lim.open_files,
            processes=lim.processes,
            cwd=shlex.quote(self.visible(self._state / "cwd")),
            env=shlex.quote(self.visible(self._state / "env")),
            workspace=shlex.quote(str(self.info.visible_workspace)),
            command=shlex.quote(self.visible(command)),
        )

    def scratch_file(self, stem: str, suffix: str) -> Path:
        """A new host path in HOME/.trajforge, numbered by this sandbox's call counter."""
        return self._state / f"{stem}-{next(self._calls)}{suffix}"

    def scratch_path(self, stem: str, suffix: str) -> str:
        """A new path in HOME/.trajforge as commands see it, numbered by this sandbox's call counter."""
        return self.visible(self.scratch_file(stem, suffix))

    # The file API: host file operations, each in a worker thread so the event loop never waits on a disk.

    async def read_file(self, request: ReadRequest) -> FileContent:
        """See Sandbox.read_file."""
        return await asyncio.to_thread(self._files.read, request)

    async def write_file(self, request: WriteRequest) -> WriteResult:
        """See Sandbox.write_file."""
        return await asyncio.to_thread(self._files.write, request)

    async def list_files(self, request: ListRequest) -> Listing:
        """See Sandbox.list_files."""
        return await asyncio.to_thread(self._files.listing, request)

    async def stat(self, path: str) -> FileStat:
        """See Sandbox.stat."""
        return await asyncio.to_thread(self._files.stat, path)

    async def exists(self, path: str) -> bool:
        """See Sandbox.exists."""
        return await asyncio.to_thread(self._files.exists, path)

    async def remove(self, request: RemoveRequest) -> None:
        """See Sandbox.remove."""
        await asyncio.to_thread(self._files.remove, request)

    async def make_dirs(self, path: str) -> FileStat:
        """See Sandbox.make_dirs."""
        return await asyncio.to_thread(self._files.make_dirs, path)

    async def run(self, request: ExecRequest) -> ExecResult:
        """Run `request.command` in bash; never raises for what the command itself does."""
        # The command goes in a file the wrapper reads and evals: no quoting to get wrong,
        # and a syntax error in it reads as the shell's own ("bash: eval: line 1: ...").
        command = self.scratch_file("command", ".sh")
        started = time.perf_counter()
        self._started = True
        loop = asyncio.get_running_loop()
        try:
            self.write_text(command, request.command + "\n")
            transport, protocol = await loop.subprocess_exec(
                lambda: _ExitAwareProtocol(loop),
                *identity_argv(self.info.uid),
                *self.command_argv(self._wrapper(command, request.fresh)),
                stdin=asyncio.subprocess.PIPE if request.stdin is not None else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                cwd=self.workspace,
                env=self.environment(),
                start_new_session=True,
            )
        except OSError as exc:
            if exc.errno in HOST_ERRNOS:  # no processes, descriptors or disk left: not the command's doing
                raise host_failure(exc, "starting a command") from exc
            raise
        process = asyncio.subprocess.Process(transport, protocol, loop)
        try:
            result = await self._collect(process, protocol.exited, request, started)
        except BaseException:  # cancelled (the episode's time ran out): leave nothing running
            kill_tree(process.pid)
            _kill_group(process.pid)
            raise
        finally:
            command.unlink(missing_ok=True)
        return result

    async def _collect(
        self, process: asyncio.subprocess.Process, exited: asyncio.Future[None], request: ExecRequest, started: float
    ) -> ExecResult:
        if request.stdin is not None and process.stdin is not None:
            process.stdin.write(request.stdin.encode())
            process.stdin.close()
        reader = _CappedOutput(self._limits.output_bytes)
        assert process.stdout is not None
        draining = asyncio.ensure_future(reader.drain(process.stdout))
        deadline = started + request.timeout
        # Not process.wait(): asyncio's wait also waits for the pipes, which a background
        # process started by the command can hold open for as long as it lives. `exited` is
        # woken by the child watcher the moment the command ends: no polling, no rounding up.
        await _first({draining, exited}, deadline)
        if exited.done() and not draining.done():
            await asyncio.wait({draining}, timeout=_PIPE_GRACE)
        if draining.done() and not reader.capped:
            await _first({exited}, deadline)
        killed = process.returncode is None
        if killed:
            kill_tree(process.pid)
            _kill_group(process.pid)
            await _first({exited}, time.perf_counter() + 5)
        draining.cancel()
        transport = getattr(process, "_transport", None)  # release a pipe a background process holds
        if transport is not None:
            transport.close()
        return ExecResult(
            output=reader.text(),
            exit_code=None if killed else process.returncode,
            timed_out=killed and not reader.capped,
            output_capped=reader.capped,
            omitted_bytes=reader.omitted,
            seconds=time.perf_counter() - started,
        )

    def adopt(self, path: Path) -> None:
        """Give a host-created file in the workspace to the sandbox's uid."""
        if self.info.uid is not None:
            os.chown(path, self.info.uid, self.info.uid, follow_symlinks=False)

    async def close(self) -> None:
        """Kill every process the episode started, then remove the workspace unless kept."""
        if self._closed:
            return
        self._closed = True
        emptied = True
        if not self._started:
            pass  # nothing to look for: the /proc scan below costs milliseconds
        elif self.info.uid is not None:
            emptied = await kill_uid(self.info.uid)
        else:
            for pid in pids_with_marker(self._marker):
                kill_tree(pid)
        if self._keep:
            disown(self._root)  # kept on purpose: not for remove_stale_workspaces
        else:
            shutil.rmtree(self._root, ignore_errors=True)
        if self._lease is not None:
            # Only now, and marked dirty if a process of the uid outlived the killing: its next borrower kills again.
            self._lease.release(clean=emptied)


async def _first(waits: set[asyncio.Future[None]], deadline: float) -> None:
    """Wait until one of `waits` is done or `deadline` (a perf_counter time) passes."""
    if not any(w.done() for w in waits):
        await asyncio.wait(waits, timeout=max(0.0, deadline - time.perf_counter()), return_when=asyncio.FIRST_COMPLETED)


class _ExitAwareProtocol(asyncio.subprocess.SubprocessStreamProtocol):
    """asyncio's protocol for a child's pipes, with a future done when the child itself exits."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(limit=1 << 16, loop=loop)
        self.exited: asyncio.Future[None] = loop.create_future()

    def process_exited(self) -> None:
        super().process_exited()
        if not self.exited.done():
            self.exited.set_result(None)


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


class _CappedOutput:
    """Reads a stream to its end, keeping its head and tail and counting what it drops."""

    def __init__(self, cap: int, keep: int = KEEP_BYTES) -> None:
        self._cap, self._keep = cap, keep
        self._head = bytearray()
        self._tail = bytearray()
        self.total = 0
        self.capped = False

    async def drain(self, stream: asyncio.StreamReader) -> None:
        while chunk := await stream.read(1 << 16):
            self.total += len(chunk)
            room = self._keep - len(self._head)
            if room > 0:
                self._head += chunk[:room]
                chunk = chunk[room:]
            if chunk:
                self._tail += chunk
                del self._tail[: max(0, len(self._tail) - self._keep)]
            if self.total > self._cap:
                self.capped = True
                return

    @property
    def omitted(self) -> int:
        return self.total - len(self._head) - len(self._tail)

    def text(self) -> str:
        """The kept output as text, with a marker where the middle was dropped."""
        head = self._head.decode("utf-8", errors="replace")
        if not self.omitted:
            return head + self._tail.decode("utf-8", errors="replace")
        tail = self._tail.decode("utf-8", errors="replace")
        return f"{head}\n[... {self.omitted} bytes of output omitted ...]\n{tail}"
