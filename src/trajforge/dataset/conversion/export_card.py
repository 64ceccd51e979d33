"""The README.md beside an export: `configs:` for `datasets.load_dataset(folder, config)`, and the features.

Without declared features `datasets` infers one Arrow struct for all rows, so
rows whose tools or call arguments differ in keys fail to load together
(`Couldn't cast array of type struct<...>`), or load with null-valued keys
added to every argument and tool schema (which chat templates then render).
`datasets.Json` (datasets >= 5) keeps each value as written: `messages` and
`tools` are declared so. Older `datasets` cannot read such a card: export with
`--tools-as-string --arguments-as-string` and load the files with
`load_dataset("json", data_files=...)`, as LLaMA-Factory does.
"""

from __future__ import annotations

from typing import Any

import yaml

from trajforge import __version__
from trajforge.dataset.conversion.formats import ExportOptions, Format, Reasoning

MARKER = "<!-- written by trajforge export -->"
"""Marks a README.md that a later export into the same folder may replace."""

_STRING: dict[str, object] = {"dtype": "string"}


def features(to: Format, options: ExportOptions) -> list[dict[str, object]]:
    """`dataset_info.features` of one config of the export, in the card's YAML form."""
    if to is Format.OPENAI:
        tools: dict[str, object] = {"name": "tools", **(_STRING if options.tools_as_string else {"list": "json"})}
        return [{"name": "id", **_STRING}, {"name": "messages", "list": "json"}, tools,
                {"name": "category", **_STRING}, {"name": "subcategory", **_STRING}]  # fmt: skip
    turns: list[dict[str, object]] = [{"name": "from", **_STRING}, {"name": "value", **_STRING}]
    text: list[dict[str, object]] = [{"name": name, **_STRING} for name in ("category", "subcategory")]
    if to is Format.LLAMAFACTORY:
        columns: list[dict[str, object]] = [{"name": "id", **_STRING}, {"name": "conversations", "list": turns},
                   {"name": "system", **_STRING}, {"name": "tools", **_STRING},
                   {"name": "category", **_STRING}, {"name": "subcategory", **_STRING}]  # fmt: skip
        return columns + ([{"name": "reasoning", **_STRING}] if options.reasoning is Reasoning.SEPARATE else [])
    return [{"name": "id", **_STRING}, {"name": "conversations", "list": turns}, {"name": "tools", **_STRING},
            *text, {"name": "task", **_STRING}]  # fmt: skip


def export_card(configs: list[str], to: Format, options: ExportOptions) -> str:
    """The README.md of an export folder holding `<config>.jsonl` for each of `configs`."""
    front = {
        "configs": [
            {"config_name": name, "data_files": [{"split": "train", "path": f"{name}.jsonl"}]} for name in configs
        ],
        "dataset_info": [{"config_name": name, "features": features(to, options)} for name in configs],
    }
    loading = "\n".join(f'ds = load_dataset("path/to/this/folder", "{name}", split="train")' for name in configs)
    return "\n".join(
        [
            "---",
            yaml.dump(front, Dumper=_NoAliases, sort_keys=False, allow_unicode=True).rstrip(),
            "---",
            MARKER,
            f"# {to} export",
            "",
            f"Written by trajforge {__version__} (`trajforge export --to {to}`), one JSONL file per config.",
            "",
            "```python",
            "from datasets import load_dataset",
            "",
            loading,
            "```",
            "",
        ]
    )


class _NoAliases(yaml.SafeDumper):
    """Writes repeated values in full: `datasets` reads the card's YAML, anchors make it harder to read."""

    def ignore_aliases(self, data: Any) -> bool:
        return True
