"""The `trajforge` command: thin, it parses options and calls the packages."""

from trajforge.cli.main import build_app, main

__all__ = ["build_app", "main"]
