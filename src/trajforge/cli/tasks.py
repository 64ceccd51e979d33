"""`trajforge tasks list|show|validate`."""

from __future__ import annotations

import asyncio
import fnmatch
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
import yaml
from rich.console import Console
from rich.table import Table

from trajforge.cli.common import fail
from trajforge.cli.options import sandbox_backend
from trajforge.cli.synthesize import synthesize_command
from trajforge.sandbox import SandboxConfig, SandboxFactory
from trajforge.tasks import LoadedTask, TaskLoad, UnknownCategory, load_tasks, resolve_category
from trajforge.trace.turns import json_bytes

if TYPE_CHECKING:
    from trajforge.runner.task_judging import Play

app = typer.Typer(help="List, show and check task specs (the built-in catalog by default).", no_args_is_help=True)
SourcesOpt = Annotated[
    list[str] | None, typer.Option("--tasks", help="Spec files or folders; `builtin` is the catalog (default).")
]


def _load(sources: list[str] | None, errors: Console, *, fail_on_problems: bool = False) -> TaskLoad:
    load = load_tasks(sources or ["builtin"])
    for problem in load.problems:
        errors.print(f"error: {problem}", markup=False, highlight=False, soft_wrap=True)
    if fail_on_problems and load.problems:
        raise typer.Exit(1)
    return load


@app.command("list")
def list_tasks(
    sources: SourcesOpt = None,
    category: Annotated[
        str | None, typer.Option(help="Only this category (any case; 'file_operations' works too).")
    ] = None,
    json: Annotated[bool, typer.Option("--json", help="One JSON object per task.")] = False,
) -> None:
    """One task per row: id, category, subcategory, toolsets, has check, has oracle, runnable now."""
    try:
        wanted = None if category is None else resolve_category(category)
    except UnknownCategory as exc:
        raise fail(str(exc)) from None
    load = _load(sources, Console(stderr=True))
    tasks = [t for t in load.tasks if wanted is None or t.spec.category == wanted]
    rows = [_summary(t) for t in tasks]
    if json:
        for row in rows:
            sys.stdout.buffer.write(json_bytes(row) + b"\n")
        return
    table = Table(title=f"{len(rows)} tasks", title_justify="left")
    table.add_column("id", no_wrap=True)  # ids are what users copy; never cut them
    for column in ("category", "subcategory", "toolsets", "check", "oracle", "runnable"):
        table.add_column(column)
    for row in rows:
        table.add_row(*(_cell(row[k]) for k in ("id", "category", "subcategory", "toolsets", "check", "oracle",
                                                "runnable")))  # fmt: skip
    Console().print(table)


def _summary(task: LoadedTask) -> dict[str, object]:
    from trajforge.runner import runnable  # here: the runner pulls in the model client (openai)

    spec = task.spec
    return {
        "id": spec.id,
        "category": spec.category,
        "subcategory": spec.subcategory,
        "toolsets": spec.toolsets,
        "check": spec.has_check,
        "oracle": spec.oracle is not None,
        "runnable": runnable(spec),
        "file": str(task.source),
    }


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ",".join(map(str, value))
    return str(value)


@app.command("show")
def show(task_id: Annotated[str, typer.Argument(help="The task's id.")], sources: SourcesOpt = None) -> None:
    """Print one task's spec as YAML."""
    load = _load(sources, Console(stderr=True))
    task = load.by_id(task_id)
    if task is None:
        Console(stderr=True).print(f"error: no task {task_id!r}", markup=False, highlight=False)
        raise typer.Exit(2)
    print(f"# {task.source}")
    print(yaml.safe_dump(task.spec.model_dump(exclude_defaults=True), sort_keys=False, allow_unicode=True), end="")


@app.command("validate")
def validate(
    sources: SourcesOpt = None,
    run_oracles: Annotated[
        bool,
        typer.Option(help="Play every runnable task's oracle, negatives and alternates, and judge its check by them."),
    ] = False,
    backend: Annotated[
        str, typer.Option("--sandbox", "--backend", help="Sandbox for --run-oracles: auto, local or bwrap.")
    ] = "auto",
    only: Annotated[
        list[str] | None, typer.Option("--task", help="Only tasks whose id matches this glob (repeatable).")
    ] = None,
    jobs: Annotated[int, typer.Option(min=1, max=64, help="Tasks played at once with --run-oracles.")] = 2,
) -> None:
    """Check the specs load and their fixtures can be laid out; with --run-oracles, that each check passes the
    oracle and the alternates and fails every negative (exit 1 on any misjudgement)."""
    sandbox = sandbox_backend(backend)
    errors = Console(stderr=True)
    load = _load(sources, errors)
    tasks = [t for t in load.tasks if not only or any(fnmatch.fnmatchcase(t.spec.id, p) for p in only)]
    if only and not tasks:
        raise fail(f"no task matches --task {' '.join(only)}")
    total = len(load.tasks) + len(load.problems)
    print(f"{len(load.tasks)} tasks loaded, {len(load.problems)} problem(s) in {total} entries")
    failures = list(load.problems)
    for name, users in _overused_fixtures(load.tasks).items():
        print(
            f"note: fixture folder {name} is used by {len(users)} tasks (the standard is at most "
            f"{MAX_FIXTURE_USES}): {', '.join(users)}"
        )
    if run_oracles:
        failures += asyncio.run(_run_oracles(tasks, SandboxConfig(backend=sandbox), jobs))
    if failures:
        raise typer.Exit(1)


MAX_FIXTURE_USES = 6
"""A fixture folder shared by more tasks makes their trajectories near-duplicates."""


def _overused_fixtures(tasks: list[LoadedTask]) -> dict[str, list[str]]:
    """Fixture folder (by path) -> the ids of the tasks using it, where more than MAX_FIXTURE_USES do."""
    users: dict[str, list[str]] = {}
    for task in tasks:
        fixtures = task.spec.fixtures
        names = {*fixtures.folders, *(repo.folder for repo in fixtures.git if repo.folder)}
        for name in sorted(names):
            users.setdefault(str(task.fixture_root / name), []).append(task.spec.id)
    return {Path(name).name: ids for name, ids in users.items() if len(ids) > MAX_FIXTURE_USES}


async def _run_oracles(tasks: list[LoadedTask], sandbox: SandboxConfig, jobs: int) -> list[str]:
    from trajforge.runner import runnable  # here: the runner pulls in the model client (openai)
    from trajforge.runner.task_judging import judge_tasks

    playable = [t for t in tasks if runnable(t.spec) and (t.spec.oracle or t.spec.negatives or t.spec.alternates)]

    def report(plays: list[Play]) -> None:
        wrong = [p for p in plays if p.misjudged or p.ungrounded]
        counts = ", ".join(f"{sum(p.kind == k for p in plays)} {k}" for k in ("oracle", "negative", "alternate"))
        print(f"{'ok  ' if not wrong else 'FAIL'} {plays[0].task_id}: {counts} played", flush=True)
        for play in wrong:
            if play.misjudged:
                print(f"     {play.kind} {play.label!r}: check {play.outcome}: {play.reason}", flush=True)
            for problem in play.ungrounded:
                print(f"     {play.kind} {play.label!r}: answer {problem}", flush=True)

    plays = await judge_tasks(playable, SandboxFactory(sandbox), jobs=jobs, done=report)
    failures = [f"{p.task_id}: {p.kind} {p.label!r}: {p.reason}" for p in plays if p.misjudged]
    failures += [f"{p.task_id}: {p.kind} {p.label!r}: answer {u}" for p in plays for u in p.ungrounded]
    checked = [t for t in playable if t.spec.has_check]
    lacking = sorted(t.spec.id for t in checked if not t.spec.negatives)
    print(_judging_summary(plays))
    if lacking:
        print(f"{len(lacking)} of {len(checked)} played tasks with a check have no negative: {', '.join(lacking)}")
    return failures


def _judging_summary(done: list[Play]) -> str:
    parts = []
    for kind, wrong in (("oracle", "failed"), ("negative", "passed"), ("alternate", "failed")):
        mine = [p for p in done if p.kind == kind]
        misjudged = sum(p.misjudged and p.outcome != "setup" for p in mine)
        parts.append(f"{len(mine)} {kind}s played, {misjudged} {wrong}")
    setups = sum(p.outcome == "setup" for p in done)
    if setups:
        parts.append(f"{setups} could not be set up")
    tasks = len({p.task_id for p in done})
    ungrounded = sum(bool(p.ungrounded) for p in done)
    oracles = [p for p in done if p.kind == "oracle" and p.episode is not None and p.label == "oracle"]
    calls = [sum(len(m.tool_calls) for m in p.episode.messages) for p in oracles if p.episode is not None]
    mean = f"; oracle tool calls: mean {sum(calls) / len(calls):.2f}, min {min(calls)}" if calls else ""
    return f"{tasks} tasks judged: " + "; ".join(parts) + f"; {ungrounded} answers ungrounded{mean}"


app.command("synthesize")(synthesize_command)  # issue 17: its own module, cli/synthesize.py
