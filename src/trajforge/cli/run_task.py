"""`trajforge run-task`: one new episode (a prompt, or a task of a spec file) into a normal run folder."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError

from trajforge.cli import options as opt
from trajforge.cli.common import fail
from trajforge.cli.generate import parse_options, run_locked

if TYPE_CHECKING:
    from trajforge.runner import GenerateSettings, GenerateSummary, RunOptions
    from trajforge.tasks import LoadedTask


def run_task(
    ctx: typer.Context,
    out: opt.OutFolder = None,
    prompt: Annotated[
        str | None, typer.Option(help="What the user asks the agent (an ad-hoc task).", metavar="TEXT")
    ] = None,
    task: Annotated[
        str | None, typer.Option(help="Run this task of --tasks instead of a prompt.", metavar="ID")
    ] = None,
    tasks: opt.TaskSources = None,
    endpoint: opt.Endpoint = None,
    model: opt.ModelName = "",
    api_key: opt.ApiKey = "",
    config: opt.Config = "",
    category: Annotated[str, typer.Option(help="Taxonomy category of an ad-hoc task.", metavar="NAME")] = (
        "Terminal & Coding"
    ),
    subcategory: Annotated[str, typer.Option(help="Subcategory of an ad-hoc task.", metavar="ID")] = "script_writing",
    sandbox: opt.Sandbox = "auto",
    keep_workspace: opt.KeepWorkspace = False,
    temperature: opt.Temperature = None,
    top_p: opt.TopP = None,
    max_tokens: opt.MaxTokens = None,
    max_turns: opt.MaxTurns = None,
    wall_seconds: opt.WallSeconds = None,
    toolsets: opt.Toolsets = None,
    extra_body: opt.ExtraBody = "",
    request_timeout: opt.RequestTimeout = 600.0,
    reasoning_field: opt.ReasoningField = None,
    max_context_tokens: opt.MaxContextTokens = None,
    on_context: opt.OnContext = "end",
    max_tool_result_tokens: opt.MaxToolResultTokens = None,
    tokenizer: opt.Tokenizer = None,
    tool_format: opt.ToolFormat = None,
    api: opt.Api = "chat",
    chat_template: opt.ChatTemplatePath = None,
    reasoning_parser: opt.ReasoningParser = None,
) -> None:
    """Run one episode with real tools in a sandbox and write its record and row into the run folder OUT.

    Each call runs a new repeat of the task, so calling it again adds an episode.
    """
    if (prompt is None) == (task is None):
        raise fail("give either --prompt (an ad-hoc task) or --task ID (a task of --tasks)")
    values = {k: v for k, v in locals().items() if k not in ("ctx", "prompt", "task", "category", "subcategory")}
    given = opt.typed_options(ctx, values)
    given.update(policy="model", concurrency=1, quiet=True)
    options = parse_options(given)
    chosen = [_adhoc(prompt, category, subcategory, options)] if prompt is not None else _by_id(task or "", options)
    options = _next_repeat(options, chosen[0])
    code = run_locked(options, lambda _options: chosen, _show)
    if code:
        raise typer.Exit(code)


def _adhoc(prompt: str, category: str, subcategory: str, options: RunOptions) -> LoadedTask:
    from trajforge.tasks import LoadedTask, TaskLimits, TaskSpec, resolve_category, taxonomy_problem

    try:
        category = resolve_category(category)
    except ValueError as exc:
        raise fail(str(exc)) from None
    problem = taxonomy_problem(category, subcategory)
    if problem:
        raise fail(problem)
    digest = hashlib.sha256(prompt.encode()).hexdigest()[:12]  # the same prompt is the same task
    try:
        spec = TaskSpec(
            id=f"adhoc-{digest}",
            category=category,
            subcategory=subcategory,
            prompt=prompt,
            toolsets=[t.strip() for t in (options.toolsets or "terminal,file,code").split(",") if t.strip()],
            limits=TaskLimits(),
        )
    except ValidationError as exc:
        raise fail("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())) from None
    assert options.out is not None
    return LoadedTask(spec, options.out / "adhoc.yaml")


def _by_id(task_id: str, options: RunOptions) -> list[LoadedTask]:
    from trajforge.tasks import load_tasks

    load = load_tasks(options.tasks)
    found = [t for t in load.tasks if t.spec.id == task_id]
    if not found:
        problems = "".join(f"\n  {p}" for p in load.problems)
        raise fail(f"no task {task_id!r} in {', '.join(options.tasks)}{problems}")
    return found


def _next_repeat(options: RunOptions, task: LoadedTask) -> RunOptions:
    """Options whose last repeat is the first one of `task` not yet recorded in the run folder."""
    from trajforge.runner import Ledger, episode_id

    config = options.config_name()
    scan = Ledger(options.out or Path("."), config).scan()
    repeat = 0
    while episode_id(config, task.spec.id, repeat) in scan.final:
        repeat += 1
    return options.model_copy(update={"repeat": repeat + 1, "max_episodes": 1})


def _show(summary: GenerateSummary, settings: GenerateSettings, options: RunOptions) -> int:
    from trajforge.runner import Ledger

    ledger = Ledger(settings.out, settings.config)
    if summary.setup_failed:
        raise fail(f"setup failed: {summary.setup_failed[0]}", 1)
    if summary.ran == 0:
        raise fail("no episode ran" + (f": {summary.stopped}" if summary.stopped else ""), 1)
    record = ledger.last_record(summary.last_id) if summary.last_id else None
    if record is None:
        raise fail("the episode's record was not found", 1)
    print(f"backend: {(record.get('run') or {}).get('sandbox', '?')}")
    print(f"finish: {record['finish']}" + (f" ({record['error']})" if record.get("error") else ""))
    print(f"check: {record['outcome']}")
    print(f"episode record: {ledger.records_dir}")
    print(f"rows: {ledger.rows_dir}")
    return 0 if summary.complete else 1
