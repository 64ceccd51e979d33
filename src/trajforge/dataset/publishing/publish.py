"""Publishing curated episodes as a Hugging Face dataset folder: Parquet shards per config and a card.

Layout: DATASET/data/<config>/train-NNNNN-of-NNNNN.parquet and DATASET/README.md,
whose YAML front matter declares the configs the way `datasets.load_dataset`
reads them. The folder is built beside the target and moved into place at
the end, so a failed publish leaves the previous dataset as it was. Output
is deterministic: the same input and options give byte-identical files.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from trajforge.dataset.curation.curate import ROWS, Curated, CurationResult, curate
from trajforge.dataset.curation.filters import CurationSettings
from trajforge.dataset.publishing.card import CardInput, card
from trajforge.dataset.rows.episodes import run_manifests
from trajforge.dataset.rows.layout import LayoutError, front_matter
from trajforge.dataset.rows.parallel import bounded_map
from trajforge.dataset.rows.schema import SCHEMA
from trajforge.dataset.stats import ConfigStats

SHARD_ROWS = 5000
ROW_GROUP_ROWS = 1024  # small row groups let readers split a shard between workers, and bound memory


class PublishError(ValueError):
    """The output folder cannot be written without losing something."""


@dataclass
class PublishResult:
    """What was written, and the curation behind it."""

    out: Path
    curation: CurationResult
    stats: list[ConfigStats]


def publish(
    paths: Sequence[Path | str],
    out: Path,
    settings: CurationSettings | None = None,
    *,
    license: str = "apache-2.0",
    pretty_name: str = "",
    repo_id: str = "",
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> PublishResult:
    """Curate the episodes under `paths` and write the dataset folder `out`.

    `out` may be new, empty, or a dataset folder (it is then replaced whole);
    anything else is refused with PublishError, before any work. The card's
    loading snippet names `repo_id` (the hub repository it is meant for),
    else the pretty name.
    """
    _check_target(out)
    settings = settings or CurationSettings()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.with_name(f".{out.name}.partial-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        with curate(paths, settings, output=ROWS, workers=workers, progress=progress, spill_dir=out.parent) as result:
            kept = [c for c in result.configs if c.report.kept]
            totals = {c.report.config: ConfigStats(c.report.config) for c in kept}
            # Shards are written on threads (Parquet encoding releases the GIL), a row group at a
            # time, and measured as they are written instead of being read back.
            for part in bounded_map(_write_shard, _shards(kept, staging), workers):
                totals[part.config].merge(part)
            stats = list(totals.values())
            text = card(
                CardInput(
                    pretty_name=pretty_name or out.name,
                    repo_id=repo_id or pretty_name or out.name,
                    license=license,
                    stats=stats,
                    reports={c.report.config: c.report for c in result.configs},
                    settings=settings,
                    manifests=run_manifests(paths),
                )
            )
            (staging / "README.md").write_text(text, encoding="utf-8")
        _swap(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return PublishResult(out, result, stats)


def _shards(kept: list[Curated], staging: Path) -> Iterator[tuple[Curated, Path, int, int]]:
    """(config's output, path, first and last+1 kept position) of every shard."""
    for curated in kept:
        count = -(-curated.report.kept // SHARD_ROWS)
        folder = staging / "data" / curated.report.config
        folder.mkdir(parents=True, exist_ok=True)
        for index in range(count):
            start = index * SHARD_ROWS
            stop = min(start + SHARD_ROWS, curated.report.kept)
            yield curated, folder / f"train-{index:05d}-of-{count:05d}.parquet", start, stop


def _write_shard(job: tuple[Curated, Path, int, int]) -> ConfigStats:
    """Write one shard a row group at a time (memory stays at one row group); returns its statistics."""
    curated, path, start, stop = job
    part = ConfigStats(curated.report.config)
    with pq.ParquetWriter(path, SCHEMA, compression="zstd") as writer:
        for table in curated.batches(ROW_GROUP_ROWS, start, stop):
            writer.write_table(table)
            part.add(table)
    return part


def _check_target(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise PublishError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not _is_dataset(out):
        raise PublishError(
            f"{out}: holds files but no dataset card with `configs:`; refusing to replace it (choose another --out)"
        )


def _is_dataset(folder: Path) -> bool:
    try:
        return bool(front_matter(folder).get("configs"))
    except (LayoutError, OSError):
        return False


def _swap(staging: Path, out: Path) -> None:
    """Put `staging` where `out` is; the old folder is removed only once the new one is in place."""
    if not out.exists():
        os.replace(staging, out)
        return
    old = out.with_name(f".{out.name}.old-{os.getpid()}")
    os.replace(out, old)
    os.replace(staging, out)
    shutil.rmtree(old, ignore_errors=True)
