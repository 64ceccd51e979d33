"""What the commands share: one-line errors on stderr, the progress bar of work done in pieces."""

from __future__ import annotations

from collections.abc import Callable

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print `error: message` on stderr and return the Exit to raise (2: bad usage or input)."""
    Console(stderr=True).print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(code)


def pieces_progress(label: str) -> tuple[Progress, Callable[[int, int], None]]:
    """A transient bar on stderr for work done in pieces, and the `progress(done, total)` callback that moves it."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("pieces"),
               TimeElapsedColumn(), TimeRemainingColumn())  # fmt: skip
    progress = Progress(*columns, console=Console(stderr=True), transient=True)
    bar = progress.add_task(label, total=None)
    return progress, lambda done, total: progress.update(bar, completed=done, total=total)
