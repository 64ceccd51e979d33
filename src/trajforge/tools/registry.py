"""Tools: a name, a description, a JSON schema made from the function, a toolset, a handler.

The schema comes from the handler's type hints and its docstring's `Args:`
section, so it is never written twice. `Toolbox.call` is the one place where a
call becomes a result: bad arguments, unknown tools, `ToolError` and OS errors
become error results the model sees; anything else is a bug and propagates.
"""

from __future__ import annotations

import contextvars
import inspect
import re
import types
import typing
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from trajforge.sandbox import HostFailure, PathOutsideWorkspace, Sandbox, SandboxError, is_host_failure
from trajforge.tools.ordering import CallOrder, PathAccess, PathsOf, PlannedCall, plan_groups
from trajforge.trace import Flag, ToolCall, ToolResult
from trajforge.trace.secrets import Redactor
from trajforge.trace.turns import dumps

Handler = Callable[..., Awaitable[str]]
_T = typing.TypeVar("_T")
current_call: contextvars.ContextVar[ToolCall | None] = contextvars.ContextVar("current_call", default=None)
"""The call a handler is running for (delegate_task files its children's records under the call's id)."""


class ToolError(Exception):
    """A failure the model should read and can recover from (bad path, no match...).

    `details` are extra fields of the error result beside `error` (for example the entries a
    memory replace could have meant).
    """

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.details = details


@dataclass
class ToolContext:
    """What a tool handler works with: the episode's sandbox and its redactor."""

    sandbox: Sandbox
    redactor: Redactor = field(default_factory=Redactor)
    flags: set[Flag] = field(default_factory=set)
    """Flags the handler raises for the episode (for example truncated output)."""
    services: dict[type[Any], Any] = field(default_factory=dict)
    """What the agent tools work with besides the sandbox (the agent home, the user, a child runner),
    keyed by type; `service` fetches one."""
    prompt_notes: list[str] = field(default_factory=list)
    """Sections added to the system prompt at the episode's start (the frozen memory snapshot)."""

    def service(self, kind: type[_T]) -> _T:
        """The service of type `kind`; a ToolError when the episode has none."""
        found = self.services.get(kind)
        if found is None:
            raise ToolError(f"{kind.__name__} is not available in this episode")
        return found  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Tool:
    """One tool as the model sees it, and the coroutine that runs it."""

    name: str
    description: str
    parameters: dict[str, Any]
    toolset: str
    handler: Handler
    order: CallOrder = CallOrder.BARRIER
    """How calls of this tool may run beside others of the same turn (tools/ordering.py)."""
    paths: PathsOf | None = None
    """For a path-scoped tool: the paths a call touches, from its arguments."""

    def definition(self) -> dict[str, Any]:
        """The OpenAI tool definition (what goes into requests and the record's `tools`)."""
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        }


def tool(
    toolset: str, name: str | None = None, *, order: CallOrder = CallOrder.BARRIER, paths: PathsOf | None = None
) -> Callable[[Handler], Tool]:
    """Make a Tool of `async def handler(ctx: ToolContext, ...) -> str`, schema from its signature.

    `order` says how its calls may run beside others in one turn (default: alone); a
    `CallOrder.PATH_SCOPED` tool gives `paths`.
    """
    if (order is CallOrder.PATH_SCOPED) != (paths is not None):
        raise ValueError("a path-scoped tool gives paths, and only a path-scoped tool does")

    def wrap(handler: Handler) -> Tool:
        description, arg_docs = _parse_docstring(inspect.getdoc(handler) or "")
        schema = _schema(handler, arg_docs)
        return Tool(name or handler.__name__, description, schema, toolset, handler, order, paths)

    return wrap


def _parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    head, _, args = doc.partition("\nArgs:\n")
    docs: dict[str, str] = {}
    current = None
    for line in args.splitlines():
        match = re.match(r"^\s{4}(\w+): (.*)$", line)
        if match:
            current = match.group(1)
            docs[current] = match.group(2).strip()
        elif current and line.strip():
            docs[current] += " " + line.strip()
    return " ".join(head.split()), docs


def _schema(handler: Handler, docs: dict[str, str]) -> dict[str, Any]:
    hints = typing.get_type_hints(handler)
    properties: dict[str, Any] = {}
    required = []
    for param in list(inspect.signature(handler).parameters.values())[1:]:  # the first is the context
        prop = _json_type(hints[param.name])
        if param.name in docs:
            prop["description"] = docs[param.name]
        properties[param.name] = prop
        if param.default is inspect.Parameter.empty:
            required.append(param.name)
    return {"type": "object", "properties": properties, "required": required}


def _json_type(hint: Any) -> dict[str, Any]:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        return _json_type(options[0]) if len(options) == 1 else {"anyOf": [_json_type(a) for a in options]}
    if origin is Literal:
        return {"type": "string", "enum": list(args)}
    if origin is list:
        return {"type": "array", "items": _json_type(args[0]) if args else {}}
    if origin is dict or hint is dict:
        return {"type": "object"}
    simple = {str: "string", int: "integer", float: "number", bool: "boolean"}
    if hint in simple:
        return {"type": simple[hint]}
    raise TypeError(f"no JSON schema for {hint!r}")


_PYTHON_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
    "array": list,
    "object": dict,
}


def argument_problem(schema: dict[str, Any], arguments: dict[str, Any]) -> str | None:
    """Why `arguments` do not fit the tool's schema (missing, unknown or mistyped), or None."""
    properties = schema.get("properties", {})
    missing = [name for name in schema.get("required", []) if name not in arguments]
    if missing:
        return f"missing required argument(s): {', '.join(missing)}"
    unknown = [name for name in arguments if name not in properties]
    if unknown:
        return f"unknown argument(s): {', '.join(unknown)}; expected: {', '.join(properties)}"
    for name, value in arguments.items():
        expected = properties[name].get("type")
        ok_type = _PYTHON_TYPES.get(expected) if expected else None
        is_bool_for_number = isinstance(value, bool) and expected in ("integer", "number")
        if ok_type and (not isinstance(value, ok_type) or is_bool_for_number):
            return f"argument {name!r} should be {expected}, not {type(value).__name__}"
        enum = properties[name].get("enum")
        if enum and value not in enum:
            return f"argument {name!r} should be one of {', '.join(map(str, enum))}"
    return None


class Toolbox:
    """The tools offered in one episode, and the single place calls become results."""

    def __init__(self, tools: Iterable[Tool], context: ToolContext) -> None:
        self.tools = {t.name: t for t in tools}
        self.context = context

    @property
    def definitions(self) -> list[dict[str, Any]]:
        """OpenAI definitions of the offered tools, in order."""
        return [t.definition() for t in self.tools.values()]

    async def call(self, call: ToolCall) -> ToolResult:
        """Run one call; every failure the model can act on comes back as an error result."""
        if call.raw_arguments is not None:
            return self._error(call, f"the arguments are not a valid JSON object: {call.raw_arguments[:200]!r}")
        found = self.tools.get(call.name)
        if found is None:
            return self._error(call, f"unknown tool {call.name!r}; available: {', '.join(self.tools)}")
        problem = argument_problem(found.parameters, call.arguments)
        if problem:
            return self._error(call, problem)
        token = current_call.set(call)
        try:
            content = await found.handler(self.context, **call.arguments)
        except ToolError as exc:
            return self._error(call, str(exc), exc.details)
        except HostFailure:
            raise  # the host's failure (no descriptors, disk full): the harness's error, not the model's
        except (OSError, SandboxError, UnicodeError) as exc:
            if is_host_failure(exc):
                raise HostFailure(getattr(exc, "errno", 0) or 0, f"{call.name}: {exc}") from exc
            return self._error(call, f"{type(exc).__name__}: {exc}")
        finally:
            current_call.reset(token)
        return ToolResult(call.id, call.name, self._redacted(content))

    def plan(self, calls: list[ToolCall]) -> list[list[int]]:
        """The turn's calls as consecutive groups of indexes that may run at once (tools/ordering.py)."""
        return plan_groups([self._planned(call) for call in calls])

    def _planned(self, call: ToolCall) -> PlannedCall:
        found = self.tools.get(call.name)
        if found is None or call.raw_arguments is not None or argument_problem(found.parameters, call.arguments):
            return PlannedCall(call.name, CallOrder.READ_ONLY)  # answered with an error, touching nothing
        access = found.paths(call.arguments) if found.paths is not None else None
        if access is not None:
            access = PathAccess(tuple(self._resolved(path) for path in access.paths), access.writes)
        return PlannedCall(call.name, found.order, access)

    def _resolved(self, path: str) -> str:
        """`path` as the file tools resolve it (links followed); as given when it leaves the workspace,
        since the call then fails without touching anything."""
        try:
            return str(self.context.sandbox.resolve(path))
        except (PathOutsideWorkspace, OSError, ValueError):
            return path

    def _error(self, call: ToolCall, message: str, details: dict[str, Any] | None = None) -> ToolResult:
        payload = {"error": message, **(details or {})}
        return ToolResult(call.id, call.name, self._redacted(dumps(payload)), is_error=True)

    def _redacted(self, content: str) -> str:
        clean, count = self.context.redactor.redact_result(content)
        if count:
            self.context.flags.add(Flag.SECRETS_REDACTED)
        return clean
