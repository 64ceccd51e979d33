"""Streaming writers of row files with the exact six-column schema.

A file is written under a temporary name and moved into place at the end, so
an interrupted write never leaves a half file where a good one was.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from trajforge.dataset.rows.readers import is_parquet
from trajforge.dataset.rows.schema import SCHEMA
from trajforge.trace import COLUMNS
from trajforge.trace.turns import json_bytes

WRITE_BATCH_ROWS = 1024


def write_rows(path: Path, rows: Iterable[dict[str, Any]], *, batch_rows: int = WRITE_BATCH_ROWS) -> int:
    """Write `rows` to `path` (JSONL, or Parquet for a .parquet name); returns the row count.

    Only the six columns are written, in their order; rows are consumed in
    batches of `batch_rows`, so memory does not grow with the file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        count = _write_parquet(temporary, rows, batch_rows) if is_parquet(path) else _write_jsonl(temporary, rows)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return count


def _columns_only(rows: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for row in rows:
        yield {name: row[name] for name in COLUMNS}


def _write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    count = 0
    with path.open("wb") as handle:
        for row in _columns_only(rows):
            handle.write(json_bytes(row) + b"\n")
            count += 1
    return count


def _write_parquet(path: Path, rows: Iterable[dict[str, Any]], batch_rows: int) -> int:
    count = 0
    source = _columns_only(rows)
    with pq.ParquetWriter(path, SCHEMA, compression="zstd") as writer:
        while batch := list(islice(source, batch_rows)):
            writer.write_table(pa.Table.from_pylist(batch, schema=SCHEMA))
            count += len(batch)
    return count
