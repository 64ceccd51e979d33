"""Dataset statistics of FORMAT.md section 5, computed column-wise with Arrow."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from trajforge.dataset.rows.layout import ConfigSource
from trajforge.dataset.rows.parallel import bounded_map
from trajforge.dataset.rows.readers import TableBatch, table_tasks
from trajforge.dataset.rows.runfolder import superseded_in
from trajforge.dataset.rows.schema import Problem
from trajforge.dataset.textscan import scan_gpt_values
from trajforge.tasks import CATEGORIES


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
            calls, words = scan_gpt_values(gpt)
            self.total_tool_calls += calls
            self.think_words += int(words.sum())
            self.think_blocks += int(np.count_nonzero(words))

    def merge(self, other: ConfigStats) -> None:
        """Add the totals of `other` (a part of the same config) to these."""
        self.samples += other.samples
        self.total_turns += other.total_turns
        self.total_tool_calls += other.total_tool_calls
        self.think_words += other.think_words
        self.think_blocks += other.think_blocks
        self.categories.update(other.categories)

    def categories_in_order(self) -> list[tuple[str, int]]:
        """Category counts, taxonomy order first, then any others by name."""
        known = [(name, self.categories[name]) for name in CATEGORIES]
        others = sorted((name, n) for name, n in self.categories.items() if name not in CATEGORIES)
        return known + others

    @staticmethod
    def table_rows() -> list[tuple[str, Callable[[ConfigStats], str]]]:
        """The statistics table of FORMAT.md section 5: (metric, its formatted value for one config)."""
        return [
            ("Samples", lambda s: f"{s.samples:,}"),
            ("Total turns", lambda s: f"{s.total_turns:,}"),
            ("Total tool calls", lambda s: f"{s.total_tool_calls:,}"),
            ("Avg turns per sample", lambda s: f"{s.avg_turns:.1f}"),
            ("Avg tool calls per sample", lambda s: f"{s.avg_tool_calls:.1f}"),
            ("Avg <think> depth (words)", lambda s: f"{s.avg_think_words:,.0f}"),
        ]

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


def _value_counts(column: pa.ChunkedArray) -> tuple[list[str], list[int]]:
    counts = pc.value_counts(column)
    return counts.field("values").to_pylist(), counts.field("counts").to_pylist()


def compute_stats(
    sources: Iterable[ConfigSource],
    on_problem: Callable[[Problem], None] = lambda _p: None,
    *,
    workers: int | None = None,
) -> list[ConfigStats]:
    """Statistics per config over every readable row; unreadable rows go to `on_problem`.

    Batches are parsed and measured on `workers` threads (default: one per core). In a run folder's
    row files, a row that a later row of the same id supersedes is left out.
    """
    sources = list(sources)
    skip = superseded_in(source.files for source in sources)
    result = []
    for source in sources:
        stats = ConfigStats(source.name)
        tasks = (task for file in source.files for task in table_tasks(file, skip=skip.get(file, frozenset())))
        for part, problems in bounded_map(partial(_measure, source.name), tasks, workers):
            for problem in problems:
                on_problem(problem)
            stats.merge(part)
        result.append(stats)
    return result


def _measure(config: str, task: Callable[[], TableBatch]) -> tuple[ConfigStats, list[Problem]]:
    batch = task()
    part = ConfigStats(config)
    part.add(batch.table)
    return part, batch.problems
