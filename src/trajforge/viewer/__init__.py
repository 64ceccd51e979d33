"""The trace viewer: `trajforge view` serves run folders and datasets as web pages to browse, filter and compare.

Imports `dataset` and `trace` only. The index (row locations, per-row facts,
search text) is built once per set of files and cached under the user's cache
folder; rows are read on demand. Names are imported on first use, so that
`trajforge view` can refuse bad options before loading the dataset stack.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trajforge.viewer.app import create_app
    from trajforge.viewer.guard import is_loopback
    from trajforge.viewer.index import ViewIndex, cache_root, open_index
    from trajforge.viewer.sources import Source, find_sources
    from trajforge.viewer.state import Settings, ViewerState

_WHERE = {
    "create_app": "app",
    "is_loopback": "guard",
    "ViewIndex": "index",
    "cache_root": "index",
    "open_index": "index",
    "Source": "sources",
    "find_sources": "sources",
    "Settings": "state",
    "ViewerState": "state",
}
__all__ = [
    "Settings",
    "Source",
    "ViewIndex",
    "ViewerState",
    "cache_root",
    "create_app",
    "find_sources",
    "is_loopback",
    "open_index",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'trajforge.viewer' has no attribute {name!r}")
    return getattr(importlib.import_module(f"trajforge.viewer.{_WHERE[name]}"), name)
