"""Argument values: JSON objects read safely, and XML-style values typed by the tool's JSON schema."""

from __future__ import annotations

import ast
from collections.abc import Sequence
from typing import Any

from trajforge.trace.messages import MAX_ARGUMENT_DEPTH, nested_deeper
from trajforge.trace.turns import dumps, loads

Tools = Sequence[dict[str, Any]] | None
"""OpenAI tool definitions (`{"type": "function", "function": {...}}`), or bare `{"name", "parameters"}`."""

_STRING_TYPES = frozenset({"string", "str", "text", "varchar", "char", "enum"})
_LITERAL_LIMIT = 100_000
"""Longest value handed to ast.literal_eval (its parser is slow and deep on large input)."""


def load_object(text: str) -> tuple[dict[str, Any] | None, str | None]:
    """A JSON object from text ('' is no arguments), or None and why not."""
    if not text.strip():
        return {}, None
    try:
        value = loads(text)
    except (ValueError, RecursionError):
        return None, f"arguments are not valid JSON: {head(text)}"
    if not isinstance(value, dict):
        return None, f"arguments are JSON {_kind(value)}, not an object: {head(text)}"
    if nested_deeper(value, MAX_ARGUMENT_DEPTH):
        return None, f"arguments nest deeper than {MAX_ARGUMENT_DEPTH} levels"
    return value, None


def load_json(text: str) -> tuple[Any, bool]:
    """(value, True) when `text` is JSON, else (None, False)."""
    try:
        return loads(text), True
    except (ValueError, RecursionError):
        return None, False


def function_of(tool: dict[str, Any]) -> dict[str, Any]:
    """The function part of a tool definition (the definition itself when bare)."""
    function = tool.get("function") if isinstance(tool, dict) else None
    return function if isinstance(function, dict) else tool if isinstance(tool, dict) else {}


def tool_names(tools: Tools) -> set[str] | None:
    """Names of the offered tools, None when no tools were given."""
    if tools is None:
        return None
    return {str(function_of(t).get("name")) for t in tools if function_of(t).get("name")}


def properties(tools: Tools, name: str) -> dict[str, Any]:
    """The `properties` of tool `name`'s parameters ({} when unknown or not given)."""
    for tool in tools or ():
        function = function_of(tool)
        if function.get("name") == name:
            params = function.get("parameters")
            if isinstance(params, dict):
                props = params.get("properties")
                return props if isinstance(props, dict) else {}
            return {}
    return {}


def declared_type(props: dict[str, Any], key: str) -> str | None:
    """The schema type of one parameter, lower case; a nullable type's non-null member; None when undeclared."""
    schema = props.get(key)
    if not isinstance(schema, dict):
        return None
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds = [str(k).lower() for k in kind if k != "null"]
        kind = kinds[0] if len(kinds) == 1 else None
    if kind is None and "enum" in schema:
        return "enum"
    return str(kind).strip().lower() if kind is not None else None


def is_string(props: dict[str, Any], key: str) -> bool:
    """Whether the schema says the parameter is a string."""
    return declared_type(props, key) == "string"


def literal(text: str) -> tuple[Any, bool]:
    """A Python literal as a JSON value (tuples as lists), or (None, False) when it is none."""
    if len(text) > _LITERAL_LIMIT:
        return None, False
    try:
        value = ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None, False
    return jsonable(value)


def jsonable(value: Any) -> tuple[Any, bool]:
    """`value` as JSON types (tuples become lists), or (None, False) when it holds something JSON lacks."""
    if value is None or isinstance(value, bool | int | str):
        return value, True
    if isinstance(value, float):
        return (value, True) if value == value and abs(value) != float("inf") else (None, False)
    if isinstance(value, list | tuple):
        items = [jsonable(v) for v in value]
        return ([v for v, _ in items], True) if all(ok for _, ok in items) else (None, False)
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        pairs = {k: jsonable(v) for k, v in value.items()}
        return ({k: v for k, (v, _) in pairs.items()}, True) if all(ok for _, ok in pairs.values()) else (None, False)
    return None, False


def glm_value(raw: str, string_typed: bool) -> Any:
    """A GLM `<arg_value>` as vLLM's glm4_moe parser reads it.

    Schema strings are kept verbatim; anything else is stripped and read as JSON,
    then as a Python literal, then kept as the stripped text.
    """
    if string_typed:
        return raw
    text = raw.strip()
    value, ok = load_json(text)
    if ok:
        return value
    value, ok = literal(text)
    return value if ok else text


def glm_text(value: Any, string_typed: bool) -> str:
    """The `<arg_value>` text that `glm_value` reads back as `value`."""
    if isinstance(value, str) and (string_typed or (value == value.strip() and glm_value(value, False) == value)):
        return value
    return dumps(value)


def qwen_value(raw: str, key: str, props: dict[str, Any]) -> Any:
    """A Qwen3-Coder `<parameter=...>` value as vLLM's qwen3coder parser converts it by the schema."""
    if raw.lower() == "null":
        return None
    if key not in props:
        return raw
    kind = declared_type(props, key) or "string"
    if kind in _STRING_TYPES:
        return raw
    if kind.startswith(("int", "uint", "long", "short", "unsigned")):
        try:
            return int(raw)
        except ValueError:
            return raw
    if kind.startswith(("num", "float")):
        try:
            number = float(raw)
        except ValueError:
            return raw
        if number != number or number in (float("inf"), float("-inf")):
            return raw
        return int(number) if number.is_integer() else number
    if kind in ("boolean", "bool", "binary"):
        return raw.lower() == "true"
    if kind in ("object", "array", "arr") or kind.startswith(("dict", "list")):
        value, ok = load_json(raw)
        if ok:
            return value
    value, ok = literal(raw)
    return value if ok else raw


def qwen_text(value: Any) -> str:
    """The parameter text for a value (strings verbatim, anything else as JSON)."""
    return value if isinstance(value, str) else dumps(value)


def head(text: str, limit: int = 60) -> str:
    """The start of a text, quoted, for a problem line."""
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= limit else flat[:limit] + "...")


def _kind(value: Any) -> str:
    names = {list: "array", str: "string", bool: "boolean", int: "number", float: "number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)
