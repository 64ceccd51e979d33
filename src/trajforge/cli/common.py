"""What the commands share: one-line errors on stderr."""

from __future__ import annotations

import typer
from rich.console import Console


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print `error: message` on stderr and return the Exit to raise (2: bad usage or input)."""
    Console(stderr=True).print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(code)
