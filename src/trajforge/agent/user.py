"""The user of an episode: answers clarify, and may send follow-up messages after the agent's answer.

`ScriptedUser` plays a task's `user.replies` and `user.follow_ups`; `SimulatedUser` asks a model to
play a persona with a goal. Both are what `tools.agent.clarify.UserChannel` asks for, plus
`follow_up`, which the agent loop calls after each final answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from trajforge.policy import Policy
from trajforge.trace import Message

DONE = "[DONE]"


class EpisodeUser(Protocol):
    """The user as the agent loop and the clarify tool meet them."""

    async def answer(self, question: str, choices: list[str]) -> str | None:
        """The answer to a question of the agent (None: no answer)."""
        ...

    async def follow_up(self, messages: list[Message]) -> str | None:
        """The next human turn after the agent's final answer, or None to end the conversation."""
        ...

    def watch(self, messages: list[Message]) -> None:
        """The episode's conversation (the live list), for a user who answers with it in mind."""
        ...


class ScriptedUser:
    """Replies and follow-ups written in the task: replies in order, or chosen by a word of the question."""

    def __init__(self, replies: Sequence[str] | Mapping[str, str], follow_ups: Sequence[str]) -> None:
        self._replies = replies
        self._next_reply = 0
        self._follow_ups = list(follow_ups)
        self._next_follow_up = 0
        self.asked: list[str] = []

    def watch(self, messages: list[Message]) -> None:
        """A scripted user answers the same whatever was said."""

    async def answer(self, question: str, choices: list[str]) -> str | None:
        """The next scripted reply (a list), or the reply whose key word the question holds (a mapping)."""
        self.asked.append(question)
        if isinstance(self._replies, Mapping):
            words = question.casefold()
            for key, reply in self._replies.items():
                if key != "*" and key.casefold() in words:
                    return reply
            return self._replies.get("*")
        if self._next_reply < len(self._replies):
            self._next_reply += 1
            return self._replies[self._next_reply - 1]
        return None

    async def follow_up(self, messages: list[Message]) -> str | None:
        """The next scripted follow-up, or None when all were sent."""
        if self._next_follow_up < len(self._follow_ups):
            self._next_follow_up += 1
            return self._follow_ups[self._next_follow_up - 1]
        return None


_SIMULATOR = """\
You are playing a human user talking to an AI assistant. Stay in character; never say you are an AI.
Persona: {persona}
Your goal: {goal}
Write only what the user would type: short, natural, one message."""


class SimulatedUser:
    """A user played by a model: answers questions and decides whether to follow up, at most `max_turns` times."""

    def __init__(self, policy: Policy, persona: str, goal: str, max_turns: int) -> None:
        self.policy = policy
        self.system = _SIMULATOR.format(persona=persona, goal=goal)
        self.max_turns = max_turns
        self.turns = 0
        self._conversation: list[Message] = []

    def watch(self, messages: list[Message]) -> None:
        """Keep the live conversation, so answers to clarify know what the user asked for."""
        self._conversation = messages

    async def _say(self, instruction: str) -> str:
        messages = [Message(role="system", content=self.system), Message(role="user", content=instruction)]
        completion = await self.policy.complete(messages, [])
        return (completion.message.content or "").strip()

    async def answer(self, question: str, choices: list[str]) -> str | None:
        """The simulated user's answer to the agent's question."""
        offered = f"\nOptions offered: {'; '.join(choices)}" if choices else ""
        so_far = _transcript(self._conversation)
        context = f"The conversation so far:\n\n{so_far}\n\n" if so_far else ""
        text = await self._say(f"{context}The assistant asks you: {question}{offered}\nAnswer it as the user.")
        return text or None

    async def follow_up(self, messages: list[Message]) -> str | None:
        """The user's next message, or None when the goal is met (the model says [DONE]) or turns ran out."""
        if self.turns >= self.max_turns:
            return None
        text = await self._say(
            f"The conversation so far:\n\n{_transcript(messages)}\n\nIf your goal is met, reply exactly {DONE}. "
            "Otherwise write your next message to the assistant."
        )
        if not text or DONE in text:
            return None
        self.turns += 1
        return text


def _transcript(messages: list[Message]) -> str:
    """The conversation as the simulated user sees it: their messages and the agent's final answers
    (tool calls and results left out)."""
    lines = []
    for message in messages:
        if message.role == "user":
            lines.append(f"USER (you): {message.content}")
        elif message.role == "assistant" and not message.tool_calls and message.content:
            lines.append(f"ASSISTANT: {message.content}")
    return "\n\n".join(lines)
