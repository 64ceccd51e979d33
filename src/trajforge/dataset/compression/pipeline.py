"""`trajforge compress`: every row of the inputs fitted to a token budget, in parallel, resumable.

Inputs are what curation reads (run folders, row files, published datasets).
Work is cut into the same pieces as curation's (`rows.episodes.pieces`); each
piece is compressed on its own (in worker processes for the extractive
summary) into a part file under `OUT/.compress-parts/`, written whole and then
renamed, so a killed run resumes with the parts it finished. When every part is
there, each config's parts are joined in input order into `OUT/<config>/train.jsonl`
and the report is written to `OUT/compress-report.json`.

With a summary model the pieces run in this process: the rows that need a
summary ask the model at once (bounded), and a failed or too long answer falls
back to the extractive summary, counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import hashlib
import json
import multiprocessing
import os
import shutil
import statistics
from collections.abc import Awaitable, Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from trajforge.dataset.compression.row import RowOutcome, chat, compress_episode, with_summary
from trajforge.dataset.rows.episodes import EpisodeItem, Piece, Rejected, episode_sources, pieces, read_piece
from trajforge.dataset.rows.parallel import default_workers
from trajforge.dataset.rows.runfolder import superseded_in
from trajforge.dataset.targets import refuse_inputs, writing
from trajforge.trace import Episode, Message, RenderError, render
from trajforge.trace.compaction import SUMMARY_PREFIX, summary_request
from trajforge.trace.tokens import TokenCounter, cached_counter
from trajforge.trace.turns import json_bytes, loads

Summarizer = Callable[[list[Message], int], Awaitable[str]]
"""Writes a summary: (the request's messages, the most tokens it may take) -> the summary's text."""

PARTS = ".compress-parts"
REPORT = "compress-report.json"
LOCK = ".compress.lock"
_BATCH = 64  # rows counted in one tokenizer call
CONFIRM_SHARE = 0.005
"""Rows kept within this share of the budget (41 tokens of 8,192) are counted again by the tokenizer itself
when the fast counter counted them: its checks are by sample, and a row just under the budget must be under
it. A row further off would need as many words where the two rules differ, which the samples would meet.
(At 2% the recounts took a quarter of the bench's time: compressed rows are fitted close to the budget.)"""


class CompressError(ValueError):
    """The run cannot start: bad settings, an output inside an input, a folder another run holds."""


@dataclass(frozen=True)
class CompressSettings:
    """How rows are fitted to the budget."""

    max_tokens: int
    """The budget: tokens of a row as a trainer sees it (the chat template's text when there is one)."""
    tokenizer: str | None
    """tokenizer.json, its folder, or a hub id; None counts four characters a token."""
    chat_template: str | None = None
    """A chat template's text replacing the tokenizer's own."""
    keep_last: int = 4
    """Turns at the end never replaced (the final actions and the answer)."""
    keep_too_long: bool = False
    """Keep rows that no cut fits, unchanged (default: drop them, counted)."""
    workers: int | None = None
    summary_concurrency: int = 8
    summary_max_tokens: int = 512
    """The most tokens a model's summary may take; spans are chosen to leave room for it."""

    def fingerprint(self) -> str:
        """What a part file was made with: a part made otherwise is made again."""
        fields = asdict(self) | {"workers": None, "summary_concurrency": None}
        return hashlib.sha256(json_bytes(fields)).hexdigest()[:16]


@dataclass
class ConfigCounts:
    """What compression did to one config's rows."""

    read: int = 0
    fits: int = 0
    compressed: int = 0
    too_long: int = 0
    skipped: int = 0
    """Lines or rows that are no usable episode (malformed, unrenderable), each named in `problems`."""
    model_summaries: int = 0
    summary_fallbacks: int = 0
    counted_by: list[str] = field(default_factory=list)
    """What counted the tokens (each way once): the tokenizer, or the fast BPE counter checked against it."""
    fast_checked: int = 0
    """Texts the fast counter counted that the tokenizer counted too (a difference turns it off, said above)."""
    tokens_before: list[int] = field(default_factory=list)
    tokens_after: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def merge(self, other: ConfigCounts) -> None:
        """Add another piece's counts."""
        for name in (
            *("read", "fits", "compressed", "too_long", "skipped", "model_summaries", "summary_fallbacks"),
            "fast_checked",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.counted_by.extend(way for way in other.counted_by if way not in self.counted_by)
        self.tokens_before.extend(other.tokens_before)
        self.tokens_after.extend(other.tokens_after)
        self.problems.extend(other.problems)

    def summary(self) -> dict[str, Any]:
        """The counts and token figures (mean, p50, p95, max before and after) for the report."""
        counts = {k: v for k, v in asdict(self).items() if k not in ("tokens_before", "tokens_after", "problems")}
        return counts | {
            "tokens_before": _figures(self.tokens_before),
            "tokens_after": _figures(self.tokens_after),
            "problems": self.problems[:20],
        }


@dataclass
class CompressReport:
    """The whole run: counts per config, and where the rows went."""

    out: Path
    settings: CompressSettings
    configs: dict[str, ConfigCounts] = field(default_factory=dict)
    written: dict[str, Path] = field(default_factory=dict)
    kept_too_long: bool = False

    def to_json(self) -> dict[str, Any]:
        """The report as written to `OUT/compress-report.json`."""
        counted_by = list(dict.fromkeys(way for counts in self.configs.values() for way in counts.counted_by))
        return {
            "max_tokens": self.settings.max_tokens,
            "tokenizer": self.settings.tokenizer or "estimate (4 characters a token)",
            "counted_by": counted_by,
            "keep_last": self.settings.keep_last,
            "too_long": "kept unchanged" if self.settings.keep_too_long else "dropped",
            "configs": {name: counts.summary() for name, counts in self.configs.items()},
            "files": {name: str(path) for name, path in self.written.items()},
        }


@dataclass(frozen=True)
class _Job:
    config: str
    index: int
    piece: Piece
    skip: frozenset[int]
    part: Path
    key: str
    settings: CompressSettings


def compress(
    paths: Sequence[Path | str],
    out: Path,
    settings: CompressSettings,
    *,
    summarizer: Summarizer | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> CompressReport:
    """Fit every row of `paths` to `settings.max_tokens` into `out`.

    Raises CompressError (settings, a folder another run holds), OutputError (`out`
    overlaps an input, a write failed: one line), LayoutError or TokenizerError.

    `progress(done, total)` is called as pieces finish.
    """
    if settings.max_tokens < 1:
        raise CompressError("--max-tokens must be at least 1")
    cached_counter(settings.tokenizer, settings.chat_template)  # fail before any work when it cannot load
    refuse_inputs(paths, out)
    sources = episode_sources(paths)
    with writing(out):
        out.mkdir(parents=True, exist_ok=True)
    with writing(out), _locked(out):
        jobs = list(_jobs(sources, out, settings))
        report = CompressReport(out, settings, {s.name: ConfigCounts() for s in sources})
        results = _run(jobs, settings, summarizer, progress)
        for job, counts in results:
            report.configs[job.config].merge(counts)
        for source in sources:
            parts = [job.part for job in jobs if job.config == source.name]
            report.written[source.name] = _join(parts, out / source.name / "train.jsonl")
        _atomic(out / REPORT, json.dumps(report.to_json(), indent=2, ensure_ascii=False).encode() + b"\n")
        _atomic(out / "README.md", _card(report).encode())
        shutil.rmtree(out / PARTS, ignore_errors=True)
    return report


def compress_reports(paths: Sequence[Path | str]) -> list[dict[str, Any]]:
    """The reports of the compressed folders among `paths` (for the card of what is published from them)."""
    found = []
    for raw in paths:
        report = Path(raw) / REPORT
        try:
            data = loads(report.read_bytes()) if report.is_file() else None
        except (OSError, ValueError):
            data = None
        if isinstance(data, dict):
            found.append(data)
    return found


@contextlib.contextmanager
def _locked(out: Path) -> Iterator[None]:
    """An exclusive lock on the output folder for the whole run (a second run on it is refused)."""
    handle = (out / LOCK).open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise CompressError(f"{out} is being written by another compress run") from None
    try:
        yield
    finally:
        handle.close()


def _jobs(sources: Sequence[Any], out: Path, settings: CompressSettings) -> Iterator[_Job]:
    fingerprint = settings.fingerprint()
    for source in sources:
        skip = superseded_in([list(source.files)])
        index = 0
        for file in source.files:
            stat = file.stat()
            for piece in pieces(file, skip=skip.get(file, frozenset())):
                where = f"{file.resolve()}:{stat.st_size}:{stat.st_mtime_ns}:{piece.start}:{piece.stop}"
                key = f"{fingerprint}:{where}:{piece.row_group}"
                part = out / PARTS / source.name / f"{index:06d}.jsonl"
                yield _Job(source.name, index, piece, skip.get(file, frozenset()), part, key, settings)
                index += 1


def _run(
    jobs: list[_Job],
    settings: CompressSettings,
    summarizer: Summarizer | None,
    progress: Callable[[int, int], None] | None,
) -> list[tuple[_Job, ConfigCounts]]:
    done: list[tuple[_Job, ConfigCounts]] = []
    todo: list[_Job] = []
    for job in jobs:
        counts = _finished(job)
        if counts is None:
            todo.append(job)
        else:
            done.append((job, counts))
    total = len(jobs)
    if progress:
        progress(len(done), total)
    workers = min(settings.workers or default_workers(), max(1, len(todo)))
    if summarizer is not None:
        for job in todo:
            done.append((job, asyncio.run(_piece_with_model(job, summarizer))))
            if progress:
                progress(len(done), total)
    elif workers <= 1:
        for job in todo:
            done.append((job, _piece(job)))
            if progress:
                progress(len(done), total)
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_orphan_guard) as pool:
            for job, counts in zip(todo, pool.map(_piece, todo), strict=True):
                done.append((job, counts))
                if progress:
                    progress(len(done), total)
    return done


def _orphan_guard() -> None:
    """A worker ends with its parent (kill -9 of the run) instead of lingering, re-parented."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL
    except OSError:  # not Linux's libc: the pool's own shutdown still ends the workers
        pass


def _finished(job: _Job) -> ConfigCounts | None:
    """The counts of a part a previous run finished with the same settings and input, else None."""
    meta = job.part.with_suffix(".json")
    if not (job.part.is_file() and meta.is_file()):
        return None
    try:
        data = loads(meta.read_bytes())
        return ConfigCounts(**data["counts"]) if data.get("key") == job.key else None
    except (OSError, ValueError, TypeError, KeyError):
        return None


def _piece(job: _Job) -> ConfigCounts:
    """Compress one piece with the extractive summary and write its part file."""
    counts, rows = ConfigCounts(), []
    with _counting(job, counts):
        for outcome, _ in _outcomes(job, counts, reserve=0):
            if outcome.row is not None:
                rows.append(outcome.row)
    _write_part(job, rows, counts)
    return counts


@contextlib.contextmanager
def _counting(job: _Job, counts: ConfigCounts) -> Iterator[None]:
    """Notes in `counts` what counted this piece's tokens and how many of its texts were checked both ways."""
    counter = cached_counter(job.settings.tokenizer, job.settings.chat_template)
    way_before, checked_before = counter.counted_by()
    yield
    way, checked = counter.counted_by()
    counts.counted_by, counts.fast_checked = list(dict.fromkeys((way_before, way))), checked - checked_before


async def _piece_with_model(job: _Job, summarizer: Summarizer) -> ConfigCounts:
    """Compress one piece, the summaries written by the model (extractive when it fails), and write its part."""
    settings, counts = job.settings, ConfigCounts()
    counter = cached_counter(settings.tokenizer, settings.chat_template)
    limit = asyncio.Semaphore(settings.summary_concurrency)

    async def summarize(outcome: RowOutcome, episode: Episode) -> None:
        """Replace the outcome's extractive summary by the model's when it fits (its row and count updated)."""
        if outcome.status != "compressed" or outcome.span is None:
            return
        start, end = outcome.span
        async with limit:
            try:
                text = await summarizer(summary_request(episode.messages[start:end]), settings.summary_max_tokens)
            except Exception as exc:  # any failure of the model: the extractive summary stands, counted
                counts.summary_fallbacks += 1
                counts.problems.append(f"{episode.id}: summary model failed ({type(exc).__name__}: {exc})")
                return
        try:
            row = with_summary(episode, outcome.span, SUMMARY_PREFIX + text.strip())
        except RenderError:
            counts.summary_fallbacks += 1
            return
        tokens = _confirmed(counter, row, counter.count_conversation(chat(row)), settings.max_tokens)
        if tokens > settings.max_tokens:
            counts.summary_fallbacks += 1
            return
        counts.model_summaries += 1
        outcome.row, outcome.tokens_after = row, tokens

    with _counting(job, counts):
        pairs = list(_outcomes(job, counts, reserve=settings.summary_max_tokens))
        await asyncio.gather(*(summarize(outcome, episode) for outcome, episode in pairs))
    kept = [outcome for outcome, _ in pairs if outcome.row is not None]
    counts.tokens_after = [outcome.tokens_after for outcome in kept]
    _write_part(job, [outcome.row for outcome in kept if outcome.row is not None], counts)
    return counts


def _outcomes(job: _Job, counts: ConfigCounts, *, reserve: int) -> Iterator[tuple[RowOutcome, Episode]]:
    settings = job.settings
    counter = cached_counter(settings.tokenizer, settings.chat_template)
    batch: list[tuple[EpisodeItem, dict[str, Any] | None, str]] = []
    for item in read_piece(job.piece):
        if isinstance(item, EpisodeItem):
            counts.read += 1
            try:
                batch.append((item, render(item.episode), ""))
            except RenderError as exc:
                batch.append((item, None, str(exc)))
            if len(batch) >= _BATCH:
                yield from _measured(batch, counter, counts, settings, reserve)
                batch = []
        else:
            counts.skipped += 1
            where, reason = (
                (f"{item.file}:{item.number}", item.reason) if isinstance(item, Rejected) else (item.file, item.reason)
            )
            if not isinstance(item, Rejected) and item.row is not None:
                where = f"{item.file}:{item.row}"
            counts.problems.append(f"{where}: {reason}")
    yield from _measured(batch, counter, counts, settings, reserve)


def _measured(
    batch: list[tuple[EpisodeItem, dict[str, Any] | None, str]],
    counter: TokenCounter,
    counts: ConfigCounts,
    settings: CompressSettings,
    reserve: int,
) -> Iterator[tuple[RowOutcome, Episode]]:
    """A batch of rows counted in one tokenizer call, then each fitted."""
    rows = [row for _, row, _ in batch if row is not None]
    measured = iter(counter.count_conversations([chat(row) for row in rows]))
    for item, row, problem in batch:
        if row is None:
            outcome = RowOutcome("unrenderable", None, detail=problem)
        else:
            fit = functools.partial(
                compress_episode, item.episode, counter, settings.max_tokens, keep_last=settings.keep_last,
                summary_reserve=reserve, row=row,
            )  # fmt: skip
            outcome = fit(before=next(measured))
            kept = outcome.row if outcome.status in ("fits", "compressed") else None
            tokens = outcome.tokens_after
            if kept is not None and _confirmed(counter, kept, tokens, settings.max_tokens) != tokens:
                outcome = fit()  # the fast counter was wrong on this row: fitted again, the tokenizer counting
        _count(outcome, item, counts, settings)
        if outcome.status == "unrenderable":
            continue
        if outcome.status == "too_long" and settings.keep_too_long:
            outcome.row = outcome.original
        yield outcome, item.episode


def _confirmed(counter: TokenCounter, row: dict[str, Any], tokens: int, budget: int) -> int:
    """`tokens`, or the tokenizer's own count when the fast counter gave them for a row near the budget
    (a count that differs drops the fast counter: the tokenizer counts from then on)."""
    if not counter.fast or tokens < budget * (1 - CONFIRM_SHARE):
        return tokens
    return counter.confirm_conversation(chat(row), tokens)


def _count(outcome: RowOutcome, item: EpisodeItem, counts: ConfigCounts, settings: CompressSettings) -> None:
    if outcome.status == "unrenderable":
        counts.skipped += 1
        counts.problems.append(f"{item.file}:{item.number}: cannot be laid out as a row: {outcome.detail}")
        return
    counts.tokens_before.append(outcome.tokens_before)
    if outcome.status == "fits":
        counts.fits += 1
    elif outcome.status == "compressed":
        counts.compressed += 1
    else:
        counts.too_long += 1
        if not settings.keep_too_long:
            return
    counts.tokens_after.append(outcome.tokens_after)


def _write_part(job: _Job, rows: list[dict[str, Any]], counts: ConfigCounts) -> None:
    """The part's rows, then its counts; each written whole and renamed into place."""
    job.part.parent.mkdir(parents=True, exist_ok=True)
    _atomic(job.part, b"".join(json_bytes(row) + b"\n" for row in rows))
    _atomic(job.part.with_suffix(".json"), json_bytes({"key": job.key, "counts": asdict(counts)}))


@contextlib.contextmanager
def _replacing(path: Path) -> Iterator[BinaryIO]:
    """A file written beside `path`, fsync'd and renamed over it: the previous one stays whole until then."""
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("wb") as handle:
        yield handle
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(path)


def _atomic(path: Path, data: bytes) -> None:
    with _replacing(path) as handle:
        handle.write(data)


def _join(parts: list[Path], target: Path) -> Path:
    """The parts, in order, as one file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with _replacing(target) as handle:
        for part in parts:
            with part.open("rb") as source:
                shutil.copyfileobj(source, handle, 1 << 20)
    return target


def _card(report: CompressReport) -> str:
    """A dataset card whose `configs:` make the output load with `datasets.load_dataset(OUT, config)`."""
    configs = "".join(
        f"- config_name: {name}\n  data_files:\n  - split: train\n    path: {name}/train.jsonl\n"
        for name in report.written
    )
    lines = [
        "---",
        f"configs:\n{configs.rstrip()}",
        "---",
        "",
        "# Compressed traces",
        "",
        f"Rows fitted to {report.settings.max_tokens} tokens ({report.to_json()['tokenizer']})"
        " by `trajforge compress`:",
        f"the last {report.settings.keep_last} turns kept, the fewest middle turns replaced by one summary turn.",
        f"Tokens counted by: {'; '.join(report.to_json()['counted_by']) or '-'}.",
        "",
        "| config | read | fit | compressed | too long | skipped | model summaries | fallbacks |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, c in report.configs.items():
        row = (name, c.read, c.fits, c.compressed, c.too_long, c.skipped, c.model_summaries, c.summary_fallbacks)
        lines.append("| " + " | ".join(str(v) for v in row) + " |")
    return "\n".join(lines) + f"\n\nDetails: `{REPORT}`.\n"


def _figures(values: list[int]) -> dict[str, float | int | None]:
    if not values:
        return {"mean": None, "p50": None, "p95": None, "max": None}
    ordered = sorted(values)
    return {
        "mean": round(statistics.fmean(ordered), 1),
        "p50": ordered[len(ordered) // 2],
        "p95": ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))],
        "max": ordered[-1],
    }
