"""Run tasks on a thread pool with a bounded number in flight, results in input order."""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def default_workers() -> int:
    """One worker per core this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def bounded_map(fn: Callable[[T], R], items: Iterable[T], workers: int | None = None) -> Iterator[R]:
    """`map(fn, items)` on `workers` threads, at most two tasks per worker in flight.

    The bound keeps memory proportional to the workers, not the input: `items`
    is only advanced as results are taken. Useful where `fn` spends its time in
    code that releases the GIL (Arrow, numpy).
    """
    workers = workers or default_workers()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="trajforge") as pool:
        pending: deque[Future[R]] = deque()
        for item in items:
            pending.append(pool.submit(fn, item))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
