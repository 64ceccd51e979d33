"""Loading task specs from YAML: one task, a list, or a mapping with `tasks:` per file.

A bad task gives one line naming the file, the task id and the field; every
other valid task still loads.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from trajforge.tasks.fixtures import FolderCache, fixture_problems
from trajforge.tasks.parse_cache import parsed
from trajforge.tasks.spec import TaskSpec

CATALOG_DIR = Path(__file__).parent / "catalog"


@dataclass(frozen=True)
class LoadedTask:
    """A valid spec and the folder its fixture folders are found in."""

    spec: TaskSpec
    source: Path

    @property
    def fixture_root(self) -> Path:
        """Folder that `folders`, git `folder` and site `folder` names are relative to."""
        return self.source.parent / "fixtures"


@dataclass
class TaskLoad:
    """What a load found: the valid tasks, and one line per problem."""

    tasks: list[LoadedTask] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def by_id(self, task_id: str) -> LoadedTask | None:
        """The task with this id, if it loaded."""
        return next((t for t in self.tasks if t.spec.id == task_id), None)


def spec_files(paths: Iterable[Path | str]) -> list[Path]:
    """YAML files named or found under `paths`; `builtin` names the built-in catalog."""
    files: list[Path] = []
    for raw in paths:
        path = CATALOG_DIR if str(raw) == "builtin" else Path(raw)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*.y*ml") if "fixtures" not in p.relative_to(path).parts))
        else:
            files.append(path)
    return files


def load_tasks(paths: Iterable[Path | str] = ("builtin",)) -> TaskLoad:
    """Every task of the spec files under `paths`; problems are collected, never raised."""
    load = TaskLoad()
    seen: dict[str, Path] = {}
    folders: FolderCache = {}
    for file in spec_files(paths):
        for entry in _entries(file, load):
            task_id = entry.get("id") if isinstance(entry, dict) else None
            try:
                spec = TaskSpec.model_validate(entry)
            except ValidationError as exc:
                for error in exc.errors():
                    where = ".".join(str(part) for part in error["loc"]) or "(task)"
                    load.problems.append(f"{file}: task {task_id or '?'}: {where}: {error['msg']}")
                continue
            if spec.id in seen:
                load.problems.append(f"{file}: task {spec.id}: id: also defined in {seen[spec.id]}")
                continue
            task = LoadedTask(spec, file)
            problems = fixture_problems(spec, task.fixture_root, folders)
            load.problems += [f"{file}: task {spec.id}: {where}: {reason}" for where, reason in problems]
            if problems:
                continue
            seen[spec.id] = file
            load.tasks.append(task)
    return load


class _NotYAML(ValueError):
    """A task file PyYAML refuses: where and why."""

    def __init__(self, line: str, problem: str) -> None:
        super().__init__(f"{line} not YAML: {problem}")


def _parse_yaml(text: str) -> Any:
    """libyaml's loader when present (the pure-Python one was most of `generate`'s start-up).

    A document libyaml refuses is parsed again by the pure-Python loader, whose
    errors (and acceptance of escapes such as lone surrogates, which the spec's
    fields then reject by name) are the ones users see. Raises _NotYAML.
    """
    import yaml  # a start-up whose task files are all in the parse cache needs no YAML

    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None:
        try:
            return _documents(yaml.load_all(text, Loader=fast))
        except yaml.YAMLError:
            pass
    try:
        return _documents(yaml.safe_load_all(text))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        raise _NotYAML(line, getattr(exc, "problem", None) or str(exc)) from None


def _parse_bytes(raw: bytes) -> Any:
    return _parse_yaml(raw.decode("utf-8"))


def _documents(stream: Iterable[Any]) -> Any:
    """One document as it is; several (a file grown by appended documents, as `tasks synthesize` writes it)
    as one list of all their tasks."""
    documents = list(stream)
    if len(documents) <= 1:
        return documents[0] if documents else None
    entries: list[Any] = []
    for document in documents:
        if isinstance(document, dict) and "tasks" in document:
            document = document["tasks"]
        if document is not None:
            entries += document if isinstance(document, list) else [document]
    return entries


def _entries(file: Path, load: TaskLoad) -> list[Any]:
    try:
        raw = file.read_bytes()
        data = parsed(raw, _parse_bytes)
    except OSError as exc:
        load.problems.append(f"{file}: cannot read: {exc.strerror or exc}")
        return []
    except UnicodeDecodeError as exc:
        number = raw.count(b"\n", 0, exc.start) + 1
        load.problems.append(f"{file}: line {number} not UTF-8: byte 0x{raw[exc.start]:02x} at offset {exc.start}")
        return []
    except _NotYAML as exc:
        load.problems.append(f"{file}:{exc}")
        return []
    if isinstance(data, dict) and "tasks" in data:
        data = data["tasks"]
    if isinstance(data, dict):
        return [data]
    if isinstance(data, list):
        return data
    load.problems.append(f"{file}: expected a task, a list of tasks, or a mapping with tasks:")
    return []
