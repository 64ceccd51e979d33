"""The list's filters, search and sort, read from the page's URL and run over the index.

Everything but the search is a numpy mask over the index's columns. The search
looks for every term (words, or "quoted phrases") in the case-folded text of
task, reasoning, content, arguments and results, reading the text file in
blocks so memory stays flat whatever the dataset's size.
"""

from __future__ import annotations

import os
import shlex
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import numpy as np
import numpy.typing as npt

from trajforge.viewer import grams
from trajforge.viewer.index import ViewIndex

Positions = npt.NDArray[np.int64]
CHOICES = ("config", "category", "subcategory", "finish", "outcome")  # any of the values given
ALL_OF = ("tool", "flag")  # every value given
RANGES = ("turns_min", "turns_max", "calls_min", "calls_max")
SORTS = {"turns": "turns", "calls": "tool calls", "think": "think depth", "tokens": "tokens"}
PER_PAGE = 50
BLOCK_BYTES = 32 << 20
GAP_BYTES = 1 << 20  # text between two candidates that is skipped rather than read


@dataclass(frozen=True)
class Query:
    """What the list shows: filters, search, sort, page. Built from the URL; `params` gives it back."""

    choices: tuple[tuple[str, tuple[str, ...]], ...] = ()
    ranges: tuple[tuple[str, int], ...] = ()
    search: str = ""
    sort: str = ""
    page: int = 1
    per_page: int = PER_PAGE
    notes: tuple[str, ...] = field(default=(), compare=False)
    """Parts of the URL that were not understood and left out, said on the page."""

    @classmethod
    def parse(cls, items: Mapping[str, list[str]]) -> Query:
        """Read a query from URL parameters (name -> every value given)."""
        notes: list[str] = []
        choices = tuple(
            (name, tuple(dict.fromkeys(v for v in items.get(name, []) if v)))
            for name in (*CHOICES, *ALL_OF)
            if any(items.get(name, []))
        )
        ranges = []
        for name in RANGES:
            raw = (items.get(name) or [""])[-1].strip()
            if raw:
                if raw.isdigit():
                    ranges.append((name, int(raw)))
                else:
                    notes.append(f"{name}={raw!r} is not a whole number; ignored")
        sort = (items.get("sort") or [""])[-1]
        if sort and sort.lstrip("-") not in SORTS:
            notes.append(f"sort={sort!r} is not one of {', '.join(SORTS)}; ignored")
            sort = ""
        page = _positive((items.get("page") or ["1"])[-1], 1)
        per = min(_positive((items.get("per") or [str(PER_PAGE)])[-1], PER_PAGE), 500)
        search = " ".join((items.get("q") or [""])[-1].split())[:500]
        return cls(choices, tuple(ranges), search, sort, page, per, tuple(notes))

    def values(self, name: str) -> tuple[str, ...]:
        """The values given for a choice filter."""
        return next((v for n, v in self.choices if n == name), ())

    def params(self, **change: Any) -> list[tuple[str, str]]:
        """URL parameters of this query, with `change` applied (None removes a parameter)."""
        data: dict[str, Any] = {n: list(v) for n, v in self.choices}
        data.update({n: [str(v)] for n, v in self.ranges})
        data.update(q=[self.search] if self.search else [], sort=[self.sort] if self.sort else [])
        data.update(
            page=[str(self.page)] if self.page > 1 else [],
            per=[str(self.per_page)] if self.per_page != PER_PAGE else [],
        )
        for name, value in change.items():
            data[name] = [] if value is None else [str(value)]
        return [(n, v) for n, values in data.items() for v in values]

    def url(self, path: str, **change: Any) -> str:
        """`path` with this query's parameters (changed by `change`)."""
        params = self.params(**change)
        return f"{path}?{urlencode(params)}" if params else path

    def key(self) -> tuple[Any, ...]:
        """What decides the matching rows (not the page)."""
        return (self.choices, self.ranges, self.search, self.sort)


def _positive(raw: str, default: int) -> int:
    return int(raw) if raw.isdigit() and int(raw) > 0 else default


def search_terms(text: str) -> list[bytes]:
    """The search's terms, case-folded: words, or phrases in double quotes."""
    try:
        words = shlex.split(text)
    except ValueError:  # an unclosed quote: take the words as typed
        words = text.split()
    return [w.casefold().encode() for w in words if w.strip()]


class Matcher:
    """Runs queries over one index, remembering the last few results (stepping with j/k reuses them)."""

    def __init__(self, index: ViewIndex, remember: int = 32) -> None:
        self.index = index
        self._cache: OrderedDict[tuple[Any, ...], Positions] = OrderedDict()
        self._remember = remember

    def matches(self, query: Query) -> Positions:
        """Index positions of the rows that match, in the list's order."""
        key = query.key()
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        try:
            found = self._run(query)
        except OSError:  # the index's files went (another viewer re-indexed these paths): found again on a reload
            return np.zeros(0, dtype=np.int64)
        self._cache[key] = found
        if len(self._cache) > self._remember:
            self._cache.popitem(last=False)
        return found

    def _run(self, query: Query) -> Positions:
        index = self.index
        mask = np.ones(len(index), dtype=bool)
        for name, values in query.choices:
            mask &= self._choice(name, values)
        for name, bound in query.ranges:
            column = index.num["turns" if name.startswith("turns") else "calls"]
            mask &= column >= bound if name.endswith("_min") else column <= bound
        found = np.flatnonzero(mask).astype(np.int64)
        terms = search_terms(query.search)
        if terms and found.size:
            found = self._search(found, terms)
        if query.sort:
            column = index.num[query.sort.lstrip("-")][found]
            order = np.argsort(-column if query.sort.startswith("-") else column, kind="stable")
            found = found[order]
        return found

    def _choice(self, name: str, values: tuple[str, ...]) -> npt.NDArray[np.bool_]:
        index = self.index
        if name == "config":
            names = [s.name for s in index.sources]
            wanted = [names.index(v) for v in values if v in names]
            return np.isin(index.num["config"], wanted)
        if name in ALL_OF:
            tags = index.tags["tools" if name == "tool" else "flags"]
            mask = np.ones(len(index), dtype=bool)
            for value in values:
                mask &= tags.mask(value)
            return mask
        coded = index.coded[name]
        result = np.zeros(len(index), dtype=bool)
        for value in values:
            result |= coded.mask(value)
        return result

    def _search(self, candidates: Positions, terms: list[bytes]) -> Positions:
        """The candidates whose text holds every term: first cut by trigrams, then an exact look."""
        for term in terms:
            maybe = grams.candidates(self.index.grams_path, len(self.index), term)
            if maybe is not None:
                candidates = candidates[maybe[candidates]]
        if not candidates.size:
            return candidates
        starts = self.index.num["text_start"]
        ends = starts + self.index.num["text_lengths"]
        order = candidates[np.argsort(starts[candidates], kind="stable")]
        keep = np.zeros(len(self.index), dtype=bool)
        fd = os.open(self.index.text_path, os.O_RDONLY)
        try:
            for block in _blocks(order, starts, ends):
                base = int(starts[block[0]])
                data = os.pread(fd, int(ends[block[-1]]) - base, base)
                keep[block] = _all_terms(data, starts[block] - base, ends[block] - base, terms)
        finally:
            os.close(fd)
        return candidates[keep[candidates]]


def _blocks(order: Positions, starts: Positions, ends: Positions) -> list[Positions]:
    """Runs of rows (in text order) whose text spans at most BLOCK_BYTES and skips no more than GAP_BYTES."""
    blocks: list[Positions] = []
    first = 0
    for k in range(1, len(order) + 1):
        if (
            k == len(order)
            or ends[order[k]] - starts[order[first]] > BLOCK_BYTES
            or starts[order[k]] - ends[order[k - 1]] > GAP_BYTES
        ):
            blocks.append(order[first:k])
            first = k
    return blocks


def _all_terms(data: bytes, starts: Positions, ends: Positions, terms: list[bytes]) -> npt.NDArray[np.bool_]:
    """Per row (its text is data[start:end]), whether it holds every term."""
    keep = np.ones(len(starts), dtype=bool)
    for term in terms:
        hit = np.zeros(len(starts), dtype=bool)
        pos = data.find(term)
        while pos >= 0:
            row = int(np.searchsorted(starts, pos, side="right")) - 1
            if row >= 0 and pos + len(term) <= ends[row]:
                hit[row] = True
                pos = data.find(term, int(ends[row]))
            else:
                pos = data.find(term, pos + 1)
        keep &= hit
        if not keep.any():
            break
    return keep
