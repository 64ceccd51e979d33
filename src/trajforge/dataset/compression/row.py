"""One episode fitted to a token budget, measured as a trainer sees its row (trace.compaction's rule)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

from trajforge.trace import Episode, RenderError, render
from trajforge.trace.compaction import cuts, extractive_summary, turns_of
from trajforge.trace.model import Compaction
from trajforge.trace.tokens import ChatMessage, TokenCounter

Status = Literal["fits", "compressed", "too_long", "unrenderable"]


@dataclass
class RowOutcome:
    """What compression made of one episode."""

    status: Status
    row: dict[str, Any] | None
    """The published row (compressed or as it was); None when it cannot be rendered or still does not fit."""
    tokens_before: int = 0
    tokens_after: int = 0
    span: tuple[int, int] | None = None
    """Messages [start, end) the summary replaced."""
    detail: str = ""
    original: dict[str, Any] | None = None
    """The row before compression (kept for `--keep-too-long`)."""


def chat(row: dict[str, Any]) -> list[ChatMessage]:
    """A row's turns as chat-template messages."""
    return [ChatMessage(turn["from"], turn["value"]) for turn in row["conversations"]]


def compress_episode(
    episode: Episode,
    counter: TokenCounter,
    budget: int,
    *,
    keep_last: int,
    summary_reserve: int = 0,
    row: dict[str, Any] | None = None,
    before: int | None = None,
) -> RowOutcome:
    """The episode's row, compressed with the extractive summary when it exceeds `budget` tokens.

    Candidate spans are tried shortest first; each is priced from the turns'
    shares of the row's exact count and only a candidate that should fit is
    rendered and counted exactly, so a long row costs about two tokenizer
    passes. `row` and `before` (its rendering and count, when the caller has
    them from a batch) spare that work here. `summary_reserve`: tokens a later
    summary (a model's) may take; the span chosen leaves room for it.
    """
    if row is None:
        try:
            row = render(episode)
        except RenderError as exc:
            return RowOutcome("unrenderable", None, detail=str(exc))
    if before is None:
        before = counter.count_conversation(chat(row))
    if before <= budget:
        return RowOutcome("fits", row, before, before)
    messages = episode.messages
    turn_at = {turn.start: index for index, turn in enumerate(turns_of(messages))}
    costs = counter.share_costs(chat(row), before)
    if len(costs) != len(turn_at):  # a row whose turns do not map one to one: price every candidate exactly
        costs = []
    for start, end in cuts(messages, keep_last):
        summary = extractive_summary(messages[start:end])
        if costs:
            first, stop = turn_at[start], turn_at.get(end, len(costs))
            summary_cost = max(counter.turn_costs([ChatMessage("human", summary)])[0], summary_reserve)
            if before - sum(costs[first:stop]) + summary_cost > budget:
                continue
        compaction = Compaction(start, end, summary, "extractive", len(messages), tokens_before=before)
        candidate = render(dataclasses.replace(episode, compactions=[compaction]))
        after = counter.count_conversation(chat(candidate))
        if after <= budget:
            return RowOutcome("compressed", candidate, before, after, (start, end), original=row)
    return RowOutcome("too_long", None, before, before, detail=f"{before} tokens; no cut fits {budget}", original=row)


def with_summary(episode: Episode, span: tuple[int, int], summary: str) -> dict[str, Any]:
    """The episode's row with messages [span) replaced by `summary` (a model's, in place of the extractive one)."""
    start, end = span
    return render(
        dataclasses.replace(episode, compactions=[Compaction(start, end, summary, "model", len(episode.messages))])
    )
