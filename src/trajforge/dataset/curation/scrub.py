"""The final scrub of secrets in every text field of an episode before it is published."""

from __future__ import annotations

from typing import Any

from trajforge.trace import Episode, Flag
from trajforge.trace.secrets import Redactor
from trajforge.trace.turns import json_bytes


def scrub_episode(episode: Episode, redactor: Redactor) -> int:
    """Replace secret-shaped strings in `episode` in place; returns the number of replacements.

    Covers the task, system and user texts, reasoning, visible content, call
    arguments (string by string), tool results (JSON results string by string)
    and the tool definitions.
    """
    if not _may_hold_secrets(episode, redactor):
        return 0
    count = 0

    def text(value: str | None, *, json_aware: bool = False) -> str | None:
        nonlocal count
        if not value:
            return value
        clean, n = redactor.redact_result(value) if json_aware else redactor.redact(value)
        count += n
        return clean

    def value(data: Any) -> Any:
        nonlocal count
        clean, n = redactor.redact_value(data)
        count += n
        return clean

    episode.task.prompt = text(episode.task.prompt) or ""
    for message in episode.messages:
        message.content = text(message.content, json_aware=message.role == "tool")
        message.reasoning = text(message.reasoning)
        for call in message.tool_calls:
            call.arguments = value(call.arguments)
            call.raw_arguments = text(call.raw_arguments)
    episode.tools = value(episode.tools)
    if count:
        episode.add_flag(Flag.SECRETS_REDACTED)
    return count


def _may_hold_secrets(episode: Episode, redactor: Redactor) -> bool:
    """One quick pre-check per text, stopping at the first that may hold one: most episodes hold none.

    Text by text rather than joined: joining would copy every text of the episode (and lowering it, once more).
    """
    texts = [episode.task.prompt]
    for message in episode.messages:
        texts += [message.content or "", message.reasoning or ""]
        for call in message.tool_calls:
            texts += [json_bytes(call.arguments).decode(), call.raw_arguments or ""]
    texts.append(json_bytes(episode.tools).decode())
    return any(redactor.may_hold_secrets(text) for text in texts if text)
