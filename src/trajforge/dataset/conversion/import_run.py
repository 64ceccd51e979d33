"""Imported episodes written in a run folder's layout, so every later stage reads them like generated ones."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from trajforge.dataset.conversion.importers import ImportSettings, import_file
from trajforge.dataset.rows.schema import Problem
from trajforge.trace import COLUMNS, RenderError, render, to_record
from trajforge.trace.turns import json_bytes


@dataclass
class ImportSummary:
    """What an import wrote, and the rows it could not convert."""

    records: Path
    rows: Path
    imported: int = 0
    without_tools: int = 0  # imported episodes that offer no tools (no tools block found)
    problems: list[Problem] = field(default_factory=list)


def import_to_run(path: Path, out: Path, settings: ImportSettings) -> ImportSummary:
    """Convert `path` into `out/runs/<config>/episodes-import-<name>.jsonl` and `out/rows/<config>/...`.

    Records are the lossless episodes; rows are the FORMAT.md rows of those
    that lay out. Both are read as config `settings.config`, whatever the file's name
    (`train-import-*` files take their folder's name as config, see `layout.config_name`).
    Importing the same file again rewrites the same two files
    with the same ids. Files are written whole under a temporary name first.
    """
    stem = path.name.split(".")[0]
    summary = ImportSummary(
        records=out / "runs" / settings.config / f"episodes-import-{stem}.jsonl",
        rows=out / "rows" / settings.config / f"train-import-{stem}.jsonl",
    )
    for target in (summary.records, summary.rows):
        target.parent.mkdir(parents=True, exist_ok=True)
    pid = os.getpid()
    temporary = [p.with_name(f".{p.name}.{pid}.partial") for p in (summary.records, summary.rows)]
    try:
        with temporary[0].open("wb") as records, temporary[1].open("wb") as rows:
            for item in import_file(path, settings):
                if isinstance(item, Problem):
                    summary.problems.append(item)
                    continue
                records.write(json_bytes(to_record(item)) + b"\n")
                summary.imported += 1
                summary.without_tools += not item.tools
                try:
                    row = render(item)
                except RenderError:
                    continue  # kept as a record; curation counts why it cannot be published
                rows.write(json_bytes({name: row[name] for name in COLUMNS}) + b"\n")
        os.replace(temporary[0], summary.records)
        os.replace(temporary[1], summary.rows)
    finally:
        for file in temporary:
            file.unlink(missing_ok=True)
    return summary
