"""`trajforge stats` and `trajforge validate`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from trajforge.cli.common import fail
from trajforge.dataset import (
    ConfigSource,
    ConfigStats,
    ConfigTasks,
    LayoutError,
    Problem,
    compute_stats,
    row_sources,
    task_stats,
)
from trajforge.dataset import validate as validate_sources
from trajforge.trace.turns import json_bytes

PathsArg = Annotated[
    list[Path],
    typer.Argument(
        help="Run folders (OUT, OUT/runs or OUT/runs/<config>), JSONL or Parquet files, folders of them, "
        "or published dataset folders.",
        show_default=False,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")]


def _sources(paths: list[Path]) -> list[ConfigSource]:
    try:
        return row_sources(paths)
    except LayoutError as exc:
        raise fail(str(exc)) from None


def _print_json(data: object) -> None:
    sys.stdout.buffer.write(json_bytes(data) + b"\n")


def stats(
    paths: PathsArg,
    json: JsonOpt = False,
    by_task: Annotated[
        bool, typer.Option("--by-task", help="Per task: episodes, check pass rate, finishes (needs a run folder).")
    ] = False,
) -> None:
    """Print per config the statistics and category tables of the dataset card (or, --by-task, a table per task)."""
    errors = Console(stderr=True)
    unreadable: list[Problem] = []

    def report(problem: Problem) -> None:
        unreadable.append(problem)
        errors.print(f"skipped: {problem}", markup=False, highlight=False, soft_wrap=True)

    figures = _stats_by_task(paths, json, report) if by_task else _stats_of_rows(paths, json, report)
    if json:
        _print_json({**figures, "skipped": len(unreadable)})
    if unreadable:
        errors.print(f"{len(unreadable)} unreadable row(s) or file(s) left out of the figures", highlight=False)
        raise typer.Exit(1)


def _stats_of_rows(paths: list[Path], json: bool, report: Callable[[Problem], None]) -> dict[str, Any]:
    """The figures of the rows as JSON data; printed as tables unless `json`."""
    results = compute_stats(_sources(paths), report)
    if not json:
        console = Console()
        console.print(_statistics_table(results))
        console.print(_category_table(results))
    return {"configs": [r.to_dict() for r in results]}


def _stats_by_task(paths: list[Path], json: bool, report: Callable[[Problem], None]) -> dict[str, Any]:
    """The per-task figures of the records as JSON data; printed as one table per config unless `json`."""
    try:
        results = task_stats(paths, report)
    except LayoutError as exc:
        raise fail(str(exc)) from None
    if not json:
        console = Console()
        for result in results:
            console.print(_task_table(result))
    return {"configs": [{"config": r.config, "tasks": [t.to_dict() for t in r.in_order()]} for r in results]}


def _task_table(result: ConfigTasks) -> Table:
    table = Table(title=f"{result.config}: {len(result.tasks)} tasks", title_justify="left")
    table.add_column("task", no_wrap=True)
    for column in ("episodes", "passed", "finishes", "mean turns", "mean tool calls"):
        table.add_column(column, justify="left" if column == "finishes" else "right")
    for task in result.in_order():
        rate = task.pass_rate
        passed = "-" if rate is None else f"{rate:.0%} ({task.passed}/{task.checked})"
        finishes = ", ".join(f"{name} {n}" for name, n in task.finishes.most_common())
        table.add_row(task.task, f"{task.episodes:,}", passed, finishes, f"{task.mean_turns:.1f}",
                      f"{task.mean_tool_calls:.1f}")  # fmt: skip
    return table


def _statistics_table(results: list[ConfigStats]) -> Table:
    table = Table(title="Statistics", title_justify="left")
    table.add_column("Metric")
    for result in results:
        table.add_column(result.config, justify="right")
    for label, cell in ConfigStats.table_rows():
        table.add_row(label, *(cell(r) for r in results))
    return table


def _category_table(results: list[ConfigStats]) -> Table:
    table = Table(title="Categories", title_justify="left")
    table.add_column("Category")
    for result in results:
        table.add_column(result.config, justify="right")
    counts = [dict(r.categories_in_order()) for r in results]
    names = list(dict.fromkeys(name for c in counts for name in c))
    for name in names:
        table.add_row(name, *(f"{c.get(name, 0):,}" for c in counts))
    return table


def validate(
    paths: PathsArg,
    max_errors: Annotated[int, typer.Option("--max-errors", min=0, help="Print at most this many problems.")] = 50,
    json: JsonOpt = False,
) -> None:
    """Check every row against FORMAT.md; exit 1 when any row fails."""
    shown: list[Problem] = []

    def report(problem: Problem) -> None:
        if len(shown) < max_errors:
            shown.append(problem)
            if not json:
                print(problem, flush=False)

    summary = validate_sources(_sources(paths), report)
    if json:
        _print_json(
            {
                "rows_checked": summary.rows_checked,
                "rows_failed": summary.rows_failed,
                "files_unreadable": summary.files_unreadable,
                "problems_total": summary.problems,
                "problems": [p.to_dict() for p in shown],
            }
        )
    else:
        hidden = summary.problems - len(shown)
        more = f" ({hidden} more not shown; raise --max-errors)" if hidden else ""
        unreadable = f", {summary.files_unreadable} file(s) unreadable" if summary.files_unreadable else ""
        print(
            f"{summary.rows_checked} rows checked, {summary.rows_failed} failed, "
            f"{summary.problems} problem(s){unreadable}{more}"
        )
    if not summary.ok:
        raise typer.Exit(1)
