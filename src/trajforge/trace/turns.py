"""Text layout of single ShareGPT turns (FORMAT.md section 2): build and split.

These are the pieces that `render`/`parse` and the dataset validator share, so that
what one writes the other reads with the same rules.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import orjson

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"
CALL_OPEN = "<tool_call>"
CALL_CLOSE = "</tool_call>"
RESPONSE_OPEN = "<tool_response>"
RESPONSE_CLOSE = "</tool_response>"

# hermes-agent's trajectory wording, so that trainers built for that data read ours.
TOOLS_PREAMBLE = (
    "You are a function calling AI model. You are provided with function signatures within <tools> </tools> "
    "XML tags. You may call one or more functions to assist with the user query. If available tools are not "
    "relevant in assisting with user query, just respond in natural conversational language. Don't make "
    "assumptions about what values to plug into functions. After calling & executing the functions, you will "
    "be provided with function results within <tool_response> </tool_response> XML tags. "
    "Here are the available tools:\n<tools>\n"
)
TOOLS_EPILOGUE = (
    "\n</tools>\nFor each function call return a JSON object, with the following pydantic model json schema "
    "for each:\n{'title': 'FunctionCall', 'type': 'object', 'properties': {'name': {'title': 'Name', 'type': "
    "'string'}, 'arguments': {'title': 'Arguments', 'type': 'object'}}, 'required': ['name', 'arguments']}\n"
    "Each function call should be enclosed within <tool_call> </tool_call> XML tags.\n"
    "Example:\n<tool_call>\n{'name': <function-name>,'arguments': <args-dict>}\n</tool_call>"
)
# The tool block's first sentence: enough to find where the real system prompt ends.
_PREAMBLE_HEAD = TOOLS_PREAMBLE[: TOOLS_PREAMBLE.index(" You may")]

REASONING_TAGS = (THINK_OPEN, THINK_CLOSE)
CONTENT_TAGS = (THINK_OPEN, THINK_CLOSE, CALL_OPEN, CALL_CLOSE, RESPONSE_OPEN, RESPONSE_CLOSE)


# What may follow each kind of turn ("gpt+" is a gpt turn with tool calls; None is the end).
_MAY_FOLLOW: dict[str, tuple[str | None, ...]] = {
    "system": ("human",),
    "human": ("gpt",),
    "gpt": ("human", None),
    "gpt+": ("tool",),
    # ending on a tool turn: the episode was cut off; a human turn after one: a user interjecting, or the
    # summary that context compression put in place of middle turns (as hermes-agent's compressor does)
    "tool": ("gpt", "human", None),
}


def order_problems(kinds: list[str]) -> list[tuple[int, str]]:
    """(turn index, reason) for every break of FORMAT.md's turn order.

    `kinds` holds one of system, human, gpt, gpt+ (gpt with tool calls) and tool per turn.
    """
    if not kinds:
        return [(0, "no turns")]
    found = [] if kinds[0] == "system" else [(0, f"first turn is {_kind_name(kinds[0])}, not system")]
    for index in range(1, len(kinds)):
        previous, kind = kinds[index - 1], kinds[index]
        if previous not in _MAY_FOLLOW or kind not in _MAY_FOLLOW:
            continue  # an unknown kind is reported where it is read
        if kind.rstrip("+") not in _MAY_FOLLOW[previous]:
            found.append((index, f"a {_kind_name(kind)} cannot follow a {_kind_name(previous)}"))
    if None not in _MAY_FOLLOW.get(kinds[-1], (None,)):
        found.append((len(kinds) - 1, f"the conversation ends on a {_kind_name(kinds[-1])}"))
    return found


def _kind_name(kind: str) -> str:
    return "gpt turn with tool calls" if kind == "gpt+" else f"{kind} turn"


class TurnFormatError(ValueError):
    """A turn's text does not follow FORMAT.md section 2; the message says how."""


def dumps(value: Any) -> str:
    """JSON text as FORMAT.md writes it: `json.dumps(value, ensure_ascii=False)`."""
    return json.dumps(value, ensure_ascii=False)


def json_bytes(value: Any, *, sort_keys: bool = False) -> bytes:
    """Compact JSON (for keys, hashes and JSON lines, not for FORMAT.md text, which `dumps` writes).

    orjson, or the standard encoder for integers beyond 64 bits, which orjson refuses.
    """
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS if sort_keys else None)
    except TypeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=sort_keys).encode()


class NestedTooDeep(ValueError):
    """JSON text nested deeper than a parser's recursion can read (`[[[[...`)."""


def loads(text: str | bytes) -> Any:
    """Parse JSON text; raises ValueError on bad input (NestedTooDeep when it nests too deep to read).

    orjson is the fast path, but it turns integers beyond 64 bits into floats,
    which `json` keeps exact: a result holding a float that large is parsed
    again by the standard parser (cheaper than scanning every text for long
    digit runs, which cost more than the parse itself).
    """
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return _json_loads(text)
    return _json_loads(text) if _holds_huge_float(value) else value


def _json_loads(text: str | bytes) -> Any:
    """The standard parser, whose recursion a deeply nested text (`[[[...`) exhausts: that is bad input too."""
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise NestedTooDeep("JSON nested too deep to read") from None


def _holds_huge_float(value: Any) -> bool:
    """A float at or beyond 2**63 in magnitude: where orjson may have read an integer as a float.

    Walked without recursion: orjson reads up to 1024 levels, beyond Python's recursion limit.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float):
            if abs(item) >= 9.2e18:
                return True
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# ---------------------------------------------------------------- system turn


def build_system(prompt: str | None, tools: list[dict[str, Any]]) -> str:
    """System turn value: the real prompt, a blank line, then the Hermes tool block."""
    functions = [_function_of(tool) for tool in tools]
    block = TOOLS_PREAMBLE + dumps(functions) + TOOLS_EPILOGUE
    return f"{prompt}\n\n{block}" if prompt else block


def _function_of(tool: dict[str, Any]) -> dict[str, Any]:
    fn = tool.get("function", tool)
    return {"name": fn.get("name"), "description": fn.get("description", ""), "parameters": fn.get("parameters", {})}


@dataclass
class SystemTurn:
    """A system value split into the real prompt and the tools of its tool block."""

    prompt: str
    tools: list[dict[str, Any]] | None  # OpenAI tool definitions; None when no block could be read


def split_system(value: str) -> SystemTurn:
    """Split a system value; a value without a readable tool block is all prompt."""
    at = value.rfind("\n\n" + _PREAMBLE_HEAD)
    if at >= 0:
        prompt, block = value[:at], value[at + 2 :]
    elif value.startswith(_PREAMBLE_HEAD):
        prompt, block = "", value
    else:
        return SystemTurn(prompt=value, tools=None)
    start = block.find("<tools>\n")
    end = block.rfind("\n</tools>")
    if start < 0 or end < start:
        return SystemTurn(prompt=prompt, tools=None)
    try:
        functions = loads(block[start + len("<tools>\n") : end])
    except ValueError:
        return SystemTurn(prompt=prompt, tools=None)
    if not isinstance(functions, list) or not all(isinstance(f, dict) for f in functions):
        return SystemTurn(prompt=prompt, tools=None)
    tools = [{"type": "function", "function": _function_of(f)} for f in functions]
    return SystemTurn(prompt=prompt, tools=tools)


# ---------------------------------------------------------------- gpt turn


@dataclass
class CallBlock:
    """One `<tool_call>` block of a gpt turn."""

    name: str
    arguments: dict[str, Any]
    id: str | None = None  # only some harnesses write the id into the call


@dataclass
class GptTurn:
    """A gpt value split into its parts."""

    reasoning: str | None
    content: str | None
    calls: list[CallBlock]


def build_gpt(reasoning: str | None, content: str | None, calls: list[tuple[str, dict[str, Any]]]) -> str:
    """Gpt turn value: one think block, the visible content, then one block per call."""
    parts = [f"{THINK_OPEN}\n{reasoning}\n{THINK_CLOSE}\n" if reasoning else f"{THINK_OPEN}\n{THINK_CLOSE}\n"]
    if content and content.strip():
        parts.append(content.strip() + "\n")
    for name, arguments in calls:
        parts.append(f"{CALL_OPEN}\n{dumps({'name': name, 'arguments': arguments})}\n{CALL_CLOSE}\n")
    return "".join(parts).strip()


def split_gpt(value: str) -> GptTurn:
    """Split a gpt value; raises TurnFormatError naming the first problem."""
    if value.startswith(f"{THINK_OPEN}\n{THINK_CLOSE}"):
        reasoning: str | None = None
        rest = value[len(THINK_OPEN) + len(THINK_CLOSE) + 1 :]
    elif value.startswith(f"{THINK_OPEN}\n"):
        end = value.find(f"\n{THINK_CLOSE}", len(THINK_OPEN))
        if end < 0:
            raise TurnFormatError("think block is not closed")
        reasoning = value[len(THINK_OPEN) + 1 : end]
        rest = value[end + len(THINK_CLOSE) + 1 :]
    elif value.startswith(THINK_OPEN):
        raise TurnFormatError("no newline after <think>")
    else:
        raise TurnFormatError("gpt turn does not start with a <think> block")
    if rest and not rest.startswith("\n"):
        raise TurnFormatError("no newline after </think>")
    if reasoning is not None and any(tag in reasoning for tag in REASONING_TAGS):
        raise TurnFormatError("tag collision: reasoning contains a think tag")
    at = rest.find(CALL_OPEN)
    content_text = rest if at < 0 else rest[:at]
    if THINK_OPEN in content_text or THINK_CLOSE in content_text:
        raise TurnFormatError("more than one think block")
    if any(tag in content_text for tag in CONTENT_TAGS):
        raise TurnFormatError("tag collision: content contains a tool tag")
    content = content_text.strip() or None
    calls = [] if at < 0 else _split_calls(rest, at)
    return GptTurn(reasoning=reasoning, content=content, calls=calls)


def _split_calls(text: str, pos: int) -> list[CallBlock]:
    calls: list[CallBlock] = []
    for body in _blocks(text, pos, CALL_OPEN, CALL_CLOSE, "tool call"):
        index = len(calls) + 1
        try:
            obj = loads(body)
        except ValueError as exc:
            raise TurnFormatError(f"tool call {index} is not JSON ({exc})") from None
        if not isinstance(obj, dict) or not isinstance(obj.get("name"), str):
            raise TurnFormatError(f"tool call {index} has no string 'name'")
        if not isinstance(obj.get("arguments"), dict):
            raise TurnFormatError(f"tool call {index} 'arguments' is not a JSON object")
        call_id = obj.get("id")
        calls.append(CallBlock(obj["name"], obj["arguments"], call_id if isinstance(call_id, str) else None))
    return calls


def _blocks(text: str, pos: int, open_tag: str, close_tag: str, what: str) -> list[str]:
    """Bodies of consecutive `open\\nBODY\\nclose` blocks from `pos` to the end of `text`.

    A JSON body never holds a raw newline inside a string, so the first
    `\\n</close>` after a block opens is the block's end whatever the strings say.
    """
    bodies: list[str] = []
    head, tail = open_tag + "\n", "\n" + close_tag
    while pos < len(text):
        if not text.startswith(head, pos):
            raise TurnFormatError(f"unexpected text after {what} {len(bodies)}" if bodies else f"expected {head!r}")
        end = text.find(tail, pos + len(head))
        if end < 0:
            raise TurnFormatError(f"{what} {len(bodies) + 1} is not closed")
        bodies.append(text[pos + len(head) : end])
        pos = end + len(tail)
        if text.startswith("\n", pos):
            pos += 1
    return bodies


# ---------------------------------------------------------------- tool turn


@dataclass
class ResponseBlock:
    """One `<tool_response>` block of a tool turn."""

    tool_call_id: str
    name: str
    content: str


def build_tool(results: list[tuple[str, str, str]]) -> str:
    """Tool turn value from (tool_call_id, name, content) in call order."""
    blocks = [
        f"{RESPONSE_OPEN}\n{dumps({'tool_call_id': cid, 'name': name, 'content': content_value(content)})}"
        f"\n{RESPONSE_CLOSE}"
        for cid, name, content in results
    ]
    return "\n".join(blocks)


def split_tool(value: str) -> list[ResponseBlock]:
    """Split a tool value; raises TurnFormatError naming the first problem."""
    responses: list[ResponseBlock] = []
    for body in _blocks(value, 0, RESPONSE_OPEN, RESPONSE_CLOSE, "tool response"):
        index = len(responses) + 1
        try:
            obj = loads(body)
        except ValueError as exc:
            raise TurnFormatError(f"tool response {index} is not JSON ({exc})") from None
        if not isinstance(obj, dict):
            raise TurnFormatError(f"tool response {index} is not a JSON object")
        call_id, name = obj.get("tool_call_id"), obj.get("name")
        if not isinstance(call_id, str) or not call_id:
            raise TurnFormatError(f"tool response {index} has no tool_call_id")
        if not isinstance(name, str):
            raise TurnFormatError(f"tool response {index} has no string 'name'")
        if "content" not in obj:
            raise TurnFormatError(f"tool response {index} has no 'content'")
        responses.append(ResponseBlock(call_id, name, content_text(obj["content"])))
    return responses


def content_value(content: str) -> Any:
    """A tool result as it goes into `<tool_response>`: JSON when it is a JSON object or array.

    Only text that re-serialises to itself is embedded as JSON, so `content_text`
    gives back exactly the original string.
    """
    if content[:1] in ("{", "[") and content[-1:] in ("}", "]"):
        try:
            value = loads(content)
        except ValueError:
            return content
        if dumps(value) == content:
            return value
    return content


def content_text(value: Any) -> str:
    """Inverse of `content_value`: the tool result string."""
    return value if isinstance(value, str) else dumps(value)
