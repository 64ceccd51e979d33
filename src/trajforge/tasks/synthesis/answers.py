"""Reading a model's answer: the YAML block, each spec in it validated as the loader does, ids made unique.

The answer is a fenced ```yaml block holding a list of specs (a bare YAML
list, or a mapping with `tasks:`, is taken too). Each spec may carry a
`wrong_solution` in the oracle's step form: a plausible attempt that must not
pass the check. It becomes one of the task's `negatives`, after the
do-nothing solution every checked task gets (the catalog standard), so
`tasks validate --run-oracles` plays them too. Synthesized tasks have no
oracle: one the model writes is dropped, as the model has not run it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from trajforge.tasks.fixtures import fixture_problems
from trajforge.tasks.spec import Solution, TaskSpec
from trajforge.tasks.synthesis.outcomes import Reason, Rejected
from trajforge.tasks.taxonomy import nearest_category

_ID_CHARS = re.compile(r"[^a-z0-9_.-]+")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
WRONG_KEYS = ("wrong_solution", "wrong_solutions")
"""Keys the model may give its wrong solution(s) under; never part of the written spec itself."""
OURS = ("oracle", "calibration")
"""Keys the model may not set: a synthesized task has no oracle, and calibration is measured here."""


DO_NOTHING = Solution(name="do-nothing", answer="Done.")
"""The negative every checked task gets: no tool call, only an answer claiming success."""


@dataclass
class Candidate:
    """A spec that validated; its `negatives` hold the do-nothing and the model's wrong solutions."""

    spec: TaskSpec
    notes: list[str] = field(default_factory=list)
    """What was mended or dropped on the way (an unusable wrong solution, a renamed id)."""


def extract_entries(text: str) -> list[Any]:
    """The spec entries of an answer; Rejected(NOT_PARSEABLE) when it holds no YAML list or mapping of specs."""
    blocks = [body for lang, body in _fenced_blocks(text or "") if lang in ("yaml", "yml") or "prompt:" in body]
    if not blocks:
        blocks = [text or ""]
    problems = []
    for block in blocks:
        try:
            data = yaml.load(block, Loader=_LOADER)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}: " if mark is not None else ""
            problems.append(f"{where}{getattr(exc, 'problem', None) or exc}")
            continue
        if isinstance(data, dict) and isinstance(data.get("tasks"), list):
            data = data["tasks"]
        elif isinstance(data, dict) and "prompt" in data:
            data = [data]
        if isinstance(data, list) and data:
            return data
        problems.append("an empty list" if data == [] else f"expected a list of task specs, got {type(data).__name__}")
    raise Rejected(Reason.NOT_PARSEABLE, "; ".join(problems)[:300])


def _fenced_blocks(text: str) -> list[tuple[str, str]]:
    """(language, body) of every fenced block; a block cut before its closing fence runs to the end."""
    blocks: list[tuple[str, str]] = []
    language, lines, inside = "", list[str](), False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("```"):
            if inside:
                blocks.append((language, "\n".join(lines)))
            else:
                language, lines = stripped[3:].strip().lower(), []
            inside = not inside
        elif inside:
            lines.append(line)
    if inside:
        blocks.append((language, "\n".join(lines)))
    return blocks


def read_candidate(entry: Any, *, category: str, subcategory: str, taken: set[str], fixture_root: Path) -> Candidate:
    """Validate one entry for the requested subcategory; its id is made unique against `taken` (and added to it).

    Raises Rejected: INVALID_SPEC, UNKNOWN_TOOLSET or FIXTURE_NOT_FOUND, with the field named.
    """
    if not isinstance(entry, dict):
        raise Rejected(Reason.INVALID_SPEC, f"a spec is a mapping, not {type(entry).__name__}")
    data = dict(entry)
    notes: list[str] = []
    for key in OURS:
        if data.pop(key, None) is not None:
            notes.append(f"dropped {key}")
    notes += _mend(data)
    raw_wrong = [data.pop(key) for key in WRONG_KEYS if key in data]
    if isinstance(data.get("category"), str) and nearest_category(data["category"]) == category:
        data["category"] = category  # "file_operations" or "file operations" for "File Operations"
    for key, wanted in (("category", category), ("subcategory", subcategory)):
        data.setdefault(key, wanted)
        if data[key] != wanted:
            raise Rejected(Reason.INVALID_SPEC, f"{key}: asked for {wanted!r}, got {data[key]!r}", str(data.get("id")))
    wrong, dropped = wrong_solutions(raw_wrong)
    if data.get("check") or data.get("check_python"):
        given: list[Any] = data["negatives"] if isinstance(data.get("negatives"), list) else []
        data["negatives"] = [DO_NOTHING.model_dump(), *(w.model_dump() for w in wrong), *given]
    asked_id = data.get("id")
    data["id"] = unique_id(asked_id, data.get("prompt"), subcategory, taken)
    if asked_id is not None and asked_id != data["id"]:
        notes.append(f"id {asked_id!r} renamed {data['id']!r}")
    try:
        spec = TaskSpec.model_validate(data)
    except ValidationError as exc:
        raise _rejection(exc, data["id"]) from None
    problems = fixture_problems(spec, fixture_root)
    if problems:
        where, reason = problems[0]
        raise Rejected(Reason.FIXTURE_NOT_FOUND, f"{where}: {reason}", spec.id)
    return Candidate(spec, notes + dropped)


def _mend(data: dict[str, Any]) -> list[str]:
    """Mend the shapes models commonly get slightly wrong, each noted: a check given as a list of
    commands, set-up as one string, toolsets as a comma-separated string."""
    notes = []
    if isinstance(data.get("check"), list) and all(isinstance(c, str) for c in data["check"]):
        data["check"] = " && ".join(f"( {c} )" for c in data["check"])
        notes.append("mended check: a list of commands joined with &&")
    fixtures = data.get("fixtures")
    if isinstance(fixtures, dict) and isinstance(fixtures.get("setup"), str):
        data["fixtures"] = {**fixtures, "setup": [fixtures["setup"]]}
        notes.append("mended setup: one command made a list")
    if isinstance(data.get("toolsets"), str):
        data["toolsets"] = [name.strip() for name in data["toolsets"].split(",") if name.strip()]
        notes.append("mended toolsets: a comma-separated string made a list")
    return notes


def _rejection(exc: ValidationError, task_id: str) -> Rejected:
    errors = exc.errors()
    for error in errors:
        if error["loc"] and error["loc"][0] == "toolsets":
            return Rejected(Reason.UNKNOWN_TOOLSET, str(error["msg"]).removeprefix("Value error, "), task_id)
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"]) or "(task)"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return Rejected(Reason.INVALID_SPEC, f"{where}: {first['msg']}{more}", task_id)


def wrong_solutions(raw: list[Any]) -> tuple[list[Solution], list[str]]:
    """The wrong solutions the model gave (one, or a list, each in the oracle's form); notes on those unusable."""
    found: list[Solution] = []
    notes: list[str] = []
    items = [item for value in raw for item in (value if isinstance(value, list) else [value])]
    for number, item in enumerate(items, 1):
        if isinstance(item, str):  # one shell command, as models often write it
            item = {"steps": [{"tool": "terminal", "args": {"command": item}}]}
        if isinstance(item, dict):
            item = {"answer": "Done.", "name": "wrong-solution" + (f"-{number}" if number > 1 else ""), **item}
        try:
            found.append(Solution.model_validate(item))
        except ValidationError as exc:
            first = exc.errors()[0]
            notes.append(f"wrong solution unusable: {'.'.join(map(str, first['loc']))}: {first['msg']}")
    return found, notes


def unique_id(asked: Any, prompt: Any, subcategory: str, taken: set[str]) -> str:
    """A spec id from what the model asked for (or the prompt's first words), with -2, -3... while taken."""
    base = _ID_CHARS.sub("-", str(asked).lower()).strip("-._") if isinstance(asked, str | int) else ""
    if not base:
        words = _ID_CHARS.sub("-", " ".join(str(prompt or "").lower().split()[:5])).strip("-._")
        base = f"syn-{subcategory.replace('_', '-')}-{words or 'task'}"
    base = base[:80].rstrip("-._") or "task"
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        candidate = f"{base}-{number}"
    taken.add(candidate)
    return candidate
