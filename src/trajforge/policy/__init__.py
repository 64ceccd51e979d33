"""Where assistant turns come from: an OpenAI-compatible model (later: oracle, replay)."""

from trajforge.policy.base import Completion, ContextLengthExceeded, ModelError, Policy, PolicyError, Recovery
from trajforge.policy.openai_client import ModelConfig, OpenAIPolicy, classify, parse_message, to_openai_messages
from trajforge.policy.oracle import OraclePolicy, ScriptedTurn
from trajforge.policy.replay import CallComparison, ReplayPolicy, compare_results, workspace_of

__all__ = [
    "CallComparison",
    "Completion",
    "ContextLengthExceeded",
    "ModelConfig",
    "ModelError",
    "OpenAIPolicy",
    "OraclePolicy",
    "Policy",
    "PolicyError",
    "Recovery",
    "ReplayPolicy",
    "ScriptedTurn",
    "classify",
    "compare_results",
    "parse_message",
    "to_openai_messages",
    "workspace_of",
]
