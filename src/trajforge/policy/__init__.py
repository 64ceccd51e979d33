"""Where assistant turns come from: an OpenAI-compatible model (later: oracle, replay)."""

from trajforge.policy.base import Completion, ContextLengthExceeded, ModelError, Policy, PolicyError, Recovery
from trajforge.policy.openai_client import ModelConfig, OpenAIPolicy, classify, parse_message, to_openai_messages
from trajforge.policy.oracle import OraclePolicy, ScriptedTurn

__all__ = [
    "Completion",
    "ContextLengthExceeded",
    "ModelConfig",
    "ModelError",
    "OpenAIPolicy",
    "OraclePolicy",
    "Policy",
    "PolicyError",
    "Recovery",
    "ScriptedTurn",
    "classify",
    "parse_message",
    "to_openai_messages",
]
