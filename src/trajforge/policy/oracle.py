"""Assistant turns from a task's reference solution, played through the same agent loop."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from trajforge.policy.base import Completion
from trajforge.trace import Message, ToolCall, Usage


@dataclass(frozen=True)
class ScriptedTurn:
    """One assistant turn to play: a reasoning note and tool calls (name, arguments)."""

    reasoning: str
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


class OraclePolicy:
    """Plays `turns` in order (one per model call), then answers with `answer`.

    The turn to play is told by how many assistant messages the conversation
    already holds, so the policy keeps no state between calls.
    """

    def __init__(self, turns: list[ScriptedTurn], answer: str, answer_reasoning: str = "") -> None:
        self.turns = turns
        self.answer = answer
        self.answer_reasoning = answer_reasoning

    async def complete(self, messages: list[Message], tools: list[dict[str, Any]]) -> Completion:
        """The next reference turn, or the final answer once the steps are played."""
        played = sum(1 for m in messages if m.role == "assistant")
        if played < len(self.turns):
            turn = self.turns[played]
            calls = [ToolCall(f"call_{played}_{k}", name, dict(args)) for k, (name, args) in enumerate(turn.calls)]
            message = Message(role="assistant", reasoning=turn.reasoning or None, tool_calls=calls)
        else:
            message = Message(role="assistant", reasoning=self.answer_reasoning or None, content=self.answer)
        return Completion(message=message, usage=Usage(), seconds=0.0)

    async def close(self) -> None:
        """Nothing to release."""
