"""Running episodes and writing their records."""

from trajforge.runner.generate import GenerateSettings, GenerateSummary, generate, model_info, plan
from trajforge.runner.ledger import Ledger, cut_partial_line, episode_id
from trajforge.runner.ray_backend import RayOptions, generate_on_ray
from trajforge.runner.records import append_line, write_episode
from trajforge.runner.replay import replay_episode
from trajforge.runner.single import SingleRun, run_single
from trajforge.runner.task_episode import TaskEpisode, oracle_policy, run_task_episode, runnable

__all__ = [
    "GenerateSettings",
    "GenerateSummary",
    "Ledger",
    "RayOptions",
    "SingleRun",
    "TaskEpisode",
    "append_line",
    "cut_partial_line",
    "episode_id",
    "generate",
    "generate_on_ray",
    "model_info",
    "oracle_policy",
    "plan",
    "replay_episode",
    "run_single",
    "run_task_episode",
    "runnable",
    "write_episode",
]
