"""Running episodes and writing their records."""

from trajforge.runner.generate import EpisodeEvent, GenerateSummary, generate, model_info, plan
from trajforge.runner.ledger import Ledger, LedgerScan, cut_partial_line, episode_id
from trajforge.runner.lock import RunFolderLocked, RunLock
from trajforge.runner.ray_backend import RayOptions, generate_on_ray
from trajforge.runner.records import append_line, write_episode
from trajforge.runner.replay import replay_episode
from trajforge.runner.settings import EpisodeOverrides, GenerateSettings, RunOptions, check_config_name, option_errors
from trajforge.runner.task_episode import TaskEpisode, oracle_policy, run_task_episode, runnable

__all__ = [
    "EpisodeEvent",
    "EpisodeOverrides",
    "GenerateSettings",
    "GenerateSummary",
    "Ledger",
    "LedgerScan",
    "RayOptions",
    "RunFolderLocked",
    "RunLock",
    "RunOptions",
    "TaskEpisode",
    "append_line",
    "check_config_name",
    "cut_partial_line",
    "episode_id",
    "generate",
    "generate_on_ray",
    "model_info",
    "option_errors",
    "oracle_policy",
    "plan",
    "replay_episode",
    "run_task_episode",
    "runnable",
    "write_episode",
]
