"""Formats with a tool-call section of special tokens: Kimi-K2, DeepSeek-V3 and DeepSeek-V3.1.

Kimi-K2 (vLLM `kimi_k2_tool_parser.py`):
`<|tool_calls_section_begin|><|tool_call_begin|>functions.NAME:IDX<|tool_call_argument_begin|>{...}<|tool_call_end|><|tool_calls_section_end|>`
(the singular `<|tool_call_section_begin|>` variant too); the id `functions.NAME:IDX` is kept.
DeepSeek-V3 (`deepseekv3_tool_parser.py`), writing `<|x|>` for DeepSeek's `<\uff5cx\uff5c>` tokens
(fullwidth bars, `\u2581` for the spaces in `tool calls begin`):
`<|tool calls begin|><|tool call begin|>function<|tool sep|>NAME\\n```json\\n{...}\\n```<|tool call end|>`
`<|tool calls end|>`.
DeepSeek-V3.1 (`deepseekv31_tool_parser.py`):
`<|tool calls begin|><|tool call begin|>NAME<|tool sep|>{...}<|tool call end|><|tool calls end|>`.
Content is the text before the section (and, unlike vLLM, which drops it, any text after it).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from trajforge.trace.textformats.model import Extracted, TextCall
from trajforge.trace.textformats.scan import first_of
from trajforge.trace.textformats.values import Tools, head, load_object, tool_names
from trajforge.trace.turns import dumps


def _deepseek_token(words: str) -> str:
    """A DeepSeek special token: fullwidth bars around words joined by U+2581 (written out: ruff flags the glyphs)."""
    return "<\uff5c" + "\u2581".join(words.split()) + "\uff5c>"


DS_CALLS_BEGIN, DS_CALLS_END = _deepseek_token("tool calls begin"), _deepseek_token("tool calls end")
DS_CALL_BEGIN, DS_CALL_END = _deepseek_token("tool call begin"), _deepseek_token("tool call end")
DS_SEP, EOS = _deepseek_token("tool sep"), _deepseek_token("end of sentence")


@dataclass(frozen=True)
class SectionFormat:
    """The tokens and call pattern of one section format."""

    begins: tuple[str, ...]
    ends: tuple[str, ...]
    call_open: str
    call: re.Pattern[str]
    read: Callable[[re.Match[str]], tuple[str, str, str | None]]
    """(name, argument text, id) of one matched call."""
    write: Callable[[TextCall, int], str]
    joiner: str = ""
    tail: str = ""
    """Text after the section that is not content (DeepSeek's end-of-sentence token)."""

    @property
    def tags(self) -> tuple[str, ...]:
        """Every marker of the format (what content and values may not hold)."""
        return (*self.begins, *self.ends, self.call_open, *_INNER_MARKS)


_INNER_MARKS = (
    "<|tool_call_end|>",
    "<|tool_call_argument_begin|>",
    DS_CALL_END,
    DS_SEP,
)


def extract(fmt: SectionFormat, text: str, tools: Tools) -> Extracted:
    """Calls and the text around the section."""
    out, known = Extracted(), tool_names(tools)
    begin, mark = first_of(text, fmt.begins)
    if begin == -1:
        if fmt.call_open in text:
            out.problems.append(f"{fmt.call_open} outside a tool-call section: left in the content")
        out.keep(text)
        return out
    out.keep(text[:begin])
    start = begin + len(mark)
    end, end_mark = first_of(text, fmt.ends, start)
    section = text[start:] if end == -1 else text[start:end]
    if end == -1:
        out.problems.append(f"the tool-call section never ends ({fmt.ends[0]} missing: output cut off?)")
    # One piece per call token, each matched from its start: a call's arguments never run into the next
    # call (vLLM's negative lookahead), and no match rescans the rest of the section (linear time).
    first, *pieces = section.split(fmt.call_open)
    _leftover(first, out)
    for piece in pieces:
        block = fmt.call_open + piece
        match = fmt.call.match(block)
        if match is None:
            _leftover(block, out)
            continue
        name, arguments_text, call_id = fmt.read(match)
        arguments, problem = load_object(arguments_text)
        if arguments is None or not name:
            out.fail(match.group(0), f"tool call {name!r}: {problem or 'no name'}")
        else:
            out.add(TextCall(name, arguments, call_id), known)
        _leftover(block[match.end() :], out)
    if end != -1:
        after = text[end + len(end_mark) :]
        if fmt.tail and after.rstrip().endswith(fmt.tail):
            after = after.rstrip()[: -len(fmt.tail)]
        out.keep(after)
    return out


def _leftover(text: str, out: Extracted) -> None:
    """Text inside the section that is not a whole call: a call cut off or garbled, kept as content."""
    if text.strip():
        out.fail(text, f"a tool call that could not be read: {head(text)}")


def render_calls(fmt: SectionFormat, calls: list[TextCall]) -> str:
    """The section holding the calls ('' for none)."""
    if not calls:
        return ""
    body = fmt.joiner.join(fmt.write(call, index) for index, call in enumerate(calls))
    return f"{fmt.begins[0]}{body}{fmt.ends[0]}"


def _kimi_read(match: re.Match[str]) -> tuple[str, str, str | None]:
    call_id = match.group("id").strip()
    return call_id.split(":")[0].split(".")[-1], match.group("args"), call_id


_KIMI_ID = re.compile(r"[^<]+:\d+")


def _kimi_write(call: TextCall, index: int) -> str:
    call_id = call.id if call.id and _KIMI_ID.fullmatch(call.id) else f"functions.{call.name}:{index}"
    return f"<|tool_call_begin|>{call_id}<|tool_call_argument_begin|>{dumps(call.arguments)}<|tool_call_end|>"


def _deepseek_v3_read(match: re.Match[str]) -> tuple[str, str, str | None]:
    return match.group("name").strip(), match.group("args"), None


def _deepseek_v3_write(call: TextCall, index: int) -> str:
    return f"{DS_CALL_BEGIN}function{DS_SEP}{call.name}\n```json\n{dumps(call.arguments)}\n```{DS_CALL_END}"


def _deepseek_v31_write(call: TextCall, index: int) -> str:
    return f"{DS_CALL_BEGIN}{call.name}{DS_SEP}{dumps(call.arguments)}{DS_CALL_END}"


KIMI_K2 = SectionFormat(
    begins=("<|tool_calls_section_begin|>", "<|tool_call_section_begin|>"),
    ends=("<|tool_calls_section_end|>", "<|tool_call_section_end|>"),
    call_open="<|tool_call_begin|>",
    call=re.compile(
        r"<\|tool_call_begin\|>\s*(?P<id>[^<]+:\d+)\s*<\|tool_call_argument_begin\|>\s*"
        r"(?P<args>.*?)\s*<\|tool_call_end\|>",
        re.S,
    ),
    read=_kimi_read,
    write=_kimi_write,
)
DEEPSEEK_V3 = SectionFormat(
    begins=(DS_CALLS_BEGIN,),
    ends=(DS_CALLS_END,),
    call_open=DS_CALL_BEGIN,
    # vLLM's pattern, with arguments allowed over several lines (vLLM's `.` stops at a newline).
    call=re.compile(
        re.escape(DS_CALL_BEGIN)
        + r"(?P<type>[^<\n]*)"
        + re.escape(DS_SEP)
        + r"(?P<name>[^\n<]*)\n```json\n(?P<args>.*?)\n```"
        + re.escape(DS_CALL_END),
        re.S,
    ),
    read=_deepseek_v3_read,
    write=_deepseek_v3_write,
    joiner="\n",
    tail=EOS,
)
DEEPSEEK_V31 = SectionFormat(
    begins=(DS_CALLS_BEGIN,),
    ends=(DS_CALLS_END,),
    call_open=DS_CALL_BEGIN,
    call=re.compile(
        re.escape(DS_CALL_BEGIN) + r"(?P<name>[^<]*?)" + re.escape(DS_SEP) + r"(?P<args>.*?)" + re.escape(DS_CALL_END),
        re.S,
    ),
    read=_deepseek_v3_read,
    write=_deepseek_v31_write,
    tail=EOS,
)
