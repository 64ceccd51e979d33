"""The curation filters: one table (`TABLE`) that the pipeline, the report, the card and the CLI all read.

Each entry names a filter (`Filter`, whose value is the name the report and
the card count under), the stage of the pipeline that applies it, how its
setting reads in words, its check when it looks at one episode, and the CLI
options that set it. Adding a filter is one entry here (with its settings
field in `CurationSettings` when it has a setting); the pipeline runs every
EPISODE-stage check in table order, and the report, the card, the
`curate --json` keys and the command-line options follow the table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from enum import Enum, StrEnum
from typing import Any

import orjson

from trajforge.tasks.grounding import episode_grounding_problems
from trajforge.trace import Episode, Finish, Flag, Outcome, ToolCall
from trajforge.trace.turns import json_bytes


class Filter(StrEnum):
    """Every filter, by the name the report and the card count it under."""

    MALFORMED = "malformed row"
    INVALID_ROW = "invalid row"
    DUPLICATE_ID = "duplicate id"
    NOT_STOPPED = "finish not stop"
    NOT_PASSED = "check not passed"
    TAG_COLLISION = "tag collision"
    TOOL_NOT_OFFERED = "tool not offered"
    INVALID_CALL_JSON = "invalid tool-call JSON"
    NO_REASONING = "no reasoning"
    UNGROUNDED = "ungrounded answer"
    TURN_BOUNDS = "turn count out of bounds"
    CALL_BOUNDS = "tool-call count out of bounds"
    REPETITION = "repetition loop"
    ERROR_RATE = "tool error rate"
    TOO_MANY_TOKENS = "too many tokens"
    EXACT_DUPLICATE = "exact duplicate"
    NEAR_DUPLICATE = "near duplicate"


class Stage(Enum):
    """Where in the pipeline a filter applies."""

    READ = "read"  # reading a line or row (the pipeline itself)
    EPISODE = "episode"  # one episode, before it is laid out: `FilterSpec.check`
    ROW = "row"  # the laid-out row (the pipeline itself)
    TOKENS = "tokens"  # the row's token count (the pipeline itself)
    SET = "set"  # comparisons between a config's episodes (the pipeline itself)


@dataclass(frozen=True)
class CurationSettings:
    """Which filters run and their thresholds. None turns a bound off."""

    require_passed: bool = False
    require_reasoning: bool = True
    require_grounded: bool = False  # the final answer states only values its tool results or prompt show
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

    def __post_init__(self) -> None:
        if self.max_tokens is not None and not self.tokenizer:
            raise ValueError("--max-tokens needs --tokenizer")
        if self.near_dup_threshold is not None and not 0 < self.near_dup_threshold <= 1:
            raise ValueError("--near-dup is a Jaccard similarity between 0 and 1 (0 turns the filter off)")

    def described(self) -> dict[Filter, str]:
        """Filter -> its setting in words, for the report and the card."""
        return {spec.filter: spec.describe(self) for spec in TABLE}


@dataclass(frozen=True)
class Option:
    """A command-line option that sets one `CurationSettings` field.

    `flag` is the option's name (default: the field's); `off` is the option value that
    stands for None in the settings (a bound turned off), `at_least_off` any value from it up.
    """

    field: str
    kind: Any  # the option's type as typer reads it (`int | None` for an optional bound)
    default: Any
    help: str
    flag: str = ""
    off: Any = None
    at_least_off: bool = False

    @property
    def name(self) -> str:
        """The keyword the command receives (`--max-turns` -> `max_turns`)."""
        return self.flag or self.field

    def setting(self, value: Any) -> Any:
        """The settings field's value for the option's `value`."""
        if self.off is not None and (value == self.off or (self.at_least_off and value >= self.off)):
            return None
        return value


@dataclass(frozen=True)
class FilterSpec:
    """One filter: its name, stage, setting in words, check (EPISODE stage) and options."""

    filter: Filter
    stage: Stage
    describe: Callable[[CurationSettings], str]
    check: Callable[[Episode, CurationSettings], bool] | None = None  # True: the episode fails it
    options: tuple[Option, ...] = ()


def _off_unless(flag: bool, text: str) -> str:
    return text if flag else "off"


def _bounds(low: int | None, high: int | None) -> str:
    if low is None and high is None:
        return "off"
    return " and ".join(p for p in (f"fewer than {low}" if low else "", f"more than {high}" if high else "") if p)


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


def _not_offered(episode: Episode, settings: CurationSettings) -> bool:
    offered = {_tool_name(tool) for tool in episode.tools}
    return any(call.name not in offered for call in _calls(episode))


def _invalid_call(episode: Episode, settings: CurationSettings) -> bool:
    return Flag.INVALID_TOOL_ARGUMENTS in episode.flags or any(c.raw_arguments is not None for c in _calls(episode))


def _no_reasoning(episode: Episode, settings: CurationSettings) -> bool:
    return settings.require_reasoning and not any(m.reasoning and m.reasoning.strip() for m in episode.messages)


def _bool_option(field: str, help: str, default: bool, flag: str = "") -> Option:
    return Option(field, bool, default, help, flag=flag)


TABLE: tuple[FilterSpec, ...] = (
    FilterSpec(Filter.MALFORMED, Stage.READ, lambda s: "lines not JSON, or rows not FORMAT.md"),
    FilterSpec(Filter.INVALID_ROW, Stage.ROW, lambda s: "the row fails `trajforge validate` (id, taxonomy, turns)"),
    FilterSpec(Filter.DUPLICATE_ID, Stage.SET, lambda s: "second and later rows with an id already seen"),
    FilterSpec(
        Filter.NOT_STOPPED, Stage.EPISODE, lambda s: "finish is not `stop`, or the last turn is not a final answer",
        check=lambda e, s: e.finish is not Finish.STOP or not _ends_with_answer(e),
    ),
    FilterSpec(
        Filter.NOT_PASSED, Stage.EPISODE, lambda s: _off_unless(s.require_passed, "the task's check did not pass"),
        check=lambda e, s: s.require_passed and e.outcome is not Outcome.PASSED,
        options=(_bool_option("require_passed", "Keep only episodes whose task check passed.", False),),
    ),
    FilterSpec(
        Filter.TAG_COLLISION, Stage.EPISODE, lambda s: "a reasoning or content text holds a layout tag",
        check=lambda e, s: Flag.TAG_COLLISION in e.flags,
    ),
    FilterSpec(
        Filter.TOOL_NOT_OFFERED, Stage.EPISODE, lambda s: "a call names a tool the episode did not offer",
        check=_not_offered,
    ),
    FilterSpec(
        Filter.INVALID_CALL_JSON, Stage.EPISODE, lambda s: "a call's arguments were not a JSON object",
        check=_invalid_call,
    ),
    FilterSpec(
        Filter.NO_REASONING, Stage.EPISODE,
        lambda s: _off_unless(s.require_reasoning, "no assistant turn has reasoning"),
        check=_no_reasoning,
        options=(_bool_option("require_reasoning", "Drop episodes with no reasoning at all.", True),),
    ),
    FilterSpec(
        Filter.UNGROUNDED, Stage.EPISODE,
        lambda s: _off_unless(s.require_grounded, "the answer states values no tool result shows, or 'see above'"),
        check=lambda e, s: s.require_grounded and bool(episode_grounding_problems(e)),
        options=(_bool_option("require_grounded", "Drop episodes whose final answer is not grounded in the tool "
                              "results (tasks.grounding).", False),),
    ),
    FilterSpec(
        Filter.TURN_BOUNDS, Stage.ROW, lambda s: _bounds(s.min_turns, s.max_turns),
        options=(
            Option("min_turns", int | None, None, "Drop rows with fewer turns."),
            Option("max_turns", int | None, None, "Drop rows with more turns."),
        ),
    ),
    FilterSpec(
        Filter.CALL_BOUNDS, Stage.EPISODE, lambda s: _bounds(s.min_calls, s.max_calls),
        check=lambda e, s: _outside(sum(1 for _ in _calls(e)), s.min_calls, s.max_calls),
        options=(
            Option("min_calls", int | None, None, "Drop episodes with fewer tool calls."),
            Option("max_calls", int | None, None, "Drop episodes with more tool calls."),
        ),
    ),
    FilterSpec(
        Filter.REPETITION, Stage.EPISODE,
        lambda s: f"the same call more than {s.max_repeats} times in a row" if s.max_repeats else "off",
        check=lambda e, s: bool(s.max_repeats) and longest_repeat(e) > (s.max_repeats or 0),
        options=(Option("max_repeats", int, 5, "The same call more times in a row is a loop (0: off).", off=0),),
    ),
    FilterSpec(
        Filter.ERROR_RATE, Stage.EPISODE,
        lambda s: f"more than {s.max_error_rate:.0%} of tool results are errors" if s.max_error_rate is not None
        else "off",
        check=lambda e, s: s.max_error_rate is not None and error_rate(e) > s.max_error_rate,
        options=(Option("max_error_rate", float, 0.5, "Most share of tool results that are errors (1: off).", off=1,
                        at_least_off=True),),
    ),
    FilterSpec(
        Filter.TOO_MANY_TOKENS, Stage.TOKENS, lambda s: f"more than {s.max_tokens:,} tokens" if s.max_tokens else "off",
        options=(
            Option("max_tokens", int | None, None, "Drop longer rows (needs --tokenizer)."),
            Option("tokenizer", str | None, None, "tokenizer.json, its folder, or a hub id."),
        ),
    ),
    FilterSpec(
        Filter.EXACT_DUPLICATE, Stage.SET,
        lambda s: _off_unless(s.exact_dedup, "same task and trajectory as a kept episode"),
        options=(_bool_option("exact_dedup", "Drop exact duplicates (task and trajectory).", True, flag="dedup"),),
    ),
    FilterSpec(
        Filter.NEAR_DUPLICATE, Stage.SET,
        lambda s: f"MinHash Jaccard >= {s.near_dup_threshold} with a kept episode" if s.near_dup_threshold is not None
        else "off",
        options=(Option("near_dup_threshold", float, 0.9, "Near-duplicate MinHash Jaccard threshold (0: off).",
                        flag="near_dup", off=0),),
    ),
)  # fmt: skip

# Settings that are not filters: the secret scrub.
SCRUB_OPTIONS = (
    _bool_option("scrub", "Replace secret-shaped strings in every text field.", True),
    _bool_option("scrub_emails", "Replace e-mail addresses too.", False),
)
OPTIONS: tuple[Option, ...] = tuple(o for spec in TABLE for o in spec.options) + SCRUB_OPTIONS
"""Every curation option, in the order the command-line help lists them."""

FILTERS: tuple[Filter, ...] = tuple(spec.filter for spec in TABLE)
"""Every filter, in the order the report and the card list them."""

EPISODE_CHECKS = tuple((spec.filter, spec.check) for spec in TABLE if spec.stage is Stage.EPISODE and spec.check)

assert {o.field for o in OPTIONS} <= {f.name for f in fields(CurationSettings)}
assert len(FILTERS) == len(Filter)


def settings_from_options(values: dict[str, Any]) -> CurationSettings:
    """Settings from option values keyed by `Option.name`; raises ValueError on a combination that cannot be."""
    return CurationSettings(**{o.field: o.setting(values[o.name]) for o in OPTIONS if o.name in values})


def episode_problem(episode: Episode, settings: CurationSettings) -> Filter | None:
    """The first per-episode filter `episode` fails (before it is laid out as a row), or None."""
    for name, check in EPISODE_CHECKS:
        if check(episode, settings):
            return name
    return None


def turns_problem(turns: int, settings: CurationSettings) -> Filter | None:
    """TURN_BOUNDS when the row's conversation length is outside the bounds."""
    return Filter.TURN_BOUNDS if _outside(turns, settings.min_turns, settings.max_turns) else None


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
