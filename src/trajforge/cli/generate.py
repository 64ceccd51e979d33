"""`trajforge generate`: episodes over tasks, with the oracle or a served model, many at a time."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer
import yaml
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from trajforge.cli.common import fail
from trajforge.sandbox import SandboxConfig, SandboxFactory, SandboxUnavailable
from trajforge.tasks import load_tasks

if TYPE_CHECKING:  # the runner pulls in the model client (openai): imported where a command needs it
    from trajforge.runner import GenerateSettings, GenerateSummary


def generate_command(
    out: Annotated[Path | None, typer.Option(help="Run folder: runs/<config>/ records, rows/<config>/ rows.")] = None,
    tasks: Annotated[
        list[str] | None, typer.Option("--tasks", help="Spec files or folders; `builtin` is the catalog.")
    ] = None,
    category: Annotated[list[str] | None, typer.Option(help="Only these categories (repeat for several).")] = None,
    policy: Annotated[str, typer.Option(help="oracle (each task's reference solution) or model.")] = "model",
    endpoint: Annotated[
        list[str] | None, typer.Option(help="Base URL of an OpenAI-compatible API; repeat for several.")
    ] = None,
    model: Annotated[str, typer.Option(help="Model name as the server knows it (policy model).")] = "",
    api_key: Annotated[str, typer.Option(envvar="OPENAI_API_KEY", show_default=False, help="API key.")] = "",
    config: Annotated[str, typer.Option(help="Dataset config name (default: oracle, or the model's name).")] = "",
    repeat: Annotated[int, typer.Option(min=1, help="Episodes per task.")] = 1,
    concurrency: Annotated[int, typer.Option(min=0, help="Episodes in flight (0: 8 per core).")] = 0,
    max_episodes: Annotated[int | None, typer.Option(min=1, help="Stop after this many new episodes.")] = None,
    resume: Annotated[
        bool, typer.Option(help="Skip episodes OUT already holds (--no-resume refuses a used OUT).")
    ] = True,
    seed: Annotated[int | None, typer.Option(help="Shuffle the task order with this seed.")] = None,
    sandbox: Annotated[str, typer.Option(help="Sandbox backend: auto, local or bwrap.")] = "auto",
    temperature: Annotated[float | None, typer.Option(help="Sampling temperature.")] = None,
    max_tokens: Annotated[int | None, typer.Option(help="Most tokens per model call.")] = None,
    extra_body: Annotated[str, typer.Option(help="JSON sent as is with every request.")] = "",
    run_file: Annotated[Path | None, typer.Option("--run", help="A YAML file of these options (flags win).")] = None,
    quiet: Annotated[bool, typer.Option(help="A log line per episode instead of the progress bar.")] = False,
    backend: Annotated[
        str, typer.Option(help="local (one asyncio process) or ray (shares over a Ray cluster).")
    ] = "local",
    ray_address: Annotated[str | None, typer.Option(help="Ray cluster address (default: start a local one).")] = None,
    ray_workers: Annotated[int, typer.Option(min=1, help="Ray shares, one CPU each.")] = 2,
) -> None:
    """Generate episodes over tasks; Ctrl-C once lets running episodes finish, twice stops at once."""
    given = {k: v for k, v in locals().items() if k != "run_file"}  # first: the options, nothing else
    from trajforge.runner import Ledger, RayOptions, generate_on_ray  # here: it pulls in the model client (openai)

    options = _merge_run_file(run_file, given)
    if options["out"] is None:
        raise fail("--out is required (or `out:` in the run file)")
    if options["backend"] not in ("local", "ray"):
        raise fail(f"--backend must be local or ray, not {options['backend']!r}")
    if options["policy"] not in ("oracle", "model"):
        raise fail(f"--policy must be oracle or model, not {options['policy']!r}")
    endpoints = list(options["endpoint"] or [])
    if options["policy"] == "model" and not (endpoints and options["model"]):
        raise fail("--policy model needs --endpoint and --model (or use --policy oracle)")
    settings = _settings(options, endpoints)
    ledger = Ledger(settings.out, settings.config)
    if not options["resume"] and ledger.record_files():
        raise fail(f"{ledger.records_dir} already holds episodes; use another --out, or resume")
    load = load_tasks(options["tasks"] or ["builtin"])
    for problem in load.problems:
        Console(stderr=True).print(f"warning: {problem}", markup=False, highlight=False, soft_wrap=True)
    chosen = [t for t in load.tasks if not options["category"] or t.spec.category in options["category"]]
    _write_manifest(ledger.records_dir / "manifest.json", settings, options)
    try:
        if options["backend"] == "ray":
            Console(stderr=True).print(f"running on Ray in {options['ray_workers']} shares", highlight=False)
            ray_options = RayOptions(options["ray_address"], options["ray_workers"])
            sources = [str(s) for s in options["tasks"] or ["builtin"]]
            summary = generate_on_ray(sources, [t.spec.id for t in chosen], settings, ray_options)
        else:
            summary = asyncio.run(_run(chosen, settings, Path(settings.out), quiet=options["quiet"]))
    except SandboxUnavailable as exc:
        raise fail(str(exc)) from None
    _report(summary)


def _merge_run_file(run_file: Path | None, given: dict[str, Any]) -> dict[str, Any]:
    """Options from `--run FILE`, overridden by flags given on the command line."""
    if run_file is None:
        return given
    try:
        data = yaml.safe_load(run_file.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise fail(f"{run_file}: {exc}") from None
    if not isinstance(data, dict):
        raise fail(f"{run_file}: expected a mapping of options")
    unknown = sorted(set(data) - set(given))
    if unknown:
        raise fail(f"{run_file}: unknown option(s) {', '.join(unknown)}")
    defaults = {"policy": "model", "repeat": 1, "concurrency": 0, "resume": True, "sandbox": "auto", "quiet": False,
                "backend": "local", "ray_workers": 2}  # fmt: skip
    merged = dict(given)
    for key, value in data.items():
        if given[key] in (None, "", [], defaults.get(key)):  # not set on the command line
            merged[key] = Path(value) if key == "out" else value
    if isinstance(merged["endpoint"], str):
        merged["endpoint"] = [merged["endpoint"]]
    return merged


def _settings(options: dict[str, Any], endpoints: list[str]) -> GenerateSettings:
    from trajforge.policy import ModelConfig
    from trajforge.runner import GenerateSettings

    model_config = None
    if options["policy"] == "model":
        body = options["extra_body"]
        model_config = ModelConfig(
            endpoints[0], options["model"], more_endpoints=tuple(endpoints[1:]), api_key=options["api_key"],
            temperature=options["temperature"], max_tokens=options["max_tokens"],
            extra_body=json.loads(body) if isinstance(body, str) and body else (body or {}),
        )  # fmt: skip
    name = options["config"] or ("oracle" if model_config is None else options["model"].rstrip("/").split("/")[-1])
    cores = len(os.sched_getaffinity(0))
    return GenerateSettings(
        out=Path(options["out"]),
        config=name,
        sandbox=SandboxConfig(backend=options["sandbox"]),
        model=model_config,
        repeat=options["repeat"],
        concurrency=options["concurrency"] or 8 * cores,
        max_episodes=options["max_episodes"],
        seed=options["seed"],
    )


def _write_manifest(path: Path, settings: GenerateSettings, options: dict[str, Any]) -> None:
    """The effective settings of the run, for reproducing it; never the API key."""
    manifest = {k: (str(v) if isinstance(v, Path) else v) for k, v in options.items() if k != "api_key"}
    manifest.update(config=settings.config, concurrency=settings.concurrency, written=time.strftime("%FT%T%z"))
    with contextlib.suppress(SandboxUnavailable):  # generation itself reports that
        # what `auto` means on this machine, for the card's generation details
        manifest["sandbox_backend"] = asyncio.run(SandboxFactory(settings.sandbox).backend())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))


async def _run(tasks: list[Any], settings: GenerateSettings, out: Path, *, quiet: bool) -> GenerateSummary:
    from trajforge.runner import GenerateSummary, Ledger, generate

    stop = asyncio.Event()
    ledger = Ledger(out, settings.config)
    summary = GenerateSummary(ledger.records_dir, ledger.rows_dir)
    main = asyncio.current_task()
    loop = asyncio.get_running_loop()
    errors = Console(stderr=True)

    def interrupted() -> None:
        if stop.is_set():  # the second Ctrl-C: stop now; what was written stays valid
            errors.print("stopping now", highlight=False)
            if main is not None:
                main.cancel()
            return
        errors.print("finishing the episodes in flight (Ctrl-C again to stop now)", highlight=False)
        stop.set()

    loop.add_signal_handler(signal.SIGINT, interrupted)
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TimeRemainingColumn()]  # fmt: skip
    progress = Progress(*columns, console=errors, disable=quiet)
    bar = progress.add_task(f"{settings.config}", total=None)

    def on_episode(task_id: str, status: str) -> None:
        progress.update(bar, completed=summary.ran, total=summary.todo, description=_line(settings.config, summary))
        if quiet:
            errors.print(f"{task_id}: {status}", markup=False, highlight=False)

    try:
        with progress:
            return await generate(tasks, settings, on_episode, stop=stop, summary=summary)
    except asyncio.CancelledError:
        return summary
    finally:
        loop.remove_signal_handler(signal.SIGINT)


def _line(config: str, summary: GenerateSummary) -> str:
    elapsed = max(1e-9, time.monotonic() - summary.started)
    finishes = " ".join(f"{k} {v}" for k, v in sorted(summary.finishes.items()))
    return (
        f"{config}: done {summary.ran}, failed setup {len(summary.setup_failed)}, in flight {summary.in_flight}, "
        f"{summary.turns / elapsed:.1f} turns/s, {summary.tokens / elapsed:.0f} tok/s | {finishes}"
    )


def _report(summary: GenerateSummary) -> None:
    console = Console()
    table = Table(title="Generation", title_justify="left", show_header=False)
    table.add_row("episodes run", str(summary.ran))
    table.add_row("already recorded (resumed)", str(summary.resumed))
    table.add_row("finish", ", ".join(f"{k} {v}" for k, v in sorted(summary.finishes.items())) or "-")
    table.add_row("check", ", ".join(f"{k} {v}" for k, v in sorted(summary.outcomes.items())) or "-")
    table.add_row("not runnable now", str(len(summary.not_runnable)))
    table.add_row("setup failed", str(len(summary.setup_failed)))
    table.add_row("records", str(summary.records))
    table.add_row("rows", str(summary.rows))
    console.print(table)
    for line in summary.setup_failed:
        Console(stderr=True).print(f"setup failed: {line}", markup=False, highlight=False, soft_wrap=True)
