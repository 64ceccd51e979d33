"""The numpy scans equal Python's own `str.split` and `str.count` on any text."""

from __future__ import annotations

import re

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from trajforge.dataset.textscan import StringBytes, count_tag, think_word_counts

SPACES = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2005\u200a\u200b\u2028\u2029\u202f\u205f\u3000\u3001"
_piece = st.one_of(
    st.text(st.sampled_from(SPACES), max_size=3),
    st.text(st.characters(codec="utf-8"), max_size=6),
    st.sampled_from(["<think>", "</think>", "<tool_call>", "<tool_", "call>", "é", "中文", "\u2003x"]),
)
values = st.lists(st.lists(_piece, max_size=12).map("".join), max_size=12)
THINK = re.compile(r"<think>(.*?)</think>", re.S)


def _python_words(value: str) -> int:
    match = THINK.match(value)
    return len(match.group(1).split()) if match else 0


@settings(max_examples=400)
@given(values, st.integers(0, 3))
def test_word_counts_and_tag_counts_equal_python(strings: list[str], cut: int) -> None:
    array = pa.array(["x"] * cut + strings, type=pa.string())[cut:]  # a sliced array, as readers give
    scanned = StringBytes.of(array)
    assert think_word_counts(scanned).tolist() == [_python_words(v) for v in strings]
    assert count_tag(scanned, b"<tool_call>") == sum(v.count("<tool_call>") for v in strings)


def test_known_values() -> None:
    scanned = StringBytes.of(
        pa.array(["<think>\none two\u3000three\n</think>\nx", "<think>\n</think>", "no think", ""])
    )
    assert think_word_counts(scanned).tolist() == [3, 0, 0, 0]
