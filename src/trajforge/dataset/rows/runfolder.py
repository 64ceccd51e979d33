"""Run folders as `trajforge generate` and `import` write them, and which of their lines count.

    OUT/runs/<config>/episodes-*.jsonl   episode records (the ledger)
    OUT/rows/<config>/train-*.jsonl      FORMAT.md rows of the same episodes

`OUT`, `OUT/runs` and `OUT/runs/<config>` all name (part of) a run folder.
An episode id may be recorded more than once (a rerun retries a transient
failure): the last line of an id, files in name order and lines in order,
supersedes the earlier ones, which stay as history and are skipped by readers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from trajforge.dataset.rows.layout import ConfigSource, discover
from trajforge.trace.turns import loads

RECORDS = "episodes-*.jsonl"
ROWS = "train-*.jsonl"
# Records and rows are written with the id first: the id is read without parsing the line.
_LEADING_ID = re.compile(rb'\{\s*"id"\s*:\s*"([^"\\]*)"')


@dataclass
class RunConfig:
    """One config of a run folder: its record files and row files, each in name order."""

    name: str
    records: list[Path] = field(default_factory=list)
    rows: list[Path] = field(default_factory=list)


def run_configs(path: Path) -> list[RunConfig] | None:
    """The configs of the run folder `path` names (OUT, OUT/runs or OUT/runs/<config>), or None if it names none."""
    if (path / "runs").is_dir():
        out, names = path, None
    elif path.name == "runs" and path.is_dir() and any(_is_config(p) for p in path.iterdir()):
        out, names = path.parent, None
    elif path.parent.name == "runs" and _is_config(path):
        out, names = path.parent.parent, [path.name]
    else:
        return None
    if names is None:
        names = sorted(p.name for p in (out / "runs").iterdir() if p.is_dir())
    return [
        RunConfig(name, sorted((out / "runs" / name).glob(RECORDS)), sorted((out / "rows" / name).glob(ROWS)))
        for name in names
    ]


def _is_config(folder: Path) -> bool:
    return folder.is_dir() and ((folder / "manifest.json").is_file() or any(folder.glob(RECORDS)))


def is_run_file(file: Path) -> bool:
    """Whether `file` is a record or row file that `generate` wrote (where later lines supersede earlier ones).

    Files of `import` (episodes-import-NAME.jsonl) are not: ids repeated there are the source's duplicates.
    """
    kind = file.parent.parent.name
    if not ((kind == "runs" and file.match(RECORDS)) or (kind == "rows" and file.match(ROWS))):
        return False
    return file.name.split("-")[1].isdigit()


def line_ids(file: Path) -> Iterator[tuple[int, str | None]]:
    """(line number, episode id or None when the line has none) for every non-blank line of `file`."""
    try:
        handle = file.open("rb")
    except OSError:
        return  # reading the file reports it
    with handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            found = _LEADING_ID.match(line)
            yield number, found.group(1).decode() if found else _parsed_id(line)


def _parsed_id(line: bytes) -> str | None:
    try:
        data = loads(line)
    except ValueError:
        return None
    value = data.get("id") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def superseded_lines(files: Sequence[Path]) -> dict[Path, frozenset[int]]:
    """Line numbers, per file, of lines that a later line with the same id supersedes (files in the given order)."""
    last: dict[str, tuple[int, int]] = {}
    found: dict[int, set[int]] = {}
    for index, file in enumerate(files):
        for number, key in line_ids(file):
            if key is None:
                continue
            if key in last:
                before, line = last[key]
                found.setdefault(before, set()).add(line)
            last[key] = (index, number)
    return {files[index]: frozenset(lines) for index, lines in found.items()}


def superseded_in(groups: Iterable[Sequence[Path]]) -> dict[Path, frozenset[int]]:
    """`superseded_lines` of the run files of each group (a config's files); other files are never skipped."""
    skip: dict[Path, frozenset[int]] = {}
    for files in groups:
        for kind in ("runs", "rows"):
            run_files = [f for f in files if is_run_file(f) and f.parent.parent.name == kind]
            skip.update(superseded_lines(run_files))
    return skip


def row_sources(paths: Sequence[Path | str]) -> list[ConfigSource]:
    """Configs and their row files: a run folder's `rows/<config>/` files, else what `discover` finds.

    Raises LayoutError for a path that holds no dataset.
    """
    found: dict[str, list[Path]] = {}
    others: list[Path] = []
    for raw in paths:
        configs = run_configs(Path(raw))
        if configs is None:
            others.append(Path(raw))
        for config in configs or []:
            found.setdefault(config.name, []).extend(config.rows)
    for source in discover(others) if others else []:
        found.setdefault(source.name, []).extend(source.files)
    return [ConfigSource(name, tuple(dict.fromkeys(files))) for name, files in found.items()]
