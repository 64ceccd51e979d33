"""Dataset statistics of FORMAT.md section 5, computed column-wise with Arrow."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from trajforge.dataset.layout import ConfigSource
from trajforge.dataset.readers import iter_tables
from trajforge.dataset.schema import Problem
from trajforge.tasks import CATEGORIES

# The think block at the start of a gpt turn; word counts do not depend on its newlines.
THINK_PATTERN = r"^<think>(?P<think>(?s:.*?))</think>"
TOOL_CALL_TAG = "<tool_call>"
# A word as Python's str.split() sees it: a run of characters that are not Unicode whitespace.
WORD_PATTERN = r"[^\t-\r\x1c-\x20\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]+"


@dataclass
class ConfigStats:
    """Running totals for one config; `add` takes one Arrow table of rows at a time."""

    config: str
    samples: int = 0
    total_turns: int = 0
    total_tool_calls: int = 0
    think_words: int = 0
    think_blocks: int = 0  # gpt turns whose think block has at least one word
    categories: Counter[str] = field(default_factory=Counter)

    @property
    def avg_turns(self) -> float:
        """Total turns / Samples."""
        return self.total_turns / self.samples if self.samples else 0.0

    @property
    def avg_tool_calls(self) -> float:
        """Total tool calls / Samples."""
        return self.total_tool_calls / self.samples if self.samples else 0.0

    @property
    def avg_think_words(self) -> float:
        """Mean word count over gpt turns with a non-empty think block."""
        return self.think_words / self.think_blocks if self.think_blocks else 0.0

    def add(self, table: pa.Table) -> None:
        """Fold the rows of `table` (the six-column schema) into the totals."""
        self.samples += table.num_rows
        for name, count in zip(*_value_counts(table.column("category")), strict=True):
            self.categories[name] += count
        for chunk in table.column("conversations").chunks:
            turns = pc.list_flatten(chunk)
            self.total_turns += len(turns)
            # struct_field, not StructArray.field: the latter ignores a sliced array's offset
            gpt = pc.filter(pc.struct_field(turns, "value"), pc.equal(pc.struct_field(turns, "from"), "gpt"))
            self.total_tool_calls += _sum(pc.count_substring(gpt, TOOL_CALL_TAG))
            think = pc.struct_field(pc.extract_regex(gpt, THINK_PATTERN), "think")
            words = pc.fill_null(pc.count_substring_regex(think, WORD_PATTERN), 0)
            self.think_words += _sum(words)
            self.think_blocks += _sum(pc.greater(words, 0))

    def categories_in_order(self) -> list[tuple[str, int]]:
        """Category counts, taxonomy order first, then any others by name."""
        known = [(name, self.categories[name]) for name in CATEGORIES]
        others = sorted((name, n) for name, n in self.categories.items() if name not in CATEGORIES)
        return known + others

    def to_dict(self) -> dict[str, Any]:
        """The figures as JSON-ready data (the `--json` output)."""
        return {
            "config": self.config,
            "samples": self.samples,
            "total_turns": self.total_turns,
            "total_tool_calls": self.total_tool_calls,
            "avg_turns_per_sample": round(self.avg_turns, 3),
            "avg_tool_calls_per_sample": round(self.avg_tool_calls, 3),
            "avg_think_words": round(self.avg_think_words, 3),
            "think_blocks": self.think_blocks,
            "categories": dict(self.categories_in_order()),
        }


def _sum(array: pa.Array | pa.ChunkedArray) -> int:
    total = pc.sum(pc.cast(array, pa.int64())).as_py()
    return int(total or 0)


def _value_counts(column: pa.ChunkedArray) -> tuple[list[str], list[int]]:
    counts = pc.value_counts(column)
    return counts.field("values").to_pylist(), counts.field("counts").to_pylist()


def compute_stats(
    sources: Iterable[ConfigSource], on_problem: Callable[[Problem], None] = lambda _p: None
) -> list[ConfigStats]:
    """Statistics per config over every readable row; unreadable rows go to `on_problem`."""
    result = []
    for source in sources:
        stats = ConfigStats(source.name)
        for file in source.files:
            for batch in iter_tables(file):
                for problem in batch.problems:
                    on_problem(problem)
                stats.add(batch.table)
        result.append(stats)
    return result
