"""The viewer's state: the index, its queries and row reads, and a look at the files before each page.

One lock serialises pages: they are short, and a re-index must not change the
index under a page being drawn.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from trajforge.viewer.index import ViewIndex, open_index, signature
from trajforge.viewer.query import Matcher
from trajforge.viewer.rowread import RowReader
from trajforge.viewer.sources import Source, find_sources

LOOK_EVERY = 2.0  # seconds between looks at the files' sizes and mtimes


def task_hash(key: str) -> str:
    """A short stable name for a task (its spec id, else its text), for the compare page's URL."""
    return hashlib.sha1(key.encode("utf-8", "surrogatepass")).hexdigest()[:16]


@dataclass
class Settings:
    """Where the data is and how to index it."""

    paths: Sequence[Path]
    cache: Path | None = None
    workers: int = 1
    progress: Callable[[int, int], None] | None = None
    """Told (bytes done, bytes in all) while an index is built."""


class ViewerState:
    """The index being served; rebuilt when the files under it change."""

    def __init__(self, settings: Settings, sources: list[Source] | None = None) -> None:
        self.settings = settings
        self.lock = threading.Lock()
        self._load(sources if sources is not None else find_sources(settings.paths))

    def _load(self, sources: list[Source]) -> None:
        self.sources = sources
        self.index: ViewIndex = open_index(
            self.settings.paths,
            sources,
            cache=self.settings.cache,
            workers=self.settings.workers,
            progress=self.settings.progress,
        )
        self.matcher = Matcher(self.index)
        self.reader = RowReader(self.index)
        self._signature = signature(sources)
        self._looked = time.monotonic()
        self._by_id: dict[tuple[int, str], list[int]] = {}
        for position, (config, row_id) in enumerate(zip(self.index.num["config"], self.index.text["id"], strict=True)):
            self._by_id.setdefault((int(config), row_id), []).append(position)
        keys = self.index.text["task_key"]
        self.task_hashes = [task_hash(k) for k in keys]
        self._by_task: dict[str, list[int]] = {}
        for position, name in enumerate(self.task_hashes):
            if keys[position]:
                self._by_task.setdefault(name, []).append(position)

    def refresh(self) -> None:
        """Re-index when a file changed (looked at most every LOOK_EVERY seconds)."""
        if time.monotonic() - self._looked < LOOK_EVERY:
            return
        self._looked = time.monotonic()
        try:
            sources = find_sources(self.settings.paths)
        except ValueError:
            return  # a folder being rewritten: keep serving what was indexed
        if sources != self.sources or signature(sources) != self._signature:
            self._load(sources)

    def config_names(self) -> list[str]:
        """The configs, in order."""
        return [s.name for s in self.sources]

    def find(self, config: str, row_id: str, n: int = 1) -> int | None:
        """The index position of the `n`-th row of `config` with `row_id`, or None."""
        names = self.config_names()
        if config not in names:
            return None
        found = self._by_id.get((names.index(config), row_id), [])
        return found[n - 1] if 0 < n <= len(found) else None

    def occurrence(self, position: int) -> int:
        """Which occurrence (1-based) of its id in its config this row is."""
        found = self._by_id[(int(self.index.num["config"][position]), self.index.text["id"][position])]
        return found.index(position) + 1

    def task_rows(self, name: str) -> list[int]:
        """Positions of the rows of one task (by `task_hash`)."""
        return self._by_task.get(name, [])

    def shared_tasks(self) -> list[tuple[str, list[int]]]:
        """Tasks with more than one row (in several configs, or repeats), by task text."""
        shared = [(name, rows) for name, rows in self._by_task.items() if len(rows) > 1]
        return sorted(shared, key=lambda item: self.index.text["task"][item[1][0]])

    def config_mask(self, number: int) -> npt.NDArray[np.bool_]:
        """Rows of one config."""
        mask: npt.NDArray[np.bool_] = self.index.num["config"] == number
        return mask
