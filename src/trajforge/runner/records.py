"""Append-only JSONL files: one complete, fsynced line per record."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from trajforge.trace import Episode, RenderError, render, to_record
from trajforge.trace.turns import json_bytes


def append_line(path: Path, record: dict[str, Any]) -> None:
    """Append `record` as one JSON line and fsync, so a crash leaves at most a partial last line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json_bytes(record) + b"\n"  # not orjson alone: it refuses integers beyond 64 bits
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def write_episode(episode: Episode, records: Path, rows: Path | None) -> str | None:
    """Append the episode's record, then its row (unless `rows` is None); returns why no row was written."""
    append_line(records, to_record(episode))
    if rows is None:
        return "no row for an episode a rerun retries"
    try:
        row = render(episode)
    except RenderError as exc:
        return str(exc)
    append_line(rows, row)
    return None
