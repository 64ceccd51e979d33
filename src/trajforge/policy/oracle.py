"""Assistant turns from a task's reference solution, played through the same agent loop."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from trajforge.policy.base import Completion
from trajforge.trace import Message, ToolCall, Usage

RESULT_REFERENCE = re.compile(r"\{\{result (\d+)\}\}")
"""`{{result N}}` in a scripted answer: the stripped output of the N-th tool call (1-based)."""


def result_text(content: str) -> str:
    """What a tool result says, for quoting: a command's `output` (or `stdout`), else the text itself."""
    try:
        data = json.loads(content)
    except ValueError:
        return content.strip()
    if isinstance(data, dict):
        for key in ("output", "stdout"):
            if isinstance(data.get(key), str):
                return str(data[key]).strip()
    return content.strip()


def fill_answer(answer: str, messages: list[Message]) -> str:
    """`answer` with each `{{result N}}` replaced by the N-th tool result's text (unknown N left as is)."""
    results = [result_text(m.content or "") for m in messages if m.role == "tool"]

    def quote(match: re.Match[str]) -> str:
        number = int(match.group(1))
        return results[number - 1] if 1 <= number <= len(results) else match.group(0)

    return RESULT_REFERENCE.sub(quote, answer)


@dataclass(frozen=True)
class ScriptedTurn:
    """One assistant turn to play: a reasoning note and tool calls (name, arguments)."""

    reasoning: str
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


class OraclePolicy:
    """Plays `turns` in order (one per model call), then answers with `answer`.

    `{{result N}}` in the answer quotes the N-th tool result of the conversation (see `fill_answer`).

    The turn to play is told by how many assistant messages the conversation
    already holds, so the policy keeps no state between calls.
    """

    def __init__(
        self,
        turns: list[ScriptedTurn],
        answer: str,
        answer_reasoning: str = "",
        *,
        follow_ups: list[OraclePolicy] | None = None,
        children: list[OraclePolicy] | None = None,
    ) -> None:
        """`follow_ups`: what to play after each later user message, in order; `children`: the policies
        delegated children play, in the order they start (`for_child`)."""
        self.turns = turns
        self.answer = answer
        self.answer_reasoning = answer_reasoning
        self.follow_ups = follow_ups or []
        self.children = children or []

    def for_child(self, number: int) -> OraclePolicy:
        """The policy the episode's `number`-th delegated child plays (0-based)."""
        if number < len(self.children):
            return self.children[number]
        return OraclePolicy([], "The reference solution has no script for this sub-task; I did nothing.")

    async def complete(self, messages: list[Message], tools: list[dict[str, Any]]) -> Completion:
        """The next reference turn, or the final answer once the steps are played.

        After a later user message (a follow-up), the part of `follow_ups` for it plays, seeing the
        conversation from that message on.
        """
        users = [i for i, m in enumerate(messages) if m.role == "user"]
        if len(users) > 1 and self.follow_ups:
            part = self.follow_ups[min(len(users) - 2, len(self.follow_ups) - 1)]
            completion = await part.complete(messages[users[-1] :], tools)
            number = sum(1 for m in messages if m.role == "assistant")  # call ids stay unique in the episode
            for k, call in enumerate(completion.message.tool_calls):
                call.id = f"call_{number}_{k}"
            return completion
        played = sum(1 for m in messages if m.role == "assistant")
        if played < len(self.turns):
            turn = self.turns[played]
            calls = [ToolCall(f"call_{played}_{k}", name, dict(args)) for k, (name, args) in enumerate(turn.calls)]
            message = Message(role="assistant", reasoning=turn.reasoning or None, tool_calls=calls)
        else:
            message = Message(
                role="assistant", reasoning=self.answer_reasoning or None, content=fill_answer(self.answer, messages)
            )
        return Completion(message=message, usage=Usage(), seconds=0.0)

    async def close(self) -> None:
        """Nothing to release."""
