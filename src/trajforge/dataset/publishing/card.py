"""The dataset card (README.md): YAML front matter with `configs:`, then the reference card's sections."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

from trajforge import __version__
from trajforge.dataset.curation.curate import ConfigReport
from trajforge.dataset.curation.filters import FILTERS, CurationSettings, Filter
from trajforge.dataset.publishing.provenance import endpoint_shown, setting_sets, tasks_shown
from trajforge.dataset.stats import ConfigStats
from trajforge.trace import COLUMNS


@dataclass
class CardInput:
    """Everything the card shows."""

    pretty_name: str
    license: str
    repo_id: str  # what the loading snippet names
    stats: list[ConfigStats]
    reports: dict[str, ConfigReport]
    settings: CurationSettings
    manifests: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Each config's generation manifest (`manifest.json`), with its run history under `history`."""
    data_files: dict[str, str] = field(default_factory=dict)
    """Each config's `data_files` path pattern (default `data/<config>/train-*.parquet`)."""
    compressions: list[dict[str, Any]] = field(default_factory=list)
    """The `compress-report.json` of inputs `trajforge compress` wrote (rows fitted to a token budget)."""


def card(data: CardInput) -> str:
    """The README.md of a published dataset."""
    stats, names = data.stats, [s.config for s in data.stats]
    front = {
        "license": data.license,
        "pretty_name": data.pretty_name,
        "task_categories": ["text-generation"],
        "tags": ["agents", "tool-calling", "reasoning", "sharegpt", "trajforge"],
        "size_categories": [_size_category(sum(s.samples for s in stats))],
        "configs": [
            {"config_name": name, "data_files": [{"split": "train", "path": _data_files(data, name)}]} for name in names
        ],
    }
    lines = [
        "---",
        yaml.safe_dump(front, sort_keys=False, allow_unicode=True).rstrip(),
        "---",
        f"# {data.pretty_name}",
        "",
        f"Multi-turn tool-calling trajectories for training AI agents, curated with trajforge {__version__}: every",
        "sample is an agent episode with `<think>` reasoning, `<tool_call>` invocations and",
        "`<tool_response>` results from tools that ran.",
        "",
        "| Config | Model | Samples |",
        "|--------|-------|---------|",
        *(f"| **{s.config}** | {_models(data.reports.get(s.config))} | {s.samples:,} |" for s in stats),
        "",
        "## Loading",
        "",
        "```python",
        "from datasets import load_dataset",
        "",
        *(f'ds = load_dataset("{data.repo_id}", "{name}", split="train")' for name in names),
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
        *_statistics(data),
        *_categories(stats),
        *_generation(data, names),
        *_curation(data),
        f"Columns: {', '.join(COLUMNS)}.",
        "",
    ]
    return "\n".join(lines)


def _data_files(data: CardInput, name: str) -> str:
    return data.data_files.get(name, f"data/{name}/train-*.parquet")


def _table(header: str, names: list[str], rows: list[tuple[str, Callable[[str], str]]]) -> list[str]:
    lines = [f"| {header} | " + " | ".join(names) + " |", "|---|" + "|".join("---:" for _ in names) + "|"]
    lines += [f"| {label} | " + " | ".join(cell(name) for name in names) + " |" for label, cell in rows]
    return [*lines, ""]


def _statistics(data: CardInput) -> list[str]:
    by_name = {s.config: s for s in data.stats}
    names = list(by_name)

    def per_config(cell: Callable[[ConfigStats], str]) -> Callable[[str], str]:
        return lambda name: cell(by_name[name])

    rows = [(label.replace("<think>", "`<think>`"), per_config(cell)) for label, cell in ConfigStats.table_rows()]
    if data.settings.tokenizer:
        tokens = {n: (data.reports[n].tokens if n in data.reports else []) for n in names}
        rows += [
            ("Total tokens", lambda n: f"{sum(tokens[n]):,}"),
            ("Avg tokens per sample", lambda n: f"{sum(tokens[n]) / len(tokens[n]):,.0f}" if tokens[n] else "-"),
            ("Max tokens per sample", lambda n: f"{max(tokens[n]):,}" if tokens[n] else "-"),
        ]
    lines = ["## Statistics", "", *_table("Metric", names, rows)]
    if data.settings.tokenizer:
        lines += [f"Tokens are counted with the `{data.settings.tokenizer}` tokenizer over every turn's value.", ""]
    return lines


def _categories(stats: list[ConfigStats]) -> list[str]:
    by_name = {s.config: s for s in stats}
    categories = list(dict.fromkeys(name for s in stats for name, _ in s.categories_in_order()))

    def count(category: str) -> Callable[[str], str]:
        return lambda name: f"{by_name[name].categories.get(category, 0):,}"

    rows = [(c, count(c)) for c in categories]
    return ["## Categories", "", *_table("Category", list(by_name), rows)]


# Generation settings worth showing, as `trajforge generate` records them in manifest.json.
_MANIFEST_FIELDS = (
    ("policy", "Policy"),
    ("model", "Model"),
    ("endpoint", "Endpoints"),
    ("temperature", "Temperature"),
    ("max_tokens", "Max tokens per call"),
    ("extra_body", "Extra request body"),
    ("sandbox", "Tool sandbox requested"),
    ("sandbox_backend", "Tool sandbox used (on the machine that started the run)"),
    ("tasks", "Tasks"),
    ("repeat", "Episodes per task"),
    ("concurrency", "Concurrency"),
    ("runner", "Runner"),
    ("backend", "Runner"),  # manifests written before `--runner` named it `backend`
    ("written", "Started"),
)


def _generation(data: CardInput, names: list[str]) -> list[str]:
    lines = ["## Generation", ""]
    for name in names:
        manifest = data.manifests.get(name)
        lines.append(f"**{name}**" + (":" if manifest else ": no generation manifest (rows read from files)."))
        if manifest:
            lines += [""] + [
                f"- {label}: {_value(_shown(key, manifest))}"
                for key, label in _MANIFEST_FIELDS
                if manifest.get(key) not in (None, "", [], {})
            ]
            if manifest.get("sandbox_backend") == "local":
                lines.append(
                    "- Paths in the traces are the host's: the local sandbox does not give the workspace a fixed path"
                )
        lines += _runs(manifest.get("history") or [] if manifest else [])
        report = data.reports.get(name)
        sets = setting_sets(report.sampling if report else {})
        if len(sets) > 1:  # a run resumed with other settings: each set, with the episodes it gave
            lines += ["", "Episodes per model and sampling settings (the run was resumed with other settings):", ""]
            lines += [f"- {text}: {count:,} episodes" for text, count in sets]
        lines.append("")
    return lines


def _runs(history: list[dict[str, Any]]) -> list[str]:
    """One line per run of a config resumed with other settings: when it started and the settings that changed."""
    changing = [key for key, _ in _MANIFEST_FIELDS
                if key != "written" and len({repr(run.get(key)) for run in history}) > 1]  # fmt: skip
    if len(history) < 2 or not changing:
        return []
    lines = ["", f"Runs (the generation was resumed {len(history) - 1} time(s) with other settings):", ""]
    for run in history:
        settings = ", ".join(
            f"{key} {_value(_shown(key, run)) if run.get(key) is not None else '-'}" for key in changing
        )
        lines.append(f"- {_value(run.get('written', '?'))}: {settings}")
    return lines


def _shown(key: str, manifest: dict[str, Any]) -> Any:
    """A manifest value as the card shows it: no local paths, hosts or ports."""
    if key == "endpoint":
        return [endpoint_shown(str(url)) for url in _listed(manifest[key])]
    if key == "tasks":
        return tasks_shown(_listed(manifest[key]), str(manifest.get("out") or ""))
    return manifest[key]


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _value(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(f"`{v}`" for v in value)
    return f"`{value}`"


def _curation(data: CardInput) -> list[str]:
    """Every config curation read, with what each filter dropped (a config may have lost all its rows)."""
    reports = data.reports
    described = data.settings.described()
    rows: list[tuple[str, Callable[[str], str]]] = [("Read", lambda n: f"{reports[n].read:,}")]

    def dropped(name: Filter) -> Callable[[str], str]:
        return lambda config: f"{reports[config].dropped.get(name, 0):,}"

    rows += [(f"{f} ({described[f]})", dropped(f)) for f in FILTERS]
    rows += [("Kept", lambda n: f"{reports[n].kept:,}"), ("Secrets replaced", lambda n: f"{reports[n].scrubbed:,}")]
    intro = "Episodes each filter dropped, per config; an episode counts under the first filter it fails."
    return ["## Curation", "", intro, "", *_table("Filter", sorted(reports), rows), *_compression(data)]


def _compression(data: CardInput) -> list[str]:
    """How `trajforge compress` fitted the rows to a token budget, when it did (before this curation)."""
    lines: list[str] = []
    for report in data.compressions:
        configs = report.get("configs") or {}
        lines += [
            f"Rows were fitted to {report.get('max_tokens')} tokens ({report.get('tokenizer')}) by `trajforge "
            f"compress`: the last {report.get('keep_last')} turns kept, the fewest middle turns replaced by one "
            f"summary turn; rows no cut fits were {report.get('too_long')}.",
            "",
            "| Config | Read | Fit as they were | Compressed | Too long | Tokens p95 before | Tokens p95 after |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for name, c in sorted(configs.items()):
            before, after = c.get("tokens_before") or {}, c.get("tokens_after") or {}
            cells = (c.get("read"), c.get("fits"), c.get("compressed"), c.get("too_long"), before.get("p95"),
                     after.get("p95"))  # fmt: skip
            lines.append(f"| {name} | " + " | ".join("-" if v is None else f"{v:,}" for v in cells) + " |")
        lines.append("")
    return lines


def _models(report: ConfigReport | None) -> str:
    names = sorted(name for name in (report.models if report else {}) if name)
    return ", ".join(names) or "-"


def _size_category(total: int) -> str:
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if total < limit:
            return label
    return "n>1M"
