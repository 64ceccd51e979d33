"""Sandbox uids from a machine-wide pool: one lock file per uid, held while the sandbox lives.

A uid is lent by taking `fcntl.flock` on its lock file without waiting; a taken
file means "in use" and the next uid is tried. flock locks belong to the open
file, so two sandboxes of one process exclude each other as well as two
processes do, and the kernel drops the lock of a process that dies: a crashed
holder frees its uids. The file's content says whether its last holder gave
the uid back cleanly; when it did not, the borrower learns that processes of
that uid may still run (`UidLease.dirty`) and kills them before using it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from trajforge.sandbox.base import SandboxError

UID_BASE = 200_000
UID_COUNT = 60_000
_RUN_DIR = Path("/run/trajforge/uids")


class UidPoolError(SandboxError, RuntimeError):
    """The pool's folder is unsafe or every uid of the pool is lent."""


@dataclass
class UidLease:
    """One uid lent to one sandbox; `release` gives it back (after its processes are gone)."""

    uid: int
    dirty: bool
    """The last holder died without giving the uid back: processes of that uid may still run."""
    _fd: int
    _returned: list[int] = field(default_factory=list, repr=False)
    """Its pool's list of given-back uids, tried first by the next `acquire`."""

    def release(self, clean: bool = True) -> None:
        """Unlock the uid, marked clean unless processes of it may still run; harmless when called twice."""
        if self._fd < 0:
            return
        if clean:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
        os.close(self._fd)  # closing the only descriptor drops the flock
        self._fd = -1
        if clean:
            self._returned.append(self.uid)


class UidPool:
    """Lends uids `base` .. `base + size - 1`, each to one sandbox on this machine at a time."""

    def __init__(self, directory: Path | None = None, base: int = UID_BASE, size: int = UID_COUNT) -> None:
        self.directory = directory or default_directory()
        self.base, self.size = base, size
        self._ready = False
        self._returned: list[int] = []
        self._next = 0  # where the scan goes on: lent uids are not tried again and again

    def acquire(self) -> UidLease:
        """A uid no living sandbox holds (one this pool got back first); raises UidPoolError when all are lent."""
        self._prepare()
        while self._returned:
            lease = self._try(self._returned.pop())
            if lease is not None:
                return lease
        for step in range(self.size):
            offset = (self._next + step) % self.size
            lease = self._try(self.base + offset)
            if lease is not None:
                self._next = offset + 1
                return lease
        raise UidPoolError(f"all {self.size} sandbox uids from {self.base} are in use ({self.directory})")

    def take(self, uid: int) -> UidLease | None:
        """Lease this very uid when no living sandbox holds it, else None."""
        self._prepare()
        return self._try(uid)

    def _try(self, uid: int) -> UidLease | None:
        fd = os.open(self.directory / str(uid), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        dirty = os.fstat(fd).st_size > 0
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {socket.gethostname()}\n".encode(), 0)
        return UidLease(uid, dirty, fd, self._returned)

    def _prepare(self) -> None:
        if self._ready:
            return
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = os.lstat(self.directory)
        # Someone else's folder (or a link planted in /tmp) could hand out uids in use: refuse it.
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o022:
            raise UidPoolError(f"{self.directory} is not a private folder of this user; remove it")
        self._ready = True


def default_directory() -> Path:
    """/run/trajforge/uids where /run is writable (root), else a folder in the temporary directory."""
    if os.access("/run", os.W_OK):
        return _RUN_DIR
    return Path(tempfile.gettempdir()) / f"trajforge-uids-{os.geteuid()}"
