"""Toolsets by name (ARCHITECTURE.md) and the toolbox an episode gets."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

from trajforge.tools.agent.clarify import clarify
from trajforge.tools.agent.cronjob import cronjob
from trajforge.tools.agent.delegate import delegate_task
from trajforge.tools.agent.memory import memory
from trajforge.tools.agent.sessions import session_search
from trajforge.tools.agent.skills import skill_manage, skill_view, skills_list
from trajforge.tools.agent.todo import todo
from trajforge.tools.code import execute_code
from trajforge.tools.files import patch, read_file, search_files, write_file
from trajforge.tools.registry import Tool, Toolbox, ToolContext
from trajforge.tools.terminal import terminal
from trajforge.trace.toolsets import ALL_TOOLSETS, DEFAULT_TOOLSETS


def _browser_tools() -> tuple[Tool, ...]:
    from trajforge.tools.browser import BROWSER_TOOLS  # Playwright: imported when a browser toolset is asked for

    return BROWSER_TOOLS


class _Toolsets(Mapping[str, tuple[Tool, ...]]):
    """Toolsets by name, in order; a toolset given as a function is made on first use (issue 10: start-up)."""

    def __init__(self, toolsets: dict[str, tuple[Tool, ...] | Callable[[], tuple[Tool, ...]]]) -> None:
        self._toolsets = toolsets

    def __getitem__(self, name: str) -> tuple[Tool, ...]:
        value = self._toolsets[name]
        if callable(value):
            value = self._toolsets[name] = value()
        return value

    def __contains__(self, name: object) -> bool:  # without making the toolset
        return name in self._toolsets

    def __iter__(self) -> Iterator[str]:
        return iter(self._toolsets)

    def __len__(self) -> int:
        return len(self._toolsets)


TOOLSETS: Mapping[str, tuple[Tool, ...]] = _Toolsets(
    {
        "terminal": (terminal,),
        "file": (read_file, write_file, patch, search_files),
        "code": (execute_code,),
        "browser": _browser_tools,
        "memory": (memory,),
        "todo": (todo,),
        "skills": (skills_list, skill_view, skill_manage),
        "sessions": (session_search,),
        "delegation": (delegate_task,),
        "cronjob": (cronjob,),
        "clarify": (clarify,),
    }
)
# Named in ARCHITECTURE.md and built by later issues; asking for them now is a clear error.
PLANNED_TOOLSETS = tuple(name for name in ALL_TOOLSETS if name not in TOOLSETS)


class UnknownToolset(ValueError):
    """A toolset name that does not exist, or whose tools are not built yet."""


def parse_toolsets(text: str | Sequence[str]) -> list[str]:
    """Toolset names from a comma-separated string or a list; raises UnknownToolset."""
    names = [n.strip() for n in (text.split(",") if isinstance(text, str) else text) if n.strip()]
    for name in names:
        if name in PLANNED_TOOLSETS:
            raise UnknownToolset(f"toolset {name!r} is not available yet; available: {', '.join(TOOLSETS)}")
        if name not in TOOLSETS:
            raise UnknownToolset(f"unknown toolset {name!r}; available: {', '.join(TOOLSETS)}")
    return names or list(DEFAULT_TOOLSETS)


def tools_of(toolsets: Iterable[str]) -> list[Tool]:
    """The tools of the named toolsets, in toolset order, each once."""
    seen: dict[str, Tool] = {}
    for name in toolsets:
        for item in TOOLSETS[name]:
            seen.setdefault(item.name, item)
    return list(seen.values())


def build_toolbox(toolsets: Iterable[str], context: ToolContext) -> Toolbox:
    """A toolbox offering the tools of `toolsets` in the episode's context."""
    return Toolbox(tools_of(toolsets), context)
