"""Curation filters over single episodes: each has a name, and says whether an episode fails it.

The names are what the curation report and the dataset card count. Filters
that compare episodes with each other (duplicate ids, exact and near
duplicates) are in `dedup`; this module holds the per-episode ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import orjson

from trajforge.trace import Episode, Finish, Flag, Outcome, ToolCall
from trajforge.trace.turns import json_bytes

# Every filter, in the order the report lists them (and episodes meet them).
MALFORMED = "malformed row"
DUPLICATE_ID = "duplicate id"
NOT_STOPPED = "finish not stop"
NOT_PASSED = "check not passed"
TAG_COLLISION = "tag collision"
TOOL_NOT_OFFERED = "tool not offered"
INVALID_CALL_JSON = "invalid tool-call JSON"
NO_REASONING = "no reasoning"
TURN_BOUNDS = "turn count out of bounds"
CALL_BOUNDS = "tool-call count out of bounds"
REPETITION = "repetition loop"
ERROR_RATE = "tool error rate"
TOO_MANY_TOKENS = "too many tokens"
EXACT_DUPLICATE = "exact duplicate"
NEAR_DUPLICATE = "near duplicate"
FILTERS = (
    MALFORMED, DUPLICATE_ID, NOT_STOPPED, NOT_PASSED, TAG_COLLISION, TOOL_NOT_OFFERED, INVALID_CALL_JSON,
    NO_REASONING, TURN_BOUNDS, CALL_BOUNDS, REPETITION, ERROR_RATE, TOO_MANY_TOKENS, EXACT_DUPLICATE, NEAR_DUPLICATE,
)  # fmt: skip


@dataclass(frozen=True)
class CurationSettings:
    """Which filters run and their thresholds. None turns a bound off."""

    require_passed: bool = False
    require_reasoning: bool = True
    min_turns: int | None = None
    max_turns: int | None = None
    min_calls: int | None = None
    max_calls: int | None = None
    max_repeats: int | None = 5  # the same call more than this many times in a row is a loop
    max_error_rate: float | None = 0.5  # share of tool results that are errors
    max_tokens: int | None = None  # needs a tokenizer
    tokenizer: str | None = None
    exact_dedup: bool = True
    near_dup_threshold: float | None = 0.9  # estimated Jaccard similarity; None: no near-dup filter
    num_perm: int = 128
    scrub: bool = True
    scrub_emails: bool = False

    def described(self) -> dict[str, str]:
        """Filter name -> its setting in words, for the report and the card."""
        bounds = {
            TURN_BOUNDS: _bounds(self.min_turns, self.max_turns),
            CALL_BOUNDS: _bounds(self.min_calls, self.max_calls),
        }
        return {
            MALFORMED: "rows that do not parse as FORMAT.md",
            DUPLICATE_ID: "second and later rows with an id already seen",
            NOT_STOPPED: "finish is not `stop`, or the last turn is not a final answer",
            NOT_PASSED: "the task's check did not pass" if self.require_passed else "off",
            TAG_COLLISION: "a reasoning or content text holds a layout tag",
            TOOL_NOT_OFFERED: "a call names a tool the episode did not offer",
            INVALID_CALL_JSON: "a call's arguments were not a JSON object",
            NO_REASONING: "no assistant turn has reasoning" if self.require_reasoning else "off",
            **bounds,
            REPETITION: f"the same call more than {self.max_repeats} times in a row" if self.max_repeats else "off",
            ERROR_RATE: f"more than {self.max_error_rate:.0%} of tool results are errors"
            if self.max_error_rate is not None
            else "off",
            TOO_MANY_TOKENS: f"more than {self.max_tokens:,} tokens" if self.max_tokens else "off",
            EXACT_DUPLICATE: "same task and trajectory as a kept episode" if self.exact_dedup else "off",
            NEAR_DUPLICATE: f"MinHash Jaccard >= {self.near_dup_threshold} with a kept episode"
            if self.near_dup_threshold is not None
            else "off",
        }


def _bounds(low: int | None, high: int | None) -> str:
    if low is None and high is None:
        return "off"
    return " and ".join(p for p in (f"fewer than {low}" if low else "", f"more than {high}" if high else "") if p)


def episode_problem(episode: Episode, settings: CurationSettings) -> str | None:
    """The first per-episode filter `episode` fails (before it is laid out as a row), or None."""
    if episode.finish is not Finish.STOP or not _ends_with_answer(episode):
        return NOT_STOPPED
    if settings.require_passed and episode.outcome is not Outcome.PASSED:
        return NOT_PASSED
    if Flag.TAG_COLLISION in episode.flags:
        return TAG_COLLISION
    offered = {_tool_name(tool) for tool in episode.tools}
    if any(call.name not in offered for call in _calls(episode)):
        return TOOL_NOT_OFFERED
    if Flag.INVALID_TOOL_ARGUMENTS in episode.flags or any(c.raw_arguments is not None for c in _calls(episode)):
        return INVALID_CALL_JSON
    if settings.require_reasoning and not any(m.reasoning and m.reasoning.strip() for m in episode.messages):
        return NO_REASONING
    calls = sum(1 for _ in _calls(episode))
    if _outside(calls, settings.min_calls, settings.max_calls):
        return CALL_BOUNDS
    if settings.max_repeats and longest_repeat(episode) > settings.max_repeats:
        return REPETITION
    if settings.max_error_rate is not None and error_rate(episode) > settings.max_error_rate:
        return ERROR_RATE
    return None


def turns_problem(turns: int, settings: CurationSettings) -> str | None:
    """TURN_BOUNDS when the row's conversation length is outside the bounds."""
    return TURN_BOUNDS if _outside(turns, settings.min_turns, settings.max_turns) else None


def _outside(value: int, low: int | None, high: int | None) -> bool:
    return (low is not None and value < low) or (high is not None and value > high)


def _ends_with_answer(episode: Episode) -> bool:
    """The last message is the assistant's, without calls: the episode was not cut off."""
    last = episode.messages[-1] if episode.messages else None
    return last is not None and last.role == "assistant" and not last.tool_calls


def _tool_name(tool: dict[str, object]) -> object:
    function = tool.get("function")
    return function.get("name") if isinstance(function, dict) else tool.get("name")


def _calls(episode: Episode) -> Iterator[ToolCall]:
    for message in episode.messages:
        yield from message.tool_calls


def longest_repeat(episode: Episode) -> int:
    """The longest run of consecutive calls with the same name and arguments."""
    longest = run = 0
    previous: tuple[str, bytes] | None = None
    for message in episode.messages:
        for call in message.tool_calls:
            key = (call.name, json_bytes(call.arguments, sort_keys=True))
            run = run + 1 if key == previous else 1
            previous = key
            longest = max(longest, run)
    return longest


def error_rate(episode: Episode) -> float:
    """Share of tool results that report an error: a JSON object with a non-empty `error`.

    That is how trajforge's tools (and hermes-agent's) answer a failed call; a
    command that ran and exited non-zero is a result, not a tool error.
    """
    results = [m.content or "" for m in episode.messages if m.role == "tool"]
    if not results:
        return 0.0
    errors = 0
    for text in results:
        if text.startswith('{"error"') or (text.startswith("{") and '"error"' in text[:200]):
            try:
                value = orjson.loads(text)
            except orjson.JSONDecodeError:
                continue
            errors += isinstance(value, dict) and bool(value.get("error"))
    return errors / len(results)
