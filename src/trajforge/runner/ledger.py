"""The run ledger: append-only JSONL files of episode records, and what they already hold.

Layout of a run folder for one config:
    OUT/runs/<config>/episodes-<session>-<pid>.jsonl   records (the ledger)
    OUT/rows/<config>/train-<session>-<pid>.jsonl      published rows of the same episodes
Every writer (a session, or a worker process of one) appends to files of its
own, one fsynced line per episode. A crash can leave a partial last line; the
next session cuts it off before reading, so each file stays valid JSONL.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

import orjson

from trajforge.runner.records import write_episode
from trajforge.trace import Episode


def episode_id(config: str, task_id: str, repeat: int) -> str:
    """The stable id of repeat `repeat` of `task_id` in `config`: a UUID4-shaped hash.

    Stable ids make resuming exact: an episode is done when its id is in the
    ledger, and running it twice can never give two records with one key.
    """
    digest = hashlib.sha256(f"{config}\0{task_id}\0{repeat}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def cut_partial_line(path: Path) -> int:
    """Truncate `path` after its last newline; returns the bytes removed (a crash's partial line)."""
    size = path.stat().st_size
    if size == 0:
        return 0
    with path.open("rb+") as handle:
        tail = 1 << 16
        start = max(0, size - tail)
        while True:
            handle.seek(start)
            cut = handle.read(size - start).rfind(b"\n")
            if cut >= 0 or start == 0:
                break
            start = max(0, start - tail)  # a line longer than the window: look further back
        keep = start + cut + 1 if cut >= 0 else 0
        if keep < size:
            handle.truncate(keep)
            os.fsync(handle.fileno())
        return size - keep


class Ledger:
    """The records of one config in a run folder; `open_writer` starts this process's own files."""

    def __init__(self, out: Path, config: str) -> None:
        self.config = config
        self.records_dir = out / "runs" / config
        self.rows_dir = out / "rows" / config
        self._records: Path | None = None
        self._rows: Path | None = None

    def record_files(self) -> list[Path]:
        """The ledger's record files, oldest session first."""
        return sorted(self.records_dir.glob("episodes-*.jsonl"))

    def done_ids(self) -> set[str]:
        """Ids of the episodes already recorded (partial last lines are cut off first)."""
        done: set[str] = set()
        for file in self.record_files():
            cut_partial_line(file)
            with file.open("rb") as handle:
                for line in handle:
                    try:
                        done.add(orjson.loads(line)["id"])
                    except (orjson.JSONDecodeError, KeyError, TypeError):
                        continue  # a line another tool damaged: not done, so it runs again
        for file in sorted(self.rows_dir.glob("train-*.jsonl")):
            cut_partial_line(file)
        return done

    def open_writer(self) -> None:
        """Choose this process's files: a new session number, and the pid for workers of one session."""
        session = len({f.name.split("-")[1] for f in self.record_files()})
        name = f"{session:04d}-{os.getpid()}"
        self._records = self.records_dir / f"episodes-{name}.jsonl"
        self._rows = self.rows_dir / f"train-{name}.jsonl"

    def write(self, episode: Episode) -> str | None:
        """Append the record, then the row; returns why no row was written, or None."""
        if self._records is None or self._rows is None:
            self.open_writer()
        assert self._records is not None and self._rows is not None
        return write_episode(episode, self._records, self._rows)
