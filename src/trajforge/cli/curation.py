"""`trajforge curate`, `publish`, `export`, `import` and `push`.

curate, publish and export share the filter options: `curation_options` adds
them to a command's signature and hands the command one CurationSettings.
"""

from __future__ import annotations

import functools
import inspect
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.table import Table

from trajforge.cli.common import fail, pieces_progress
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
    PushError,
    TokenizerError,
    curate,
    export,
    import_to_run,
    publish,
    push,
)
from trajforge.dataset.conversion.formats import CallIds, Format, Reasoning
from trajforge.dataset.curation.filters import OPTIONS, settings_from_options
from trajforge.dataset.targets import Kind, OutputError

InputsArg = Annotated[
    list[Path],
    typer.Argument(
        help="Run folders (from `generate` or `import`), JSONL/Parquet row files, or published dataset folders.",
        show_default=False,
    ),
]

_WORKERS = inspect.Parameter(
    "workers", inspect.Parameter.KEYWORD_ONLY, default=0,
    annotation=Annotated[int, typer.Option(help="Processes (0: one per core).")],
)  # fmt: skip
# The filter table's options (trajforge.dataset.curation.filters.OPTIONS), then --workers.
_FILTER_OPTIONS: list[inspect.Parameter] = [
    inspect.Parameter(o.name, inspect.Parameter.KEYWORD_ONLY, default=o.default,
                      annotation=Annotated[o.kind, typer.Option(help=o.help)])
    for o in OPTIONS
] + [_WORKERS]  # fmt: skip


def curation_options(command: Callable[..., None]) -> Callable[..., None]:
    """Give `command` the filter options; it receives `settings` and `workers` instead."""
    base = inspect.signature(command, eval_str=True)
    kept = [p for p in base.parameters.values() if p.name not in ("settings", "workers")]
    names = [p.name for p in _FILTER_OPTIONS]

    @functools.wraps(command)
    def wrapper(**kwargs: Any) -> None:
        options = {name: kwargs.pop(name) for name in names}
        try:
            settings = settings_from_options(options)
        except ValueError as exc:
            raise fail(str(exc)) from None
        command(settings=settings, workers=options["workers"], **kwargs)

    parameters = kept + _FILTER_OPTIONS
    wrapper.__signature__ = base.replace(parameters=parameters)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
    return wrapper


def _run_curation(label: str, work: Callable[[Callable[[int, int], None]], Any]) -> Any:
    """Run `work(progress)` under a progress bar; bad input becomes a one-line error."""
    progress, update = pieces_progress(label)
    try:
        with progress:
            return work(update)
    except (LayoutError, TokenizerError) as exc:
        raise fail(str(exc)) from None
    except OutputError as exc:  # nothing written: an input, an unreadable file, no row kept, a failed write
        raise fail(str(exc), 2 if exc.kind in (Kind.INPUT, Kind.OCCUPIED) else 1) from None


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
             "dropped": {name.value: c.report.dropped.get(name, 0) for name in FILTERS},
             "secrets_replaced": c.report.scrubbed}
            for c in result.configs
        ],
        "unreadable": len(result.problems),
        "unreadable_files": [str(p) for p in result.unreadable_files],
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
    if result.unreadable_files:  # publish and export would refuse these inputs
        raise fail(f"{len(result.unreadable_files)} input file(s) could not be read: their rows are not counted", 1)


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
    tools_as_string: Annotated[
        bool, typer.Option(help="openai: `tools` as one JSON string (TRL reads that; for datasets without Json).")
    ] = False,
    reasoning: Annotated[
        Reasoning,
        typer.Option(
            help="llamafactory: <think> blocks in turns (keep), none (drop; Llama2-style templates such as "
            "mistral need it), or a `reasoning` column with <think> in final answers only (separate)."
        ),
    ] = Reasoning.KEEP,
    tool_call_ids: Annotated[
        CallIds, typer.Option(help="openai: call ids as recorded (keep) or nine alphanumerics (mistral templates).")
    ] = CallIds.KEEP,
    *,
    settings: CurationSettings,
    workers: int,
) -> None:
    """Curate episodes and write them in a training format, one JSONL file per config."""
    if to not in set(Format):
        raise fail(f"--to must be one of {', '.join(Format)}, not {to!r}")
    options = ExportOptions(
        reasoning_field=reasoning_field, arguments_as_string=arguments_as_string, tools_as_string=tools_as_string,
        reasoning=reasoning, tool_call_ids=tool_call_ids,
    )  # fmt: skip
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
    config: Annotated[
        str | None, typer.Option(help="Dataset config of the imported episodes (default: the file's name).")
    ] = None,
    category: Annotated[str, typer.Option(help="Taxonomy category of rows that carry none.")] = "",
    subcategory: Annotated[str, typer.Option(help="Taxonomy subcategory of rows that carry none.")] = "",
    tool_format: Annotated[
        str | None, typer.Option(help="--from raw: the model's tool-call format (vLLM's parser names).", metavar="NAME")
    ] = None,
    reasoning_parser: Annotated[
        str | None, typer.Option(help="--from raw: how text splits into reasoning (default: the format's usual).")
    ] = None,
) -> None:
    """Convert another harness's trajectories into episode records (then validate, curate, publish them)."""
    if source not in SOURCES:
        raise fail(f"--from must be one of {', '.join(SOURCES)}, not {source!r}")
    if not path.is_file():
        raise fail(f"{path}: no such file")
    fmt = _raw_format(source, tool_format, reasoning_parser)
    if config is None:
        config = _config_from_stem(path)
        Console(stderr=True).print(f"note: no --config given: importing as config {config!r} (the file's name)")
    settings = ImportSettings(source, config, category, subcategory, fmt, reasoning_parser)
    summary = import_to_run(path, out, settings)
    _report_problems(summary.problems)
    print(f"{config}: {summary.imported} episodes imported, {len(summary.problems)} rows skipped -> {summary.records}")
    if summary.without_tools:
        Console(stderr=True).print(
            f"warning: {summary.without_tools} imported episode(s) offer no tools (no tools block or column found): "
            "their calls fail validation as tools not offered",
            highlight=False,
        )
    if not summary.imported:
        raise typer.Exit(1)


def _raw_format(source: str, tool_format: str | None, reasoning_parser: str | None) -> str:
    """The tool format of `--from raw` (checked), or a usage error; other sources take none."""
    from trajforge.trace import textformats

    if source != "raw":
        if tool_format is not None or reasoning_parser is not None:
            raise fail("--tool-format and --reasoning-parser are for --from raw")
        return "hermes"
    if tool_format is None:
        raise fail(f"--from raw needs --tool-format NAME: one of {', '.join(textformats.formats())}")
    if tool_format not in textformats.formats():
        raise fail(f"--tool-format: unknown tool format {tool_format!r}; known: {', '.join(textformats.formats())}")
    styles = (*textformats.REASONING_STYLES, textformats.NO_REASONING)
    if reasoning_parser is not None and reasoning_parser not in styles:
        raise fail(f"--reasoning-parser: unknown {reasoning_parser!r}; known: {', '.join(styles)}")
    return tool_format


def _config_from_stem(path: Path) -> str:
    """A config name from the input file's stem (data suffixes dropped), made a valid folder name."""
    name = path.name
    while Path(name).suffix.lower() in (".jsonl", ".json", ".parquet", ".gz", ".zst", ".bz2", ".xz"):
        name = Path(name).stem
    return re.sub(r"[^A-Za-z0-9._-]", "-", name).lstrip(".") or "import"


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
