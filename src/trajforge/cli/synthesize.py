"""`trajforge tasks synthesize`: many new, checked tasks from the taxonomy, seed tasks, environments and a model.

Exit codes: 0 the output holds the tasks asked for; 1 the run stopped before
(request budget spent, endpoint failing): a rerun goes on from the file; 2 bad
usage, or the endpoint failed its preflight; 130 interrupted.
"""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from trajforge.cli import options as opt
from trajforge.cli.common import fail

if TYPE_CHECKING:  # the runner pulls in the model client (openai): imported when the command runs
    from trajforge.policy import ModelConfig
    from trajforge.runner.synthesis import Synthesis, SynthesisEvent, SynthesisSettings

INTERRUPTED = 130


def synthesize_command(
    out: Annotated[Path, typer.Option(help="YAML file the tasks are appended to (a rerun goes on).", metavar="FILE")],
    n: Annotated[int, typer.Option("--n", min=1, help="Tasks wanted in FILE in all.", metavar="N")],
    endpoint: opt.Endpoint = None,
    model: opt.ModelName = "",
    api_key: opt.ApiKey = "",
    category: Annotated[list[str] | None, typer.Option(help="Only these categories (repeat).", metavar="NAME")] = None,
    subcategory: Annotated[
        list[str] | None, typer.Option(help="Only these subcategories (repeat).", metavar="NAME")
    ] = None,
    seed_tasks: Annotated[
        list[str] | None, typer.Option(help="Spec files or folders of seed tasks (default: builtin).", metavar="PATH")
    ] = None,
    environments: Annotated[
        list[Path] | None,
        typer.Option(help="Folders to write tasks for (default: the catalog's fixtures).", metavar="PATH"),
    ] = None,
    distribution: Annotated[
        str, typer.Option(help="reference[:kimi|:glm-5.1], uniform, or a YAML file of weights.", metavar="NAME|FILE")
    ] = "reference",
    cap: Annotated[
        int | None, typer.Option(min=1, help="At most this many tasks per subcategory.", metavar="N")
    ] = None,
    concurrency: Annotated[int, typer.Option(min=1, help="Requests in flight.", metavar="K")] = 4,
    per_request: Annotated[int, typer.Option(min=1, max=20, help="Tasks asked for per request.", metavar="N")] = 3,
    max_requests: Annotated[
        int | None, typer.Option(min=1, help="Requests this run may make (default: ~4 per task missing).", metavar="N")
    ] = None,
    probe: Annotated[
        bool, typer.Option(help="Set each task up and judge its check by do-nothing and wrong solutions.")
    ] = True,
    calibrate: Annotated[
        int, typer.Option(min=0, help="Episodes per accepted task to measure its pass rate.", metavar="K")
    ] = 0,
    keep_pass_rate: Annotated[
        str, typer.Option(help="Pass rates kept by --calibrate.", metavar="LOW-HIGH")
    ] = "0.1-0.9",
    calibration_model: Annotated[
        str | None, typer.Option(help="Model for --calibrate (default: --model).", metavar="NAME")
    ] = None,
    calibration_endpoint: Annotated[
        str | None, typer.Option(help="Endpoint for --calibrate (default: --endpoint).", metavar="URL")
    ] = None,
    evolve: Annotated[bool, typer.Option(help="Also ask for a harder variant of each accepted task.")] = False,
    near_duplicate: Annotated[
        float, typer.Option(min=0.1, max=1.0, help="MinHash Jaccard at which prompts count as duplicates.")
    ] = 0.8,
    sandbox: opt.Sandbox = "auto",
    seed: Annotated[int | None, typer.Option(help="Seed the random choices.", metavar="N")] = None,
    temperature: opt.Temperature = None,
    max_tokens: opt.MaxTokens = None,
    request_timeout: opt.RequestTimeout = 600.0,
    extra_body: opt.ExtraBody = "",
    quiet: Annotated[bool, typer.Option(help="A line per event instead of the progress bar.")] = False,
) -> None:
    """Write N new tasks with a model: validated, deduplicated, probed in a sandbox, optionally calibrated."""
    from trajforge.sandbox import SandboxConfig
    from trajforge.tasks.synthesis import Band

    if out.is_dir():
        raise fail(f"--out {out} is a folder; give the YAML file to write, e.g. {out / 'tasks.yaml'}")
    try:
        band = Band.parse(keep_pass_rate)
    except ValueError as exc:
        raise fail(str(exc)) from None
    config = _model_config(endpoint, model, api_key, temperature, max_tokens, request_timeout, extra_body)
    calibration = None
    if calibration_model or calibration_endpoint:
        calibration = replace(config, endpoint=calibration_endpoint or config.endpoint, more_endpoints=(),
                              model=calibration_model or config.model)  # fmt: skip
    allowed = _allowed(category, subcategory)
    _check_inputs(distribution, allowed, environments or [], seed_tasks)
    from trajforge.runner.synthesis import SynthesisSettings  # here: after the usage checks, which must be quick

    settings = SynthesisSettings(
        out=out, model=config, total=n, allowed=allowed, distribution=distribution,
        cap=cap, seed_sources=list(seed_tasks or ["builtin"]), environments=list(environments or []),
        per_request=per_request, concurrency=concurrency, max_requests=max_requests, probe=probe,
        calibrate=calibrate, calibration_model=calibration, band=band, evolve=evolve, near_duplicate=near_duplicate,
        sandbox=SandboxConfig(backend=opt.sandbox_backend(sandbox)), seed=seed,
    )  # fmt: skip
    _preflight(settings)
    code = _run(settings, quiet=quiet)
    if code:
        raise typer.Exit(code)


def _model_config(endpoint: list[str] | None, model: str, api_key: str, temperature: float | None,
                  max_tokens: int | None, timeout: float, extra_body: str) -> ModelConfig:  # fmt: skip
    from trajforge.policy import ModelConfig

    if not endpoint:
        raise fail("give --endpoint URL (or set TRAJFORGE_ENDPOINT): the model that writes the tasks")
    if not model:
        raise fail("give --model NAME: the model that writes the tasks")
    try:
        extra = json.loads(extra_body) if extra_body else {}
    except ValueError as exc:
        raise fail(f"--extra-body is not JSON: {exc}") from None
    if not isinstance(extra, dict):
        raise fail("--extra-body must be a JSON object")
    return ModelConfig(endpoint[0], model, more_endpoints=tuple(endpoint[1:]), api_key=api_key,
                       temperature=temperature, max_tokens=max_tokens, extra_body=extra, timeout=timeout)  # fmt: skip


def _allowed(categories: list[str] | None, subcategories: list[str] | None) -> list[tuple[str, str]]:
    """The (category, subcategory) pairs the options ask for; a one-line error for a name not in the taxonomy."""
    from trajforge.tasks import TAXONOMY, UnknownCategory, resolve_category

    try:
        chosen = [resolve_category(name) for name in categories] if categories else list(TAXONOMY)
    except UnknownCategory as exc:
        raise fail(str(exc)) from None
    pairs = [(c, s) for c in chosen for s in TAXONOMY[c]]
    if subcategories:
        unknown = [s for s in subcategories if not any(s == sub for _, sub in pairs)]
        if unknown:
            where = f"the categories {', '.join(chosen)}" if categories else "the taxonomy"
            raise fail(f"--subcategory {unknown[0]!r} is not in {where}")
        pairs = [(c, s) for c, s in pairs if s in subcategories]
    return pairs


def _check_inputs(
    distribution: str, allowed: list[tuple[str, str]], environments: list[Path], seed_tasks: list[str] | None
) -> None:
    """The distribution file, the environment folders and the seed tasks are usable, or a one-line error."""
    from trajforge.tasks import load_tasks
    from trajforge.tasks.synthesis import DistributionError, UnusableEnvironment, user_environment, weights

    try:
        weights(distribution, allowed)
        for path in environments:
            user_environment(path)
    except (DistributionError, UnusableEnvironment) as exc:
        raise fail(str(exc)) from None
    if seed_tasks:
        load = load_tasks(seed_tasks)
        if not load.tasks:
            why = load.problems[0] if load.problems else "no task specs found"
            raise fail(f"--seed-tasks: no seed task loaded: {why}")


def _preflight(settings: SynthesisSettings) -> None:
    from trajforge.policy import PreflightError, preflight

    models = [settings.model] + (
        [settings.calibration_model] if settings.calibrate and settings.calibration_model else []
    )
    for config in models:
        try:
            asyncio.run(preflight(config))
        except PreflightError as exc:
            raise fail(f"the endpoint is not ready: {exc}") from None


def _run(settings: SynthesisSettings, *, quiet: bool) -> int:
    """Run the synthesis with a progress display; print the report; the exit code."""
    from trajforge.runner import RunFolderLocked
    from trajforge.runner.synthesis import synthesize
    from trajforge.tasks.synthesis import TaskFileError, report_path

    display = _Display(settings.total, quiet=quiet)
    try:
        with display:
            synthesis = asyncio.run(synthesize(settings, display.on_event, on_open=display.on_open))
    except KeyboardInterrupt:
        display.errors.print(f"interrupted: {settings.out} keeps every task accepted so far; rerun to go on")
        return INTERRUPTED
    except (RunFolderLocked, TaskFileError) as exc:
        raise fail(str(exc)) from None
    except OSError as exc:  # a folder that cannot be written, a full disk: one line, the file keeps what it had
        raise fail(f"{exc.filename or settings.out}: {exc.strerror or exc}", code=1) from None
    _print_report(synthesis)
    print(f"report: {report_path(settings.out)}")
    return 0 if synthesis.quotas.done else 1


def _print_report(synthesis: Synthesis) -> None:
    console = Console(highlight=False, soft_wrap=True)
    for line in synthesis.report.lines():
        console.print(line, markup=False)
    from trajforge.tasks.synthesis.report import distribution_rows

    table = Table(title="counts against the target distribution", title_justify="left")
    for column in ("category", "subcategory", "target", "accepted", "target %", "accepted %"):
        number = "%" in column or column in ("target", "accepted")
        table.add_column(column, justify="right" if number else "left", no_wrap=True)  # names are what users grep
    for row in distribution_rows(synthesis.quotas):
        if row["target"] or row["accepted"]:
            table.add_row(row["category"] if not row["subcategory"] else "", row["subcategory"], str(row["target"]),
                          str(row["accepted"]), f"{100 * row['target_share']:.1f}",
                          f"{100 * row['accepted_share']:.1f}")  # fmt: skip
    console.print(table)


class _Display:
    """A progress bar of accepted tasks on a terminal; otherwise (or --quiet) one line per event on stderr."""

    def __init__(self, total: int, *, quiet: bool) -> None:
        self.errors = Console(stderr=True, highlight=False, soft_wrap=True)
        self.total = total
        self.interactive = self.errors.is_terminal and not quiet
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=self.errors, disable=not self.interactive)  # fmt: skip
        self.bar = self.progress.add_task("accepted", total=total)
        self.synthesis: Synthesis | None = None

    def __enter__(self) -> _Display:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def on_open(self, synthesis: Synthesis, problems: list[str]) -> None:
        """Show what the resume found."""
        self.synthesis = synthesis
        for problem in problems:
            self.errors.print(problem, markup=False)
        done = synthesis.report.accepted
        if done:
            self.errors.print(f"resuming: {synthesis.settings.out} holds {done} tasks", markup=False)
        quotas = synthesis.quotas  # --cap may make the target smaller than --n
        self.progress.update(self.bar, total=sum(quotas.target.values()), completed=sum(quotas.accepted.values()))

    def on_event(self, event: SynthesisEvent) -> None:
        """Advance the bar, or print the event's line."""
        if event.kind == "warning":
            self.errors.print(f"warning: {event.text}", markup=False)
            return
        if self.interactive:
            if self.synthesis is not None:
                report, accepted = self.synthesis.report, sum(self.synthesis.quotas.accepted.values())
                label = f"requests {report.requests}, rejected {sum(report.rejected.values())}, accepted"
                self.progress.update(self.bar, completed=accepted, description=label)
            return
        self.errors.print(f"{event.kind}: {event.text}", markup=False)
        sys.stderr.flush()
