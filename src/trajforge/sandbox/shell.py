"""One persistent bash per sandbox that runs each command in a limited subshell.

Starting a sandboxed process costs milliseconds (bubblewrap sets up its
namespaces and mounts each time), so a sandbox starts one bash, inside its
isolation, and keeps it. The bash reads one line per command from its stdin
(`ID MODE STDIN`) and, for each, forks a subshell that:

- sets the limits (`ulimit`, hard and soft: CPU time, address space, file size,
  open files, processes), so they hold per command and cannot be raised;
- leads its own process group (`set -m`), so a timeout kills the command's group;
- reads its command from a file and evals it, its stdin from /dev/null (or a
  file), its stdout and stderr into a FIFO the harness reads (so a background
  process that keeps writing after its command ended writes to a pipe no one
  reads, never into the next command's output);
- in the terminal's mode (`keep`), starts in the saved working directory with
  the saved exported variables and saves both when it exits; in `fresh` mode
  it starts in the workspace root with the base environment.

The bash itself keeps no state of the commands (each runs in a subshell), so
`exit`, `exec` or `cd` in a command never change it, and it survives the usual
signals (`kill $$`); when a command kills it anyway (`kill -9 $$`), the harness
notices, ends that command's result with a note, and the next command starts a
new bash (under bubblewrap its pid namespace, background processes included,
ends with it). Its reports go out on its own stdout: `R` once ready, `S ID PID`
when a command started and `E ID STATUS CWD` when it ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from typing import Any

BOOT = 'IFS= read -r -d "" __tf_loop; eval "$__tf_loop"'
"""The bash command line: the loop below arrives first on stdin (a short, fixed line for `ps`)."""

# {limit}: the ulimit line; {state}: ~/.trajforge as commands see it; {workspace}: the workspace root.
# Joined into one line, so that the shell's messages about a command say "line 1" as a plain `bash -c` would.
_LOOP = r"""
unset __tf_loop;
exec 3>&1 1>/dev/null 2>/dev/null;
set -m;
trap : TERM HUP INT QUIT USR1 USR2;
__tf_state={state};
printf 'R\n' >&3;
while IFS=' ' read -r __tf_id __tf_mode __tf_in; do
  [ "$__tf_mode" = stop ] && break;
  [ "$__tf_mode" = killall ] && {{ kill -KILL -1; break; }};
  (
    {limit};
    IFS= read -r -d '' __trajforge_command < "$__tf_state/cmd-$__tf_id";
    if [ "$__tf_mode" = fresh ]; then
      cd {workspace} || exit 126;
    else
      read -r __trajforge_cwd 2>/dev/null < {state}/cwd; cd "$__trajforge_cwd" 2>/dev/null || cd {workspace};
      unset __trajforge_cwd; [ -f {state}/env ] && . {state}/env 2>/dev/null;
      __trajforge_save() {{ pwd > {state}/cwd; export -p > {state}/env; }};
      trap __trajforge_save EXIT;
    fi;
    unset __tf_id __tf_mode __tf_in __tf_state __tf_pid __tf_status __tf_cwd;
    eval "$__trajforge_command"
  ) < "$__tf_in" > "$__tf_state/out-$__tf_id" 2>&1 3>&- &
  __tf_pid=$!;
  printf 'S %s %s\n' "$__tf_id" "$__tf_pid" >&3;
  wait "$__tf_pid"; __tf_status=$?;
  while [ "$__tf_status" -gt 128 ] && kill -0 "$__tf_pid" 2>/dev/null; do wait "$__tf_pid"; __tf_status=$?; done;
  __tf_cwd=;
  [ "$__tf_mode" = fresh ] || IFS= read -r __tf_cwd < {state}/cwd;
  printf 'E %s %s %s\n' "$__tf_id" "$__tf_status" "${{__tf_cwd//$'\n'/?}}" >&3;
done
"""


def loop_script(limit: str, state: str, workspace: str) -> str:
    """The shell's loop with the sandbox's limits and paths (each already shell-quoted)."""
    one_line = " ".join(line.strip() for line in _LOOP.strip().splitlines())
    return one_line.format(limit=limit, state=state, workspace=workspace)


class ShellDied(Exception):
    """The persistent shell exited (a command killed it, or its sandbox did)."""


@dataclass
class Pending:
    """The reports awaited for one command, as futures of the event loop that runs it."""

    started: asyncio.Future[int]
    """The command's subshell pid as the shell sees it."""
    ended: asyncio.Future[tuple[int, str]]
    """(exit status, working directory after it; '' in fresh mode)."""


class Shell:
    """A started persistent shell: its process, its report pipe, and its pids on the host.

    Not tied to an event loop (a sandbox may be used from several in turn, as tests do): the
    report pipe is watched only while a command of the current loop waits for it, and the
    process is reaped here, never by asyncio's child watcher.
    """

    def __init__(self, argv: list[str], env: dict[str, str], cwd: str) -> None:
        """Start the shell (raises OSError when it cannot be started)."""
        self.process = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            cwd=cwd, env=env, start_new_session=True,
        )  # fmt: skip
        assert self.process.stdin and self.process.stdout and self.process.stderr
        self._in, self._out, self._err = (
            f.fileno() for f in (self.process.stdin, self.process.stdout, self.process.stderr)
        )
        for fd in (self._in, self._out, self._err):
            os.set_blocking(fd, False)
        self.pid = self.process.pid
        """The shell's own pid on the host (its subshells are its children); first the outer process's."""
        self.namespace_init: int | None = None
        """Under a pid namespace: the host pid of the namespace's first process, whose death ends them all."""
        self._buffer = b""
        self._pending: dict[str, Pending] = {}
        self._ready: asyncio.Future[None] | None = None
        self.ended = False
        """Its report pipe closed: the shell is gone (and under a pid namespace, all in it)."""

    @property
    def alive(self) -> bool:
        """Whether the shell still runs (as far as its reports tell)."""
        return not self.ended and self.process.poll() is None

    def errors(self) -> str:
        """What the shell (or bubblewrap before it) said on stderr: why a start failed."""
        with contextlib.suppress(OSError):
            return os.read(self._err, 4096).decode("utf-8", errors="replace").strip()
        return ""

    async def start(self, script: str, timeout: float) -> None:
        """Send the loop script and wait for the shell's ready report; ShellDied when it does not come."""
        loop = asyncio.get_running_loop()
        self._ready = loop.create_future()
        self.send(script + "\0")
        self.watch()
        try:
            await asyncio.wait_for(asyncio.shield(self._ready), timeout)
        except TimeoutError:
            raise ShellDied() from None
        finally:
            self.unwatch()

    def send(self, text: str) -> None:
        """Text for the shell's stdin (request lines; a pipe's buffer holds far more than one)."""
        data = text.encode()
        while data:
            try:
                data = data[os.write(self._in, data) :]
            except BlockingIOError:
                time.sleep(0.001)  # only the start's script could ever fill the pipe, and only for a moment
            except BrokenPipeError:
                self.ended = True
                return

    def expect(self, command_id: str) -> Pending:
        """Futures (of the running loop) for the reports of `command_id`; they fail with ShellDied if the shell goes."""
        loop = asyncio.get_running_loop()
        pending = Pending(loop.create_future(), loop.create_future())
        self._pending[command_id] = pending
        if self.ended:
            self._fail()
        return pending

    def forget(self, command_id: str) -> None:
        """Stop waiting for `command_id` (its reports, if they come later, are dropped)."""
        pending = self._pending.pop(command_id, None)
        if pending is not None:
            for future in (pending.started, pending.ended):
                if not future.done():
                    future.cancel()

    def watch(self) -> None:
        """Read the shell's reports in the running loop (until `unwatch`)."""
        asyncio.get_running_loop().add_reader(self._out, self._readable)

    def unwatch(self) -> None:
        """Stop reading reports (between commands; a loop may end meanwhile)."""
        asyncio.get_running_loop().remove_reader(self._out)

    def _readable(self) -> None:
        try:
            data = os.read(self._out, 65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.ended = True
            asyncio.get_running_loop().remove_reader(self._out)
            self._fail()
            return
        self._buffer += data
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            self._report(line.decode("utf-8", errors="replace"))

    def _report(self, line: str) -> None:
        if line == "R":
            if self._ready is not None and not self._ready.done():
                self._ready.set_result(None)
            return
        kind, _, rest = line.partition(" ")
        command_id, _, rest = rest.partition(" ")
        pending = self._pending.get(command_id)
        if pending is None:
            return
        if kind == "S" and not pending.started.done():
            with contextlib.suppress(ValueError):
                pending.started.set_result(int(rest))
        elif kind == "E":
            status, _, cwd = rest.partition(" ")
            if not pending.started.done():
                pending.started.set_result(0)
            if not pending.ended.done() and status.isdigit():
                pending.ended.set_result((int(status), cwd))
            self._pending.pop(command_id, None)

    def _fail(self) -> None:
        waiting: list[asyncio.Future[Any]] = [f for p in self._pending.values() for f in (p.started, p.ended)]
        if self._ready is not None:
            waiting.append(self._ready)
        for future in waiting:
            if not future.done():
                future.set_exception(ShellDied())
                future.exception()  # retrieved: nobody may be waiting for `started` any more
        self._pending.clear()

    def kill(self) -> None:
        """SIGKILL the shell: under a pid namespace its first process (the kernel then ends every process
        in it, and bubblewrap outside exits once they are gone), else the shell's own process."""
        self.ended = True  # never used again, even before its death is seen
        if self.namespace_init is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(self.namespace_init, signal.SIGKILL)
            return
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()

    async def wait(self, timeout: float) -> bool:
        """Wait until the shell's process has exited, and reap it; False when it did not within `timeout`."""
        if self.process.poll() is not None:
            return True
        loop = asyncio.get_running_loop()
        try:
            pidfd = os.pidfd_open(self.process.pid)
        except OSError:
            return self.process.poll() is not None
        exited: asyncio.Future[None] = loop.create_future()

        def _exited() -> None:
            if not exited.done():
                exited.set_result(None)

        loop.add_reader(pidfd, _exited)
        try:
            await asyncio.wait({exited}, timeout=timeout)
        finally:
            loop.remove_reader(pidfd)
            os.close(pidfd)
        return self.process.poll() is not None

    def release(self) -> None:
        """Close our ends of its pipes (after it exited)."""
        for file in (self.process.stdin, self.process.stdout, self.process.stderr):
            if file is not None:
                with contextlib.suppress(OSError):
                    file.close()


class OutputProtocol(asyncio.Protocol):
    """Reads a command's output FIFO to its end, keeping head and tail, stopping at the cap."""

    def __init__(self, loop: asyncio.AbstractEventLoop, cap: int, keep: int) -> None:
        self._cap, self._keep = cap, keep
        self._head = bytearray()
        self._tail = bytearray()
        self.total = 0
        self.capped = False
        self.done: asyncio.Future[None] = loop.create_future()
        self._transport: asyncio.ReadTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.ReadTransport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        if self.capped:
            return
        self.total += len(data)
        room = self._keep - len(self._head)
        if room > 0:
            self._head += data[:room]
            data = data[room:]
        if data:
            self._tail += data
            del self._tail[: max(0, len(self._tail) - self._keep)]
        if self.total > self._cap:
            self.capped = True
            if self._transport is not None:
                self._transport.pause_reading()
            self._finish()

    def eof_received(self) -> bool | None:
        self._finish()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self._finish()

    def _finish(self) -> None:
        if not self.done.done():
            self.done.set_result(None)

    def close(self) -> None:
        """Stop reading (a background process still holding the FIFO then writes to a closed pipe)."""
        if self._transport is not None:
            self._transport.close()
        self._finish()

    @property
    def omitted(self) -> int:
        """Bytes dropped from the middle."""
        return self.total - len(self._head) - len(self._tail)

    def text(self) -> str:
        """The kept output as text, with a marker where the middle was dropped."""
        head = self._head.decode("utf-8", errors="replace")
        if not self.omitted:
            return head + self._tail.decode("utf-8", errors="replace")
        tail = self._tail.decode("utf-8", errors="replace")
        return f"{head}\n[... {self.omitted} bytes of output omitted ...]\n{tail}"


def children(pid: int) -> list[int]:
    """The host pids of `pid`'s children (from /proc; empty when it is gone)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as file:
            return [int(p) for p in file.read().split()]
    except (OSError, ValueError):
        return []
