"""The trace viewer: `trajforge view` serves run folders and datasets as web pages to browse, filter and compare.

Imports `dataset` and `trace` only. The index (row locations, per-row facts,
search text) is built once per set of files and cached under the user's cache
folder; rows are read on demand.
"""

from trajforge.viewer.app import create_app
from trajforge.viewer.guard import is_loopback
from trajforge.viewer.index import ViewIndex, cache_root, open_index
from trajforge.viewer.sources import Source, find_sources
from trajforge.viewer.state import Settings, ViewerState

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
