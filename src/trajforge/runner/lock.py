"""One run per folder: an exclusive lock on the run folder while `generate` writes into it.

The lock is an `flock` on OUT/.trajforge.lock, so the kernel releases it when its
holder dies (kill -9 included): a lock left by a dead run is stale by construction
and is taken over. The file names the holder (pid, host, start) for the message
the second run prints.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import time
from pathlib import Path
from types import TracebackType

from trajforge.trace.turns import json_bytes, loads

LOCK_NAME = ".trajforge.lock"


class RunFolderLocked(RuntimeError):
    """Another live process is generating into the folder."""


class RunLock:
    """Use as `with RunLock(out) as lock:`; `lock.took_over` names a dead holder whose lock was taken."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / LOCK_NAME
        self.took_over: str | None = None
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _describe(_read(fd))
            os.close(fd)
            raise RunFolderLocked(
                f"{self.path.parent} is in use by {holder}; wait for it or use another --out"
            ) from None
        previous = _read(fd)
        if previous:
            self.took_over = _describe(previous)
        me = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json_bytes(me) + b"\n", 0)
        self._fd = fd
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)  # an empty lock file: the run ended cleanly
            os.close(self._fd)  # closing releases the flock
            self._fd = None


def _read(fd: int) -> dict[str, object]:
    with contextlib.suppress(OSError, ValueError):
        data = os.pread(fd, 4096, 0)
        value = loads(data) if data.strip() else {}
        if isinstance(value, dict):
            return value
    return {}


def _describe(holder: dict[str, object]) -> str:
    if not holder:
        return "another trajforge process"
    return f"trajforge pid {holder.get('pid')} on {holder.get('host')} (since {holder.get('since')})"
