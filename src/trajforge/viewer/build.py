"""Building the viewer's index: one pass over every row, cut into pieces that processes can share.

Each piece (a byte range of a JSONL file, or a Parquet row group, as
`dataset.rows.episodes.pieces` cuts them) gives its rows' locations, their
`Summary` facts and their case-folded search text. Rows are never kept: the
trace page reads its one row again from where the index says it is.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from trajforge.dataset.rows.episodes import Piece
from trajforge.trace.turns import json_bytes, loads
from trajforge.viewer.grams import rows_grams
from trajforge.viewer.summary import Summary, summarize

SUMMARY_FIELDS = [f.name for f in fields(Summary) if f.name != "text"]


@dataclass
class PieceIndex:
    """The index columns of one piece's rows, and their search text (UTF-8, back to back)."""

    line: list[int] = field(default_factory=list)
    """1-based line (JSONL) or row (Parquet) number in the file."""
    start: list[int] = field(default_factory=list)
    """Byte offset of the line (JSONL), or the row's place in its row group (Parquet)."""
    length: list[int] = field(default_factory=list)
    """Bytes of the line (JSONL); -1 for Parquet."""
    group: list[int] = field(default_factory=list)
    """Parquet row group; -1 for JSONL."""
    facts: dict[str, list[Any]] = field(default_factory=lambda: {name: [] for name in SUMMARY_FIELDS})
    text_lengths: list[int] = field(default_factory=list)
    text: bytearray = field(default_factory=bytearray)
    grams: npt.NDArray[np.uint8] | None = None
    """Each row's trigram buckets (see `grams`), made once the piece is read."""
    packed_sizes: list[int] = field(default_factory=list)
    """Parquet rows only: each row's JSON size, and its zstd frame, back to back in `packed`."""
    packed_lengths: list[int] = field(default_factory=list)
    packed: bytearray = field(default_factory=bytearray)

    def add(self, line: int, start: int, length: int, group: int, summary: Summary) -> None:
        """One row."""
        self.line.append(line)
        self.start.append(start)
        self.length.append(length)
        self.group.append(group)
        for name in SUMMARY_FIELDS:
            self.facts[name].append(getattr(summary, name))
        encoded = summary.text.encode("utf-8", "surrogatepass")
        self.text_lengths.append(len(encoded))
        self.text += encoded


def index_piece(piece: Piece) -> PieceIndex:
    """The index of one piece; an unreadable line or file becomes a row with a `problem`."""
    result = PieceIndex()
    if piece.row_group >= 0:
        _parquet_piece(piece, result)
    else:
        _jsonl_piece(piece, result)
    result.grams = rows_grams(result.text, result.text_lengths)
    return result


def _jsonl_piece(piece: Piece, result: PieceIndex) -> None:
    try:
        with piece.file.open("rb") as handle:
            handle.seek(piece.start)
            data = handle.read(piece.stop - piece.start) if piece.stop else handle.read()
    except OSError as exc:
        result.add(0, 0, 0, -1, Summary(problem=f"unreadable: {exc}"))
        return
    offset = piece.start
    for number, line in enumerate(data.split(b"\n"), piece.first_line):
        if line.strip() and number not in piece.skip:
            try:
                summary = summarize(loads(line))
            except ValueError as exc:
                summary = Summary(problem=f"invalid JSON: {exc}")
            result.add(number, offset, len(line), -1, summary)
        offset += len(line) + 1


def _parquet_piece(piece: Piece, result: PieceIndex) -> None:
    try:
        parquet = pq.ParquetFile(piece.file)
        first = 1 + sum(parquet.metadata.row_group(g).num_rows for g in range(piece.row_group))
        rows = parquet.read_row_group(piece.row_group).to_pylist()
    except (pa.ArrowException, OSError) as exc:
        result.add(0, 0, 0, piece.row_group, Summary(problem=f"not a readable Parquet file: {exc}".splitlines()[0]))
        return
    for place, row in enumerate(rows):
        result.add(first + place, place, -1, piece.row_group, summarize(row))
        # A Parquet row can only be read by decoding its whole row group (~35 MB of traces): the
        # trace page reads this copy instead, one small zstd frame.
        data = json_bytes(row)
        frame = pa.compress(data, codec="zstd", asbytes=True)
        result.packed_sizes.append(len(data))
        result.packed_lengths.append(len(frame))
        result.packed += frame


def map_pieces(pieces: Iterable[Piece], workers: int) -> Iterator[PieceIndex]:
    """`index_piece` over `pieces`, in order, on `workers` processes (inline for one), a few in flight."""
    if workers <= 1:
        yield from map(index_piece, pieces)
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield from _bounded(pool.submit, index_piece, pieces, 2 * workers)


def _bounded(
    submit: Callable[..., Future[PieceIndex]], fn: Callable[[Piece], PieceIndex], items: Iterable[Piece], limit: int
) -> Iterator[PieceIndex]:
    pending: deque[Future[PieceIndex]] = deque()
    for item in items:
        pending.append(submit(fn, item))
        if len(pending) >= limit:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()
