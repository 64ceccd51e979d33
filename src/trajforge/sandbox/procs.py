"""Finding and killing processes through /proc: trees, uids and marked environments."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path

_PROC = Path("/proc")


def _pids() -> list[int]:
    return [int(p.name) for p in _PROC.iterdir() if p.name.isdigit()]


def _parent(pid: int) -> int | None:
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # the command name may hold spaces and parentheses: the fields after the last ')' are fixed
    return int(stat.rsplit(")", 1)[1].split()[1])


def start_time(pid: int) -> int | None:
    """When `pid` started (clock ticks since boot), or None when no such process lives.

    With the pid this names one process for good: a pid reused later has another start time.
    """
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return None if fields[0] == "Z" else int(fields[19])


def identity_argv(uid: int | None) -> list[str]:
    """The argv prefix that runs a program as `uid` (and gid `uid`, no other groups); empty for None.

    setpriv in the argv rather than Popen's user=/group=: those make CPython fork
    the whole parent instead of vfork, which blocks the event loop for milliseconds.
    """
    if uid is None:
        return []
    return ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--"]


def process_tree(root: int) -> list[int]:
    """`root` and all its living descendants."""
    children: dict[int, list[int]] = {}
    for pid in _pids():
        parent = _parent(pid)
        if parent is not None:
            children.setdefault(parent, []).append(pid)
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def kill_tree(root: int) -> None:
    """SIGKILL `root` and its descendants (descendants first found, then all at once)."""
    for pid in process_tree(root):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


async def kill_uid(uid: int, patience: float = 2.0) -> bool:
    """SIGKILL every process of `uid`, from a process of that uid (kill(-1) reaches them all at once).

    A process forking at that very moment may leave a child, and killed processes
    take a moment to go: repeat until none is left or `patience` runs out. True when none is left.
    """
    deadline = asyncio.get_running_loop().time() + patience
    while pids_of_uid(uid) and asyncio.get_running_loop().time() < deadline:
        killer = await asyncio.create_subprocess_exec(
            *identity_argv(uid), "kill", "-KILL", "-1",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        await killer.wait()
        await asyncio.sleep(0.005)
    return not pids_of_uid(uid)


def _proc_files(name: str, owner: int | None = None) -> Iterator[tuple[int, bytes]]:
    """(pid, content of /proc/PID/NAME) for every process still there when read.

    With `owner`, only processes whose /proc folder belongs to that uid (their effective
    uid) are read: a stat each instead of reading and parsing every process's file.
    """
    for pid in _pids():
        try:
            if owner is not None and os.stat(f"/proc/{pid}").st_uid != owner:
                continue
            yield pid, (_PROC / str(pid) / name).read_bytes()
        except OSError:
            continue


def pids_of_uid(uid: int) -> list[int]:
    """Living (not zombie) processes whose real and effective uid is `uid` (a set-uid program's child of it
    runs as another user and is not counted)."""
    found = []
    for pid, status in _proc_files("status", owner=uid):
        fields = dict(line.split(":", 1) for line in status.decode(errors="replace").splitlines() if ":" in line)
        if int(fields.get("Uid", "-1 ").split()[0]) == uid and not fields.get("State", "").strip().startswith("Z"):
            found.append(pid)
    return found


def pids_with_marker(marker: str) -> list[int]:
    """Processes (of ours) whose environment holds TRAJFORGE_SANDBOX=`marker`."""
    needle = f"TRAJFORGE_SANDBOX={marker}".encode()
    return [pid for pid, environ in _proc_files("environ", owner=os.geteuid()) if needle in environ.split(b"\0")]
