"""What `trajforge view PATH...` shows: the configs under the paths, each with the files the viewer lists.

A run folder gives one source per config whose listed files are its episode
records (finish, outcome, timings, flags...), and whose statistics come from its
row files, exactly as `trajforge stats OUT` computes them. Any other path is
found by `discover` (row files, folders of them, published datasets).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from trajforge.dataset import ConfigSource, discover
from trajforge.dataset.rows.runfolder import run_configs

Kind = Literal["records", "rows"]


@dataclass(frozen=True)
class Source:
    """One config as the viewer shows it."""

    name: str
    kind: Kind
    files: tuple[Path, ...]
    """The files whose lines or rows the list shows, in reading order."""
    stats_files: tuple[Path, ...]
    """The row files `trajforge stats` would measure for this config."""
    run_folder: Path | None = None
    """OUT of a run folder (where saved screenshots are looked for), else None."""

    def stats_source(self) -> ConfigSource:
        """The config as `compute_stats` takes it."""
        return ConfigSource(self.name, self.stats_files)


def find_sources(paths: Sequence[Path]) -> list[Source]:
    """The configs under `paths`, in the order given; raises LayoutError for a path that holds no dataset.

    A config name met twice (two run folders of the same config, say) is told
    apart by its folder's name, so that both are shown side by side.
    """
    found: list[Source] = []
    for path in paths:
        configs = run_configs(path)
        if configs is None:
            found.extend(Source(s.name, "rows", s.files, s.files) for s in discover([path]))
            continue
        out = _run_root(path)
        for config in configs:
            kind: Kind = "records" if config.records or not config.rows else "rows"
            listed = config.records if kind == "records" else config.rows
            found.append(Source(config.name, kind, tuple(listed), tuple(config.rows), out))
    return _distinct_names(found, paths)


def _run_root(path: Path) -> Path:
    if (path / "runs").is_dir():
        return path
    return path.parent if path.name == "runs" else path.parent.parent


def _distinct_names(sources: list[Source], paths: Sequence[Path]) -> list[Source]:
    seen: dict[str, int] = {}
    result = []
    for source in sources:
        name = source.name
        if name in seen:
            where = source.run_folder or (source.files[0].parent if source.files else Path(str(paths[0])))
            name = f"{source.name} ({where.resolve().name})"
            while name in seen:
                name = f"{name}'"
        seen[name] = 1
        result.append(Source(name, source.kind, source.files, source.stats_files, source.run_folder))
    return result
