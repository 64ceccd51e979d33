"""The viewer's state: the index, its queries and row reads, and a look at the files before each page.

One lock serialises pages: they are short, and a re-index must not change the
index under a page being drawn.
"""

from __future__ import annotations

import hashlib
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


@dataclass
class Loaded:
    """One index and what is derived from it: lookups by id and by task, queries, row reads."""

    sources: list[Source]
    index: ViewIndex
    signature: list[list[Any]]
    matcher: Matcher
    reader: RowReader
    by_id: dict[tuple[int, str], list[int]]
    task_hashes: list[str]
    by_task: dict[str, list[int]]


def load(settings: Settings, sources: list[Source], keep: Path | None = None) -> Loaded:
    """Open (building when needed) the index of `sources`; `keep`: an index folder not to remove meanwhile."""
    stamp = signature(sources)
    index = open_index(
        settings.paths, sources, cache=settings.cache, workers=settings.workers, progress=settings.progress, keep=keep
    )
    by_id: dict[tuple[int, str], list[int]] = {}
    for position, (config, row_id) in enumerate(zip(index.num["config"], index.text["id"], strict=True)):
        by_id.setdefault((int(config), row_id), []).append(position)
    keys = index.text["task_key"]
    hashes = [task_hash(k) for k in keys]
    by_task: dict[str, list[int]] = {}
    for position, name in enumerate(hashes):
        if keys[position]:
            by_task.setdefault(name, []).append(position)
    return Loaded(sources, index, stamp, Matcher(index), RowReader(index), by_id, hashes, by_task)


class ViewerState:
    """The index being served. When the files under it change, a new one is built in the background
    (a run still writing, say) while pages go on showing the old one; it replaces the old when ready."""

    def __init__(self, settings: Settings, sources: list[Source] | None = None) -> None:
        self.settings = settings
        self.lock = threading.Lock()
        self.current = load(settings, sources if sources is not None else find_sources(settings.paths))
        self._looked = time.monotonic()
        self._rebuild: threading.Thread | None = None

    @property
    def sources(self) -> list[Source]:
        """The configs being shown."""
        return self.current.sources

    @property
    def index(self) -> ViewIndex:
        """The index being shown."""
        return self.current.index

    @property
    def matcher(self) -> Matcher:
        """Queries over the index being shown."""
        return self.current.matcher

    @property
    def reader(self) -> RowReader:
        """Row reads for the index being shown."""
        return self.current.reader

    @property
    def task_hashes(self) -> list[str]:
        """Each row's task name (see `task_hash`)."""
        return self.current.task_hashes

    @property
    def rebuilding(self) -> bool:
        """Whether a new index is being built."""
        return self._rebuild is not None and self._rebuild.is_alive()

    def refresh(self) -> None:
        """Start re-indexing when a file changed (looked at most every LOOK_EVERY seconds). Call under `lock`."""
        if self.rebuilding or time.monotonic() - self._looked < LOOK_EVERY:
            return
        self._looked = time.monotonic()
        try:
            sources = find_sources(self.settings.paths)
        except ValueError:
            return  # a folder being rewritten: keep serving what was indexed
        if sources != self.current.sources or signature(sources) != self.current.signature:
            self._rebuild = threading.Thread(target=self._replace, args=(sources,), daemon=True)
            self._rebuild.start()

    def _replace(self, sources: list[Source]) -> None:
        old = self.current.index.folder
        try:
            fresh = load(self.settings, sources, keep=old)
        except (OSError, ValueError):
            return  # files half written: the next look tries again
        with self.lock:
            self.current = fresh
            if fresh.index.folder != old:
                shutil.rmtree(old, ignore_errors=True)

    def config_names(self) -> list[str]:
        """The configs, in order."""
        return [s.name for s in self.sources]

    def find(self, config: str, row_id: str, n: int = 1) -> int | None:
        """The index position of the `n`-th row of `config` with `row_id`, or None."""
        names = self.config_names()
        if config not in names:
            return None
        found = self.current.by_id.get((names.index(config), row_id), [])
        return found[n - 1] if 0 < n <= len(found) else None

    def occurrence(self, position: int) -> int:
        """Which occurrence (1-based) of its id in its config this row is."""
        found = self.current.by_id[(int(self.index.num["config"][position]), self.index.text["id"][position])]
        return found.index(position) + 1

    def task_rows(self, name: str) -> list[int]:
        """Positions of the rows of one task (by `task_hash`)."""
        return self.current.by_task.get(name, [])

    def shared_tasks(self) -> list[tuple[str, list[int]]]:
        """Tasks with more than one row (in several configs, or repeats), by task text."""
        shared = [(name, rows) for name, rows in self.current.by_task.items() if len(rows) > 1]
        return sorted(shared, key=lambda item: self.index.text["task"][item[1][0]])

    def config_mask(self, number: int) -> npt.NDArray[np.bool_]:
        """Rows of one config."""
        mask: npt.NDArray[np.bool_] = self.index.num["config"] == number
        return mask
