"""Token counts of rows with a tokenizer the user names (Hugging Face `tokenizers`).

A name is a `tokenizer.json` file, a folder holding one (a model snapshot), or
a hub id (`Qwen/Qwen3-8B`), which needs the hub to be reachable or the
tokenizer to be in the local Hugging Face cache.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class TokenizerError(ValueError):
    """The named tokenizer cannot be loaded."""


class TokenCounter:
    """Counts the tokens of a row's turns: the sum over turns of each value's token count."""

    def __init__(self, name: str) -> None:
        try:
            from tokenizers import Tokenizer
        except ImportError:  # pragma: no cover - tokenizers is a dependency
            raise TokenizerError("token counting needs the `tokenizers` package") from None
        path = Path(name)
        if path.is_dir():
            path = path / "tokenizer.json"
        try:
            if path.is_file():
                self._tokenizer = Tokenizer.from_file(str(path))
            else:
                self._tokenizer = Tokenizer.from_pretrained(name)
        except Exception as exc:  # tokenizers raises plain Exceptions for missing files, hub errors, bad JSON
            raise TokenizerError(f"cannot load tokenizer {name!r}: {exc}") from None
        self.name = name

    def count_rows(self, rows: list[dict[str, Any]]) -> list[int]:
        """Tokens per row (special tokens of a chat template not included)."""
        values = [turn["value"] for row in rows for turn in row["conversations"]]
        encoded = self._tokenizer.encode_batch_fast(values, add_special_tokens=False) if values else []
        counts: list[int] = []
        at = 0
        for row in rows:
            turns = len(row["conversations"])
            counts.append(sum(len(e.ids) for e in encoded[at : at + turns]))
            at += turns
        return counts
