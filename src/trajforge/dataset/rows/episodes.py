"""Episodes from any input curation takes: run folders (episode records), row files, published datasets.

A run folder (`OUT/runs/<config>/episodes-*.jsonl`, written by `trajforge
generate`) gives lossless records; everything else is found by `discover` and
read as FORMAT.md rows, parsed back into episodes. Either way each line or row
becomes an `EpisodeItem`, a `Rejected` (readable, but not a usable episode), or
a `Problem` (unreadable). The work is cut into `Piece`s, byte ranges of JSONL
files or row groups of Parquet files, so that processes can share it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from trajforge.dataset.rows.layout import ConfigSource, discover
from trajforge.dataset.rows.readers import MAX_DEPTH, Row, is_parquet, json_row, jsonl_chunks
from trajforge.dataset.rows.runfolder import run_configs
from trajforge.dataset.rows.schema import Problem, shape_problem
from trajforge.trace import Episode, ParseError, RecordError, from_record, parse
from trajforge.trace.messages import nested_deeper

PIECE_BYTES = 8 << 20  # JSONL bytes per piece of work


@dataclass(frozen=True)
class EpisodeItem:
    """One usable episode and where it came from."""

    file: str
    number: int
    episode: Episode
    turns: int | None = None  # the row's conversation length, when read from a FORMAT.md row


class Fault(StrEnum):
    """Why a readable line or row gives no usable episode; the values are curation filters' names."""

    MALFORMED = "malformed row"
    INVALID_CALL_JSON = "invalid tool-call JSON"


@dataclass(frozen=True)
class Rejected:
    """A readable line or row that is not a usable episode."""

    file: str
    number: int
    reason: Fault
    detail: str


@dataclass(frozen=True)
class Piece:
    """A share of one file: bytes [start, stop) of a JSONL file from line `first_line`, or a Parquet row group."""

    file: Path
    start: int = 0
    stop: int = 0
    first_line: int = 1
    row_group: int = -1
    skip: frozenset[int] = frozenset()
    """Line numbers of this piece that later records supersede (run folders): not read."""


def episode_sources(paths: Sequence[Path | str]) -> list[ConfigSource]:
    """Configs and their files: run folders' record files, else rows as `discover` finds them."""
    found: dict[str, list[Path]] = {}
    others: list[Path] = []
    for raw in paths:
        path = Path(raw)
        configs = run_configs(path)
        if configs is None:
            others.append(path)
            continue
        for config in configs:
            if config.records:
                found.setdefault(config.name, []).extend(config.records)
    for source in discover(others) if others else []:
        found.setdefault(source.name, []).extend(source.files)
    return [ConfigSource(name, tuple(dict.fromkeys(files))) for name, files in sorted(found.items())]


def run_manifests(paths: Sequence[Path | str]) -> dict[str, dict[str, Any]]:
    """The `manifest.json` of each config of the run folders among `paths` (generation settings), with every
    run's settings (`manifests.jsonl`) under `history`."""
    manifests: dict[str, dict[str, Any]] = {}
    for raw in paths:
        for file in sorted(Path(raw).glob("runs/*/manifest.json")):
            try:
                data = orjson.loads(file.read_bytes())
            except (OSError, orjson.JSONDecodeError):
                continue
            if isinstance(data, dict):
                data["history"] = _history(file.with_name("manifests.jsonl"))
                manifests.setdefault(file.parent.name, data)
    return manifests


def _history(file: Path) -> list[dict[str, Any]]:
    """Every run's settings from `manifests.jsonl` (oldest first; generate appends one per run)."""
    try:
        lines = file.read_bytes().splitlines()
    except OSError:
        return []
    runs = []
    for line in lines:
        try:
            data = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(data, dict):
            runs.append(data)
    return runs


def pieces(file: Path, piece_bytes: int = PIECE_BYTES, skip: frozenset[int] = frozenset()) -> list[Piece]:
    """`file` cut into pieces of about `piece_bytes` at line ends (JSONL) or by row group (Parquet).

    `skip`: line numbers not to read (superseded records, see `runfolder.superseded_in`).
    """
    if is_parquet(file):
        try:
            groups = pq.ParquetFile(file).metadata.num_row_groups
        except (pa.ArrowException, OSError):
            return [Piece(file, row_group=0)]  # reading it will report the problem
        return [Piece(file, row_group=g) for g in range(groups)]
    try:
        found = [Piece(file, start, start + len(chunk), line) for line, start, chunk in jsonl_chunks(file, piece_bytes)]
    except OSError:
        return [Piece(file)]  # reading it will report the problem
    if skip and found:
        ends = [p.first_line for p in found[1:]] + [max(skip) + 1]
        found = [
            replace(p, skip=frozenset(n for n in skip if p.first_line <= n < end))
            for p, end in zip(found, ends, strict=True)
        ]
    return found or [Piece(file)]


def read_piece(piece: Piece) -> Iterator[EpisodeItem | Rejected | Problem]:
    """Every episode in `piece`, or why a line or row gave none."""
    for item in _rows(piece):
        result = item if isinstance(item, Problem) else to_episode(item)
        del item  # the row's data is not kept while the episode is worked on (a row may be hundreds of MB)
        yield result


def to_episode(row: Row) -> EpisodeItem | Rejected | Problem:
    """An episode record or a FORMAT.md row as an episode."""
    data = row.data
    if not isinstance(data, dict):
        return Problem(row.file, row.number, "not a JSON object")
    if "messages" in data:
        try:
            return EpisodeItem(row.file, row.number, from_record(data))
        except RecordError as exc:
            return Problem(row.file, row.number, f"not an episode record: {exc}", id=_id(data))
    shape = shape_problem(data, allow_extra=True)
    if shape:  # columns of another type are not coerced (a category of 0 is not "")
        return Rejected(row.file, row.number, Fault.MALFORMED, shape)
    try:
        episode = parse(data)
        if _nests_deep(data, episode):
            return Rejected(row.file, row.number, Fault.MALFORMED, f"JSON nested deeper than {MAX_DEPTH} levels")
        return EpisodeItem(row.file, row.number, episode, turns=len(data["conversations"]))
    except ParseError as exc:
        invalid_call = "tool call" in exc.reason and "JSON" in exc.reason
        return Rejected(row.file, row.number, Fault.INVALID_CALL_JSON if invalid_call else Fault.MALFORMED, str(exc))
    except RecursionError:  # a value nested deep inside a column's text (tool-call JSON, tools)
        return Rejected(row.file, row.number, Fault.MALFORMED, "JSON nested too deep to read")


def _nests_deep(row: dict[str, Any], episode: Episode) -> bool:
    """Whether the tools or a call's arguments, parsed from the row's texts, nest deeper than MAX_DEPTH.

    Such values would exhaust the recursion of every later step (scrub, JSON writers); counting
    brackets in the texts first spares the walk for ordinary rows.
    """
    texts = [row["tools"], *(turn["value"] for turn in row["conversations"])]
    if sum(text.count("[") + text.count("{") for text in texts) <= MAX_DEPTH:
        return False
    values: list[Any] = [episode.tools, *(call.arguments for m in episode.messages for call in m.tool_calls)]
    return any(nested_deeper(value, MAX_DEPTH) for value in values)


def _id(data: dict[str, Any]) -> str | None:
    value = data.get("id")
    return value if isinstance(value, str) else None


def _rows(piece: Piece) -> Iterator[Row | Problem]:
    if piece.row_group >= 0:
        yield from _parquet_rows(piece)
        return
    try:
        handle = piece.file.open("rb")
        handle.seek(piece.start)
    except OSError as exc:
        yield Problem(str(piece.file), None, str(exc))
        return
    # A line at a time, not the piece at once: a single line may be hundreds of MB, and holding the
    # piece and its split lines beside the parsed row would triple the memory it takes.
    with handle:
        position, number = piece.start, piece.first_line
        while not piece.stop or position < piece.stop:
            try:
                line = handle.readline()
            except OSError as exc:
                yield Problem(str(piece.file), None, f"unreadable from line {number} on: {exc}")
                return
            if not line:
                return
            position += len(line)
            if line.strip() and number not in piece.skip:
                row = json_row(str(piece.file), number, line)
                del line
                yield row
            number += 1


def _parquet_rows(piece: Piece) -> Iterator[Row | Problem]:
    try:
        parquet = pq.ParquetFile(piece.file)
        first = 1 + sum(parquet.metadata.row_group(g).num_rows for g in range(piece.row_group))
        table = parquet.read_row_group(piece.row_group)
    except (pa.ArrowException, OSError) as exc:
        yield Problem(str(piece.file), None, f"not a readable Parquet file: {exc}".splitlines()[0])
        return
    for offset, data in enumerate(table.to_pylist()):
        yield Row(str(piece.file), first + offset, data)
