"""The episode data model of FORMAT.md section 3: what generation records, losslessly."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

Role = Literal["system", "user", "assistant", "tool"]
JSON = Any  # a value that json.dumps accepts


class Finish(StrEnum):
    """Why an episode ended."""

    STOP = "stop"
    MAX_TURNS = "max_turns"
    TIMEOUT = "timeout"
    CONTEXT_LENGTH = "context_length"
    MODEL_ERROR = "model_error"
    TOOL_LOOP = "tool_loop"
    INTERRUPTED = "interrupted"
    ERROR = "error"


class Outcome(StrEnum):
    """Result of the task's check, when the task has one."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    NONE = "none"


class Flag(StrEnum):
    """Facts about an episode that curation filters on."""

    TAG_COLLISION = "tag_collision"
    TRUNCATED_TOOL_OUTPUT = "truncated_tool_output"
    SECRETS_REDACTED = "secrets_redacted"
    INVALID_TOOL_ARGUMENTS = "invalid_tool_arguments"
    TRANSIENT_ERROR = "transient_error"
    """The episode ended on a failure that may pass on a retry (endpoint down, 5xx, timeouts): a rerun
    of the run folder runs it again and the newer record supersedes this one."""


@dataclass
class ToolCall:
    """One function call the model made.

    `arguments` is always a JSON object; when the model's argument string was not
    valid JSON (or not an object) it is `{}` and the string is kept in `raw_arguments`.
    """

    id: str
    name: str
    arguments: dict[str, JSON] = field(default_factory=dict)
    raw_arguments: str | None = None
    source: str | None = None
    """Where the call was read from when the harness read it from the model's text itself:
    `content:FMT` (the server left it inside `content`; read with the text format FMT) or
    `completions:FMT` (a raw /v1/completions generation). None: the server's `tool_calls`."""

    def to_openai(self, arguments: JSON) -> dict[str, JSON]:
        """This call as an OpenAI `tool_calls` entry, `arguments` in the form the caller needs (string or object)."""
        return {"id": self.id, "type": "function", "function": {"name": self.name, "arguments": arguments}}


@dataclass
class ToolResult:
    """What a tool returned for one call; becomes a `tool` message."""

    tool_call_id: str
    name: str
    content: str
    is_error: bool = False

    def to_message(self) -> Message:
        """The OpenAI `tool` chat message carrying this result."""
        return Message(role="tool", content=self.content, tool_call_id=self.tool_call_id, name=self.name)


@dataclass
class Message:
    """One OpenAI chat message as sent or received.

    `reasoning` and `tool_calls` are for assistant messages; `tool_call_id` and
    `name` for tool messages.
    """

    role: Role
    content: str | None = None
    reasoning: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str | None = None
    name: str | None = None


@dataclass
class TaskRef:
    """The task an episode ran: the spec's id, its taxonomy place and its prompt."""

    id: str
    category: str
    subcategory: str
    prompt: str


@dataclass
class ModelInfo:
    """Which model produced the assistant turns, and how it was sampled."""

    name: str = ""
    endpoint: str = ""
    sampling: dict[str, JSON] = field(default_factory=dict)


@dataclass
class Usage:
    """Token counts of one model call, as the server reported them."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None


@dataclass
class CallTiming:
    """Wall time of one tool call."""

    tool_call_id: str
    name: str
    seconds: float


@dataclass
class Timing:
    """Seconds spent per model call and per tool call."""

    model_calls: list[float] = field(default_factory=list)
    tool_calls: list[CallTiming] = field(default_factory=list)


def retryable(finish: str, flags: Iterable[str]) -> bool:
    """Whether a record with `finish` and `flags` is run again by a rerun: a harness error or a transient failure.

    One rule for episodes and for raw records (the ledger reads records without rebuilding episodes).
    """
    return finish == Finish.ERROR or Flag.TRANSIENT_ERROR in flags


@dataclass(frozen=True)
class Compaction:
    """Messages [start, end) of an episode were shown to the model as one summary turn."""

    start: int
    end: int
    summary: str
    """The summary turn's text, SUMMARY_PREFIX included."""
    source: str
    """`model` (written by a model) or `extractive` (the calls and their results, listed)."""
    at_message: int
    """How many messages the episode had when this compaction was made."""
    tokens_before: int | None = None
    tokens_after: int | None = None


@dataclass
class Episode:
    """One recorded agent episode (FORMAT.md section 3)."""

    id: str
    task: TaskRef
    messages: list[Message]
    tools: list[dict[str, JSON]] = field(default_factory=list)
    config: str = ""
    model: ModelInfo = field(default_factory=ModelInfo)
    finish: Finish = Finish.STOP
    error: str | None = None
    outcome: Outcome = Outcome.NONE
    usage: list[Usage] = field(default_factory=list)
    timing: Timing = field(default_factory=Timing)
    flags: list[Flag] = field(default_factory=list)
    started_at: str | None = None
    """When the episode started, ISO 8601 UTC."""
    wall_seconds: float | None = None
    """The episode's wall time, set-up and check included."""
    check_output: str | None = None
    """The tail of the check's output, so a failed check can be read."""
    run: dict[str, JSON] = field(default_factory=dict)
    """The settings the episode ran under (sandbox, limits, repeat), beside the sampling in `model`."""
    compactions: list[Compaction] = field(default_factory=list)
    """Times the conversation outgrew the model's context and a summary replaced middle turns; the last
    one is what the model saw from then on (and what the published row shows)."""

    @property
    def retryable(self) -> bool:
        """Whether a rerun should run this episode again rather than keep this record."""
        return retryable(self.finish, self.flags)

    def add_flag(self, flag: Flag) -> None:
        """Record `flag` once."""
        if flag not in self.flags:
            self.flags.append(flag)
