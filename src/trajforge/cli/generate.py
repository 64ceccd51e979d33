"""`trajforge generate`: episodes over tasks, with the oracle or a served model."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from trajforge.cli.common import fail
from trajforge.policy import ModelConfig
from trajforge.runner import GenerateSettings, GenerateSummary, generate, recorded_counts, runnable
from trajforge.sandbox import SandboxConfig, SandboxUnavailable
from trajforge.tasks import load_tasks


def generate_command(
    out: Annotated[Path, typer.Option(help="Run folder: runs/<config>/episodes.jsonl and rows/<config>.jsonl.")],
    tasks: Annotated[
        list[str] | None, typer.Option("--tasks", help="Spec files or folders; `builtin` is the catalog.")
    ] = None,
    category: Annotated[list[str] | None, typer.Option(help="Only these categories (repeat for several).")] = None,
    policy: Annotated[str, typer.Option(help="oracle (each task's reference solution) or model.")] = "model",
    endpoint: Annotated[str, typer.Option(help="Base URL of an OpenAI-compatible API (policy model).")] = "",
    model: Annotated[str, typer.Option(help="Model name as the server knows it (policy model).")] = "",
    api_key: Annotated[str, typer.Option(envvar="OPENAI_API_KEY", show_default=False, help="API key.")] = "",
    config: Annotated[str, typer.Option(help="Dataset config name (default: oracle, or the model's name).")] = "",
    repeat: Annotated[int, typer.Option(min=1, help="Episodes per task.")] = 1,
    backend: Annotated[str, typer.Option(help="Sandbox: auto, local or bwrap.")] = "auto",
    temperature: Annotated[float | None, typer.Option(help="Sampling temperature.")] = None,
    max_tokens: Annotated[int | None, typer.Option(help="Most tokens per model call.")] = None,
    extra_body: Annotated[str, typer.Option(help="JSON sent as is with every request.")] = "",
) -> None:
    """Generate episodes over tasks (sequentially; resumes what OUT already holds)."""
    errors = Console(stderr=True)
    if policy not in ("oracle", "model"):
        raise fail(f"--policy must be oracle or model, not {policy!r}")
    if policy == "model" and not (endpoint and model):
        raise fail("--policy model needs --endpoint and --model (or use --policy oracle)")
    load = load_tasks(tasks or ["builtin"])
    for problem in load.problems:
        errors.print(f"warning: {problem}", markup=False, highlight=False, soft_wrap=True)
    chosen = [t for t in load.tasks if not category or t.spec.category in category]
    model_config = None
    if policy == "model":
        model_config = ModelConfig(endpoint, model, api_key=api_key, temperature=temperature, max_tokens=max_tokens,
                                   extra_body=json.loads(extra_body) if extra_body else {})  # fmt: skip
    name = config or ("oracle" if policy == "oracle" else model.rstrip("/").split("/")[-1])
    settings = GenerateSettings(out, name, SandboxConfig(backend=backend), model_config, repeat)  # type: ignore[arg-type]
    todo = sum(max(0, repeat - recorded_counts(out / "runs" / name / "episodes.jsonl")[t.spec.id])
               for t in chosen if runnable(t.spec) and (model_config or t.spec.oracle))  # fmt: skip
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=errors, transient=False) as progress:
        bar = progress.add_task(f"generating ({name})", total=todo)

        def advanced(task_id: str, status: str) -> None:
            progress.update(bar, advance=1, description=f"{task_id}: {status}")

        try:
            summary = asyncio.run(generate(chosen, settings, advanced))
        except SandboxUnavailable as exc:
            raise fail(str(exc)) from None
    _report(summary)


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
