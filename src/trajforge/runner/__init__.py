"""Running episodes and writing their records."""

from trajforge.runner.generate import GenerateSettings, GenerateSummary, generate, recorded_counts
from trajforge.runner.records import append_line
from trajforge.runner.replay import replay_episode
from trajforge.runner.single import SingleRun, run_single
from trajforge.runner.task_episode import oracle_policy, run_task_episode, runnable

__all__ = [
    "GenerateSettings",
    "GenerateSummary",
    "SingleRun",
    "append_line",
    "generate",
    "oracle_policy",
    "recorded_counts",
    "replay_episode",
    "run_single",
    "run_task_episode",
    "runnable",
]
