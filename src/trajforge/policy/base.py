"""Where assistant turns come from: the Policy protocol and the errors that end an episode."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

from trajforge.trace import Message, Usage


class PolicyError(Exception):
    """Base of the errors a policy raises; each ends the episode with a matching finish."""


class ContextLengthExceeded(PolicyError):
    """The conversation no longer fits the model's context window (finish = context_length)."""


class ModelError(PolicyError):
    """The model endpoint failed (finish = model_error); the message says how, in one line.

    `transient` is True when the failure says nothing about the episode itself
    (connection refused or reset, timeouts, 5xx, 429, retries exhausted on
    those, the breaker open): a rerun should try the episode again. False for
    final failures (4xx, a malformed reply).
    """

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


class PreflightError(PolicyError, ConnectionError):
    """An endpoint cannot serve the run (unreachable, refuses the key, does not serve the model).

    The message is one line that names the URL and the problem.
    """


class Recovery(Enum):
    """What to do about a failed model call."""

    RETRY = "retry"
    """Transient (connection, timeout, 429, 5xx): back off and try again."""
    END_CONTEXT = "end_context"
    """The prompt is too long: end the episode with `context_length`."""
    END_ERROR = "end_error"
    """Anything else: end the episode with `model_error`."""


@dataclass
class Completion:
    """One assistant turn and what it cost."""

    message: Message
    usage: Usage
    seconds: float


class Policy(Protocol):
    """Produces the next assistant message for a conversation."""

    async def complete(self, messages: list[Message], tools: list[dict[str, Any]]) -> Completion:
        """The next assistant turn; raises ContextLengthExceeded or ModelError."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...
