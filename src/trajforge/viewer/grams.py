"""A trigram filter for the search: which rows may hold a term, read from a few kB instead of the whole text.

Each row's case-folded text is reduced to the set of its byte trigrams,
hashed into BITS buckets. The file stores, for each bucket, one bit per row
(bucket-major), so a term's candidates are the AND of the rows of its
trigrams' buckets: a handful of reads of N/8 bytes. A row that holds the term
always passes (no false negatives); the few that pass without holding it are
weeded out by the exact search that follows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

BITS = 1 << 16
ROW_BYTES = BITS // 8
_BLOCK_BUCKETS = 2048  # buckets transposed at once when the file is written (N x this many bools in memory)


def rows_grams(text: bytes | bytearray, lengths: list[int]) -> npt.NDArray[np.uint8]:
    """The packed bucket sets (one ROW_BYTES row each) of rows whose texts lie back to back in `text`."""
    result = np.zeros((len(lengths), ROW_BYTES), dtype=np.uint8)
    data = np.frombuffer(text, dtype=np.uint8)
    bits = np.zeros(BITS, dtype=bool)
    at = 0
    for row, length in enumerate(lengths):
        if length >= 3:
            bits[:] = False
            bits[_hashes(data[at : at + length])] = True
            result[row] = np.packbits(bits)
        at += length
    return result


def _hashes(data: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint32]:
    wide = data.astype(np.uint32)
    grams = (wide[:-2] << 16) | (wide[1:-1] << 8) | wide[2:]
    hashed = ((grams * np.uint32(2654435761)) >> np.uint32(16)) & np.uint32(BITS - 1)
    return hashed.astype(np.uint32, copy=False)


def write_grams(rows: npt.NDArray[np.uint8], path: Path) -> None:
    """Store the row-major bucket sets `rows` (N x ROW_BYTES, a memory map will do) bucket-major in `path`."""
    count = len(rows)
    width = (count + 7) // 8
    with path.open("wb") as handle:
        if not count:
            return
        for first in range(0, BITS, _BLOCK_BUCKETS):
            columns = rows[:, first // 8 : (first + _BLOCK_BUCKETS) // 8]
            bits = np.unpackbits(columns, axis=1, count=_BLOCK_BUCKETS)  # N x buckets
            handle.write(np.packbits(bits.T, axis=1).reshape(-1, width).tobytes())


def transpose_grams(rows_file: Path, count: int, path: Path) -> None:
    """`write_grams` of the `count` row-major bucket sets in `rows_file` (read as a memory map), which is removed."""
    rows = np.memmap(rows_file, dtype=np.uint8, mode="r", shape=(count, ROW_BYTES)) if count else None
    write_grams(rows if rows is not None else np.zeros((0, ROW_BYTES), np.uint8), path)
    del rows
    rows_file.unlink()


def candidates(path: Path, count: int, term: bytes) -> npt.NDArray[np.bool_] | None:
    """Rows that may hold `term`, or None when the term is too short to filter on."""
    if len(term) < 3:
        return None
    if not count:
        return np.zeros(0, dtype=bool)
    width = (count + 7) // 8
    keep = np.ones(count, dtype=bool)
    buckets = np.unique(_hashes(np.frombuffer(term, dtype=np.uint8)))
    with path.open("rb") as handle:
        for bucket in buckets.tolist():
            handle.seek(bucket * width)
            keep &= np.unpackbits(np.frombuffer(handle.read(width), dtype=np.uint8), count=count).astype(bool)
            if not keep.any():
                break
    return keep
