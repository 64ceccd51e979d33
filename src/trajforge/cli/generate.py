"""`trajforge generate`: episodes over tasks, with the oracle or a served model, many at a time.

Exit codes: 0 every planned episode recorded with a final outcome (or nothing left
to do); 1 some episodes failed (set-up, harness error, transient model failure,
the breaker) or were not run: a rerun over the same folder retries them; 2 bad
usage, bad task files, a locked folder, or the endpoint failed its preflight;
130 interrupted (Ctrl-C or SIGTERM).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from trajforge.cli import options as opt
from trajforge.cli.common import fail
from trajforge.cli.run_display import RunDisplay, duration

if TYPE_CHECKING:  # the runner pulls in the model client (openai): imported where a command needs it
    from trajforge.runner import GenerateSettings, GenerateSummary, RunOptions
    from trajforge.tasks import LoadedTask

INTERRUPTED = 130
# What changes the episodes themselves: resuming with other values mixes two kinds of episodes in one config.
_EPISODE_SETTINGS = ("policy", "model", "temperature", "top_p", "max_tokens", "extra_body", "max_turns",
                     "wall_seconds", "toolsets", "sandbox", "reasoning_field", "max_context_tokens", "on_context",
                     "max_tool_result_tokens", "tokenizer", "tool_format", "api", "chat_template",
                     "reasoning_parser")  # fmt: skip


def generate_command(
    ctx: typer.Context,
    out: opt.OutFolder = None,
    tasks: opt.TaskSources = None,
    category: Annotated[
        list[str] | None, typer.Option(help="Only these categories (repeat for several).", metavar="NAME")
    ] = None,
    policy: Annotated[
        str, typer.Option(help="oracle (each task's reference solution) or model.", metavar="oracle|model")
    ] = "model",
    endpoint: opt.Endpoint = None,
    model: opt.ModelName = "",
    api_key: opt.ApiKey = "",
    config: opt.Config = "",
    repeat: Annotated[int, typer.Option(min=1, help="Episodes per task.", metavar="N")] = 1,
    concurrency: Annotated[int, typer.Option(min=0, help="Episodes in flight (0: 8 per core).", metavar="N")] = 0,
    max_episodes: Annotated[
        int | None, typer.Option(min=1, help="Stop after this many new episodes.", metavar="N")
    ] = None,
    resume: Annotated[
        bool, typer.Option(help="Skip episodes OUT already holds (--no-resume refuses a used OUT).")
    ] = True,
    retry_failed: Annotated[
        bool, typer.Option(help="Also rerun recorded episodes that ended other than `stop`.")
    ] = False,
    fail_fast: Annotated[bool, typer.Option(help="Stop at the first episode that ends in a harness error.")] = False,
    seed: Annotated[int | None, typer.Option(help="Shuffle the task order with this seed.", metavar="N")] = None,
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
    vision_endpoint: Annotated[
        str | None, typer.Option(help="Where browser_vision asks (default: --endpoint).", metavar="URL")
    ] = None,
    vision_model: Annotated[
        str | None, typer.Option(help="The model browser_vision asks (default: --model).", metavar="NAME")
    ] = None,
    user_endpoint: Annotated[
        str | None, typer.Option(help="Where a task's simulated user is played (default: --endpoint).", metavar="URL")
    ] = None,
    user_model: Annotated[
        str | None, typer.Option(help="The model playing a simulated user (default: --model).", metavar="NAME")
    ] = None,
    run_file: Annotated[
        Path | None, typer.Option("--run", help="A YAML file of these options (flags win).", metavar="FILE")
    ] = None,
    quiet: Annotated[bool, typer.Option(help="A log line per episode instead of the progress bar.")] = False,
    log_every: Annotated[
        float, typer.Option(help="Seconds between status lines when stderr is not a terminal.", metavar="S")
    ] = 60.0,
    runner: Annotated[
        str, typer.Option(help="local (one asyncio process) or ray (shares over a Ray cluster).", metavar="local|ray")
    ] = "local",
    ray_address: Annotated[
        str | None, typer.Option(help="Ray cluster address (default: start a local one).", metavar="ADDR")
    ] = None,
    ray_workers: Annotated[int, typer.Option(min=1, help="Ray shares, one CPU each.", metavar="N")] = 2,
) -> None:
    """Generate episodes over tasks; Ctrl-C (or SIGTERM) once lets running episodes finish, twice stops at once."""
    values = {k: v for k, v in locals().items() if k not in ("ctx", "run_file")}  # first: the options only
    options = parse_options(opt.typed_options(ctx, values), run_file)
    code = run_locked(options, _chosen_tasks)
    if code:
        raise typer.Exit(code)


def run_locked(
    options: RunOptions,
    choose: Callable[[RunOptions], list[LoadedTask]],
    show: Callable[[GenerateSummary, GenerateSettings, RunOptions], int] | None = None,
) -> int:
    """Lock the run folder, run the tasks `choose` picks, `show` the result (default: the table); the exit code."""
    from trajforge.runner import RunFolderLocked, RunLock

    settings = options.settings()
    try:
        with RunLock(settings.out) as lock:
            if lock.took_over:
                _stderr().print(f"note: took over the run folder's lock left by {lock.took_over} (no longer running)")
            summary = _generate(options, settings, choose)
    except RunFolderLocked as exc:
        raise fail(str(exc)) from None
    return (show or report)(summary, settings, options)


def parse_options(given: dict[str, Any], run_file: Path | None = None) -> RunOptions:
    """Defaults, then the run file, then what was given (environment or flags), validated as one."""
    from trajforge.runner import RunOptions, option_errors

    merged = dict(_read_run_file(run_file)) if run_file else {}
    merged.update({k: v for k, v in given.items() if v is not None})
    try:
        return RunOptions.model_validate(merged)
    except ValidationError as exc:
        lines = option_errors(exc, str(run_file) if run_file else "")
        raise fail("\n".join(lines)) from None


def _read_run_file(path: Path) -> dict[str, Any]:
    import yaml  # only runs with a --run file read YAML here (the task files' parses are cached)

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise fail(f"{path}: {exc}") from None
    if not isinstance(data, dict):
        raise fail(f"{path}: expected a mapping of options, e.g. `model: my-model`")
    return {str(k).replace("-", "_"): v for k, v in data.items()}


def _generate(
    options: RunOptions, settings: GenerateSettings, choose: Callable[[RunOptions], list[LoadedTask]]
) -> GenerateSummary:
    """Everything that happens while the folder is locked."""
    from trajforge.runner import Ledger
    from trajforge.sandbox import remove_stale_workspaces

    errors = _stderr()
    ledger = Ledger(settings.out, settings.config)
    if not options.resume and ledger.record_files():
        raise fail(f"{ledger.records_dir} already holds episodes; use another --out, or resume")
    chosen = choose(options)
    removed = remove_stale_workspaces(settings.sandbox.parent)
    if removed:
        errors.print(f"removed {removed} workspace(s) left behind by runs that no longer exist")
    if settings.model is not None:
        served_context = _preflight(settings)
        if served_context and settings.episode.max_context_tokens is None:
            # the server's context window, so an overflowing prompt ends (or compresses) before it is sent
            episode = settings.episode.model_copy(update={"max_context_tokens": served_context})
            settings = settings.model_copy(update={"episode": episode})
    _write_manifest(ledger.records_dir, options, settings, errors)
    return _run(chosen, settings, options)


def _chosen_tasks(options: RunOptions) -> list[LoadedTask]:
    """The tasks to run; a problem in a task file or a category that matches nothing is an error (exit 2)."""
    from trajforge.tasks import UnknownCategory, load_tasks, resolve_category

    load = load_tasks(options.tasks)
    if load.problems:
        listed = "\n".join(f"  {p}" for p in load.problems)
        raise fail(
            f"{len(load.problems)} problem(s) in the task files (`trajforge tasks validate` shows all):\n{listed}"
        )
    if not load.tasks:
        raise fail(f"no tasks in {', '.join(options.tasks)}")
    try:
        wanted = {resolve_category(name) for name in options.category}
    except UnknownCategory as exc:
        raise fail(str(exc)) from None
    chosen = [t for t in load.tasks if not wanted or t.spec.category in wanted]
    if not chosen:
        raise fail(f"no task of {', '.join(options.tasks)} is in the categories {', '.join(sorted(wanted))}")
    return chosen


def _preflight(settings: GenerateSettings) -> int | None:
    """Check the endpoints (exit 2 when none serves the model); the context window the servers report."""
    from trajforge.policy import PreflightError, preflight

    assert settings.model is not None
    try:
        report = asyncio.run(preflight(settings.model))
    except PreflightError as exc:
        raise fail(f"the endpoint is not ready: {exc}") from None
    for warning in report.warnings:
        _stderr().print(f"warning: {warning}")
    return report.max_model_len


def _write_manifest(folder: Path, options: RunOptions, settings: GenerateSettings, errors: Console) -> None:
    """manifest.json holds this run's settings (never the API key); manifests.jsonl every run's, oldest first.

    Resuming with settings that change the episodes (temperature 0.2, then 1.0) is
    allowed, but said: each record keeps its own sampling settings.
    """
    from trajforge.sandbox import SandboxFactory, SandboxUnavailable
    from trajforge.trace.turns import json_bytes, loads

    manifest = options.manifest()
    manifest.update(concurrency=settings.concurrency, written=time.strftime("%FT%T%z"))
    with contextlib.suppress(SandboxUnavailable):  # generation itself reports that
        manifest["sandbox_backend"] = asyncio.run(SandboxFactory(settings.sandbox).backend())
    current = folder / "manifest.json"
    previous: dict[str, Any] = {}
    with contextlib.suppress(OSError, ValueError):
        previous = loads(current.read_bytes())
    changed = [k for k in _EPISODE_SETTINGS if previous and k in previous and previous[k] != manifest.get(k)]
    if changed:
        listed = ", ".join(f"{k} {previous[k]!r} -> {manifest.get(k)!r}" for k in changed)
        errors.print(f"warning: resuming {folder} with other settings ({listed}); each record keeps its own")
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "manifests.jsonl").open("ab") as history:
        history.write(json_bytes(manifest) + b"\n")
    temporary = current.with_suffix(".partial")
    temporary.write_bytes(json_bytes(manifest) + b"\n")
    temporary.replace(current)


def _run(tasks: list[LoadedTask], settings: GenerateSettings, options: RunOptions) -> GenerateSummary:
    from trajforge.runner import GenerateSummary, Ledger, RayOptions, generate_on_ray

    ledger = Ledger(settings.out, settings.config)
    summary = GenerateSummary(ledger.records_dir, ledger.rows_dir)
    log = ledger.records_dir / "generate.log"
    with RunDisplay(summary, log, quiet=options.quiet, log_every=options.log_every) as display:
        display.say(f"generate {settings.config} into {settings.out} ({len(tasks)} tasks)", screen=False)
        if options.runner == "ray":
            display.say(f"running on Ray in {options.ray_workers} shares")
            sources = [str(s) for s in options.tasks]
            shares = RayOptions(options.ray_address, options.ray_workers)
            summary = generate_on_ray(sources, [t.spec.id for t in tasks], settings, shares)
        else:
            summary = asyncio.run(_local(tasks, settings, summary, display))
        display.say(f"ended: {summary.ran} ran, {summary.failed} failed, {summary.stopped or 'no early stop'}",
                    screen=False)  # fmt: skip
    return summary


async def _local(tasks: list[LoadedTask], settings: GenerateSettings, summary: GenerateSummary,
                 display: RunDisplay) -> GenerateSummary:  # fmt: skip
    from trajforge.runner import generate

    stop = asyncio.Event()
    main = asyncio.current_task()
    loop = asyncio.get_running_loop()

    def interrupted(name: str) -> None:
        if stop.is_set():  # the second signal: stop now; what was written stays valid
            display.say(f"{name} again: stopping now")
            if main is not None:
                main.cancel()
            return
        display.say(f"{name}: finishing the episodes in flight ({name} again to stop now)")
        summary.stopped = f"interrupted ({name})"
        stop.set()

    for number, name in ((signal.SIGINT, "Ctrl-C"), (signal.SIGTERM, "SIGTERM")):
        loop.add_signal_handler(number, interrupted, name)
    try:
        return await generate(tasks, settings, display.on_episode, stop=stop, summary=summary)
    except asyncio.CancelledError:
        return summary
    finally:
        for number in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(number)


def report(summary: GenerateSummary, settings: GenerateSettings, options: RunOptions) -> int:
    """The closing table, and the exit code."""
    elapsed = time.monotonic() - summary.started
    checked = summary.outcomes.get("passed", 0) + summary.outcomes.get("failed", 0)
    table = Table(title=f"Generation: {settings.config}", title_justify="left", show_header=False)
    table.add_row("episodes run", f"{summary.ran} of {summary.todo} planned, in {duration(elapsed)}")
    table.add_row("already recorded (resumed)", str(summary.resumed))
    table.add_row("retried from earlier runs", str(summary.retried))
    table.add_row("finish", ", ".join(f"{k} {v}" for k, v in sorted(summary.finishes.items())) or "-")
    table.add_row("check", ", ".join(f"{k} {v}" for k, v in sorted(summary.outcomes.items())) or "-")
    if checked:
        table.add_row("pass rate", f"{summary.outcomes.get('passed', 0) / checked:.0%} of {checked} checked")
    table.add_row("failed (a rerun retries)", ", ".join(f"{k} {v}" for k, v in sorted(summary.errors.items())) or "0")
    table.add_row("model requests retried", str(summary.model_retries))
    table.add_row("not runnable now", str(len(summary.not_runnable)))
    table.add_row("rows rebuilt from records", str(summary.rows_rebuilt))
    table.add_row("records", str(summary.records))
    table.add_row("rows", str(summary.rows))
    Console().print(table)
    errors = _stderr()
    for line in summary.setup_failed:
        errors.print(f"setup failed: {line}")
    if summary.stopped:
        errors.print(f"stopped early: {summary.stopped}")
    if summary.todo == 0 and summary.resumed == 0:
        why = "they need tools not built yet" + (", or have no oracle" if options.policy == "oracle" else "")
        errors.print(f"nothing ran: none of the {len(summary.not_runnable)} chosen task(s) can run now ({why})")
        return 1
    if summary.todo == 0:
        errors.print(f"nothing to do: all {summary.resumed} episodes are already recorded")
    if summary.stopped and summary.stopped.startswith("interrupted"):
        return INTERRUPTED
    return 0 if summary.complete else 1


def _stderr() -> Console:
    return Console(stderr=True, markup=False, highlight=False, soft_wrap=True)
