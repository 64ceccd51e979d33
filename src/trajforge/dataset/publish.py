"""Publishing episode records as a Hugging Face dataset folder: Parquet shards per config and a card.

Layout: DATASET/data/<config>/train-NNNNN-of-NNNNN.parquet and DATASET/README.md,
whose YAML front matter declares the configs the way `datasets.load_dataset`
reads them. Output is deterministic: the same records and options give
byte-identical files.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from trajforge.dataset.layout import ConfigSource
from trajforge.dataset.readers import Row, iter_rows
from trajforge.dataset.schema import Problem
from trajforge.dataset.stats import ConfigStats, compute_stats
from trajforge.dataset.writers import write_rows
from trajforge.trace import COLUMNS, Episode, Flag, RecordError, RenderError, from_record, render

SHARD_ROWS = 5000


@dataclass
class PublishReport:
    """What publishing kept and dropped, per config."""

    kept: Counter[str] = field(default_factory=Counter)
    dropped: dict[str, Counter[str]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    models: dict[str, set[str]] = field(default_factory=dict)

    def drop(self, config: str, reason: str) -> None:
        """Count one episode of `config` left out for `reason`."""
        self.dropped.setdefault(config, Counter())[reason] += 1


def drop_reason(episode: Episode) -> str | None:
    """Why the default filters leave an episode out, or None to keep it."""
    if episode.finish.value != "stop":
        return f"finish {episode.finish.value}"
    if Flag.TAG_COLLISION in episode.flags:
        return "tag collision"
    return None


def _run_records(run_dirs: Iterable[Path]) -> dict[str, list[Path]]:
    """Record files per config under run folders (OUT/runs/<config>/episodes-*.jsonl)."""
    found: dict[str, list[Path]] = {}
    for run_dir in run_dirs:
        for config_dir in sorted((Path(run_dir) / "runs").glob("*/")):
            files = sorted(config_dir.glob("episodes-*.jsonl"))
            if files:
                found.setdefault(config_dir.name, []).extend(files)
    return found


def publish(
    run_dirs: Iterable[Path], out: Path, *, license: str = "apache-2.0", pretty_name: str = ""
) -> PublishReport:
    """Write the dataset folder `out` from the episode records under `run_dirs`; returns the report."""
    report = PublishReport()
    configs = _run_records(run_dirs)
    if out.exists():
        shutil.rmtree(out / "data", ignore_errors=True)
    stats: list[ConfigStats] = []
    for config, files in sorted(configs.items()):
        rows = sorted(_kept_rows(config, files, report), key=lambda row: row["id"])
        shards = max(1, -(-len(rows) // SHARD_ROWS))
        folder = out / "data" / config
        for index in range(shards):
            write_rows(
                folder / f"train-{index:05d}-of-{shards:05d}.parquet",
                rows[index * SHARD_ROWS : (index + 1) * SHARD_ROWS],
            )
        stats += compute_stats([ConfigSource(config, tuple(sorted(folder.glob("*.parquet"))))])
    (out / "README.md").write_text(card(stats, report, license=license, pretty_name=pretty_name or out.name))
    return report


def _kept_rows(config: str, files: list[Path], report: PublishReport) -> Iterable[dict[str, Any]]:
    seen: set[str] = set()
    for file in files:
        for item in iter_rows(file):
            if isinstance(item, Problem):
                report.problems.append(item)
                continue
            episode = _episode(item, report)
            if episode is None:
                continue
            if episode.id in seen:
                report.drop(config, "duplicate id")
                continue
            seen.add(episode.id)
            reason = drop_reason(episode)
            if reason:
                report.drop(config, reason)
                continue
            try:
                row = render(episode)
            except RenderError:
                report.drop(config, "cannot be laid out")
                continue
            report.kept[config] += 1
            report.models.setdefault(config, set()).add(episode.model.name)
            yield row


def _episode(item: Row, report: PublishReport) -> Episode | None:
    try:
        return from_record(item.data)
    except RecordError as exc:
        report.problems.append(Problem(item.file, item.number, f"not an episode record: {exc}"))
        return None


def card(stats: list[ConfigStats], report: PublishReport, *, license: str, pretty_name: str) -> str:
    """The dataset card: front matter with `configs:`, then the reference card's sections."""
    total = sum(s.samples for s in stats)
    front = {
        "license": license,
        "pretty_name": pretty_name,
        "task_categories": ["text-generation"],
        "tags": ["agents", "tool-calling", "reasoning", "sharegpt", "trajforge"],
        "size_categories": [_size_category(total)],
        "configs": [
            {"config_name": s.config, "data_files": [{"split": "train", "path": f"data/{s.config}/train-*.parquet"}]}
            for s in stats
        ],
    }
    names = [s.config for s in stats]
    lines = [
        "---",
        yaml.safe_dump(front, sort_keys=False, allow_unicode=True).rstrip(),
        "---",
        f"# {pretty_name}",
        "",
        "Multi-turn tool-calling trajectories for training AI agents, generated with trajforge: every",
        "sample is a real agent episode with `<think>` reasoning, `<tool_call>` invocations and",
        "`<tool_response>` results from tools that ran in an isolated sandbox.",
        "",
        "| Config | Model | Samples |",
        "|--------|-------|---------|",
        *(_model_line(s, report) for s in stats),
        "",
        "## Loading",
        "",
        "```python",
        "from datasets import load_dataset",
        "",
        *(f'ds = load_dataset("{pretty_name}", "{name}", split="train")' for name in names),
        "```",
        "",
        "## Schema",
        "",
        "| Field | Type | Description |",
        "|-------|------|-------------|",
        "| `id` | string | UUID of the episode |",
        "| `conversations` | list | ShareGPT turns (`system`, `human`, `gpt`, `tool`) |",
        "| `tools` | string | JSON tool definitions available to the agent |",
        "| `category` | string | High-level task category |",
        "| `subcategory` | string | Fine-grained task type |",
        "| `task` | string | Task description (the first user message) |",
        "",
        "## Statistics",
        "",
        "| Metric | " + " | ".join(names) + " |",
        "|--------|" + "|".join("------" for _ in names) + "|",
        "| Samples | " + " | ".join(f"{s.samples:,}" for s in stats) + " |",
        "| Total turns | " + " | ".join(f"{s.total_turns:,}" for s in stats) + " |",
        "| Total tool calls | " + " | ".join(f"{s.total_tool_calls:,}" for s in stats) + " |",
        "| Avg turns per sample | " + " | ".join(f"{s.avg_turns:.1f}" for s in stats) + " |",
        "| Avg tool calls per sample | " + " | ".join(f"{s.avg_tool_calls:.1f}" for s in stats) + " |",
        "| Avg `<think>` depth (words) | " + " | ".join(f"{s.avg_think_words:,.0f}" for s in stats) + " |",
        "",
        "## Categories",
        "",
        "| Category | " + " | ".join(names) + " |",
        "|----------|" + "|".join("-----:" for _ in names) + "|",
    ]
    categories = list(dict.fromkeys(name for s in stats for name, _ in s.categories_in_order()))
    lines += [f"| {c} | " + " | ".join(f"{s.categories.get(c, 0):,}" for s in stats) + " |" for c in categories]
    lines += ["", "## Curation", "", "| Config | Kept | Dropped |", "|--------|-----:|---------|"]
    for s in stats:
        dropped = ", ".join(f"{reason}: {n}" for reason, n in sorted(report.dropped.get(s.config, {}).items()))
        lines.append(f"| {s.config} | {report.kept[s.config]:,} | {dropped or '-'} |")
    lines += ["", f"Columns: {', '.join(COLUMNS)}.", ""]
    return "\n".join(lines)


def _model_line(stats: ConfigStats, report: PublishReport) -> str:
    models = ", ".join(sorted(report.models.get(stats.config, []))) or "-"
    return f"| **{stats.config}** | {models} | {stats.samples:,} |"


def _size_category(total: int) -> str:
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if total < limit:
            return label
    return "n>1M"
