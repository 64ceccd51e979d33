"""Where assistant turns come from: an OpenAI-compatible model, a task's oracle, or a recorded episode.

The model client speaks HTTP itself (`policy.http_client`); nothing here imports the `openai` SDK.
"""

from trajforge.policy.base import (
    Completion,
    ContextLengthExceeded,
    ModelError,
    Policy,
    PolicyError,
    PreflightError,
    Recovery,
)
from trajforge.policy.config import ModelConfig
from trajforge.policy.openai_client import OpenAIPolicy, classify, describe, to_openai_messages
from trajforge.policy.oracle import OraclePolicy, ScriptedTurn
from trajforge.policy.preflight import (
    EndpointCheck,
    PreflightReport,
    ProbeResult,
    ServedModel,
    check_endpoint,
    list_models,
    preflight,
    probe,
)
from trajforge.policy.replay import CallComparison, ReplayPolicy, compare_results, workspace_of
from trajforge.policy.replies import MalformedReply, ParsedReply, parse_message, parse_reply

__all__ = [
    "CallComparison",
    "Completion",
    "ContextLengthExceeded",
    "EndpointCheck",
    "MalformedReply",
    "ModelConfig",
    "ModelError",
    "OpenAIPolicy",
    "OraclePolicy",
    "ParsedReply",
    "Policy",
    "PolicyError",
    "PreflightError",
    "PreflightReport",
    "ProbeResult",
    "Recovery",
    "ReplayPolicy",
    "ScriptedTurn",
    "ServedModel",
    "check_endpoint",
    "classify",
    "compare_results",
    "describe",
    "list_models",
    "parse_message",
    "parse_reply",
    "preflight",
    "probe",
    "to_openai_messages",
    "workspace_of",
]
