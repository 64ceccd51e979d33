"""Finding tag-delimited regions in text with plain string search (no regex backtracking on large outputs)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Region:
    """Text between an opening and a closing tag (`closed` False: the text ran out first)."""

    inner: str
    raw: str
    closed: bool


def regions(text: str, open_tag: str, close_tag: str) -> Iterator[str | Region]:
    """The text split into plain pieces (str) and tagged regions, in order.

    A region opened and never closed runs to the end of the text.
    """
    pos = 0
    while True:
        start = text.find(open_tag, pos)
        if start == -1:
            if pos < len(text):
                yield text[pos:]
            return
        if start > pos:
            yield text[pos:start]
        inner_start = start + len(open_tag)
        end = text.find(close_tag, inner_start)
        if end == -1:
            yield Region(text[inner_start:], text[start:], closed=False)
            return
        pos = end + len(close_tag)
        yield Region(text[inner_start:end], text[start:pos], closed=True)


def first_of(text: str, marks: tuple[str, ...], start: int = 0) -> tuple[int, str]:
    """(index, mark) of the earliest of `marks` in text from `start`; (-1, '') when none occurs."""
    found = [(i, m) for m in marks if (i := text.find(m, start)) != -1]
    return min(found) if found else (-1, "")
