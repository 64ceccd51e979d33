"""The curation pipeline: read episodes, filter, scrub, lay out, deduplicate; what publish and export run.

Work is cut into pieces of files (`episodes.pieces`) and each piece is
processed on its own (in worker processes when there are several cores):
per-episode filters, the secret scrub, the row layout, the token count, the
exact key and the MinHash signature. A worker spills its output to an Arrow
file in a temporary folder and sends back only ids, keys and signatures, so
the calling process never holds the dataset's text (it memory-maps the
spilled files when writing). The comparisons between episodes (duplicate
ids, exact and near duplicates) then run in one place, over each config's
episodes in id order, so the result is the same whatever the number of
workers, the files' order or the order generation wrote them in.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from trajforge.dataset.curation import dedup
from trajforge.dataset.curation.filters import CurationSettings, Filter, episode_problem, turns_problem
from trajforge.dataset.curation.scrub import scrub_episode
from trajforge.dataset.curation.spill import remove_stale, spill_prefix
from trajforge.dataset.curation.tokens import count_rows, load_tokenizer
from trajforge.dataset.rows.episodes import EpisodeItem, Piece, Rejected, episode_sources, pieces, read_piece
from trajforge.dataset.rows.layout import ConfigSource
from trajforge.dataset.rows.parallel import default_workers
from trajforge.dataset.rows.runfolder import superseded_in
from trajforge.dataset.rows.schema import Problem, rows_table
from trajforge.dataset.validate import identity_problems, row_problems
from trajforge.trace import Episode, RenderError, render, tag_collisions
from trajforge.trace.secrets import Redactor
from trajforge.trace.turns import json_bytes


class Output(StrEnum):
    """What the pipeline writes for the rows it keeps."""

    ROWS = "rows"  # FORMAT.md rows as an Arrow table (publish)
    LINES = "lines"  # one JSON line per row, made by a Converter (export)
    REPORT = "report"  # nothing but the report (curate)


ROWS, REPORT = Output.ROWS, Output.REPORT  # the names callers used before the enum


@dataclass(frozen=True)
class Converter:
    """How an export turns a kept episode and its row into one JSON object (picklable: it goes to workers).

    `needs_row`: the conversion reads the full FORMAT.md row, which is then laid out
    even for episodes read from rows (where the pipeline otherwise skips it).
    """

    convert: Callable[[Episode, dict[str, Any]], dict[str, Any]]
    needs_row: bool = False


@dataclass
class ConfigReport:
    """What curation did to one config."""

    config: str
    read: int = 0  # lines or rows read: each is dropped by one filter (unreadable JSON: `malformed row`) or kept
    kept: int = 0
    dropped: Counter[Filter] = field(default_factory=Counter)
    unreadable_files: list[str] = field(default_factory=list)  # files (or their rest) that could not be read
    scrubbed: int = 0  # secret replacements in the episodes kept
    models: Counter[str] = field(default_factory=Counter)  # episodes kept per model name
    sampling: Counter[str] = field(default_factory=Counter)  # episodes kept per model and sampling settings (JSON)
    tokens: list[int] = field(default_factory=list)  # per kept row, with a tokenizer

    def merge(self, other: ConfigReport) -> None:
        """Add the counts of another share of the same config."""
        self.read += other.read
        self.dropped.update(other.dropped)
        self.unreadable_files += other.unreadable_files


@dataclass
class Curated:
    """One config's output and report.

    `pieces` are the spilled tables (memory-mapped) of the config's pieces of
    work, in order; `kept` are positions in their concatenation, in id order.
    ROWS output has SCHEMA; other outputs one `json` column.
    """

    report: ConfigReport
    pieces: list[pa.Table]
    kept: list[int]

    def batches(self, rows: int, start: int = 0, stop: int | None = None) -> Iterator[pa.Table]:
        """The kept rows in id order (those from `start` to `stop`), `rows` at a time."""
        stop = len(self.kept) if stop is None else stop
        offsets = np.cumsum([0] + [t.num_rows for t in self.pieces])
        for first in range(start, stop, rows):
            yield self._take(np.asarray(self.kept[first : min(first + rows, stop)], dtype=np.int64), offsets)

    def _take(self, positions: np.ndarray, offsets: np.ndarray) -> pa.Table:
        """Rows at `positions`, in that order, taken piece by piece.

        Arrow's `take` on the concatenated table would first join every chunk of
        a column into one (a copy of the whole config per call); per piece it
        copies only the rows taken.
        """
        piece = np.searchsorted(offsets, positions, side="right") - 1
        if len(positions) and piece[0] == piece[-1] and (np.diff(positions) == 1).all():
            # consecutive rows of one piece (a huge row alone, say): a view of the spilled table, no copy
            return self.pieces[int(piece[0])].slice(int(positions[0] - offsets[piece[0]]), len(positions))
        parts = [self.pieces[p].take(pa.array(positions[piece == p] - offsets[p])) for p in np.unique(piece)]
        if len(parts) == 1:
            return parts[0]  # all from one piece, already in the order given: no further copy
        grouped = pa.concat_tables(parts).combine_chunks()  # rows grouped by piece, each group in given order
        order = np.argsort(piece, kind="stable")
        inverse = np.empty_like(order)
        inverse[order] = np.arange(len(order))
        return grouped.take(pa.array(inverse))


@dataclass
class CurationResult:
    """Every config's output, and the lines or files that could not be read.

    The output lives in a temporary folder until `close()` (or the end of a
    `with` block).
    """

    configs: list[Curated]
    problems: list[Problem]
    settings: CurationSettings
    sources: list[ConfigSource]
    spill: tempfile.TemporaryDirectory[str]

    @property
    def unreadable_files(self) -> list[Problem]:
        """Problems with a whole file, or its rest from some row on: rows lost, not just dropped."""
        return [p for p in self.problems if p.row is None or p.reason.startswith("unreadable")]

    def close(self) -> None:
        """Remove the spilled output."""
        for curated in self.configs:
            curated.pieces = []  # the files behind them are about to go
        self.spill.cleanup()

    def __enter__(self) -> CurationResult:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class _PieceResult:
    config: str
    report: ConfigReport
    ids: list[str]  # these lists: one item per row that passed the per-episode filters, in spill order
    keys: list[bytes]
    signatures: np.ndarray | None
    tokens: list[int]
    scrubbed: list[int]
    models: list[str]
    sampling: list[str]
    spilled: str
    problems: list[Problem]


@dataclass(frozen=True)
class _Job:
    config: str
    piece: Piece
    settings: CurationSettings
    output: Output
    converter: Converter | None
    spill: str  # the Arrow file this job writes its output to


def curate(
    paths: Sequence[Path | str],
    settings: CurationSettings,
    *,
    output: Output = Output.ROWS,
    converter: Converter | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    spill_dir: Path | None = None,
) -> CurationResult:
    """Curate every config under `paths` (run folders, row files, published datasets).

    `output` is ROWS for an Arrow table of FORMAT.md rows, LINES for JSON lines
    made by `converter`, or REPORT for the report alone. `progress(done, total)` is called per piece.
    The output is spilled under `spill_dir` (default: the system's temporary
    folder, which may be in memory: callers that write a dataset pass a folder
    on the disk they write to); spill folders that killed runs left there are removed first.
    Raises LayoutError for a path that holds no dataset and TokenizerError for
    a tokenizer that cannot be loaded.
    """
    output = Output(output)
    if (output is Output.LINES) != (converter is not None):
        raise ValueError("a converter goes with output LINES, and only with it")
    if settings.tokenizer:
        load_tokenizer(settings.tokenizer)  # fail before any work when it cannot load
    sources = episode_sources(paths)
    remove_stale(Path(spill_dir or tempfile.gettempdir()))
    spill = tempfile.TemporaryDirectory(prefix=spill_prefix(), dir=spill_dir)
    try:
        skip = superseded_in(source.files for source in sources)  # a rerun's record replaces the earlier one
        work = [(source.name, piece) for source in sources for file in source.files
                for piece in pieces(file, skip=skip.get(file, frozenset()))]  # fmt: skip
        jobs = [
            _Job(name, piece, settings, output, converter, f"{spill.name}/piece-{index:06d}.arrow")
            for index, (name, piece) in enumerate(work)
        ]
        shares: dict[str, list[_PieceResult]] = {source.name: [] for source in sources}
        problems: list[Problem] = []
        for done, result in enumerate(_run(jobs, workers or default_workers()), 1):
            shares[result.config].append(result)
            problems += result.problems
            if progress:
                progress(done, len(jobs))
        configs = [_combine(name, results, settings) for name, results in shares.items()]
    except BaseException:
        spill.cleanup()
        raise
    return CurationResult(configs, problems, settings, sources, spill)


def _run(jobs: list[_Job], workers: int) -> Iterator[_PieceResult]:
    """Each job's result, in job order; several jobs go to worker processes."""
    if workers <= 1 or len(jobs) <= 1:
        yield from map(_process, jobs)
        return
    # spawn, not fork: the caller may hold threads (a progress bar's refresher) that fork would copy mid-lock
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=context,
                             initializer=_watch_parent, initargs=(os.getpid(),)) as pool:  # fmt: skip
        yield from pool.map(_process, jobs)


def _watch_parent(parent: int, interval: float = 0.5) -> None:
    """In a worker: exit as soon as the process that started it is gone (killed with -9, say).

    A worker re-parented to init would otherwise finish its piece and wait on a queue nobody reads.
    """

    def watch() -> None:
        while os.getppid() == parent:
            threading.Event().wait(interval)
        os._exit(1)

    threading.Thread(target=watch, name="trajforge-parent-watch", daemon=True).start()


def _process(job: _Job) -> _PieceResult:
    """Filters, scrub, layout, tokens and dedup keys for one piece of a file."""
    settings = job.settings
    report = ConfigReport(job.config)
    redactor = Redactor(emails=settings.scrub_emails) if settings.scrub else None
    episodes, rows, scrubbed, problems = [], [], [], []
    needs_row = job.output is Output.ROWS or bool(settings.tokenizer) or bool(job.converter and job.converter.needs_row)
    item: EpisodeItem | Rejected | Problem | None = None
    for item in read_piece(job.piece):
        if isinstance(item, Problem):
            problems.append(item)
            if item.row is None or item.reason.startswith("unreadable"):
                report.unreadable_files.append(str(item))
            else:  # a line that is not JSON (or nests too deep) is a row read and dropped, never uncounted
                report.read += 1
                report.dropped[Filter.MALFORMED] += 1
            continue
        report.read += 1
        if isinstance(item, Rejected):
            report.dropped[Filter(item.reason.value)] += 1
            continue
        try:
            reason, row, replaced = _row_of(item, settings, redactor, needs_row=needs_row)
        except RecursionError:  # a backstop: reading bounds nesting (rows.readers.MAX_DEPTH), so none should reach here
            problems.append(Problem(item.file, item.number, "nested too deep to lay out", id=item.episode.id))
            reason = Filter.MALFORMED
        if reason:
            report.dropped[reason] += 1
            continue
        episodes.append(item.episode)
        rows.append(row)
        scrubbed.append(replaced)
    item = None  # the loop's last item holds an episode: only the lists below may keep it
    tokens = count_rows(settings.tokenizer, rows) if settings.tokenizer else []
    if settings.max_tokens is not None and tokens:
        keep = [n <= settings.max_tokens for n in tokens]
        report.dropped[Filter.TOO_MANY_TOKENS] += keep.count(False)
        chosen = [i for i, ok in enumerate(keep) if ok]
        episodes, rows = [episodes[i] for i in chosen], [rows[i] for i in chosen]
        tokens, scrubbed = [tokens[i] for i in chosen], [scrubbed[i] for i in chosen]
    keys, signatures = _dedup_keys(episodes, settings)
    models, sampling = [e.model.name for e in episodes], [_sampling_key(e) for e in episodes]
    if job.output is not Output.LINES:
        episodes = []  # the rows say it all from here: one copy of a huge text less while the table is built
    _spill(job, episodes, rows)
    return _PieceResult(
        job.config, report, [r["id"] for r in rows], keys, signatures, tokens,
        scrubbed, models, sampling, job.spill, problems,
    )  # fmt: skip


def _sampling_key(episode: Episode) -> str:
    """The model and sampling settings an episode was made with, as one JSON text (keys sorted)."""
    return json_bytes({**episode.model.sampling, "model": episode.model.name}, sort_keys=True).decode()


def _dedup_keys(episodes: list[Episode], settings: CurationSettings) -> tuple[list[bytes], np.ndarray | None]:
    """Exact keys and MinHash signatures, one trajectory text at a time (a text may be hundreds of MB)."""
    keys: list[bytes] = []
    signatures: list[np.ndarray] = []
    for episode in episodes:
        data = dedup.trajectory_text(episode).encode()  # the text itself is let go at once
        keys.append(dedup.exact_key(data))
        if settings.near_dup_threshold is not None:
            signatures.append(dedup.signature(data, settings.num_perm))
        del data
    return keys, (np.stack(signatures) if signatures else None)


def _spill(job: _Job, episodes: list[Episode], rows: list[dict[str, Any]]) -> None:
    """Write the piece's output to its Arrow file."""
    if job.output is Output.ROWS:
        table = rows_table(rows)
    elif job.output is Output.REPORT or job.converter is None:
        table = pa.table({"json": pa.array([], pa.large_binary())})
    else:
        convert = job.converter.convert
        lines = [json_bytes(convert(e, r)) for e, r in zip(episodes, rows, strict=True)]
        table = pa.table({"json": pa.array(lines, pa.large_binary())})
    with pa.OSFile(job.spill, "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)


def _row_of(
    item: EpisodeItem,
    settings: CurationSettings,
    redactor: Redactor | None,
    *,
    needs_row: bool,
) -> tuple[Filter | None, dict[str, Any], int]:
    """Why the episode is dropped, or its row (only id and taxonomy when `needs_row` is False and the
    episode was read from a row) and the number of secrets the scrub replaced."""
    episode = item.episode
    reason = episode_problem(episode, settings)
    if reason:
        return reason, {}, 0
    scrubbed = scrub_episode(episode, redactor) if redactor else 0
    if not needs_row and item.turns is not None:
        # Parsed from a row, so it lays out (and was checked when read): an export needs no row.
        row = {"id": episode.id, "category": episode.task.category, "subcategory": episode.task.subcategory}
        if identity_problems(row):
            return Filter.INVALID_ROW, {}, 0
        return turns_problem(item.turns, settings), row, scrubbed
    if tag_collisions(episode):
        return Filter.TAG_COLLISION, {}, 0
    try:
        row = render(episode)
    except RenderError:
        return Filter.MALFORMED, {}, 0
    if row_problems(row):  # what `validate` would reject is never published (bad taxonomy, id, turns)
        return Filter.INVALID_ROW, {}, 0
    return turns_problem(len(row["conversations"]), settings), row, scrubbed


def _combine(config: str, results: list[_PieceResult], settings: CurationSettings) -> Curated:
    """One config's pieces joined, cross-episode filters applied, in id order."""
    report = ConfigReport(config)
    for result in results:
        report.merge(result.report)
    ids = [i for r in results for i in r.ids]
    keys = [k for r in results for k in r.keys]
    tokens = [n for r in results for n in r.tokens]
    sigs = [r.signatures for r in results if r.signatures is not None]
    order = sorted(range(len(ids)), key=ids.__getitem__)  # stable: the first read of an id comes first
    repeated = np.zeros(len(ids), dtype=bool)
    for before, after in itertools.pairwise(order):
        repeated[after] = ids[before] == ids[after]
    report.dropped[Filter.DUPLICATE_ID] += int(repeated.sum())
    order = [i for i in order if not repeated[i]]
    signatures = np.concatenate(sigs)[order] if sigs else None
    exact, near = dedup.find_duplicates(
        [keys[i] for i in order] if settings.exact_dedup else None, signatures, settings.near_dup_threshold, len(order)
    )
    report.dropped[Filter.EXACT_DUPLICATE] += int(exact.sum())
    report.dropped[Filter.NEAR_DUPLICATE] += int(near.sum())
    kept = [i for i, drop in zip(order, exact | near, strict=True) if not drop]
    report.kept = len(kept)
    report.tokens = [tokens[i] for i in kept] if tokens else []
    scrubbed = [n for r in results for n in r.scrubbed]
    models = [m for r in results for m in r.models]
    report.scrubbed = sum(scrubbed[i] for i in kept)
    report.models = Counter(models[i] for i in kept)
    sampling = [s for r in results for s in r.sampling]
    report.sampling = Counter(sampling[i] for i in kept)
    tables = [pa.ipc.open_file(pa.memory_map(r.spilled)).read_all() for r in results]  # zero-copy
    return Curated(report, tables, kept)
