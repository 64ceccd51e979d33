"""The viewer's index of every row: built once, cached under the user's cache folder, loaded in a blink.

    $XDG_CACHE_HOME/trajforge/viewer/<paths>-<files>/   (else ~/.cache/...)
        index.arrow   one Arrow row per dataset row: where it is, and the facts the list filters on
        meta.json     the configs, their files and the `trajforge stats` figures of each
        text.bin      the case-folded search text of every row, back to back
        grams.bin     which rows hold which text trigrams (the search's first cut, see `grams`)
        rows.bin      Parquet rows, one zstd frame each (a row group is too big to decode per page)

The folder's name hashes the paths asked for and each file's size and mtime:
when a file changes, the next start (or the running server's next look) builds
a new index and removes the stale one. Two processes building at once each
write their own folder and the first to finish wins.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.feather as feather

from trajforge.dataset import ConfigStats, Problem, compute_stats
from trajforge.dataset.rows.episodes import Piece, pieces
from trajforge.dataset.rows.runfolder import superseded_in
from trajforge.trace.turns import json_bytes, loads
from trajforge.viewer.build import SUMMARY_FIELDS, PieceIndex, map_pieces
from trajforge.viewer.grams import transpose_grams
from trajforge.viewer.sources import Source

VERSION = 4  # bump when the index's columns or their meaning change
PIECE_BYTES = 16 << 20
PARALLEL_BYTES = 64 << 20
ABANDONED_SECONDS = 24 * 3600
Progress = Callable[[int, int], None]  # (pieces done, pieces in all)
PACKED = ("packed_start", "packed_length", "packed_size")
_NUMERIC = {"turns": pa.int32(), "calls": pa.int32(), "think": pa.float32(), "tokens": pa.int64()}


def cache_root() -> Path:
    """Where indexes are kept: $XDG_CACHE_HOME/trajforge/viewer, else ~/.cache/trajforge/viewer."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "trajforge" / "viewer"


@dataclass
class Coded:
    """A string column as small integer codes into its distinct values."""

    codes: npt.NDArray[np.int32]
    values: list[str]

    @classmethod
    def of(cls, column: pa.ChunkedArray) -> Coded:
        """Encode an Arrow string column."""
        encoded = pc.dictionary_encode(column).combine_chunks()
        return cls(encoded.indices.to_numpy(zero_copy_only=False).astype(np.int32), encoded.dictionary.to_pylist())

    def mask(self, value: str) -> npt.NDArray[np.bool_]:
        """Rows whose value is `value`."""
        return self.codes == self.values.index(value) if value in self.values else np.zeros(len(self.codes), bool)

    def at(self, row: int) -> str:
        """The value of one row."""
        return self.values[int(self.codes[row])]


@dataclass
class Tags:
    """A list-of-strings column (tools used, flags) as a row x value matrix of counts."""

    matrix: npt.NDArray[np.int32]
    values: list[str]

    @classmethod
    def of(cls, column: pa.ChunkedArray, counts: pa.ChunkedArray | None = None) -> Tags:
        """Encode an Arrow list<string> column; `counts` (list<int>, same shape) weighs each value, else 1."""
        array = column.combine_chunks()
        flat = pc.list_flatten(array)
        parents = pc.list_parent_indices(array).to_numpy(zero_copy_only=False)
        encoded = pc.dictionary_encode(flat)
        values = encoded.dictionary.to_pylist()
        matrix = np.zeros((len(array), len(values)), dtype=np.int32)
        weights = pc.list_flatten(counts.combine_chunks()).to_numpy(zero_copy_only=False) if counts else 1
        matrix[parents, encoded.indices.to_numpy(zero_copy_only=False)] = weights
        order = sorted(range(len(values)), key=lambda k: values[k])
        return cls(matrix[:, order], [values[k] for k in order])

    def mask(self, value: str) -> npt.NDArray[np.bool_]:
        """Rows that hold `value`."""
        if value not in self.values:
            return np.zeros(len(self.matrix), bool)
        return self.matrix[:, self.values.index(value)] > 0

    def at(self, row: int) -> list[str]:
        """The values of one row."""
        return [self.values[k] for k in np.flatnonzero(self.matrix[row])]


@dataclass
class ViewIndex:
    """Every row of the configs being viewed: where it is and what the list needs to know of it."""

    folder: Path
    sources: list[Source]
    stats: list[ConfigStats]
    skipped: list[int]
    """Per config: rows or files `trajforge stats` could not read."""
    files: list[Path]
    table: pa.Table
    num: dict[str, npt.NDArray[Any]] = field(default_factory=dict)
    coded: dict[str, Coded] = field(default_factory=dict)
    tags: dict[str, Tags] = field(default_factory=dict)
    text: dict[str, list[str]] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.table.num_rows)

    @property
    def text_path(self) -> Path:
        """The search text file."""
        return self.folder / "text.bin"

    @property
    def rows_path(self) -> Path:
        """The packed copies of Parquet rows."""
        return self.folder / "rows.bin"

    @property
    def grams_path(self) -> Path:
        """The trigram filter file."""
        return self.folder / "grams.bin"

    def source_of(self, row: int) -> Source:
        """The config a row belongs to."""
        return self.sources[int(self.num["config"][row])]


def signature(sources: Sequence[Source]) -> list[list[Any]]:
    """Every file the index depends on, with its size and mtime (missing files as -1)."""
    files = dict.fromkeys(f for s in sources for f in (*s.files, *s.stats_files))
    result: list[list[Any]] = []
    for file in files:
        try:
            stat = file.stat()
            result.append([str(file.resolve()), stat.st_size, stat.st_mtime_ns])
        except OSError:
            result.append([str(file), -1, -1])
    return result


def _folder_name(paths: Sequence[Path], sources: Sequence[Source]) -> tuple[str, str]:
    asked = hashlib.sha256(json_bytes([str(p.resolve()) for p in paths])).hexdigest()[:16]
    layout = [[s.name, s.kind, [str(f) for f in s.files], [str(f) for f in s.stats_files]] for s in sources]
    state = hashlib.sha256(json_bytes([VERSION, layout, signature(sources)])).hexdigest()[:16]
    return asked, state


def is_cached(paths: Sequence[Path], sources: Sequence[Source], cache: Path | None = None) -> bool:
    """Whether `open_index` would find its index built (the files unchanged since)."""
    asked, state = _folder_name(paths, sources)
    return ((cache or cache_root()) / f"{asked}-{state}" / "meta.json").is_file()


def open_index(
    paths: Sequence[Path],
    sources: Sequence[Source],
    *,
    cache: Path | None = None,
    workers: int = 1,
    progress: Progress | None = None,
    keep: Path | None = None,
) -> ViewIndex:
    """The index of `sources` (found under `paths`): the cached one when the files are unchanged, else a new one.

    Older indexes of the same paths are removed, except `keep` (the one a running viewer still serves).
    """
    root = cache or cache_root()
    asked, state = _folder_name(paths, sources)
    folder = root / f"{asked}-{state}"
    if not (folder / "meta.json").is_file():
        _remove_abandoned(root)
        _build(folder, list(sources), workers, progress)
        for stale in root.glob(f"{asked}-*"):
            if stale not in (folder, keep):
                shutil.rmtree(stale, ignore_errors=True)
    return load(folder, list(sources))


def _remove_abandoned(root: Path) -> None:
    """Half-built index folders a killed viewer left (older than a day: a running build's is fresh)."""
    if not root.is_dir():
        return
    for work in root.glob(".*"):
        try:
            if time.time() - work.stat().st_mtime > ABANDONED_SECONDS:
                shutil.rmtree(work, ignore_errors=True)
        except OSError:
            continue


def _build(folder: Path, sources: list[Source], workers: int, progress: Progress | None) -> None:
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        stats, skipped = [], []
        for source in sources:
            problems: list[Problem] = []
            stats.extend(compute_stats([source.stats_source()], problems.append))
            skipped.append(len(problems))
        files = list(dict.fromkeys(f for s in sources for f in s.files))
        table = _index_rows(sources, files, work, workers, progress)
        feather.write_feather(table, work / "index.arrow", compression="uncompressed")
        meta = {"version": VERSION, "files": [str(f) for f in files], "skipped": skipped,
                "stats": [_stats_fields(s) for s in stats]}  # fmt: skip
        (work / "meta.json").write_bytes(json_bytes(meta))
        try:
            work.rename(folder)
        except OSError:  # another process built the same index first
            if not (folder / "meta.json").is_file():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _stats_fields(stats: ConfigStats) -> dict[str, Any]:
    return {
        "config": stats.config,
        "samples": stats.samples,
        "total_turns": stats.total_turns,
        "total_tool_calls": stats.total_tool_calls,
        "think_words": stats.think_words,
        "think_blocks": stats.think_blocks,
        "categories": dict(stats.categories),
    }


def _index_rows(
    sources: list[Source], files: list[Path], work: Path, workers: int, progress: Progress | None
) -> pa.Table:
    """Every row of every source, in order, as one Arrow table; search text and trigrams go to files in `work`."""
    jobs: list[tuple[int, int, Piece]] = []
    for number, source in enumerate(sources):
        skip = superseded_in([source.files])
        for file in source.files:
            jobs.extend((number, files.index(file), p) for p in pieces(file, PIECE_BYTES, skip.get(file, frozenset())))
    if sum(p.stop - p.start if p.row_group < 0 else PIECE_BYTES for _, _, p in jobs) < PARALLEL_BYTES:
        workers = 1  # starting processes costs more than a small dataset's whole index
    columns: dict[str, list[Any]] = {"config": [], "file": [], "text_start": [], "packed_start": []}
    at = packed_at = 0
    row_grams = work / "grams-rows.bin"  # row-major while rows come in; bucket-major at the end
    with (
        (work / "text.bin").open("wb") as handle,
        (work / "rows.bin").open("wb") as packed,
        row_grams.open("wb") as grams,
    ):
        parts = map_pieces((p for _, _, p in jobs), workers)
        for done, ((config, file_number, _), part) in enumerate(zip(jobs, parts, strict=True)):
            rows = len(part.line)
            columns["config"] += [config] * rows
            columns["file"] += [file_number] * rows
            columns["text_start"] += (np.cumsum([0, *part.text_lengths[:-1]], dtype=np.int64) + at).tolist()[:rows]
            for name in ("line", "start", "length", "group", "text_lengths"):
                columns.setdefault(name, []).extend(getattr(part, name))
            for name in SUMMARY_FIELDS:
                columns.setdefault(name, []).extend(part.facts[name])
            handle.write(part.text)
            at += len(part.text)
            _add_packed(columns, part, rows, packed_at)
            packed.write(part.packed)
            packed_at += len(part.packed)
            if part.grams is not None:
                grams.write(part.grams.tobytes())
            if progress:
                progress(done + 1, len(jobs))
    transpose_grams(row_grams, len(columns["config"]), work / "grams.bin")
    return _table(columns)


def _add_packed(columns: dict[str, list[Any]], part: PieceIndex, rows: int, at: int) -> None:
    """Where each row's packed copy is (-1 for JSONL rows, which are read from their file)."""
    if part.packed_lengths:
        starts = np.cumsum([0, *part.packed_lengths[:-1]], dtype=np.int64) + at
        columns["packed_start"] += starts.tolist()
        columns.setdefault("packed_length", []).extend(part.packed_lengths)
        columns.setdefault("packed_size", []).extend(part.packed_sizes)
    else:
        for name in ("packed_start", "packed_length", "packed_size"):
            columns.setdefault(name, []).extend([-1] * rows)


def _table(columns: dict[str, list[Any]]) -> pa.Table:
    types: dict[str, pa.DataType] = {
        "config": pa.int32(), "file": pa.int32(), "text_start": pa.int64(), "line": pa.int64(), "start": pa.int64(),
        "length": pa.int64(), "group": pa.int32(), "text_lengths": pa.int64(), "tokens_measured": pa.bool_(),
        "packed_start": pa.int64(), "packed_length": pa.int64(), "packed_size": pa.int64(),
        "tools": pa.list_(pa.string()), "tool_calls": pa.list_(pa.int32()), "flags": pa.list_(pa.string()), **_NUMERIC,
    }  # fmt: skip
    names = ["config", "file", "line", "start", "length", "group", "text_start", "text_lengths", *PACKED,
             *SUMMARY_FIELDS]  # fmt: skip
    return pa.table({name: pa.array(columns.get(name, []), types.get(name, pa.string())) for name in names})


def load(folder: Path, sources: list[Source]) -> ViewIndex:
    """An index built before (`meta.json`, `index.arrow`, `text.bin` in `folder`)."""
    meta = loads((folder / "meta.json").read_bytes())
    table = feather.read_table(folder / "index.arrow", memory_map=False)
    index = ViewIndex(
        folder=folder,
        sources=sources,
        stats=[_stats_of(s) for s in meta["stats"]],
        skipped=list(meta["skipped"]),
        files=[Path(f) for f in meta["files"]],
        table=table,
    )
    for name in ("config", "file", "line", "start", "length", "group", "text_start", "text_lengths", "tokens_measured",
                 *PACKED, *_NUMERIC):  # fmt: skip
        index.num[name] = table.column(name).to_numpy()
    for name in ("category", "subcategory", "finish", "outcome", "model"):
        index.coded[name] = Coded.of(table.column(name))
    index.tags["tools"] = Tags.of(table.column("tools"), table.column("tool_calls"))
    index.tags["flags"] = Tags.of(table.column("flags"))
    for name in ("id", "task", "task_key", "problem"):
        index.text[name] = table.column(name).to_pylist()
    return index


def _stats_of(data: dict[str, Any]) -> ConfigStats:
    stats = ConfigStats(data["config"])
    for name in ("samples", "total_turns", "total_tool_calls", "think_words", "think_blocks"):
        setattr(stats, name, int(data[name]))
    stats.categories.update(data["categories"])
    return stats
