"""The `trajforge` command: thin, it parses options and calls the packages."""

from trajforge.cli.main import app, main

__all__ = ["app", "main"]
