"""Token counts of rows for curation (the `--max-tokens` filter and the report's figures).

The tokenizer is loaded by `trace.tokens`, the one place the project loads one
(a `tokenizer.json`, a folder holding one, or a hub id), once per process.
"""

from __future__ import annotations

from typing import Any

from trajforge.trace.tokens import TokenizerError, cached_counter

__all__ = ["TokenizerError", "count_rows", "load_tokenizer"]


def load_tokenizer(name: str) -> None:
    """Load `name` now (TokenizerError when it cannot be), so a run fails before any work."""
    cached_counter(name)


def count_rows(name: str, rows: list[dict[str, Any]]) -> list[int]:
    """Tokens per row: the sum over its turns of each value's tokens (a chat template's own tokens not included)."""
    counts = cached_counter(name).count([turn["value"] for row in rows for turn in row["conversations"]])
    totals: list[int] = []
    at = 0
    for row in rows:
        turns = len(row["conversations"])
        totals.append(sum(counts[at : at + turns]))
        at += turns
    return totals
