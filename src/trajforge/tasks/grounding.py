"""Whether a final answer is grounded: every number and name it states was seen in the episode.

A report that says "6 Python files, 92 lines" while its own tool output said 5
and 77, or "see the counts above" (the user never sees tool output), teaches a
model to make results up. Pure string logic, so that `tasks validate` lints
oracle answers and the dataset's curation filters generated episodes alike.

Sources that ground a value: the user's prompt, every tool result, and the
arguments of the agent's own calls (what it wrote or ran is its own to state).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from trajforge.trace import Episode

DEFERRING = re.compile(
    r"\b(?:see|shown|listed|printed|displayed|given|as)\s+(?:the\s+\w+\s+)?above\b|\bthe (?:output|results?) above\b",
    re.IGNORECASE,
)
"""Phrases that point at output the reader of the answer never sees."""
_NUMBER = re.compile(r"(?<![\w.])-?\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\w])|(?<![\w.])-?\d+(?:\.\d+)?(?![\w])")
_DOTTED = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b")  # IPv4 addresses are names, not numbers
_BACKTICKED = re.compile(r"`([^`\n]+)`")
_FILENAME = re.compile(r"(?<![\w/.-])(?:[\w-]+/)*[\w-]+\.[A-Za-z][A-Za-z0-9]{0,5}\b")
_TRIVIAL_NUMBERS = {"0", "1", "2"}  # counts too common to say anything ("both", "one file")


def _number_key(token: str) -> str:
    """A number as a comparable string: thousands separators gone, trailing zeros of a fraction gone."""
    text = token.replace(",", "").lstrip("+")
    sign, text = ("-", text[1:]) if text.startswith("-") else ("", text)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return sign + (text.lstrip("0") or "0") if not text.startswith("0.") else sign + text


def _numbers(text: str) -> set[str]:
    without_addresses = _DOTTED.sub(" ", text)
    return {_number_key(match) for match in _NUMBER.findall(without_addresses)}


def deferring_phrases(answer: str) -> list[str]:
    """The "see above" phrases of `answer`."""
    return [match.group(0) for match in DEFERRING.finditer(answer)]


def ungrounded_values(answer: str, sources: Iterable[str]) -> list[str]:
    """Numbers, addresses, file names and `quoted names` of `answer` that appear in none of `sources`.

    Numbers compare by value as written (1,234 = 1234, 2.50 = 2.5); names as case-sensitive
    substrings. Code blocks in the answer are left out (they are the agent's own text).
    """
    seen = "\n".join(sources)
    prose = re.sub(r"```.*?```", " ", answer, flags=re.DOTALL)
    known_numbers = _numbers(seen) | {_number_key(m) for m in _DOTTED.findall(seen)}
    missing: list[str] = []
    quoted = [span for span in _BACKTICKED.findall(prose) if 2 <= len(span.strip()) <= 80]
    for name in [*_DOTTED.findall(prose), *quoted, *_FILENAME.findall(prose)]:
        if name not in seen and name not in missing:
            missing.append(name)
    for number in sorted(_numbers(prose) - known_numbers - _TRIVIAL_NUMBERS, key=lambda n: prose.find(n)):
        if number not in missing:
            missing.append(number)
    return missing


def grounding_problems(answer: str, sources: Iterable[str]) -> list[str]:
    """One line per problem of the answer: a "see above" phrase, or values found in no source."""
    problems = [f"defers to output the user cannot see: {phrase!r}" for phrase in deferring_phrases(answer)]
    missing = ungrounded_values(answer, sources)
    if missing:
        problems.append(f"states what no tool result or prompt shows: {', '.join(missing[:8])}")
    return problems


def episode_sources(episode: Episode) -> list[str]:
    """What grounds an episode's answer: user and tool messages, and the arguments of its calls."""
    sources = [m.content or "" for m in episode.messages if m.role == "user"]
    sources += [_decoded(m.content or "") for m in episode.messages if m.role == "tool"]
    for message in episode.messages:
        sources += [json.dumps(call.arguments, ensure_ascii=False) for call in message.tool_calls]
        sources += [str(value) for call in message.tool_calls for value in call.arguments.values()]
    return sources


def _decoded(content: str) -> str:
    """A tool result as its reader sees it: a JSON result's string values unescaped (newlines as newlines)."""
    try:
        data = json.loads(content)
    except ValueError:
        return content
    if isinstance(data, dict):
        return "\n".join(str(value) for value in data.values())
    return content


def final_answer(episode: Episode) -> str | None:
    """The episode's last assistant message when it called no tool (its final answer), else None."""
    last = next((m for m in reversed(episode.messages) if m.role == "assistant"), None)
    return last.content if last is not None and not last.tool_calls else None


def episode_grounding_problems(episode: Episode) -> list[str]:
    """The grounding problems of an episode's final answer (none when it has no answer)."""
    answer = final_answer(episode)
    return grounding_problems(answer, episode_sources(episode)) if answer else []
