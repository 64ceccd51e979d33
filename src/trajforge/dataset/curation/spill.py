"""Spill folders of curation runs: named for the process that made them, so that the next run can remove
the ones a killed run (`kill -9`, a lost machine) left behind, and only those."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

SPILL_PREFIX = ".trajforge-curate-"
"""A spill folder is `<SPILL_PREFIX><pid>-<random>` in the folder the output goes to (or the temporary folder)."""


def owner(name: str, prefix: str = SPILL_PREFIX) -> int | None:
    """The process id in a spill (or staging) folder's name, or None when the name holds none."""
    if not name.startswith(prefix):
        return None
    pid, _, _ = name[len(prefix) :].partition("-")
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
