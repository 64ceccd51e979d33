"""The tool registry and every tool; results, truncation and redaction."""

from trajforge.tools.registry import Tool, Toolbox, ToolContext, ToolError, argument_problem, tool
from trajforge.tools.toolsets import (
    TOOLSETS,
    UnknownToolset,
    build_toolbox,
    parse_toolsets,
    tools_of,
)
from trajforge.trace.secrets import Redactor
from trajforge.trace.toolsets import DEFAULT_TOOLSETS

__all__ = [
    "DEFAULT_TOOLSETS",
    "TOOLSETS",
    "Redactor",
    "Tool",
    "ToolContext",
    "ToolError",
    "Toolbox",
    "UnknownToolset",
    "argument_problem",
    "build_toolbox",
    "parse_toolsets",
    "tool",
    "tools_of",
]
