"""`export`: curated episodes written as JSONL in a training format, one file per config.

Everything is written into a staging folder beside `out` and moved into `out`
file by file only once all of it is written: a failed export (disk full, a
read-only folder) leaves the previous files as they were and nothing
half-written. Beside the files: a README.md whose `configs:` and
`dataset_info.features` let `datasets.load_dataset(out, config)` read the rows
exactly as written, and for LLaMA-Factory its `dataset_info.json`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import orjson

from trajforge.dataset.conversion.export_card import MARKER, export_card
from trajforge.dataset.conversion.formats import FORMATS, NEEDS_ROW, ExportOptions, Format
from trajforge.dataset.curation.curate import Converter, CurationResult, Output, curate
from trajforge.dataset.curation.filters import CurationSettings
from trajforge.dataset.curation.spill import remove_stale
from trajforge.dataset.targets import Kind, OutputError, refuse_inputs, writing
from trajforge.trace import Episode

BATCH_ROWS = 1024


class ExportError(OutputError):
    """The export cannot be written; `kind` says why."""


@dataclass
class ExportResult:
    """The files written (config -> path) and the curation behind them."""

    files: dict[str, Path]
    curation: CurationResult


def export(
    paths: Sequence[Path | str],
    out: Path,
    to: Format | str,
    settings: CurationSettings | None = None,
    *,
    options: ExportOptions | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ExportResult:
    """Write `out/<config>.jsonl` in format `to` for every config under `paths`, and a card.

    Raises ExportError, with nothing written, when `out` is or overlaps an input
    (Kind.INPUT), an input file cannot be read (Kind.UNREADABLE) or a write fails (Kind.WRITE).
    """
    try:
        to = Format(to)
    except ValueError:
        raise ValueError(f"unknown format {to!r}: {', '.join(Format)}") from None
    refuse_inputs(paths, out)
    _check_target(out)
    options = options or ExportOptions()
    converter = Converter(partial(_convert, FORMATS[to], options), needs_row=to in NEEDS_ROW)
    with writing(out.parent):
        out.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{out.name}.export-"
    remove_stale(out.parent, prefix)
    staging = out.with_name(f"{prefix}{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        with writing(out.parent), curate(paths, settings or CurationSettings(), output=Output.LINES,
            converter=converter, workers=workers, progress=progress, spill_dir=out.parent) as result:  # fmt: skip
            if result.unreadable_files:
                raise ExportError(Kind.UNREADABLE, f"{result.unreadable_files[0]}; nothing exported")
            with writing(staging):
                staging.mkdir()
                files = _write_files(result, staging)
                _write_extras(files, staging, to, options)
        with writing(out):
            _move_in(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ExportResult({config: out / path.name for config, path in files.items()}, result)


def _convert(
    convert: Callable[[Episode, dict[str, Any], ExportOptions], dict[str, Any]],
    options: ExportOptions,
    episode: Episode,
    row: dict[str, Any],
) -> dict[str, Any]:
    return convert(episode, row, options)


def _check_target(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ExportError(Kind.OCCUPIED, f"{out}: exists and is not a folder")
    card = out / "README.md"
    try:
        foreign = card.is_file() and MARKER not in card.read_text(encoding="utf-8", errors="replace")
    except OSError:
        foreign = True
    if foreign:
        raise ExportError(Kind.OCCUPIED, f"{card}: not written by trajforge export; refusing to replace it")


def _write_files(result: CurationResult, staging: Path) -> dict[str, Path]:
    files: dict[str, Path] = {}
    for curated in result.configs:
        path = staging / f"{curated.report.config}.jsonl"
        with path.open("wb") as handle:
            for table in curated.batches(BATCH_ROWS):
                for line in table.column("json").to_pylist():
                    handle.write(line + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        files[curated.report.config] = path
    return files


def _write_extras(files: dict[str, Path], staging: Path, to: Format, options: ExportOptions) -> None:
    (staging / "README.md").write_text(export_card(sorted(files), to, options), encoding="utf-8")
    if to is Format.LLAMAFACTORY:
        info = {name: _llamafactory_entry(path, options) for name, path in sorted(files.items())}
        (staging / "dataset_info.json").write_bytes(orjson.dumps(info, option=orjson.OPT_INDENT_2))


def _move_in(staging: Path, out: Path) -> None:
    """Move the staged files into `out` (created when missing), each replacing its namesake whole."""
    out.mkdir(parents=True, exist_ok=True)
    for path in sorted(staging.iterdir()):
        os.replace(path, out / path.name)


def _llamafactory_entry(path: Path, options: ExportOptions) -> dict[str, object]:
    """A `dataset_info.json` entry: ShareGPT formatting with system and tools columns."""
    return {
        "file_name": path.name,
        "formatting": "sharegpt",
        "columns": {"messages": "conversations", "system": "system", "tools": "tools"},
        "tags": {
            "role_tag": "from",
            "content_tag": "value",
            "user_tag": "human",
            "assistant_tag": "gpt",
            "observation_tag": "observation",
            "function_tag": "function_call",
        },
    }
