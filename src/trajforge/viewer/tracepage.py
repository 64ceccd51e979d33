"""What the trace page shows, built from one row: turns in order, each tool call beside its result.

A FORMAT.md row is parsed back into an episode (`trace.parse`), an episode
record rebuilt (`trace.from_record`), so both read the same way; a record also
gives the side panel (model, finish, outcome, check output, timings, usage,
flags). A row that does not parse is shown turn by turn as raw text, with why.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from trajforge.trace import Episode, Message, ParseError, RecordError, ToolCall, from_record, parse
from trajforge.trace.turns import loads

LONG_OUTPUT = 2000  # characters of a tool result shown before "show all"


@dataclass
class ResultView:
    """A tool's result for one call."""

    text: str
    error: bool
    seconds: float | None = None
    screenshot: str = ""
    """The file name of a screenshot the call saved (browser_vision's `screenshot_path`)."""

    @property
    def long(self) -> bool:
        """Whether the page folds it."""
        return len(self.text) > LONG_OUTPUT or self.text.count("\n") > 40


@dataclass
class CallView:
    """One tool call, its arguments pretty-printed, and its result (None when it never came)."""

    id: str
    name: str
    arguments: str
    raw: bool
    result: ResultView | None = None
    children: list[TraceView] = field(default_factory=list)
    """Episodes delegate_task (or a cron job's prompt) ran for this call, from the record's `run.children`."""


@dataclass
class StepView:
    """One turn of the conversation."""

    role: str  # user | assistant | tool (a result no call asked for) | raw
    content: str = ""
    reasoning: str = ""
    calls: list[CallView] = field(default_factory=list)
    seconds: float | None = None
    tokens: str = ""
    source: str = ""  # the raw turn's `from`, for rows that do not parse

    @property
    def reasoning_words(self) -> int:
        """Word count of the reasoning (as the card counts think depth)."""
        return len(self.reasoning.split())


@dataclass
class TraceView:
    """Everything the trace page shows of one row."""

    system: str = ""
    tools: str = ""
    task: str = ""
    steps: list[StepView] = field(default_factory=list)
    problem: str = ""
    record: dict[str, Any] | None = None


def pretty(value: Any) -> str:
    """JSON for reading: indented, non-ASCII kept."""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def is_error(text: str) -> bool:
    """Whether a tool result reads as a failure: an error field, success false, a non-zero exit code."""
    head = text.lstrip()[:200].lower()
    if head.startswith(("error", "traceback", "exception")):
        return True
    if not head.startswith("{"):
        return False
    try:
        value = loads(text)
    except ValueError:
        return False
    if not isinstance(value, dict):
        return False
    code = value.get("exit_code", value.get("returncode"))
    return bool(value.get("error")) or value.get("success") is False or (isinstance(code, int) and code != 0)


def trace_view(data: Any, problem: str = "", raw: str = "") -> TraceView:
    """The page's view of a parsed line or row (or of raw text that did not parse)."""
    if not isinstance(data, dict):
        return TraceView(problem=problem or "not a JSON object", steps=[StepView("raw", content=raw)] if raw else [])
    try:
        episode = from_record(data) if "messages" in data else parse(data)
    except (ParseError, RecordError) as exc:
        return _raw_view(data, problem or str(exc))
    view = _episode_view(episode)
    view.problem = problem
    if "messages" in data:
        view.record = _record_panel(episode)
    return view


def _raw_view(data: dict[str, Any], problem: str) -> TraceView:
    found = data.get("conversations")
    turns: list[Any] = found if isinstance(found, list) else []
    steps = [
        StepView("raw", content=str(t.get("value", "")) if isinstance(t, dict) else pretty(t),
                 source=str(t.get("from", "?")) if isinstance(t, dict) else "?")
        for t in turns
    ]  # fmt: skip
    if not turns:
        steps = [StepView("raw", content=pretty(data), source="row")]
    return TraceView(task=str(data.get("task") or ""), steps=steps, problem=problem)


def _episode_view(episode: Episode) -> TraceView:
    tool_seconds = {t.tool_call_id: t.seconds for t in episode.timing.tool_calls}
    children = episode.run.get("children")
    child_records = children if isinstance(children, dict) else {}
    results: dict[str, Message] = {m.tool_call_id: m for m in episode.messages if m.role == "tool" and m.tool_call_id}
    called = {call.id for m in episode.messages for call in m.tool_calls}
    view = TraceView(tools=pretty(episode.tools), task=episode.task.prompt)
    assistant = 0
    for message in episode.messages:
        if message.role == "system":
            view.system = message.content or ""
        elif message.role == "user":
            view.steps.append(StepView("user", content=message.content or ""))
        elif message.role == "assistant":
            step = StepView("assistant", content=message.content or "", reasoning=message.reasoning or "")
            step.calls = [_call_view(call, results.get(call.id), tool_seconds) for call in message.tool_calls]
            for call in step.calls:
                records = child_records.get(call.id)
                call.children = [_child_view(r) for r in records] if isinstance(records, list) else []
            step.seconds, step.tokens = _model_call(episode, assistant)
            view.steps.append(step)
            assistant += 1
        elif message.tool_call_id not in called:  # a result no call asked for: shown, never dropped
            text = message.content or ""
            view.steps.append(StepView("tool", content=text, source=message.name or ""))
    return view


def _child_view(record: Any) -> TraceView:
    """A delegated child's episode (its record, kept under the parent's call), shown inside that call."""
    view = trace_view(record)
    if view.record is not None:  # the child's panel is one line in the parent's page: its finish
        view.record = {"finish": view.record["finish"]}
    return view


def _call_view(call: ToolCall, result: Message | None, seconds: dict[str, float]) -> CallView:
    raw = call.raw_arguments
    view = CallView(call.id, call.name, raw if raw is not None else fields(call.arguments), raw is not None)
    if result is not None:
        text = result.content or ""
        view.result = ResultView(_readable(text), is_error(text), seconds.get(call.id), _screenshot(text))
    return view


def _screenshot(text: str) -> str:
    if '"screenshot_path"' not in text:
        return ""
    try:
        value = loads(text)
    except ValueError:
        return ""
    path = value.get("screenshot_path") if isinstance(value, dict) else None
    return path.rsplit("/", 1)[-1] if isinstance(path, str) else ""


def _readable(text: str) -> str:
    """A JSON object result laid out for reading (see `fields`); anything else as it is."""
    if text[:1] == "{":
        try:
            value = loads(text)
        except ValueError:
            return text
        return fields(value) if isinstance(value, dict) else pretty(value)
    return text


def fields(value: dict[str, Any]) -> str:
    """An object as `key: value` lines; a string with line breaks (an output, a file) written out below its key.

    Escaped JSON (`"output": "a\\nb\\n"`) is what a viewer is there to spare its reader.
    """
    lines = []
    for key, item in value.items():
        if isinstance(item, str) and ("\n" in item or len(item) > 100):
            lines.append(f"{key}:\n{item.rstrip()}")
        elif isinstance(item, str):
            lines.append(f"{key}: {item}")
        else:
            lines.append(f"{key}: {pretty(item)}")
    return "\n".join(lines) if lines else "{}"


def _model_call(episode: Episode, index: int) -> tuple[float | None, str]:
    seconds = episode.timing.model_calls[index] if index < len(episode.timing.model_calls) else None
    tokens = ""
    usage = episode.usage[index] if index < len(episode.usage) else None
    if usage is not None and (usage.prompt_tokens is not None or usage.completion_tokens is not None):
        tokens = f"{usage.prompt_tokens or 0:,} in, {usage.completion_tokens or 0:,} out"
    return seconds, tokens


def _record_panel(episode: Episode) -> dict[str, Any]:
    prompt = sum(u.prompt_tokens or 0 for u in episode.usage)
    completion = sum(u.completion_tokens or 0 for u in episode.usage)
    return {
        "model": episode.model.name,
        "endpoint": episode.model.endpoint,
        "sampling": pretty(episode.model.sampling) if episode.model.sampling else "",
        "task id": episode.task.id,
        "finish": episode.finish.value,
        "error": episode.error or "",
        "outcome": episode.outcome.value,
        "check output": episode.check_output or "",
        "started": episode.started_at or "",
        "wall seconds": f"{episode.wall_seconds:.2f}" if episode.wall_seconds is not None else "",
        "model calls": _timed(episode.timing.model_calls),
        "tool calls": _timed([t.seconds for t in episode.timing.tool_calls]),
        "tokens": f"{prompt:,} prompt, {completion:,} completion" if prompt or completion else "",
        "flags": ", ".join(f.value for f in episode.flags),
        "run": pretty({k: v for k, v in episode.run.items() if k != "children"}) if episode.run else "",
    }


def _timed(seconds: list[float]) -> str:
    return f"{len(seconds)} in {sum(seconds):.2f} s" if seconds else ""
