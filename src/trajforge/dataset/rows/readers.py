"""Streaming readers of row files (JSONL and Parquet); memory is bounded by a batch.

Two views of the same files, with the same rules for what is unreadable:
`iter_rows` gives Python rows one at a time (for checks that look at every
turn), `iter_tables` gives Arrow tables of well-formed rows (for column-wise
statistics). Neither raises on bad input: a bad line, row or file becomes a
`Problem` and reading goes on with the next one.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj
import pyarrow.parquet as pq

from trajforge.dataset.rows.schema import SCHEMA, Problem, shape_problem
from trajforge.trace import COLUMNS
from trajforge.trace.messages import nested_deeper
from trajforge.trace.turns import loads

MAX_DEPTH = 100
"""Deepest JSON nesting of a line read: an episode record nests about ten levels around call
arguments, which are kept as objects up to 64 levels (`trace.messages.MAX_ARGUMENT_DEPTH`)."""

CHUNK_BYTES = 16 << 20  # JSONL bytes parsed at once by the Arrow path
BATCH_ROWS = 512  # Parquet rows per batch: rows of agent traces run to tens of kB each
_ARROW_BLOCK = 1 << 20
_PARSE_OPTIONS = pj.ParseOptions(explicit_schema=SCHEMA, unexpected_field_behavior="ignore")


@dataclass(frozen=True)
class Row:
    """One parsed row and where it came from (`number`: 1-based line or row)."""

    file: str
    number: int
    data: Any


@dataclass
class TableBatch:
    """Well-formed rows as an Arrow table, and the problems met reading that stretch."""

    table: pa.Table
    problems: list[Problem] = field(default_factory=list)


def is_parquet(file: Path) -> bool:
    """Whether `file` is read as Parquet (else as JSONL)."""
    return file.suffix == ".parquet"


def iter_rows(file: Path, *, batch_rows: int = BATCH_ROWS) -> Iterator[Row | Problem]:
    """Every row of `file` as Python data, or a Problem for what cannot be read."""
    return _parquet_rows(file, batch_rows) if is_parquet(file) else _jsonl_rows(file)


def iter_tables(file: Path, *, chunk_bytes: int = CHUNK_BYTES, batch_rows: int = BATCH_ROWS) -> Iterator[TableBatch]:
    """Well-formed rows of `file` in Arrow batches; rows of the wrong shape become Problems.

    JSONL is read `chunk_bytes` at a time, Parquet `batch_rows` rows at a time.
    """
    return (task() for task in table_tasks(file, chunk_bytes=chunk_bytes, batch_rows=batch_rows))


def table_tasks(
    file: Path, *, chunk_bytes: int = CHUNK_BYTES, batch_rows: int = BATCH_ROWS, skip: frozenset[int] = frozenset()
) -> Iterator[Callable[[], TableBatch]]:
    """The work of `iter_tables` cut into tasks, each giving one TableBatch, safe to run in threads.

    Reading the file happens as the iterator advances; parsing and checking
    happen when a task is called, so a thread pool can spread them over cores.
    `skip`: JSONL line numbers left out (rows a later row of the same id supersedes).
    """
    if is_parquet(file):
        return _parquet_tasks(file, batch_rows)
    return _jsonl_tasks(file, chunk_bytes, skip)


def _row_id(data: Any) -> str | None:
    value = data.get("id") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def _file_problem(file: Path, exc: BaseException | str) -> Problem:
    return Problem(str(file), None, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)


# ---------------------------------------------------------------- JSONL


def _jsonl_rows(file: Path) -> Iterator[Row | Problem]:
    try:
        handle = file.open("rb")
    except OSError as exc:
        yield _file_problem(file, exc)
        return
    with handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                yield json_row(str(file), number, line)


def json_row(file: str, number: int, line: bytes) -> Row | Problem:
    """One JSONL line parsed (integers beyond 64 bits kept exact), or a Problem naming file and line.

    A line nested deeper than MAX_DEPTH levels is a Problem too: every later step
    (checks, layout, JSON writers) would otherwise walk or recurse that deep.
    """
    try:
        data = loads(line)
    except ValueError as exc:
        return Problem(file, number, f"invalid JSON: {exc}")
    if too_deep(line, data):
        return Problem(file, number, f"JSON nested deeper than {MAX_DEPTH} levels", id=_row_id(data))
    return Row(file, number, data)


def too_deep(text: bytes, value: Any) -> bool:
    """Whether `value` (parsed from `text`) nests deeper than MAX_DEPTH; counting brackets first spares the walk."""
    return text.count(b"[") + text.count(b"{") > MAX_DEPTH and nested_deeper(value, MAX_DEPTH)


def jsonl_chunks(file: Path, chunk_bytes: int) -> Iterator[tuple[int, int, memoryview]]:
    """(first line number, byte offset, bytes) pieces of the file, each ending at a line end; OSError if unreadable."""
    with file.open("rb") as handle:
        line = 1
        while block := handle.read(chunk_bytes):
            start = handle.tell() - len(block)
            cut = block.rfind(b"\n") + 1
            while cut == 0:  # a line longer than a chunk: read on to its end
                more = handle.read(chunk_bytes)
                if not more:
                    cut = len(block)
                    break
                block += more
                cut = block.rfind(b"\n") + 1
            handle.seek(cut - len(block), os.SEEK_CUR)  # the rest starts the next chunk
            chunk = memoryview(block)[:cut]
            yield line, start, chunk
            line += int(np.count_nonzero(np.frombuffer(chunk, dtype=np.uint8) == ord("\n")))


def _jsonl_tasks(file: Path, chunk_bytes: int, skip: frozenset[int]) -> Iterator[Callable[[], TableBatch]]:
    try:
        for first_line, _, chunk in jsonl_chunks(file, chunk_bytes):
            yield partial(_jsonl_batch, str(file), first_line, _blank_lines(chunk, first_line, skip) if skip else chunk)
    except OSError as exc:
        yield partial(TableBatch, SCHEMA.empty_table(), [_file_problem(file, exc)])


def _blank_lines(chunk: memoryview, first_line: int, skip: frozenset[int]) -> memoryview:
    """`chunk` with the lines in `skip` emptied (line ends kept, so later lines keep their numbers)."""
    lines = bytes(chunk).split(b"\n")
    if not any(first_line <= n < first_line + len(lines) for n in skip):
        return chunk
    return memoryview(b"\n".join(b"" if first_line + k in skip else line for k, line in enumerate(lines)))


def _jsonl_batch(file: str, first_line: int, chunk: memoryview) -> TableBatch:
    table = _arrow_parse(chunk)
    if table is not None and _complete(table):
        return TableBatch(table)
    lines = bytes(chunk).split(b"\n")
    return _checked_batch([json_row(file, first_line + k, line) for k, line in enumerate(lines) if line.strip()])


def _arrow_parse(chunk: memoryview) -> pa.Table | None:
    """The chunk parsed by Arrow's JSON reader, or None when some line does not fit the schema."""
    for block_size in (_ARROW_BLOCK, len(chunk) + 1):
        try:
            return pj.read_json(
                pa.BufferReader(pa.py_buffer(chunk)),
                read_options=pj.ReadOptions(block_size=block_size, use_threads=False),  # callers run tasks in parallel
                parse_options=_PARSE_OPTIONS,
            )
        except pa.ArrowInvalid as exc:
            if "straddl" not in str(exc):  # a line longer than a block: retry with one block
                return None
    return None


def _complete(table: pa.Table) -> bool:
    """No missing column value and no turn without `from` or `value`."""
    if any(table.column(name).null_count for name in COLUMNS):
        return False
    for chunk in table.column("conversations").chunks:
        turns = pc.list_flatten(chunk)
        if turns.null_count or any(pc.struct_field(turns, name).null_count for name in ("from", "value")):
            return False
    return True


def _checked_batch(rows: list[Row | Problem]) -> TableBatch:
    """The slow path: every row checked one by one, the good ones made a table."""
    good: list[dict[str, Any]] = []
    problems: list[Problem] = []
    for item in rows:
        if isinstance(item, Problem):
            problems.append(item)
            continue
        reason = shape_problem(item.data, allow_extra=True)
        if reason:
            problems.append(Problem(item.file, item.number, reason, id=_row_id(item.data)))
        else:
            good.append({name: item.data[name] for name in COLUMNS})
    return TableBatch(pa.Table.from_pylist(good, schema=SCHEMA), problems)


# ---------------------------------------------------------------- Parquet


def _open_parquet(file: Path) -> pq.ParquetFile | Problem:
    try:
        return pq.ParquetFile(file)
    except (pa.ArrowException, OSError) as exc:
        return _file_problem(file, f"not a readable Parquet file: {exc}")


def _parquet_batches(
    file: Path, parquet: pq.ParquetFile, columns: list[str], batch_rows: int
) -> Iterator[tuple[int, pa.RecordBatch]]:
    """(first row number, batch); a file that breaks mid-way raises _Broken with the row."""
    first = 1
    try:
        for batch in parquet.iter_batches(batch_size=batch_rows, columns=columns):
            yield first, batch
            first += batch.num_rows
    except (pa.ArrowException, OSError) as exc:
        raise _Broken(Problem(str(file), first, f"unreadable from this row on: {exc}")) from None


class _Broken(Exception):
    def __init__(self, problem: Problem) -> None:
        self.problem = problem


def _parquet_rows(file: Path, batch_rows: int) -> Iterator[Row | Problem]:
    parquet = _open_parquet(file)
    if isinstance(parquet, Problem):
        yield parquet
        return
    try:
        for first, batch in _parquet_batches(file, parquet, parquet.schema_arrow.names, batch_rows):
            for offset, data in enumerate(batch.to_pylist()):
                yield Row(str(file), first + offset, data)
    except _Broken as broken:
        yield broken.problem


def _parquet_tasks(file: Path, batch_rows: int) -> Iterator[Callable[[], TableBatch]]:
    parquet = _open_parquet(file)
    if isinstance(parquet, Problem):
        yield partial(TableBatch, SCHEMA.empty_table(), [parquet])
        return
    missing = [name for name in COLUMNS if name not in parquet.schema_arrow.names]
    if missing:
        yield partial(TableBatch, SCHEMA.empty_table(), [_file_problem(file, f"missing column {', '.join(missing)}")])
        return
    try:
        for first, batch in _parquet_batches(file, parquet, list(COLUMNS), batch_rows):
            yield partial(_parquet_batch, str(file), first, batch)
    except _Broken as broken:
        yield partial(TableBatch, SCHEMA.empty_table(), [broken.problem])


def _parquet_batch(file: str, first: int, batch: pa.RecordBatch) -> TableBatch:
    table = None
    if all(_castable(batch.schema.field(name).type, SCHEMA.field(name).type) for name in COLUMNS):
        try:
            table = pa.Table.from_batches([batch]).cast(SCHEMA)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            table = None
    if table is not None and _complete(table):
        return TableBatch(table)
    return _checked_batch([Row(file, first + k, data) for k, data in enumerate(batch.to_pylist())])


def _castable(found: pa.DataType, wanted: pa.DataType) -> bool:
    """Whether a column of type `found` holds what `wanted` does in another encoding (string and its large or view
    forms), so a cast changes no value: integers are not strings (a cast would turn 0 into "0")."""
    if pa.types.is_list(wanted) or pa.types.is_large_list(wanted) or pa.types.is_list_view(wanted):
        return (pa.types.is_list(found) or pa.types.is_large_list(found) or pa.types.is_list_view(found)) and _castable(
            found.value_type, wanted.value_type
        )
    if pa.types.is_struct(wanted):
        return pa.types.is_struct(found) and all(
            found.get_field_index(f.name) >= 0 and _castable(found.field(f.name).type, f.type) for f in wanted
        )
    return bool(pa.types.is_string(found) or pa.types.is_large_string(found) or pa.types.is_string_view(found))
