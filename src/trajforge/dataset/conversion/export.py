"""`export`: curated episodes written as JSONL in a training format, one file per config."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson

from trajforge.dataset.conversion.formats import FORMATS, ExportOptions
from trajforge.dataset.curation.curate import CurationResult, curate
from trajforge.dataset.curation.filters import CurationSettings

BATCH_ROWS = 1024


@dataclass
class ExportResult:
    """The files written (config -> path) and the curation behind them."""

    files: dict[str, Path]
    curation: CurationResult


def export(
    paths: Sequence[Path | str],
    out: Path,
    to: str,
    settings: CurationSettings | None = None,
    *,
    options: ExportOptions | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ExportResult:
    """Write `out/<config>.jsonl` in format `to` (a FORMATS name) for every config under `paths`.

    For `llamafactory`, `out/dataset_info.json` describes the files the way
    LLaMA-Factory's `dataset_dir` expects. Each file is written under a
    temporary name and moved into place whole.
    """
    if to not in FORMATS:
        raise ValueError(f"unknown format {to!r}: {', '.join(FORMATS)}")
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    with curate(paths, settings or CurationSettings(), output=to, options=options, workers=workers,
                progress=progress, spill_dir=out) as result:  # fmt: skip
        for curated in result.configs:
            path = out / f"{curated.report.config}.jsonl"
            temporary = path.with_name(f".{path.name}.{os.getpid()}.partial")
            try:
                with temporary.open("wb") as handle:
                    for table in curated.batches(BATCH_ROWS):
                        for line in table.column("json").to_pylist():
                            handle.write(line + b"\n")
                os.replace(temporary, path)
            finally:
                temporary.unlink(missing_ok=True)
            files[curated.report.config] = path
    if to == "llamafactory":
        info = {name: _llamafactory_entry(path) for name, path in sorted(files.items())}
        (out / "dataset_info.json").write_bytes(orjson.dumps(info, option=orjson.OPT_INDENT_2))
    return ExportResult(files, result)


def _llamafactory_entry(path: Path) -> dict[str, object]:
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
