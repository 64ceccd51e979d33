"""Where publish and export write: never into their inputs, and a failed write is one clear error.

Typed error kinds let the CLI and tests tell the cases apart without reading messages.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path


class Kind(StrEnum):
    """Why an output could not be written."""

    INPUT = "the output is one of the inputs"
    OCCUPIED = "the output holds something else"
    UNREADABLE = "an input file could not be read"
    NOTHING = "no row kept"
    WRITE = "writing failed"


class OutputError(ValueError):
    """An output that cannot be written without losing something; `kind` says which case, the message says where."""

    def __init__(self, kind: Kind, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def input_overlap(paths: Sequence[Path | str], out: Path) -> Path | None:
    """The input that `out` is, lies inside, or holds; None when writing `out` cannot touch an input."""
    target = out.resolve()
    for raw in paths:
        source = Path(raw).resolve()
        if target == source or target.is_relative_to(source) or source.is_relative_to(target):
            return Path(raw)
    return None


def refuse_inputs(paths: Sequence[Path | str], out: Path) -> None:
    """Raise OutputError (Kind.INPUT) when writing `out` could overwrite or mix with an input."""
    overlap = input_overlap(paths, out)
    if overlap is not None:
        raise OutputError(
            Kind.INPUT,
            f"{out}: is or overlaps the input {overlap}; refusing to write into inputs (choose another --out)",
        )


def describe(exc: OSError, path: Path | str | None = None) -> str:
    """One line for a failed write: the path and the reason (`No space left on device`, ...)."""
    where = exc.filename or path or ""
    reason = exc.strerror or errno.errorcode.get(exc.errno or 0, "") or type(exc).__name__
    return f"{where}: {reason}" if where else reason


@contextmanager
def writing(path: Path) -> Iterator[None]:
    """Turn an OSError raised while writing under `path` into OutputError (Kind.WRITE), one line."""
    try:
        yield
    except OSError as exc:
        raise OutputError(Kind.WRITE, f"cannot write {path}: {describe(exc, path)}") from None
