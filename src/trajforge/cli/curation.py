"""`trajforge curate`, `publish`, `export`, `import` and `push`.

curate, publish and export share the filter options: `curation_options` adds
them to a command's signature and hands the command one CurationSettings.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from trajforge.cli.common import fail
from trajforge.dataset import (
    FILTERS,
    FORMATS,
    REPORT,
    SOURCES,
    CurationResult,
    CurationSettings,
    ExportOptions,
    ImportSettings,
    LayoutError,
    Problem,
    PublishError,
    PushError,
    TokenizerError,
    curate,
    export,
    import_to_run,
    publish,
    push,
)

InputsArg = Annotated[
    list[Path],
    typer.Argument(
        help="Run folders (from `generate` or `import`), JSONL/Parquet row files, or published dataset folders.",
        show_default=False,
    ),
]

_FILTER_OPTIONS: list[inspect.Parameter] = [
    inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)
    for name, annotation, default in (
        ("require_passed", Annotated[bool, typer.Option(help="Keep only episodes whose task check passed.")], False),
        ("require_reasoning", Annotated[bool, typer.Option(help="Drop episodes with no reasoning at all.")], True),
        ("min_turns", Annotated[int | None, typer.Option(help="Drop rows with fewer turns.")], None),
        ("max_turns", Annotated[int | None, typer.Option(help="Drop rows with more turns.")], None),
        ("min_calls", Annotated[int | None, typer.Option(help="Drop episodes with fewer tool calls.")], None),
        ("max_calls", Annotated[int | None, typer.Option(help="Drop episodes with more tool calls.")], None),
        ("max_repeats", Annotated[int, typer.Option(help="The same call more times in a row is a loop (0: off).")], 5),
        ("max_error_rate", Annotated[float, typer.Option(help="Most share of tool results that are errors.")], 0.5),
        ("max_tokens", Annotated[int | None, typer.Option(help="Drop longer rows (needs --tokenizer).")], None),
        ("tokenizer", Annotated[str | None, typer.Option(help="tokenizer.json, its folder, or a hub id.")], None),
        ("dedup", Annotated[bool, typer.Option(help="Drop exact duplicates (task and trajectory).")], True),
        ("near_dup", Annotated[float, typer.Option(help="Near-duplicate MinHash Jaccard threshold (0: off).")], 0.9),
        ("scrub", Annotated[bool, typer.Option(help="Replace secret-shaped strings in every text field.")], True),
        ("scrub_emails", Annotated[bool, typer.Option(help="Replace e-mail addresses too.")], False),
        ("workers", Annotated[int, typer.Option(help="Processes (0: one per core).")], 0),
    )
]  # fmt: skip


def curation_options(command: Callable[..., None]) -> Callable[..., None]:
    """Give `command` the filter options; it receives `settings` and `workers` instead."""
    base = inspect.signature(command, eval_str=True)
    kept = [p for p in base.parameters.values() if p.name not in ("settings", "workers")]
    names = [p.name for p in _FILTER_OPTIONS]

    @functools.wraps(command)
    def wrapper(**kwargs: Any) -> None:
        options = {name: kwargs.pop(name) for name in names}
        command(settings=_settings(options), workers=options["workers"], **kwargs)

    parameters = kept + _FILTER_OPTIONS
    wrapper.__signature__ = base.replace(parameters=parameters)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
    return wrapper


def _settings(options: dict[str, Any]) -> CurationSettings:
    if options["max_tokens"] is not None and not options["tokenizer"]:
        raise fail("--max-tokens needs --tokenizer")
    if not 0 <= options["near_dup"] <= 1:
        raise fail("--near-dup is a Jaccard similarity between 0 and 1 (0 turns the filter off)")
    return CurationSettings(
        require_passed=options["require_passed"], require_reasoning=options["require_reasoning"],
        min_turns=options["min_turns"], max_turns=options["max_turns"],
        min_calls=options["min_calls"], max_calls=options["max_calls"],
        max_repeats=options["max_repeats"] or None,
        max_error_rate=options["max_error_rate"] if options["max_error_rate"] < 1 else None,
        max_tokens=options["max_tokens"], tokenizer=options["tokenizer"],
        exact_dedup=options["dedup"], near_dup_threshold=options["near_dup"] or None,
        scrub=options["scrub"], scrub_emails=options["scrub_emails"],
    )  # fmt: skip


def _progress_bar(label: str) -> tuple[Progress, Callable[[int, int], None]]:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("pieces"),
               TimeElapsedColumn(), TimeRemainingColumn())  # fmt: skip
    progress = Progress(*columns, console=Console(stderr=True), transient=True)
    bar = progress.add_task(label, total=None)
    return progress, lambda done, total: progress.update(bar, completed=done, total=total)


def _run_curation(label: str, work: Callable[[Callable[[int, int], None]], Any]) -> Any:
    """Run `work(progress)` under a progress bar; bad input becomes a one-line error."""
    progress, update = _progress_bar(label)
    try:
        with progress:
            return work(update)
    except (LayoutError, TokenizerError, PublishError) as exc:
        raise fail(str(exc)) from None


def _report_problems(problems: list[Problem]) -> None:
    errors = Console(stderr=True)
    for problem in problems[:50]:
        errors.print(f"skipped: {problem}", markup=False, highlight=False, soft_wrap=True)
    if len(problems) > 50:
        errors.print(f"... and {len(problems) - 50} more unreadable line(s)", highlight=False)


def _curation_table(result: CurationResult) -> Table:
    reports = [c.report for c in result.configs]
    table = Table(title="Curation", title_justify="left")
    table.add_column("Filter")
    for report in reports:
        table.add_column(report.config, justify="right")
    table.add_row("read", *(f"{r.read:,}" for r in reports))
    for name in FILTERS:
        table.add_row(name, *(f"{r.dropped.get(name, 0):,}" for r in reports))
    table.add_row("kept", *(f"{r.kept:,}" for r in reports), style="bold")
    table.add_row("secrets replaced", *(f"{r.scrubbed:,}" for r in reports))
    return table


def _report_json(result: CurationResult) -> dict[str, Any]:
    return {
        "configs": [
            {"config": c.report.config, "read": c.report.read, "kept": c.report.kept,
             "dropped": {name: c.report.dropped.get(name, 0) for name in FILTERS},
             "secrets_replaced": c.report.scrubbed}
            for c in result.configs
        ],
        "unreadable": len(result.problems),
    }  # fmt: skip


@curation_options
def curate_command(
    inputs: InputsArg,
    json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    *,
    settings: CurationSettings,
    workers: int,
) -> None:
    """Run the curation filters and print what each would drop; writes nothing."""

    def work(update: Callable[[int, int], None]) -> CurationResult:
        with curate(inputs, settings, output=REPORT, workers=workers or None, progress=update) as result:
            return result

    result = _run_curation("curating", work)
    _report_problems(result.problems)
    if json:
        sys.stdout.buffer.write(orjson.dumps(_report_json(result), option=orjson.OPT_INDENT_2))
        sys.stdout.write("\n")
    else:
        Console().print(_curation_table(result))


@curation_options
def publish_command(
    inputs: InputsArg,
    out: Annotated[Path, typer.Option(help="The dataset folder to write (data/<config>/ and README.md).")],
    license: Annotated[str, typer.Option(help="License named in the card.")] = "apache-2.0",
    pretty_name: Annotated[str, typer.Option(help="Dataset name in the card (default: the folder's name).")] = "",
    repo_id: Annotated[str, typer.Option(help="Hub repository the card's loading snippet names.")] = "",
    *,
    settings: CurationSettings,
    workers: int,
) -> None:
    """Curate episodes and write a Hugging Face dataset folder: Parquet shards per config and a card."""
    result = _run_curation(
        "publishing",
        lambda update: publish(inputs, out, settings, license=license, pretty_name=pretty_name, repo_id=repo_id,
                               workers=workers or None, progress=update),
    )  # fmt: skip
    _report_problems(result.curation.problems)
    reports = [c.report for c in result.curation.configs]
    if not any(r.kept for r in reports):
        raise fail("no episode kept: nothing to publish (see `trajforge curate` for what each filter dropped)", 1)
    for report in reports:
        print(f"{report.config}: {report.kept} rows published, {sum(report.dropped.values())} dropped")
    print(f"dataset: {out} (load with datasets.load_dataset({str(out)!r}, CONFIG, split='train'))")


@curation_options
def export_command(
    inputs: InputsArg,
    to: Annotated[str, typer.Option(help=f"Format: {', '.join(FORMATS)}.")],
    out: Annotated[Path, typer.Option(help="Folder for <config>.jsonl files.")],
    reasoning_field: Annotated[
        str, typer.Option(help="Field of assistant messages that holds reasoning ('' leaves it out).")
    ] = "reasoning_content",
    arguments_as_string: Annotated[
        bool, typer.Option(help="openai: tool-call arguments as JSON strings, as the OpenAI API sends them.")
    ] = False,
    *,
    settings: CurationSettings,
    workers: int,
) -> None:
    """Curate episodes and write them in a training format, one JSONL file per config."""
    if to not in FORMATS:
        raise fail(f"--to must be one of {', '.join(FORMATS)}, not {to!r}")
    options = ExportOptions(reasoning_field=reasoning_field, arguments_as_string=arguments_as_string)
    result = _run_curation(
        "exporting",
        lambda update: export(inputs, out, to, settings, options=options, workers=workers or None, progress=update),
    )
    _report_problems(result.curation.problems)
    for config, path in result.files.items():
        report = next(c.report for c in result.curation.configs if c.report.config == config)
        print(f"{config}: {report.kept} rows -> {path}")


def import_command(
    path: Annotated[Path, typer.Argument(help="A JSONL or Parquet file of the other harness's rows.")],
    source: Annotated[str, typer.Option("--from", help=f"What the rows are: {', '.join(SOURCES)}.")],
    out: Annotated[Path, typer.Option(help="Run folder to write (runs/<config>/ records, rows/<config>/ rows).")],
    config: Annotated[str, typer.Option(help="Dataset config of the imported episodes (e.g. the model).")],
    category: Annotated[str, typer.Option(help="Taxonomy category of rows that carry none.")] = "",
    subcategory: Annotated[str, typer.Option(help="Taxonomy subcategory of rows that carry none.")] = "",
) -> None:
    """Convert another harness's trajectories into episode records (then validate, curate, publish them)."""
    if source not in SOURCES:
        raise fail(f"--from must be one of {', '.join(SOURCES)}, not {source!r}")
    if not path.is_file():
        raise fail(f"{path}: no such file")
    summary = import_to_run(path, out, ImportSettings(source, config, category, subcategory))
    _report_problems(summary.problems)
    print(f"{config}: {summary.imported} episodes imported, {len(summary.problems)} rows skipped -> {summary.records}")
    if not summary.imported:
        raise typer.Exit(1)


def push_command(
    dataset: Annotated[Path, typer.Argument(help="A dataset folder written by `trajforge publish`.")],
    repo_id: Annotated[str, typer.Argument(help="Hub dataset repository, e.g. my-org/agent-traces.")],
    private: Annotated[bool, typer.Option(help="Create the repository as private.")] = False,
) -> None:
    """Upload a published dataset folder to the Hugging Face hub (token from HF_TOKEN or `hf auth login`)."""
    try:
        url = push(dataset, repo_id, private=private)
    except PushError as exc:
        raise fail(str(exc), 1) from None
    print(f"pushed {dataset} to {url}")
