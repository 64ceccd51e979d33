"""Toolset names (ARCHITECTURE.md): the vocabulary tasks and tools share."""

ALL_TOOLSETS: tuple[str, ...] = (
    "terminal",
    "file",
    "code",
    "browser",
    "memory",
    "todo",
    "skills",
    "sessions",
    "delegation",
    "cronjob",
    "clarify",
)
DEFAULT_TOOLSETS: tuple[str, ...] = ("terminal", "file", "code")
