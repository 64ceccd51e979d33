"""Fitting a conversation to a token budget: which middle turns a summary replaces, and the summary.

One rule serves an episode that outgrows the model's context (the agent loop)
and a finished row that outgrows a training budget (`trajforge compress`):
keep the system turn, the first human turn and the first assistant turn with
its tool results, and the last K turns; replace the fewest oldest middle turns
that make the conversation fit by one `user` turn holding a summary. Cuts fall
only at turn boundaries, so no tool call is separated from its results. The
summary turn is a human turn, as in hermes-agent's trajectory compressor, so
the model continues working after it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from trajforge.trace.model import Compaction, Message
from trajforge.trace.turns import loads

SUMMARY_PREFIX = "[Summary of earlier turns, compressed to fit the context]\n"
"""How a summary turn begins, so a reader (and a trainer's filter) can tell it from a user's words."""

_ARGUMENT_CHARS = 120
_RESULT_CHARS = 160
_MAX_LINES = 60


@dataclass(frozen=True)
class Turn:
    """A turn of the conversation: one message, or an assistant turn's consecutive tool results."""

    role: str
    """`system`, `user`, `assistant` or `tool`."""
    start: int
    end: int
    """Message indices [start, end)."""


def turns_of(messages: Sequence[Message]) -> list[Turn]:
    """The conversation's turns, consecutive tool results grouped with each other."""
    turns: list[Turn] = []
    for index, message in enumerate(messages):
        if message.role == "tool" and turns and turns[-1].role == "tool" and turns[-1].end == index:
            turns[-1] = Turn("tool", turns[-1].start, index + 1)
        else:
            turns.append(Turn(message.role, index, index + 1))
    return turns


def protected_head(turns: Sequence[Turn]) -> int:
    """How many leading turns are never replaced: system, first user turn, first assistant turn and its results."""
    head = 0
    for role in ("system", "user", "assistant", "tool"):
        if head < len(turns) and turns[head].role == role:
            head += 1
    return head


def cuts(messages: Sequence[Message], keep_last: int) -> Iterator[tuple[int, int]]:
    """Candidate spans [start, end) of messages to summarise, shortest first.

    `start` is the first message after the protected head; each `end` is the
    start of an assistant turn, so the summary (a user turn) is followed by the
    model's next turn and no tool result is parted from its call. The last
    `keep_last` turns, and always the last one, are never in a span.
    """
    turns = turns_of(messages)
    head = protected_head(turns)
    tail = len(turns) - max(1, keep_last)
    if head >= tail or turns[head - 1].role in ("system", "user"):
        return
    start = turns[head].start
    for turn in turns[head + 1 : tail + 1]:
        if turn.role == "assistant":
            yield start, turn.start


def apply(messages: Sequence[Message], compaction: Compaction | None) -> list[Message]:
    """The messages as the model saw them: the compacted span replaced by its summary turn."""
    if compaction is None:
        return list(messages)
    return [*messages[: compaction.start], summary_message(compaction.summary), *messages[compaction.end :]]


def summary_message(summary: str) -> Message:
    """The user turn that stands for the replaced span."""
    return Message(role="user", content=summary)


def extractive_summary(messages: Sequence[Message], *, earlier: str | None = None) -> str:
    """A deterministic summary of a span: each call with its arguments in short, and its result's status.

    `earlier` is a previous summary's text (a span that began with a summary
    turn); its lines are kept first, so the history stays complete.
    """
    lines: list[str] = []
    if earlier:
        lines.extend(earlier.removeprefix(SUMMARY_PREFIX).splitlines())
    results = {m.tool_call_id: m for m in messages if m.role == "tool"}
    for message in messages:
        if message.role == "user" and message.content:
            if message.content.startswith(SUMMARY_PREFIX):
                lines.extend(message.content.removeprefix(SUMMARY_PREFIX).splitlines())
            else:
                lines.append(f"- user: {_short(message.content, _RESULT_CHARS)}")
        if message.role != "assistant":
            continue
        if message.content and message.content.strip() and not message.tool_calls:
            lines.append(f"- assistant: {_short(message.content, _RESULT_CHARS)}")
        for call in message.tool_calls:
            arguments = ", ".join(f"{key}={_short(_text(value), 60)}" for key, value in call.arguments.items())
            lines.append(f"- {call.name}({_short(arguments, _ARGUMENT_CHARS)}) -> {_status(results.get(call.id))}")
    if len(lines) > _MAX_LINES:  # a summary that grew with its span would never fit: the oldest lines go first
        omitted = len(lines) - _MAX_LINES + 1
        lines = [f"- ({omitted} earlier steps omitted)", *lines[omitted:]]
    return SUMMARY_PREFIX + "\n".join(lines)


def summary_request(messages: Sequence[Message], *, max_words: int = 300) -> list[Message]:
    """The conversation a model is asked to summarise a span with (no tools)."""
    transcript = "\n".join(_transcript_line(m) for m in messages)
    instruction = (
        "Summarise the following part of an agent's work so that the agent can continue without it. "
        "Keep every fact it learned (file names, values, errors, results of commands), what it tried, "
        f"and what is still to do. Answer with the summary only, at most {max_words} words.\n\n" + transcript
    )
    return [
        Message(role="system", content="You write concise, factual summaries of an agent's work."),
        Message(role="user", content=instruction),
    ]


def _transcript_line(message: Message) -> str:
    if message.role == "tool":
        return f"[result of {message.name}] {_short(message.content or '', 1500)}"
    if message.role == "assistant":
        calls = "; ".join(f"{c.name}({_short(_text(c.arguments), 300)})" for c in message.tool_calls)
        text = _short(message.content or "", 1500)
        return f"[assistant] {text}" + (f" [calls] {calls}" if calls else "")
    return f"[{message.role}] {_short(message.content or '', 1500)}"


def _status(result: Message | None) -> str:
    """A result in a few words: its exit status or error when it reports one, then the start of its output."""
    if result is None:
        return "no result"
    content = (result.content or "").strip()
    parsed = _json_object(content)
    if parsed is None:
        return _short(content.splitlines()[0], _RESULT_CHARS) if content else "(empty)"
    parts = []
    if parsed.get("error"):
        parts.append(f"error: {_short(_text(parsed['error']), _RESULT_CHARS)}")
    if "exit_code" in parsed:
        parts.append(f"exit {parsed['exit_code']}")
    if "success" in parsed:
        parts.append("ok" if parsed["success"] else "failed")
    output = next((parsed[k] for k in ("output", "content", "result", "stdout") if parsed.get(k)), None)
    if output is not None:
        parts.append(_short(_text(output), 80))
    return "; ".join(parts) or _short(content, _RESULT_CHARS)


def _json_object(text: str) -> dict[str, object] | None:
    if not text.startswith("{"):
        return None
    try:
        value = loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _text(value: object) -> str:
    return value if isinstance(value, str) else repr(value)


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
