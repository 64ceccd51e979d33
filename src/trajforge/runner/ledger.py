"""The run ledger: append-only JSONL files of episode records, and what they already hold.

Layout of a run folder for one config:
    OUT/runs/<config>/episodes-<session>-<pid>.jsonl   records (the ledger)
    OUT/rows/<config>/train-<session>-<pid>.jsonl      published rows of the same episodes
Every writer (a session, or a worker process of one) appends to files of its
own, one fsynced line per episode. A crash can leave a partial last line; the
next session (holding the folder's lock) cuts it off, so each file stays valid
JSONL. An id may be recorded again (a transient failure retried): its last
record counts, the earlier ones stay as history. Rows are derived from records.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trajforge.runner.records import write_episode
from trajforge.trace import Episode, RecordError, RenderError, from_record, render, retryable
from trajforge.trace.turns import json_bytes, loads


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


@dataclass
class LedgerScan:
    """What the ledger holds, by episode id: the last record of an id is the one that counts."""

    final: dict[str, str] = field(default_factory=dict)
    """Ids whose last record is final, with its finish."""
    retry: set[str] = field(default_factory=set)
    """Ids whose last record ended in a failure a rerun retries (transient, or a harness error)."""
    records: int = 0
    damaged: int = 0
    """Lines that are not records (another tool damaged them): their episodes run again."""

    def done(self, *, retry_failed: bool = False) -> set[str]:
        """Ids a resumed run skips: the final ones (with `retry_failed`, only those that ended with `stop`)."""
        return {k for k, finish in self.final.items() if finish == "stop" or not retry_failed}


class Ledger:
    """The records of one config in a run folder; `open_writer` starts this process's own files.

    Only the process that holds the run folder's lock calls `repair` and `sync_rows`;
    the writers (one per process, Ray workers included) only append to files of their own.
    """

    def __init__(self, out: Path, config: str) -> None:
        self.config = config
        self.records_dir = out / "runs" / config
        self.rows_dir = out / "rows" / config
        self._records: Path | None = None
        self._rows: Path | None = None

    def record_files(self) -> list[Path]:
        """The ledger's record files, oldest session first."""
        return sorted(self.records_dir.glob("episodes-*.jsonl"))

    def _generated(self, folder: Path, prefix: str) -> list[Path]:
        # files of generate sessions (episodes-0003-1234.jsonl), not of `import` (episodes-import-x.jsonl)
        return sorted(p for p in folder.glob(f"{prefix}-*.jsonl") if p.name.split("-")[1].isdigit())

    def repair(self) -> int:
        """Cut the partial last line a crash left in any record or row file; returns the files repaired."""
        files = [*self.record_files(), *sorted(self.rows_dir.glob("train-*.jsonl"))]
        return sum(1 for file in files if cut_partial_line(file))

    def scan(self) -> LedgerScan:
        """Every recorded id and whether its last record is final."""
        found = LedgerScan()
        for _file, _number, record in self._records_in(self.record_files()):
            if record is None:
                found.damaged += 1
                continue
            found.records += 1
            key = record["id"]
            if _retryable(record):
                found.retry.add(key)
                found.final.pop(key, None)
            else:
                found.retry.discard(key)
                found.final[key] = str(record.get("finish", "stop"))
        return found

    def last_record(self, episode_id: str) -> dict[str, Any] | None:
        """The record of `episode_id` that counts (its last), or None."""
        found = None
        for _file, _number, record in self._records_in(self.record_files()):
            if record is not None and record["id"] == episode_id:
                found = record
        return found

    def open_writer(self) -> None:
        """Choose this process's files: a new session number, and the pid for workers of one session."""
        session = len({f.name.split("-")[1] for f in self.record_files()})
        name = f"{session:04d}-{os.getpid()}"
        self._records = self.records_dir / f"episodes-{name}.jsonl"
        self._rows = self.rows_dir / f"train-{name}.jsonl"

    def write(self, episode: Episode) -> str | None:
        """Append the record, then (for a final episode) the row; returns why no row was written, or None."""
        if self._records is None or self._rows is None:
            self.open_writer()
        assert self._records is not None and self._rows is not None
        return write_episode(episode, self._records, None if episode.retryable else self._rows)

    def sync_rows(self) -> int:
        """Make the rows the rendering of the last final record of each id; returns rows rewritten.

        Rows are derived data: a crash between a record and its row, or a rerun that
        superseded a record, leaves rows that disagree with the records, and then the
        generated rows are rebuilt from the records (nothing else is ever rewritten).
        """
        latest: dict[str, tuple[Path, int]] = {}
        for file, number, record in self._records_in(self._generated(self.records_dir, "episodes")):
            if record is not None:
                if _retryable(record):
                    latest.pop(record["id"], None)
                else:
                    latest[record["id"]] = (file, number)
        row_files = self._generated(self.rows_dir, "train")
        rows: Counter[str] = Counter()
        for _file, _number, row in self._records_in(row_files):
            rows[row["id"] if row is not None else ""] += 1
        if set(rows) <= set(latest) and all(count == 1 for count in rows.values()):
            missing = [key for key in latest if key not in rows]
            if not missing or not self._renderable(latest, missing):
                return 0
        return self._rebuild_rows(latest, row_files)

    def _renderable(self, latest: dict[str, tuple[Path, int]], keys: list[str]) -> bool:
        """Whether any of `keys` has a record that lays out as a row (some never can: tag collisions)."""
        wanted = {latest[k] for k in keys}
        for file, number, record in self._records_in(sorted({f for f, _ in wanted})):
            if record is not None and (file, number) in wanted and _row_of(record) is not None:
                return True
        return False

    def _rebuild_rows(self, latest: dict[str, tuple[Path, int]], old: list[Path]) -> int:
        wanted = set(latest.values())
        target = self.rows_dir / f"train-{len(old):04d}-{os.getpid()}-rebuilt.jsonl"
        partial = target.with_suffix(".partial")
        written = 0
        self.rows_dir.mkdir(parents=True, exist_ok=True)
        with partial.open("wb") as handle:
            for file, number, record in self._records_in(self._generated(self.records_dir, "episodes")):
                row = _row_of(record) if record is not None and (file, number) in wanted else None
                if row is not None:
                    handle.write(json_bytes(row) + b"\n")
                    written += 1
            handle.flush()
            os.fsync(handle.fileno())
        partial.rename(target)  # the new rows exist before the old ones go: a crash leaves extra rows, not fewer
        for file in old:
            if file != target:
                file.unlink(missing_ok=True)
        return written

    @staticmethod
    def _records_in(files: list[Path]) -> Iterator[tuple[Path, int, dict[str, Any] | None]]:
        """(file, line number, record) for every complete line; None for a line that is not a record."""
        for file in files:
            with file.open("rb") as handle:
                for number, line in enumerate(handle, 1):
                    if not line.endswith(b"\n"):
                        break  # a writer's line in progress (or a crash's): not a record yet
                    try:
                        record = loads(line)
                    except (ValueError, RecursionError):
                        record = None
                    if not isinstance(record, dict) or not isinstance(record.get("id"), str):
                        record = None
                    yield file, number, record


def _retryable(record: dict[str, Any]) -> bool:
    return retryable(str(record.get("finish", "stop")), record.get("flags") or [])


def _row_of(record: dict[str, Any]) -> dict[str, Any] | None:
    try:
        return render(from_record(record))
    except (RenderError, RecordError):
        return None
