"""The vocabulary every room speaks: the episode model and the ShareGPT row layout.

No I/O beyond strings. `render(episode) -> row` and `parse(row) -> episode` are
exact inverses for every episode that renders (FORMAT.md section 2).
"""

from trajforge.trace.messages import parse_call, split_inline_think
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
    retryable,
)
from trajforge.trace.record import RecordError, from_record, to_record
from trajforge.trace.sharegpt import COLUMNS, Collision, ParseError, RenderError, parse, render, tag_collisions
from trajforge.trace.turns import (
    CallBlock,
    GptTurn,
    ResponseBlock,
    SystemTurn,
    TurnFormatError,
    order_problems,
    split_gpt,
    split_system,
    split_tool,
)

__all__ = [
    "COLUMNS",
    "CallBlock",
    "CallTiming",
    "Collision",
    "Episode",
    "Finish",
    "Flag",
    "GptTurn",
    "Message",
    "ModelInfo",
    "Outcome",
    "ParseError",
    "RecordError",
    "RenderError",
    "ResponseBlock",
    "SystemTurn",
    "TaskRef",
    "Timing",
    "ToolCall",
    "ToolResult",
    "TurnFormatError",
    "Usage",
    "from_record",
    "order_problems",
    "parse",
    "parse_call",
    "render",
    "retryable",
    "split_gpt",
    "split_inline_think",
    "split_system",
    "split_tool",
    "tag_collisions",
    "to_record",
]
