"""Per-task figures of a run folder's episode records: how often each task's check passed, how episodes ended."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trajforge.dataset.rows.episodes import EpisodeItem, pieces, read_piece
from trajforge.dataset.rows.layout import LayoutError
from trajforge.dataset.rows.runfolder import run_configs, superseded_in
from trajforge.dataset.rows.schema import Problem
from trajforge.trace import Episode, Outcome


class NoRecords(LayoutError):
    """The input holds no episode records (rows alone carry no finish or check result)."""


@dataclass
class TaskFigures:
    """Totals of one task's episodes in one config."""

    task: str
    episodes: int = 0
    checked: int = 0  # episodes whose check ran (passed, failed or error)
    passed: int = 0
    assistant_turns: int = 0
    tool_calls: int = 0
    finishes: Counter[str] = field(default_factory=Counter)

    def add(self, episode: Episode) -> None:
        """Count one episode of this task."""
        self.episodes += 1
        self.checked += episode.outcome is not Outcome.NONE
        self.passed += episode.outcome is Outcome.PASSED
        assistant = [m for m in episode.messages if m.role == "assistant"]
        self.assistant_turns += len(assistant)
        self.tool_calls += sum(len(m.tool_calls) for m in assistant)
        self.finishes[episode.finish.value] += 1

    @property
    def pass_rate(self) -> float | None:
        """Share of checked episodes that passed; None when no check ran."""
        return self.passed / self.checked if self.checked else None

    @property
    def mean_turns(self) -> float:
        """Assistant turns (model replies) per episode."""
        return self.assistant_turns / self.episodes if self.episodes else 0.0

    @property
    def mean_tool_calls(self) -> float:
        """Tool calls per episode."""
        return self.tool_calls / self.episodes if self.episodes else 0.0

    def to_dict(self) -> dict[str, Any]:
        """The figures as JSON-ready data."""
        rate = self.pass_rate
        return {
            "task": self.task,
            "episodes": self.episodes,
            "checked": self.checked,
            "passed": self.passed,
            "pass_rate": None if rate is None else round(rate, 4),
            "finishes": dict(self.finishes.most_common()),
            "mean_turns": round(self.mean_turns, 3),
            "mean_tool_calls": round(self.mean_tool_calls, 3),
        }


@dataclass
class ConfigTasks:
    """The per-task figures of one config, tasks by id."""

    config: str
    tasks: dict[str, TaskFigures] = field(default_factory=dict)

    def in_order(self) -> list[TaskFigures]:
        """The tasks sorted by id."""
        return [self.tasks[key] for key in sorted(self.tasks)]


def task_stats(
    paths: Sequence[Path | str], on_problem: Callable[[Problem], None] = lambda _p: None
) -> list[ConfigTasks]:
    """Per config, per task figures over the last record of each episode id in the run folders `paths`.

    Raises NoRecords when `paths` hold no episode records (row files, published datasets).
    """
    records: dict[str, list[Path]] = {}
    for raw in paths:
        for config in run_configs(Path(raw)) or []:
            records.setdefault(config.name, []).extend(config.records)
    if not any(records.values()):
        shown = ", ".join(map(str, paths))
        raise NoRecords(f"{shown}: no episode records (runs/<config>/episodes-*.jsonl); --by-task needs a run folder")
    result = []
    for name, files in sorted(records.items()):
        figures = ConfigTasks(name)
        skip = superseded_in([files])
        for file in files:
            for piece in pieces(file, skip=skip.get(file, frozenset())):
                for item in read_piece(piece):
                    if isinstance(item, EpisodeItem):
                        task = item.episode.task.id
                        figures.tasks.setdefault(task, TaskFigures(task)).add(item.episode)
                    elif isinstance(item, Problem):
                        on_problem(item)
        result.append(figures)
    return result
