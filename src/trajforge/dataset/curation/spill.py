"""Spill folders of curation runs: named for the process that made them, so that the next run can remove
the ones a killed run (`kill -9`, a lost machine) left behind, and only those."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

SPILL_PREFIX = ".trajforge-curate-"
"""A spill folder is `<SPILL_PREFIX><pid>@<host>-<random>` in the folder the output goes to (or the temporary
folder); staging folders are `<prefix><pid>`. The host keeps a run on another machine (or container) sharing
the folder from being judged by process ids that are not its own."""


def spill_prefix() -> str:
    """The name prefix of this process's spill folders."""
    return f"{SPILL_PREFIX}{os.getpid()}@{_host()}-"


def _host() -> str:
    return "".join(c if c.isalnum() else "_" for c in os.uname().nodename)[:40] or "host"


def owner(name: str, prefix: str = SPILL_PREFIX) -> int | None:
    """The process id in a spill (or staging) folder's name made on this host, or None."""
    if not name.startswith(prefix):
        return None
    rest = name[len(prefix) :]
    pid, at, host = rest.partition("@")
    if at and not host.startswith(_host() + "-"):
        return None  # another machine's
    return int(pid) if pid.isdigit() else None


def alive(pid: int) -> bool:
    """Whether a process with id `pid` exists (one of another user counts as alive: not ours to judge)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale(folder: Path, prefix: str = SPILL_PREFIX) -> list[Path]:
    """Remove `folder`'s spill folders whose process is gone and that this user owns; returns them."""
    removed: list[Path] = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for entry in entries:
        pid = owner(entry.name, prefix)
        if pid is None or pid == os.getpid() or alive(pid):
            continue
        try:
            if not entry.is_dir() or entry.stat().st_uid != os.getuid():
                continue
        except OSError:
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed
