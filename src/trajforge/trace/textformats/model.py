"""What parsing a model's raw text gives back, and the errors of the public functions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class UnknownFormat(ValueError):
    """A format or reasoning-style name that this package does not know; the message lists the known ones."""


class RenderError(ValueError):
    """The format cannot express what was asked (a tag inside a value, a name it cannot spell)."""


@dataclass
class TextCall:
    """One tool call read from (or to be written into) a model's text.

    `id` is set only by formats that carry one (Kimi-K2's `functions.NAME:IDX`,
    Mistral's nine-character ids); the caller assigns ids to the others.
    """

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    id: str | None = None


@dataclass
class ParsedText:
    """A generation split into reasoning, visible content and tool calls.

    `reasoning` and `content` are stripped of surrounding whitespace, None when empty.
    `problems` says, one line each, what could not be read; the text of a call
    that could not be read stays in `content`.
    """

    reasoning: str | None = None
    content: str | None = None
    tool_calls: list[TextCall] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass
class Extracted:
    """What a format's call reader found in a text without its reasoning (internal)."""

    content: list[str] = field(default_factory=list)
    """The pieces of text outside the calls (and the text of calls that could not be read)."""
    calls: list[TextCall] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def keep(self, text: str) -> None:
        """Keep `text` as content."""
        if text:
            self.content.append(text)

    def add(self, call: TextCall, known: set[str] | None) -> None:
        """A call read whole; a name the offered tools lack is kept (as vLLM does) and told."""
        if known is not None and call.name not in known:
            self.problems.append(f"unknown tool {call.name!r} (not among the tools given)")
        self.calls.append(call)

    def fail(self, text: str, problem: str) -> None:
        """A call region that could not be read: its text stays in content and the problem is told."""
        self.keep(text)
        self.problems.append(problem)
