"""Reasoning split for the `<think>` styles of vLLM's reasoning parsers, and its inverse.

Styles (vLLM's `--reasoning-parser` names, plus `think`):

- `deepseek_r1`: `<think>` optional (chat templates often put it in the prompt);
  text before `</think>` is reasoning; with no `</think>` the whole text is reasoning.
- `qwen3`: as deepseek_r1, and a `<tool_call>` followed by `<function` ends the
  reasoning when `</think>` never came (Qwen3.5).
- `kimi_k2`: as deepseek_r1, and a tool-call section (`<|tool_calls_section_begin|>`
  or `<|tool_call_begin|>`) ends the reasoning when `</think>` never came; a
  `(no content)` placeholder is removed from the content.
- `glm45`: reasoning only when both `<think>` and `</think>` are present; otherwise all content.
- `mistral`: `[THINK]...[/THINK]` (Magistral), read as `think` reads `<think>`.
- `think`: the lenient default: `<think>...</think>` or text before a lone `</think>` is
  reasoning; an opened `<think>` that never closes is reasoning (truncated, told as a
  problem); text with no tags at all is content.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

THINK_OPEN, THINK_CLOSE = "<think>", "</think>"
KIMI_SECTION_MARKS = ("<|tool_calls_section_begin|>", "<|tool_call_section_begin|>", "<|tool_call_begin|>")
KIMI_NO_CONTENT = "(no content)"
_QWEN_FUNCTION = re.compile(r"\s*<function[\s=]")


@dataclass(frozen=True)
class Style:
    """One reasoning style: its tags and how text without them is read."""

    name: str
    open: str
    close: str
    untagged_is_reasoning: bool
    """Whether text without a closing tag is reasoning (the template opened the block in the prompt)."""
    needs_open: bool = False
    """Whether the opening tag must be present for any reasoning (glm45)."""


STYLES: dict[str, Style] = {
    "think": Style("think", THINK_OPEN, THINK_CLOSE, untagged_is_reasoning=False),
    "deepseek_r1": Style("deepseek_r1", THINK_OPEN, THINK_CLOSE, untagged_is_reasoning=True),
    "qwen3": Style("qwen3", THINK_OPEN, THINK_CLOSE, untagged_is_reasoning=True),
    "kimi_k2": Style("kimi_k2", THINK_OPEN, THINK_CLOSE, untagged_is_reasoning=True),
    "glm45": Style("glm45", THINK_OPEN, THINK_CLOSE, untagged_is_reasoning=False, needs_open=True),
    "mistral": Style("mistral", "[THINK]", "[/THINK]", untagged_is_reasoning=False),
}


def split_reasoning(style_name: str | None, text: str) -> tuple[str | None, str, list[str]]:
    """(reasoning or None, the rest of the text, problems) of a generation under one style.

    `style_name` None: no reasoning is split off.
    """
    if style_name is None:
        return None, text, []
    style = STYLES[style_name]
    problems: list[str] = []
    if style.needs_open and not (style.open in text and style.close in text):
        return None, text, []
    head, opened, tail = text.partition(style.open)
    late_open = bool(opened and head.strip())
    if late_open:
        # An opening tag after other text is not this turn's reasoning block (vLLM would drop
        # the text before it): only a block at the start, or one the prompt opened, counts.
        opened, tail = "", text
    body = tail if opened else text
    if style.close in body:
        if late_open and not style.untagged_is_reasoning:
            return None, text, [f"{style.open} after other text: left in the content"]
        reasoning, _, rest = body.partition(style.close)
        return reasoning, rest, problems
    implicit = _implicit_end(style.name, body)
    if implicit is not None:
        return body[:implicit], body[implicit:], problems
    if opened or style.untagged_is_reasoning:
        if opened:
            problems.append(f"{style.open} never closed with {style.close} (output cut off?): read as reasoning")
        return body, "", problems
    return None, text, problems


def _implicit_end(style: str, body: str) -> int | None:
    """Where a tool call ends unclosed reasoning, for the styles where vLLM lets it (else None)."""
    if style == "kimi_k2":
        found = [i for i in (body.find(mark) for mark in KIMI_SECTION_MARKS) if i != -1]
        return min(found) if found else None
    if style == "qwen3":
        at = body.find("<tool_call>")
        if at != -1 and _QWEN_FUNCTION.match(body, at + len("<tool_call>")):
            return at
    return None


def clean_content(style_name: str | None, content: str) -> str:
    """Content with a style's placeholders removed (Kimi's `(no content)`)."""
    if style_name == "kimi_k2":
        return content.replace(KIMI_NO_CONTENT, "")
    return content


def render_reasoning(style_name: str | None, reasoning: str | None) -> str:
    """The reasoning block that opens a turn under one style ('' when there is nothing to write).

    Styles that read untagged text as reasoning get an empty block, so that the
    content after it is read as content.
    """
    if style_name is None:
        if reasoning:
            raise ValueError("reasoning given but the reasoning style is None")
        return ""
    style = STYLES[style_name]
    if reasoning or style.untagged_is_reasoning:
        return f"{style.open}{reasoning or ''}{style.close}"
    return ""


def reasoning_collision(style_name: str | None, reasoning: str | None, content: str | None) -> str | None:
    """Why a reasoning/content pair cannot be written in a style unambiguously, or None."""
    if style_name is None:
        return None
    style = STYLES[style_name]
    if reasoning and (style.open in reasoning or style.close in reasoning):
        return f"the reasoning contains {style.open} or {style.close}"
    if content and (style.open in content or style.close in content):
        return f"the content contains {style.open} or {style.close}"
    if style_name == "kimi_k2" and content and KIMI_NO_CONTENT in content:
        return f"the content contains Kimi's placeholder {KIMI_NO_CONTENT}"
    return None
