"""trajforge: generate and curate multi-turn tool-calling reasoning traces."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("trajforge")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
