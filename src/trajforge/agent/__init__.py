"""The agent loop: one episode from a task, a policy, a toolbox and a sandbox."""

from trajforge.agent.loop import EpisodeLimits, TurnLimitReached, run_episode
from trajforge.agent.prompt import SYSTEM_PROMPT, system_prompt

__all__ = ["SYSTEM_PROMPT", "EpisodeLimits", "TurnLimitReached", "run_episode", "system_prompt"]
