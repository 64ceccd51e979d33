"""Parsed task files kept between runs, keyed by their bytes, so a start-up does not construct the YAML again.

Constructing the catalog's YAML into Python objects was most of `generate`'s
start-up (libyaml parses in C, but PyYAML builds every mapping in Python). The
parsed documents are plain data (mappings, lists, text, numbers, dates), so a
pickle of them reads back the same in a few milliseconds. The key is a hash of
the file's bytes and of this module's format version: an edited file misses
the cache, and a cache that cannot be read or written is only slower.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

FORMAT = b"trajforge-tasks-1"
"""Changes when what is cached changes (the YAML loader's rules, the documents' merge)."""
KEEP = 256
"""Entries kept: past this, the least recently written go (each edit of a task file adds one)."""


def user_cache(kind: str) -> Path:
    """`$TRAJFORGE_CACHE/KIND`, else `$XDG_CACHE_HOME/trajforge/KIND`, else `~/.cache/trajforge/KIND`."""
    if os.environ.get("TRAJFORGE_CACHE"):
        return Path(os.environ["TRAJFORGE_CACHE"]) / kind
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "trajforge" / kind


def parsed(raw: bytes, parse: Callable[[bytes], Any], folder: Path | None = None) -> Any:
    """`parse(raw)`, from the cache when these bytes were parsed before; errors of `parse` are not cached."""
    folder = folder or user_cache("tasks")
    entry = folder / f"{hashlib.blake2b(FORMAT + raw, digest_size=20).hexdigest()}.pickle"
    with contextlib.suppress(OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError):
        return pickle.loads(entry.read_bytes())
    data = parse(raw)
    with contextlib.suppress(OSError, pickle.PicklingError, TypeError, RecursionError):
        _store(entry, pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL))
    return data


def _store(entry: Path, blob: bytes) -> None:
    """Written beside and renamed into place, so a reader never sees half an entry."""
    entry.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=entry.parent, prefix=".part-")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(blob)
        os.replace(temporary, entry)
        entries = sorted(entry.parent.glob("*.pickle"), key=lambda p: p.stat().st_mtime_ns)
        for stale in entries[:-KEEP]:
            stale.unlink(missing_ok=True)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
