"""The agent loop: one episode from a task, a policy, a toolbox and a sandbox."""

from __future__ import annotations

import asyncio
import time
import traceback
import uuid
from dataclasses import dataclass

from trajforge.agent.context import ContextWindow
from trajforge.agent.prompt import system_prompt
from trajforge.agent.user import EpisodeUser
from trajforge.policy import ContextLengthExceeded, ModelError, Policy
from trajforge.sandbox import Sandbox
from trajforge.tools import Toolbox
from trajforge.trace import (
    CallTiming,
    Episode,
    Finish,
    Flag,
    Message,
    ModelInfo,
    TaskRef,
    ToolCall,
    ToolResult,
    tag_collisions,
)
from trajforge.trace.turns import dumps


@dataclass(frozen=True)
class EpisodeLimits:
    """Budgets of one episode."""

    max_turns: int = 30
    """Assistant turns; the episode ends with `max_turns` after the last one's tools ran."""
    wall_seconds: float = 900.0
    """Wall-clock time for the whole episode; it ends with `timeout`."""


def describe_exception(exc: BaseException) -> str:
    """One line for the record: the exception and where it was raised (the innermost frame)."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


class TurnLimitReached(Exception):
    """The episode used all its assistant turns."""


async def run_episode(
    task: TaskRef,
    policy: Policy,
    toolbox: Toolbox,
    sandbox: Sandbox,
    limits: EpisodeLimits,
    *,
    episode_id: str | None = None,
    config: str = "",
    model: ModelInfo | None = None,
    user: EpisodeUser | None = None,
    context: ContextWindow | None = None,
) -> Episode:
    """Run one episode to its end and return its record; `finish` says why it ended.

    With a `context`, each call's prompt is sized first: one that would overflow the model's
    context ends the episode with `context_length`, or is compacted (agent/context.py).

    With a `user`, each final answer is followed by the user's next message (a later human turn)
    until they have none; the turn budget covers the whole conversation.
    """
    tools = toolbox.definitions
    episode = Episode(
        id=episode_id or str(uuid.uuid4()),
        task=task,
        messages=[
            Message(
                role="system",
                content="\n\n".join(
                    [system_prompt(str(sandbox.info.visible_workspace), tools), *toolbox.context.prompt_notes]
                ),
            ),
            Message(role="user", content=task.prompt),
        ],
        tools=tools,
        config=config,
        model=model or ModelInfo(),
    )
    agent = _Agent(episode, policy, toolbox, user, context)
    if user is not None:
        user.watch(episode.messages)
    try:
        async with asyncio.timeout(limits.wall_seconds):
            await agent.run(limits.max_turns)
    except TimeoutError:
        agent.end(Finish.TIMEOUT, f"the episode's wall-clock limit of {limits.wall_seconds:g} s was reached")
    except TurnLimitReached:
        agent.end(Finish.MAX_TURNS, f"the episode used its {limits.max_turns} assistant turns")
    except ContextLengthExceeded as exc:
        agent.end(Finish.CONTEXT_LENGTH, str(exc))
    except ModelError as exc:
        agent.end(Finish.MODEL_ERROR, str(exc))
        if exc.transient:
            episode.add_flag(Flag.TRANSIENT_ERROR)
    except Exception as exc:  # a fault of the harness or the host, not the model's: this episode's `error`
        agent.end(Finish.ERROR, describe_exception(exc))
    agent.settle()
    return episode


class _Agent:
    def __init__(
        self,
        episode: Episode,
        policy: Policy,
        toolbox: Toolbox,
        user: EpisodeUser | None = None,
        context: ContextWindow | None = None,
    ) -> None:
        self.episode = episode
        self.policy = policy
        self.toolbox = toolbox
        self.user = user
        self.context = context

    async def run(self, max_turns: int) -> None:
        for turn in range(max_turns):
            calls = await self.query()
            if calls:
                await self.execute(calls)
            elif turn == max_turns - 1 or not await self.follow_up():
                return  # finish stays `stop` (no turn left to answer a follow-up: none is asked for)
        raise TurnLimitReached

    async def follow_up(self) -> bool:
        """The user's next message after a final answer joins the conversation; False when there is none."""
        text = await self.user.follow_up(self.episode.messages) if self.user is not None else None
        if not text:
            return False
        self.episode.messages.append(Message(role="user", content=text))
        return True

    async def query(self) -> list[ToolCall]:
        """One model call; the assistant message joins the conversation."""
        messages = self.episode.messages
        if self.context is not None:
            messages = await self.context.before_call(self.episode, self.policy)
        completion = await self.policy.complete(messages, self.episode.tools)
        self.episode.messages.append(completion.message)
        self.episode.usage.append(completion.usage)
        self.episode.timing.model_calls.append(round(completion.seconds, 6))
        if any(call.raw_arguments is not None for call in completion.message.tool_calls):
            self.episode.add_flag(Flag.INVALID_TOOL_ARGUMENTS)
        return completion.message.tool_calls

    async def execute(self, calls: list[ToolCall]) -> None:
        """Run a turn's calls as consecutive groups (each group's calls at once, tools/ordering.py);
        results join the conversation in call order."""
        results: dict[int, ToolResult] = {}
        for group in self.toolbox.plan(calls):
            done = await asyncio.gather(*(self._timed(calls[index]) for index in group))
            results.update(zip(group, done, strict=True))
        ordered = [results[index] for index in range(len(calls))]
        if self.context is not None:
            cuts = [self.context.cut_result(result) for result in ordered]
            ordered = [result for result, _ in cuts]
            if any(cut for _, cut in cuts):
                self.episode.add_flag(Flag.TRUNCATED_TOOL_OUTPUT)
        self.episode.messages.extend(result.to_message() for result in ordered)

    async def _timed(self, call: ToolCall) -> ToolResult:
        started = time.perf_counter()
        result = await self.toolbox.call(call)
        self.episode.timing.tool_calls.append(CallTiming(call.id, call.name, round(time.perf_counter() - started, 6)))
        return result

    def end(self, finish: Finish, error: str) -> None:
        self.episode.finish, self.episode.error = finish, error

    def settle(self) -> None:
        """Answer calls an interruption left open, and record the flags the episode earned."""
        messages = self.episode.messages
        last_assistant = max((i for i, m in enumerate(messages) if m.role == "assistant"), default=None)
        if last_assistant is not None:
            answered = {m.tool_call_id for m in messages[last_assistant + 1 :]}
            for call in messages[last_assistant].tool_calls:
                if call.id not in answered:
                    error = dumps({"error": "the episode ended before this call finished"})
                    messages.append(ToolResult(call.id, call.name, error, is_error=True).to_message())
        for flag in sorted(self.toolbox.context.flags):
            self.episode.add_flag(flag)
        if tag_collisions(self.episode):
            self.episode.add_flag(Flag.TAG_COLLISION)
