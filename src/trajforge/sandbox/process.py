"""Commands in a persistent shell: the part the local and bubblewrap backends share.

Each sandbox starts one bash (inside its isolation, as its user, in its own
session, with a scrubbed environment) on its first command and keeps it; each
command runs in a subshell of it whose first act is `ulimit` (CPU, address
space, file size, open files, processes: hard and soft, so the command cannot
raise them), see sandbox/shell.py. Starting the sandboxed process once rather
than per command is what makes a turn cheap.

State between commands: the terminal's commands (not `fresh` ones) share the
working directory and exported variables, saved when each command exits and
restored before the next, as hermes-agent's terminal keeps its cwd. Shell
variables that are not exported, functions, aliases and options do not carry
over (each command is its own subshell); background processes keep running
until the episode ends. A command that kills the shell (`kill $$`) ends with a
note, and the next one gets a new shell with the saved directory and variables.

When trajforge runs as root, every sandbox gets a uid of its own, so the
process limit holds and "every process of the episode" is "every process of
that uid". Under bubblewrap the shell lives in a pid namespace of its own:
killing the namespace's first process ends every process in it, so closing
needs no search of /proc.
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
from typing import Any, BinaryIO

from trajforge.sandbox.base import ExecRequest, ExecResult, Limits, Sandbox, SandboxError, SandboxInfo
from trajforge.sandbox.files import (
    HOST_ERRNOS,
    FileContent,
    FileStat,
    HostFailure,
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
from trajforge.sandbox.shell import BOOT, OutputProtocol, Shell, ShellDied, children, loop_script
from trajforge.sandbox.uids import UidLease
from trajforge.sandbox.workspaces import disown, marker_of

ENV_ALLOWED = ("PATH", "LANG", "TERM")
# Commits made in the sandbox get one fixed date (fixture commits set their own, earlier ones), so their
# hashes, and every trace showing them, are the same in every repeat of an episode.
FIXED_GIT_DATE = "2026-02-01T12:00:00+00:00"
KEEP_BYTES = 64 << 10  # head and tail kept from a command's output, each
STATE = "~/.trajforge"  # the sandbox's private folder in HOME: the shell's state, commands and output pipes
_PIPE_GRACE = 0.2  # seconds to read output still arriving after the command exited
_START_TIMEOUT = 30.0  # seconds for a new shell to report ready
_KILL_WAIT = 5.0  # seconds for a killed command (or shell) to be reported gone
# A builtin, not a `prlimit` in the argv: that was one more program started per command (~2 ms). A limit
# that cannot be set ends the command before it runs, with the shell's message.
_LIMIT = "ulimit -t {cpu} -v {memory_kb} -f {file_kb} -n {files} -u {processes} || exit 126"
SHELL_ENDED_NOTE = (
    "the command ended the sandbox's shell; the next command starts a new one "
    "(working directory and exported variables are kept)"
)


class ProcessSandbox(Sandbox):
    """A workspace directory and commands run in a persistent, limited shell."""

    uses_pid_namespace = False
    """The shell runs in a pid namespace of its own (killing its first process ends all)."""

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
        self._shells: list[Shell] = []  # every shell started, for close
        self._idle: list[Shell] = []  # started and waiting for a command (more than one only when calls overlap)
        self._state_fd: int | None = None  # ~/.trajforge, opened once (and again if the agent replaces it)

    def environment(self) -> dict[str, str]:
        """The whole environment a command sees: a small allow-list, never the host's secrets."""
        env = {name: os.environ[name] for name in ENV_ALLOWED if name in os.environ}
        env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
        env.setdefault("LANG", "C.UTF-8")
        env.update(HOME=str(self.info.visible_home), TRAJFORGE_SANDBOX=self._marker, PYTHONDONTWRITEBYTECODE="1")
        env.update(GIT_AUTHOR_DATE=FIXED_GIT_DATE, GIT_COMMITTER_DATE=FIXED_GIT_DATE)
        return env

    def shell_argv(self) -> list[str]:
        """The argv that starts the persistent shell; backends wrap it (bubblewrap)."""
        return ["bash", "--noprofile", "--norc", "-c", BOOT]

    def _loop(self) -> str:
        lim = self._limits
        limit = _LIMIT.format(
            cpu=lim.cpu_seconds,
            memory_kb=max(1, lim.memory_bytes >> 10),
            file_kb=max(1, lim.file_bytes >> 10),
            files=lim.open_files,
            processes=lim.processes,
        )
        state = shlex.quote(self.visible(self._state))
        return loop_script(limit, state, shlex.quote(str(self.info.visible_workspace)))

    def scratch_file(self, stem: str, suffix: str) -> Path:
        """A new host path in HOME/.trajforge, numbered by this sandbox's call counter."""
        return self._state / f"{stem}-{next(self._calls)}{suffix}"

    def scratch_path(self, stem: str, suffix: str) -> str:
        """A new path in HOME/.trajforge as commands see it, numbered by this sandbox's call counter."""
        return self.visible(self.scratch_file(stem, suffix))

    async def run(self, request: ExecRequest) -> ExecResult:
        """Run `request.command` in the persistent shell; never raises for what the command itself does."""
        if self._closed:
            raise SandboxError("the sandbox is closed")
        command_id = str(next(self._calls))
        started = time.perf_counter()
        self._started = True
        names = [f"cmd-{command_id}", f"out-{command_id}", *([f"in-{command_id}"] if request.stdin is not None else [])]
        folder = self._state_folder()
        try:
            pipe = os.fdopen(self._prepare(folder, names, request), "rb", buffering=0)
            try:
                shell = await self._shell()
                result = await self._execute(shell, command_id, request, pipe, started)
            finally:
                pipe.close()  # (closing twice is harmless: the reading transport closed it already)
            if shell.alive and not self._closed:
                self._idle.append(shell)
            return result
        finally:
            HostFiles.discard(folder, names)

    def _state_folder(self) -> int:
        """A descriptor of ~/.trajforge, kept between commands while it still is that folder."""
        try:
            if self._state_fd is not None and not self._files.same_dir(self._state_fd, STATE):
                os.close(self._state_fd)
                self._state_fd = None
            if self._state_fd is None:
                self._state_fd = self._files.private_dir(STATE)
        except OSError as exc:
            raise _as_host_failure(exc, "preparing a command") from exc
        return self._state_fd

    def _prepare(self, folder: int, names: list[str], request: ExecRequest) -> int:
        """Write the command (and its stdin) for the shell and make its output FIFO; returns the FIFO's read end."""
        try:
            # The command goes in a file the subshell reads and evals: no quoting to get wrong, and a
            # syntax error in it reads as the shell's own ("bash: eval: line 1: ...").
            self._files.put(folder, names[0], request.command.encode() + b"\n")
            if request.stdin is not None:
                self._files.put(folder, names[2], request.stdin.encode())
            return self._files.fifo(folder, names[1])
        except OSError as exc:
            raise _as_host_failure(exc, "preparing a command") from exc

    async def _shell(self) -> Shell:
        """An idle shell that still lives (one that died between commands is left for close), else a new one."""
        while self._idle:
            shell = self._idle.pop()
            if shell.alive:
                return shell
        return await self._start_shell()

    async def _start_shell(self) -> Shell:
        try:
            shell = Shell([*identity_argv(self.info.uid), *self.shell_argv()], self.environment(), str(self.workspace))
        except OSError as exc:
            raise _as_host_failure(exc, "starting the sandbox's shell") from exc
        self._shells.append(shell)
        try:
            await shell.start(self._loop(), _START_TIMEOUT)
        except ShellDied:
            shell.kill()
            await shell.wait(_KILL_WAIT)
            # The harness's failure, not the model's: the episode ends as `error` instead of showing it a tool error.
            problem = shell.errors()[-500:] or "no message"
            raise HostFailure(f"the sandbox's shell did not start: {problem}") from None
        if self.uses_pid_namespace:
            # outer bwrap -> the namespace's first process -> the shell (its only child yet)
            shell.namespace_init = next(iter(children(shell.pid)), None)
            shell.pid = next(iter(children(shell.namespace_init or -1)), shell.pid)
        return shell

    async def _execute(
        self, shell: Shell, command_id: str, request: ExecRequest, pipe: BinaryIO, started: float
    ) -> ExecResult:
        loop = asyncio.get_running_loop()
        output = OutputProtocol(loop, self._limits.output_bytes, KEEP_BYTES)
        await loop.connect_read_pipe(lambda: output, pipe)
        pending = shell.expect(command_id)
        stdin = self.visible(self._state / f"in-{command_id}") if request.stdin is not None else "/dev/null"
        shell.send(f"{command_id} {'fresh' if request.fresh else 'keep'} {stdin}\n")
        deadline = started + request.timeout
        killed = shell_ended = False
        shell.watch()
        try:
            # Woken the moment the shell reports the end (no polling), or when the output passes its cap.
            await _first({pending.ended, output.done}, deadline)
            if output.done.done() and not output.capped:
                await _first({pending.ended}, deadline)  # the output ended first: the report follows at once
            shell_ended = _failed(pending.ended)
            if shell_ended:  # the command killed its shell: its own processes may still be finishing
                await _first({output.done}, deadline)
            killed = not pending.ended.done() or (shell_ended and not output.done.done())
            if killed or output.capped:
                killed = True
                await self._kill_command(shell, pending.started)
                await _first({pending.ended}, time.perf_counter() + _KILL_WAIT)
                if not pending.ended.done():
                    shell.kill()  # it did not come back: the next command gets a new shell
            elif not output.done.done():
                await asyncio.wait({output.done}, timeout=_PIPE_GRACE)  # a background process may hold the pipe
        except BaseException:  # cancelled (the episode's time ran out): leave nothing of the command running
            await self._kill_command(shell, pending.started)
            raise
        finally:
            shell.unwatch()
            output.close()
            shell.forget(command_id)
        status, cwd = pending.ended.result() if pending.ended.done() and not _failed(pending.ended) else (None, "")
        return ExecResult(
            output=output.text(),
            exit_code=None if killed else status,
            timed_out=killed and not output.capped,
            output_capped=output.capped,
            omitted_bytes=output.omitted,
            seconds=time.perf_counter() - started,
            cwd=cwd or None,
            shell_ended=shell_ended,
        )

    async def _kill_command(self, shell: Shell, started: asyncio.Future[int]) -> None:
        """SIGKILL a running command's process group and process tree (the shell itself lives on)."""
        if shell.alive:
            targets = children(shell.pid)  # the shell runs one command at a time: its children are that command
        elif not self.uses_pid_namespace and started.done() and not started.cancelled() and not _failed(started):
            targets = [started.result()]  # its shell is gone; outside a namespace the pid it reported is the host's
        else:
            targets = []  # the namespace died with the shell, and every process in it
        for pid in targets:
            kill_tree(pid)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)

    def locate(self, path: str) -> str:
        """See Sandbox.locate."""
        return self._files.locate(path)

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

    def adopt(self, path: Path) -> None:
        """Give a host-created file in the workspace to the sandbox's uid."""
        if self.info.uid is not None:
            os.chown(path, self.info.uid, self.info.uid, follow_symlinks=False)

    async def close(self) -> None:
        """Kill every process the episode started, then remove the workspace unless kept.

        Kept workspaces are handed back to the invoking user first (their files belonged
        to the sandbox's pool uid, which the next sandbox may be lent).
        """
        if self._closed:
            return
        self._closed = True
        self._idle.clear()
        emptied = await self._kill_everything()
        if self._state_fd is not None:
            os.close(self._state_fd)
            self._state_fd = None
        for shell in self._shells:
            await shell.wait(_KILL_WAIT)
            shell.release()
        # In a worker thread: removing a tree waits on the disk (milliseconds on a busy ext4), not on a core.
        if self._keep:
            if self.info.uid is not None:
                await asyncio.to_thread(give_back, self._root)
            disown(self._root)  # kept on purpose: not for remove_stale_workspaces
        else:
            await asyncio.to_thread(shutil.rmtree, self._root, ignore_errors=True)
        if self._lease is not None:
            # Only now, and marked dirty if a process of the uid outlived the killing: its next borrower kills again.
            self._lease.release(clean=emptied)

    async def _kill_everything(self) -> bool:
        """Kill every process of the sandbox; True when none is left."""
        if not self._started:
            return True  # no command ever ran: nothing to look for
        if self.uses_pid_namespace:
            for shell in self._shells:
                shell.kill()  # the namespace's first process: the kernel ends every process in the namespace
            waited = [await shell.wait(_KILL_WAIT) for shell in self._shells]
            if all(waited):
                return True  # the outer bwrap exits only after its namespace is empty
        if self.info.uid is not None:
            # The shell runs as the sandbox's own uid: its kill(-1) reaches every process of that uid at once
            # (and only those), with no program to start; one look at /proc then confirms.
            for shell in self._shells:
                if shell.alive:
                    shell.send("0 killall -\n")
            for shell in self._shells:
                if not await shell.wait(_KILL_WAIT):
                    shell.kill()
            return await kill_uid(self.info.uid)
        for shell in self._shells:
            shell.kill()
        for pid in pids_with_marker(self._marker):
            kill_tree(pid)
        return True


def give_back(root: Path) -> None:
    """Make everything under `root` the invoking user's (its uid and gid), links not followed."""
    uid, gid = os.getuid(), os.getgid()
    for folder, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            with contextlib.suppress(FileNotFoundError):
                os.chown(os.path.join(folder, name), uid, gid, follow_symlinks=False)
    os.chown(root, uid, gid)


def _as_host_failure(exc: OSError, doing: str) -> OSError:
    """`exc` as a HostFailure when the host ran out of something, else unchanged."""
    return host_failure(exc, doing) if exc.errno in HOST_ERRNOS else exc


def _failed(future: asyncio.Future[Any]) -> bool:
    return future.done() and not future.cancelled() and future.exception() is not None


async def _first(waits: set[asyncio.Future[Any]], deadline: float) -> None:
    """Wait until one of `waits` is done or `deadline` (a perf_counter time) passes."""
    if not any(w.done() for w in waits):
        await asyncio.wait(waits, timeout=max(0.0, deadline - time.perf_counter()), return_when=asyncio.FIRST_COMPLETED)
