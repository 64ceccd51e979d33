"""Append-only JSONL files: one complete, fsynced line per record."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson

from trajforge.trace import Episode, RenderError, render, to_record


def append_line(path: Path, record: dict[str, Any]) -> None:
    """Append `record` as one JSON line and fsync, so a crash leaves at most a partial last line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def write_episode(episode: Episode, records: Path, rows: Path) -> str | None:
    """Append the episode's record, then its row; returns why no row was written, or None."""
    append_line(records, to_record(episode))
    try:
        row = render(episode)
    except RenderError as exc:
        return str(exc)
    append_line(rows, row)
    return None
