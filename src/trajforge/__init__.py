"""trajforge: generate and curate multi-turn tool-calling reasoning traces."""

# The one place the version is written (pyproject.toml reads it): importlib.metadata
# would cost ~0.2 s of every command's start-up.
__version__ = "0.1.0"

__all__ = ["__version__"]
