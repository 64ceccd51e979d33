"""Running episodes and writing their records."""

from trajforge.runner.generate import GenerateSettings, GenerateSummary, generate, model_info, recorded_counts
from trajforge.runner.records import append_line, write_episode
from trajforge.runner.replay import replay_episode
from trajforge.runner.single import SingleRun, run_single
from trajforge.runner.task_episode import TaskEpisode, oracle_policy, run_task_episode, runnable

__all__ = [
    "GenerateSettings",
    "GenerateSummary",
    "SingleRun",
    "TaskEpisode",
    "append_line",
    "generate",
    "model_info",
    "oracle_policy",
    "recorded_counts",
    "replay_episode",
    "run_single",
    "run_task_episode",
    "runnable",
    "write_episode",
]
