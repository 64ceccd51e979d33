"""Where a dataset's rows are: files, folders and published datasets, grouped by config."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROW_SUFFIXES = (".jsonl", ".ndjson", ".json", ".parquet")
# File names that say which split or shard a file is, not which config: the config
# is then the folder's name (data/kimi/train-00000-of-00002.parquet is config kimi).
_GENERIC_STEM = re.compile(r"^(train|test|validation|data|\d+)([-_]\d+)*(-of-\d+)?$|^train-import-")
"""`train-import-<file>` is what `trajforge import` writes into rows/<config>/: the folder names the config."""
NOT_ROWS = {"manifest.json"}  # a run folder's settings, beside its row files


class LayoutError(ValueError):
    """A path names no dataset, or a dataset card's `configs:` cannot be read."""


@dataclass(frozen=True)
class ConfigSource:
    """The files that hold one config's rows, in reading order."""

    name: str
    files: tuple[Path, ...]


def discover(paths: Sequence[Path | str]) -> list[ConfigSource]:
    """Configs and their files under `paths`: row files, folders of them, or published datasets.

    A published dataset is a folder whose README.md declares `configs:` (as the
    Hugging Face hub reads it); otherwise every row file found is grouped under
    the config its name gives. Configs found under several paths are merged.
    """
    found: dict[str, list[Path]] = {}
    for raw in paths:
        for name, files in _discover_one(Path(raw)):
            bucket = found.setdefault(name, [])
            bucket.extend(f for f in files if f not in bucket)
    return [ConfigSource(name, tuple(files)) for name, files in found.items()]


def config_name(file: Path) -> str:
    """The config a row file belongs to when nothing declares it."""
    stem = next((file.name[: -len(s)] for s in ROW_SUFFIXES if file.name.endswith(s)), file.stem)
    if _GENERIC_STEM.match(stem) and file.parent.name:
        return file.parent.name
    return stem


def _discover_one(path: Path) -> Iterable[tuple[str, list[Path]]]:
    if path.is_file():
        if not path.name.endswith(ROW_SUFFIXES):
            raise LayoutError(f"{path}: not a dataset file (expected {', '.join(ROW_SUFFIXES)})")
        return [(config_name(path), [path])]
    if not path.is_dir():
        raise LayoutError(f"{path}: no such file or folder")
    declared = _declared_configs(path)
    if declared is not None:
        return declared
    grouped: dict[str, list[Path]] = {}
    found = (p for p in path.rglob("*") if p.is_file() and p.name.endswith(ROW_SUFFIXES) and p.name not in NOT_ROWS)
    for file in sorted(found):
        grouped.setdefault(config_name(file), []).append(file)
    if not grouped:
        raise LayoutError(f"{path}: no dataset files ({', '.join(ROW_SUFFIXES)}) in this folder")
    return grouped.items()


def _declared_configs(folder: Path) -> list[tuple[str, list[Path]]] | None:
    """The configs a dataset card's YAML front matter declares, or None without one."""
    card = folder / "README.md"
    configs = front_matter(folder).get("configs")
    if not configs:
        return None
    result = []
    for index, entry in enumerate(configs):
        if not isinstance(entry, dict) or not isinstance(entry.get("config_name"), str):
            raise LayoutError(f"{card}: configs[{index}] has no config_name")
        patterns = _data_file_patterns(entry.get("data_files"))
        if not patterns:
            raise LayoutError(f"{card}: config {entry['config_name']!r} has no data_files")
        files = sorted({f for pattern in patterns for f in folder.glob(pattern) if f.is_file()})
        if not files:
            raise LayoutError(f"{card}: config {entry['config_name']!r}: no file matches {', '.join(patterns)}")
        result.append((entry["config_name"], files))
    return result


def front_matter(folder: Path) -> dict[str, Any]:
    """The YAML front matter of `folder`'s README.md (empty without one); LayoutError when it is broken."""
    card = folder / "README.md"
    if not card.is_file():
        return {}
    text = card.read_text(encoding="utf-8")
    if not text.startswith("---"):
        return {}
    end = text.find("\n---", 3)
    if end < 0:
        raise LayoutError(f"{card}: YAML front matter is not closed with ---")
    try:
        meta = yaml.safe_load(text[3:end]) or {}
    except yaml.YAMLError as exc:
        raise LayoutError(f"{card}: front matter is not YAML: {exc}") from None
    return meta if isinstance(meta, dict) else {}


def _data_file_patterns(data_files: object) -> list[str]:
    """The path patterns of a `data_files` entry in any of the forms `datasets` accepts."""
    if isinstance(data_files, str):
        return [data_files]
    patterns: list[str] = []
    if isinstance(data_files, list):
        for item in data_files:
            if isinstance(item, str):
                patterns.append(item)
            elif isinstance(item, dict):
                patterns.extend(_data_file_patterns(item.get("path")))
    return patterns
