"""The model's context window during an episode: prompt sizes, and what to do before a call would overflow.

Before each model call the prompt is sized: the server's `usage.prompt_tokens`
of the previous call plus what joined the conversation since (counted with the
run's tokenizer, else four characters a token), or, before any usage, the whole
conversation counted. When the prompt and the reply's `max_tokens` would
exceed the context, the episode either ends with `context_length` (no wasted
call) or, with `on_context="compress"`, the oldest middle turns are replaced by
a summary the same model writes (trace.compaction's rule) and the episode goes
on. The record keeps every message and each compaction; the published row shows
the conversation as the model last saw it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from trajforge.policy import ContextLengthExceeded, ModelError, Policy
from trajforge.trace import Episode, Message, ToolResult
from trajforge.trace.compaction import SUMMARY_PREFIX, apply, cuts, extractive_summary, summary_request
from trajforge.trace.model import Compaction
from trajforge.trace.tokens import TokenCounter
from trajforge.trace.turns import dumps

_MESSAGE_OVERHEAD = 4  # role markers and separators a chat template adds per message (a typical figure)


@dataclass(frozen=True)
class ContextSettings:
    """The run's context budget (all None: nothing is checked before a call)."""

    max_context_tokens: int | None = None
    """The model's context window (`--max-context-tokens`, else the server's `max_model_len`)."""
    on_context: Literal["end", "compress"] = "end"
    reserve_tokens: int = 0
    """Tokens the reply may take (`--max-tokens`), which the server counts against the context too."""
    max_tool_result_tokens: int | None = None
    """A longer tool result is cut in the middle, with a marker saying how much went."""
    keep_last: int = 4
    summary_max_tokens: int = 512


@dataclass
class ContextWindow:
    """One episode's view of its context: sizes prompts, cuts long results, compacts when asked."""

    settings: ContextSettings
    counter: TokenCounter
    peak_prompt_tokens: int = 0
    sources: set[str] = field(default_factory=set)
    """How prompt sizes were known: `server` (usage), `tokenizer`, `estimate`."""

    def view(self, episode: Episode) -> list[Message]:
        """The messages the model is sent: the latest compaction applied."""
        return apply(episode.messages, episode.compactions[-1] if episode.compactions else None)

    async def before_call(self, episode: Episode, policy: Policy) -> list[Message]:
        """The messages to send; compacts them, or raises ContextLengthExceeded, when they would not fit."""
        view = self.view(episode)
        limit = self.settings.max_context_tokens
        if limit is None:
            return view
        needed = self.prompt_tokens(episode, view)
        self.peak_prompt_tokens = max(self.peak_prompt_tokens, needed)
        budget = limit - self.settings.reserve_tokens
        if needed <= budget:
            return view
        said = f"the next request needs about {needed} prompt tokens"
        said += f" + {self.settings.reserve_tokens} for the reply" if self.settings.reserve_tokens else ""
        if self.settings.on_context == "end":
            raise ContextLengthExceeded(f"{said}; the model's context is {limit} tokens")
        await self._compact(episode, policy, view, needed, budget, said)
        return self.view(episode)

    def prompt_tokens(self, episode: Episode, view: Sequence[Message]) -> int:
        """The prompt's size: the server's last figure and what joined since, or the whole view counted."""
        last_usage = episode.usage[-1] if episode.usage else None
        last_assistant = max((i for i, m in enumerate(view) if m.role == "assistant"), default=None)
        compacted_since = bool(episode.compactions) and episode.compactions[-1].at_message >= len(episode.messages)
        if last_usage and last_usage.prompt_tokens is not None and last_assistant is not None and not compacted_since:
            self.sources.add("server")
            reply = last_usage.completion_tokens
            if reply is None:
                reply = self._count([view[last_assistant]])
            return last_usage.prompt_tokens + reply + self._count(view[last_assistant + 1 :])
        self.sources.add("estimate" if self.counter.estimated else "tokenizer")
        tools = self.counter.count_one(dumps(episode.tools)) if episode.tools else 0
        return self._count(view) + tools

    def cut_result(self, result: ToolResult) -> tuple[ToolResult, bool]:
        """The result, cut in the middle when it has more than `max_tool_result_tokens`; and whether it was."""
        limit = self.settings.max_tool_result_tokens
        if limit is None or len(result.content) <= limit:  # a token holds at least one character
            return result, False
        tokens = self.counter.count_one(result.content)
        if tokens <= limit:
            return result, False
        keep = max(1, len(result.content) * limit // tokens)
        head, tail = result.content[: keep * 2 // 3], result.content[len(result.content) - keep // 3 :]
        marker = f"\n[... cut: the result had about {tokens} tokens, more than the {limit} a result may take ...]\n"
        return ToolResult(result.tool_call_id, result.name, head + marker + tail, result.is_error), True

    def record(self) -> dict[str, Any]:
        """What the record says of the context (`run.context`)."""
        return {
            "max_context_tokens": self.settings.max_context_tokens,
            "on_context": self.settings.on_context,
            "peak_prompt_tokens": self.peak_prompt_tokens or None,
            "counted_by": sorted(self.sources),
            "tokenizer": self.counter.name,
        }

    async def _compact(
        self, episode: Episode, policy: Policy, view: list[Message], needed: int, budget: int, said: str
    ) -> None:
        for start, end in cuts(view, self.settings.keep_last):
            freed = self._count(view[start:end]) - self.settings.summary_max_tokens
            if needed - freed > budget:
                continue
            summary, source = await self._summary(policy, view[start:end])
            after = needed - self._count(view[start:end]) + self._count([Message(role="user", content=summary)])
            first, last = self._full_index(episode, start), self._full_index(episode, end)
            episode.compactions.append(
                Compaction(
                    first, last, summary, source, len(episode.messages), tokens_before=needed, tokens_after=after
                )
            )
            return
        raise ContextLengthExceeded(f"{said}; no summary of the middle turns fits the context of {budget} tokens")

    async def _summary(self, policy: Policy, span: list[Message]) -> tuple[str, str]:
        """The model's summary of `span`; the extractive one when the model cannot write it (too long, refused)."""
        try:
            completion = await policy.complete(summary_request(span), [])
        except ContextLengthExceeded:
            return extractive_summary(span), "extractive"
        except ModelError as exc:
            if exc.transient:
                raise
            return extractive_summary(span), "extractive"
        text = (completion.message.content or "").strip()
        if not text:
            return extractive_summary(span), "extractive"
        words = text.split()
        limit = self.settings.summary_max_tokens * 3 // 4  # about as many words as the reserve has tokens
        return SUMMARY_PREFIX + (" ".join(words[:limit]) + " …" if len(words) > limit else text), "model"

    @staticmethod
    def _full_index(episode: Episode, index: int) -> int:
        """The index in the episode's messages of the view's message `index`."""
        if not episode.compactions:
            return index
        last = episode.compactions[-1]
        return index if index <= last.start else last.end + index - last.start - 1

    def _count(self, messages: Sequence[Message]) -> int:
        texts: list[str] = []
        for message in messages:
            texts.append(message.content or "")
            if message.reasoning:
                texts.append(message.reasoning)
            texts.extend(dumps({"name": c.name, "arguments": c.arguments}) for c in message.tool_calls)
        return sum(self.counter.count(texts)) + _MESSAGE_OVERHEAD * len(messages)
