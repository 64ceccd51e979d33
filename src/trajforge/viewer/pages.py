"""What each page shows, as plain data for its template."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from markupsafe import Markup

from trajforge.dataset import ConfigStats
from trajforge.viewer import charts
from trajforge.viewer.query import ALL_OF, CHOICES, SORTS, Query
from trajforge.viewer.sources import Source
from trajforge.viewer.state import ViewerState
from trajforge.viewer.tracepage import trace_view

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


@dataclass
class ListRow:
    """One line of the list."""

    position: int
    config: str
    href: str
    task: str
    category: str
    subcategory: str
    turns: int
    calls: int
    think: float
    tokens: str
    tools: list[str]
    finish: str
    outcome: str
    flags: list[str]
    problem: str
    model: str


def home(state: ViewerState) -> dict[str, Any]:
    """Per config: the `trajforge stats` tables, and charts of the index's per-row figures."""
    index = state.index
    stats = index.stats
    statistics = [(label, [cell(s) for s in stats]) for label, cell in ConfigStats.table_rows()]
    counts = [dict(s.categories_in_order()) for s in stats]
    names = list(dict.fromkeys(name for c in counts for name in c))
    categories = [(name, [c.get(name, 0) for c in counts]) for name in names]
    configs = [
        _config_charts(state, number, source, s)
        for number, (source, s) in enumerate(zip(state.sources, stats, strict=True))
    ]
    return {"stats": stats, "statistics": statistics, "categories": categories, "sections": configs,
            "skipped": index.skipped, "total": len(index)}  # fmt: skip


def _config_charts(state: ViewerState, number: int, source: Source, stats: ConfigStats) -> dict[str, Any]:
    index = state.index
    mask = state.config_mask(number)
    tools = index.tags["tools"]
    by_tool = sorted(zip(tools.values, tools.matrix[mask].sum(axis=0).tolist(), strict=True), key=lambda t: -t[1])
    think = index.num["think"][mask]
    found: list[Markup] = [
        charts.histogram(index.num["turns"][mask], "Turns per sample"),
        charts.histogram(index.num["calls"][mask], "Tool calls per sample"),
        charts.bars([t for t in by_tool if t[1]][:15], "Tool calls by tool"),
        charts.histogram(think[think > 0], "<think> depth (mean words per sample)"),
        charts.bars([(n, c) for n, c in stats.categories_in_order() if c], "Samples per category"),
    ]
    if source.kind == "records":
        for name, title in (("finish", "Finish reasons"), ("outcome", "Check outcomes")):
            coded = index.coded[name]
            values = np.bincount(coded.codes[mask], minlength=len(coded.values))
            found.append(charts.bars(sorted(((coded.values[k], int(n)) for k, n in enumerate(values) if n),
                                            key=lambda t: -t[1]), title))  # fmt: skip
    return {"source": source, "rows": int(mask.sum()), "charts": found,
            "problems": int(sum(1 for k in np.flatnonzero(mask) if index.text["problem"][k]))}  # fmt: skip


def trace_href(state: ViewerState, position: int, query: Query | None = None) -> str:
    """The trace page of a row, keeping the list's query (for j/k) when given."""
    index = state.index
    n = state.occurrence(position)
    base = Query() if query is None else query
    return base.url(
        "/trace", config=index.source_of(position).name, id=index.text["id"][position], n=n if n > 1 else None,
        page=None,
    )  # fmt: skip


def list_rows(state: ViewerState, positions: npt.NDArray[np.int64], query: Query) -> list[ListRow]:
    """The rows of one page of the list."""
    index = state.index
    rows = []
    for position in map(int, positions):
        measured = bool(index.num["tokens_measured"][position])
        tokens = int(index.num["tokens"][position])
        rows.append(ListRow(
            position, index.source_of(position).name, trace_href(state, position, query), index.text["task"][position],
            index.coded["category"].at(position), index.coded["subcategory"].at(position),
            int(index.num["turns"][position]), int(index.num["calls"][position]), float(index.num["think"][position]),
            f"{tokens:,}" if measured else f"≈{tokens:,}", index.tags["tools"].at(position),
            index.coded["finish"].at(position), index.coded["outcome"].at(position), index.tags["flags"].at(position),
            index.text["problem"][position], index.coded["model"].at(position),
        ))  # fmt: skip
    return rows


def list_page(state: ViewerState, query: Query) -> dict[str, Any]:
    """The list: the filter form's choices, the count, one page of rows, the pager."""
    found = state.matcher.matches(query)
    pages = max(1, -(-len(found) // query.per_page))
    page = min(query.page, pages)
    shown = found[(page - 1) * query.per_page : page * query.per_page]
    index = state.index
    options = {name: [v for v in index.coded[name].values if v] for name in CHOICES if name != "config"}
    options["config"] = state.config_names()
    options["tool"] = index.tags["tools"].values
    options["flag"] = index.tags["flags"].values
    return {
        "query": query, "count": len(found), "rows": list_rows(state, shown, query), "page": page, "pages": pages,
        "options": options, "choices": (*CHOICES, *ALL_OF), "sorts": SORTS,
        "records": any(s.kind == "records" for s in state.sources),
        "prev": query.url("/list", page=page - 1 if page > 2 else None) if page > 1 else "",
        "next": query.url("/list", page=page + 1) if page < pages else "",
    }  # fmt: skip


def trace_page(state: ViewerState, position: int, query: Query) -> dict[str, Any]:
    """One trace, the rows before and after it in the list, and what the run saved of it."""
    index = state.index
    row = state.reader.read(position)
    view = trace_view(row.data, row.problem, row.raw)
    found = state.matcher.matches(query)
    at = np.flatnonzero(found == position)
    prev_href = next_href = ""
    place = ""
    if at.size:
        k = int(at[0])
        place = f"{k + 1:,} of {len(found):,}"
        prev_href = trace_href(state, int(found[k - 1]), query) if k > 0 else ""
        next_href = trace_href(state, int(found[k + 1]), query) if k + 1 < len(found) else ""
    source = index.source_of(position)
    row_id = index.text["id"][position]
    n = state.occurrence(position)
    task = state.task_hashes[position]
    ident = {"config": source.name, "id": row_id, **({"n": str(n)} if n > 1 else {})}
    return {
        "view": view, "source": source, "row_id": row_id, "ident": ident, "place": place,
        "prev": prev_href, "next": next_href, "list": query.url("/list"),
        "permalink": Query().url("/trace", **ident), "raw": Query().url("/raw", **ident),
        "compare": f"/compare?task={task}" if len(state.task_rows(task)) > 1 else "",
        "file": index.files[int(index.num["file"][position])], "line": int(index.num["line"][position]),
        "shots": {p.name: Query().url("/shot", **ident, name=p.name) for p in screenshots(source, row_id)},
        "category": index.coded["category"].at(position), "subcategory": index.coded["subcategory"].at(position),
    }  # fmt: skip


def screenshots(source: Source, row_id: str) -> list[Path]:
    """Images a run kept for an episode: OUT/runs/<config>/screenshots/<id>/ (run folders only).

    browser_vision saves `screenshots/browser_screenshot_N.png` in the workspace; a run that keeps them
    puts that folder here, and the trace page shows each beside the call that took it.
    """
    if source.run_folder is None or not row_id or "/" in row_id or row_id.startswith("."):
        return []
    folder = source.run_folder / "runs" / source.name / "screenshots" / row_id
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def compare_page(state: ViewerState, task: str) -> dict[str, Any]:
    """One task across configs and repeats, side by side; or, without a task, the tasks that have several rows."""
    index = state.index
    if not task:
        shared = [(name, index.text["task"][rows[0]], _per_config(state, rows)) for name, rows in state.shared_tasks()]
        return {"task": "", "shared": shared, "configs": state.config_names()}
    rows = state.task_rows(task)
    columns = []
    for number, name in enumerate(state.config_names()):
        mine = [p for p in rows if int(index.num["config"][p]) == number]
        if mine:
            columns.append((name, list_rows(state, np.array(mine), Query())))
    title = index.text["task"][rows[0]] if rows else ""
    return {"task": task, "title": title, "columns": columns, "found": bool(rows)}


def _per_config(state: ViewerState, rows: list[int]) -> dict[str, str]:
    index = state.index
    result: dict[str, list[int]] = {}
    for position in rows:
        name = index.source_of(position).name
        counts = result.setdefault(name, [0, 0, 0])
        counts[0] += 1
        outcome = index.coded["outcome"].at(position)
        counts[1] += outcome == "passed"
        counts[2] += outcome in ("passed", "failed", "error")
    return {name: (f"{c[1]}/{c[2]} passed" if c[2] else f"{c[0]} row(s)") for name, c in result.items()}
