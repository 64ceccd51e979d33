"""Publishing curated episodes as a Hugging Face dataset folder: Parquet shards per config and a card.

Layout: DATASET/data/<config>/train-<fingerprint>-NNNNN-of-NNNNN.parquet and
DATASET/README.md, whose YAML front matter declares the configs the way
`datasets.load_dataset` reads them. The fingerprint (of the shards' bytes) is
in the paths the card names because `datasets` keys its cache of a local
folder on the config name and those paths, not on the files: a republish with
other rows must name other paths, or `load_dataset` returns the old rows.
The folder is built beside the target and moved into place at the end, so a
failed publish leaves the previous dataset as it was. Output is
deterministic: the same input and options give byte-identical files.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from trajforge.dataset.compression.pipeline import compress_reports
from trajforge.dataset.curation.curate import Curated, CurationResult, Output, curate
from trajforge.dataset.curation.filters import CurationSettings
from trajforge.dataset.curation.spill import remove_stale
from trajforge.dataset.publishing.card import CardInput, card
from trajforge.dataset.rows.episodes import run_manifests
from trajforge.dataset.rows.layout import LayoutError, front_matter
from trajforge.dataset.rows.parallel import bounded_map
from trajforge.dataset.rows.schema import SCHEMA
from trajforge.dataset.stats import ConfigStats
from trajforge.dataset.targets import Kind, OutputError, refuse_inputs, writing

SHARD_ROWS = 5000
ROW_GROUP_ROWS = 1024  # small row groups let readers split a shard between workers, and bound memory


class PublishError(OutputError):
    """The output folder cannot be written without losing something; `kind` says why."""


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
    anything else, or an input, is refused with PublishError before any work.
    Nothing is written, and a previous dataset stays as it was, when an input
    file cannot be read, no row is kept, or a write fails (PublishError, its `kind` says which).
    The card's loading snippet names `repo_id` (the hub repository it is meant for), else the pretty name.
    """
    refuse_inputs(paths, out)
    _check_target(out)
    settings = settings or CurationSettings()
    with writing(out.parent):
        out.parent.mkdir(parents=True, exist_ok=True)
    for prefix in (f".{out.name}.partial-", f".{out.name}.old-"):
        remove_stale(out.parent, prefix)  # what a killed publish left
    staging = out.with_name(f".{out.name}.partial-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        with writing(out.parent), curate(paths, settings, output=Output.ROWS, workers=workers,
                                         progress=progress, spill_dir=out.parent) as result:  # fmt: skip
            _check_result(result)
            with writing(staging):
                stats = _write(result, staging, workers)
                text = card(
                    CardInput(
                        pretty_name=pretty_name or out.name,
                        repo_id=repo_id or pretty_name or out.name,
                        license=license,
                        stats=stats,
                        reports={c.report.config: c.report for c in result.configs},
                        settings=settings,
                        manifests=run_manifests(paths),
                        compressions=compress_reports(paths),
                        data_files={name: _pattern(staging, name) for name in (s.config for s in stats)},
                    )
                )
                (staging / "README.md").write_text(text, encoding="utf-8")
        with writing(out):
            _swap(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return PublishResult(out, result, stats)


def _check_result(result: CurationResult) -> None:
    """Refuse to publish a dataset that lost rows to unreadable files, or holds none."""
    if result.unreadable_files:
        raise PublishError(Kind.UNREADABLE, f"{result.unreadable_files[0]}; nothing published")
    if not any(c.report.kept for c in result.configs):
        read = sum(c.report.read for c in result.configs)
        why = "the inputs hold no rows" if not read else f"every one of the {read:,} rows read was dropped"
        raise PublishError(
            Kind.NOTHING, f"no episode kept: {why}; nothing published (`trajforge curate` shows what each filter drops)"
        )


def _write(result: CurationResult, staging: Path, workers: int | None) -> list[ConfigStats]:
    """Write every kept config's shards, then name them by their content; returns the statistics."""
    kept = [c for c in result.configs if c.report.kept]
    totals = {c.report.config: ConfigStats(c.report.config) for c in kept}
    # Shards are written on threads (Parquet encoding releases the GIL), a row group at a
    # time, and measured as they are written instead of being read back.
    digests: dict[str, list[bytes]] = {name: [] for name in totals}
    for part, digest in bounded_map(_write_shard, _shards(kept, staging), workers):
        totals[part.config].merge(part)
        digests[part.config].append(digest)
    for name, shard_digests in digests.items():
        _fingerprint(staging / "data" / name, hashlib.blake2b(b"".join(shard_digests), digest_size=6).hexdigest())
    return list(totals.values())


def _fingerprint(folder: Path, fingerprint: str) -> None:
    """Rename `train-NNNNN-of-NNNNN.parquet` to `train-<fingerprint>-NNNNN-of-NNNNN.parquet`."""
    for shard in sorted(folder.glob("train-*.parquet")):
        shard.rename(shard.with_name(f"train-{fingerprint}-{shard.name.removeprefix('train-')}"))


def _pattern(staging: Path, config: str) -> str:
    """The `data_files` path of a config in the card: its shards' names, fingerprint included."""
    first = min(p.name for p in (staging / "data" / config).glob("train-*.parquet"))
    return f"data/{config}/{first.rsplit('-', 3)[0]}-*.parquet"


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


def _write_shard(job: tuple[Curated, Path, int, int]) -> tuple[ConfigStats, bytes]:
    """Write one shard a row group at a time (memory stays at one row group); returns its statistics
    and the digest of its bytes."""
    curated, path, start, stop = job
    part = ConfigStats(curated.report.config)
    with pq.ParquetWriter(path, SCHEMA, compression="zstd") as writer:
        for table in curated.batches(ROW_GROUP_ROWS, start, stop):
            writer.write_table(table)
            part.add(table)
    digest = hashlib.blake2b(digest_size=16)
    with path.open("rb") as handle:
        while block := handle.read(8 << 20):
            digest.update(block)
    return part, digest.digest()


def _check_target(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise PublishError(Kind.OCCUPIED, f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not _is_dataset(out):
        raise PublishError(
            Kind.OCCUPIED,
            f"{out}: holds files but no dataset card with `configs:`; refusing to replace it (choose another --out)",
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
