"""The vocabulary every room speaks: the episode model and the ShareGPT row layout.

No I/O beyond strings. `render(episode) -> row` and `parse(row) -> episode` are
exact inverses for every episode that renders (FORMAT.md section 2).
"""

from trajforge.trace.model import (
    CallTiming,
    Episode,
    Finish,
    Flag,
    Message,
    ModelInfo,
    Outcome,
    TaskRef,
    Timing,
    ToolCall,
    ToolResult,
    Usage,
)
from trajforge.trace.record import RecordError, from_record, to_record
from trajforge.trace.sharegpt import COLUMNS, Collision, ParseError, RenderError, parse, render, tag_collisions
from trajforge.trace.turns import TurnFormatError

__all__ = [
    "COLUMNS",
    "CallTiming",
    "Collision",
    "Episode",
    "Finish",
    "Flag",
    "Message",
    "ModelInfo",
    "Outcome",
    "ParseError",
    "RecordError",
    "RenderError",
    "TaskRef",
    "Timing",
    "ToolCall",
    "ToolResult",
    "TurnFormatError",
    "Usage",
    "from_record",
    "parse",
    "render",
    "tag_collisions",
    "to_record",
]
