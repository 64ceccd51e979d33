"""Property: parse(render(episode)) gives back the episode's messages (FORMAT.md section 2)."""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trajforge.dataset import RowChecker
from trajforge.trace import Episode, Message, TaskRef, ToolCall, parse, render
from trajforge.trace.turns import CONTENT_TAGS, dumps

from .episodes import tool_def

# Text without the layout's tags, biased towards the characters those tags are made of.
_chars = st.one_of(st.characters(codec="utf-8"), st.sampled_from('<>/\n thinktool_callresponse{}[]"\\'))
text = st.text(_chars, max_size=80).filter(lambda s: not any(tag in s for tag in CONTENT_TAGS))
names = st.sampled_from(["terminal", "read_file", "write_file", "patch", "execute_code", "browser_click"])
json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    text,
)
json_value = st.recursive(
    json_leaf, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3), max_leaves=12
)
arguments = st.dictionaries(text, json_value, max_size=4)
tool_content = st.one_of(text, json_value.map(dumps))


@st.composite
def episodes(draw: st.DrawFn) -> Episode:
    messages = [
        Message(role="system", content=draw(st.one_of(st.just(""), text))),
        Message(role="user", content=draw(text)),
    ]
    for turn in range(draw(st.integers(0, 4))):
        calls = [
            ToolCall(f"call_{turn}_{k}_{draw(st.integers(0, 99))}", draw(names), draw(arguments))
            for k in range(draw(st.integers(0, 5)))
        ]
        messages.append(
            Message(
                role="assistant", reasoning=draw(st.none() | text), content=draw(st.none() | text), tool_calls=calls
            )
        )
        results = [Message(role="tool", content=draw(tool_content), tool_call_id=c.id, name=c.name) for c in calls]
        messages.extend(draw(st.permutations(results)))  # results may arrive in any order
        if not calls:  # a gpt turn without calls ends the exchange: the user speaks next
            messages.append(Message(role="user", content=draw(text)))
    messages.append(Message(role="assistant", reasoning=draw(st.none() | text), content=draw(st.none() | text)))
    return Episode(
        id=str(uuid.UUID(int=draw(st.integers(0, 2**128 - 1)), version=4)),
        task=TaskRef("t", "Terminal & Coding", "debugging", messages[1].content or ""),
        messages=messages,
        tools=[
            tool_def(name) for name in ["terminal", "read_file", "write_file", "patch", "execute_code", "browser_click"]
        ],
    )


def canonical(episode: Episode) -> list[tuple[Any, ...]]:
    """What a row preserves: tool results in call order, content without surrounding blanks."""
    order = {call.id: k for m in episode.messages for k, call in enumerate(m.tool_calls)}
    out: list[tuple[Any, ...]] = []
    pending: list[tuple[Any, ...]] = []
    for m in episode.messages:
        if m.role == "tool":
            pending.append((order[m.tool_call_id or ""], "tool", m.tool_call_id, m.name, m.content))
            continue
        out.extend(sorted(pending))
        pending = []
        content = (m.content or "").strip() or None if m.role == "assistant" else m.content or ""
        calls = [(c.id, c.name, c.arguments) for c in m.tool_calls]
        out.append((m.role, content, m.reasoning or None, calls))
    return out + sorted(pending)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(episodes())
def test_parse_inverts_render(episode: Episode) -> None:
    row = render(episode)
    back = parse(row)
    assert canonical(back) == canonical(episode)
    assert back.tools == episode.tools
    assert (back.id, back.task.category, back.task.subcategory) == (episode.id, "Terminal & Coding", "debugging")
    assert render(back) == row  # rendering is a fixed point after one round


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(episodes())
def test_every_rendered_row_validates(episode: Episode) -> None:
    row = render(episode)
    assert RowChecker().check(row, "generated", 1) == []
