"""`trajforge replay`: execute a dataset's tool calls again and compare the results."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console

from trajforge.cli.common import fail
from trajforge.cli.options import sandbox_backend
from trajforge.dataset import LayoutError, Problem, iter_rows
from trajforge.dataset.rows.episodes import episode_sources
from trajforge.dataset.rows.runfolder import superseded_in
from trajforge.sandbox import SandboxConfig, SandboxFactory
from trajforge.tasks import load_tasks
from trajforge.trace import Episode, ParseError, RecordError, from_record, parse


def replay(
    paths: Annotated[list[Path], typer.Argument(help="Episode records or published rows (JSONL or Parquet).")],
    tasks: Annotated[list[str] | None, typer.Option("--tasks", help="Where task ids are looked up.")] = None,
    sandbox: Annotated[
        str, typer.Option("--sandbox", "--backend", help="Sandbox backend.", metavar="auto|local|bwrap")
    ] = ("auto"),
    limit: Annotated[int | None, typer.Option(min=1, help="Replay at most this many episodes.")] = None,
    json: Annotated[bool, typer.Option("--json", help="One JSON object per episode.")] = False,
) -> None:
    """Replay each episode's tool calls in a fresh sandbox; exit 1 when any result differs."""
    errors = Console(stderr=True)
    backend = sandbox_backend(sandbox)
    catalog = load_tasks(tasks or ["builtin"])
    episodes = list(_episodes(paths, errors, limit))
    differing = asyncio.run(_replay_all(episodes, catalog, SandboxConfig(backend=backend), json))
    if not json:
        print(f"{len(episodes)} episodes replayed, {differing} with results that differ")
    if differing:
        raise typer.Exit(1)


def _episodes(paths: list[Path], errors: Console, limit: int | None) -> list[Episode]:
    found: list[Episode] = []
    try:  # a run folder gives its episode records (not its manifests), as curate reads it
        sources = episode_sources(paths)
    except LayoutError as exc:
        raise fail(str(exc)) from None
    skip = superseded_in([list(source.files) for source in sources])  # a retried episode: its newest record
    for path in [file for source in sources for file in source.files]:
        for item in iter_rows(path):
            if isinstance(item, Problem):
                errors.print(f"skipped: {item}", markup=False, highlight=False, soft_wrap=True)
                continue
            if item.number in skip.get(path, frozenset()):
                continue
            try:
                found.append(_episode(item.data))
            except (ParseError, RecordError, TypeError) as exc:
                errors.print(
                    f"skipped: {item.file}:{item.number}: {exc}", markup=False, highlight=False, soft_wrap=True
                )
            if limit and len(found) >= limit:
                return found
    return found


def _episode(data: Any) -> Episode:
    if isinstance(data, dict) and "messages" in data:
        return from_record(data)
    if isinstance(data, dict):
        return parse(data)
    raise TypeError("not an episode record or a row")


async def _replay_all(episodes: list[Episode], catalog: Any, sandbox: SandboxConfig, as_json: bool) -> int:
    from trajforge.runner import replay_episode  # here: the runner pulls in the model client (openai)

    factory = SandboxFactory(sandbox)
    differing = 0
    for recorded in episodes:
        _, comparisons = await replay_episode(recorded, catalog.by_id(recorded.task.id), factory)
        different = [c for c in comparisons if not c.same]
        differing += bool(different)
        if as_json:
            summary = {
                "id": recorded.id,
                "task": recorded.task.id,
                "calls": len(comparisons),
                "same": len(comparisons) - len(different),
                "different": [{"turn": c.turn, "call_id": c.call_id, "name": c.name} for c in different],
                "timings_only": sorted({kind for c in comparisons for kind in c.timings}),
            }
            sys.stdout.buffer.write(orjson.dumps(summary, option=orjson.OPT_APPEND_NEWLINE))
            continue
        timings = sorted({kind for c in comparisons for kind in c.timings})
        apart = f" (apart from wall-clock timings: {', '.join(timings)})" if timings else ""
        print(f"{recorded.id} {recorded.task.id or '-'}: {len(comparisons) - len(different)}/{len(comparisons)} "
              f"results identical{apart}")  # fmt: skip
        for c in different:
            print(f"  turn {c.turn} {c.name} ({c.call_id}): {_first_difference(c.recorded, c.replayed)}")
    return differing


def _first_difference(recorded: str, replayed: str | None) -> str:
    """The first differing line of two results, shortened, for a human to judge."""
    if replayed is None:
        return "not reached in the replay"
    old, new = recorded.replace("\\n", "\n").splitlines(), replayed.replace("\\n", "\n").splitlines()
    for a, b in zip(old, new, strict=False):
        if a != b:
            return f"recorded {a[:70]!r}, replayed {b[:70]!r}"
    return f"recorded {len(old)} lines, replayed {len(new)}"
