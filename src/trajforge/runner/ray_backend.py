"""The same generation spread over a Ray cluster: each worker runs the asyncio runner on its share.

Workers read the task spec files and write their own ledger files (their pid
tells them apart) into the same run folder, so the layout, resume and ids are
exactly those of a local run. The run folder and spec files must be on a file
system every node sees (one machine, or a shared mount).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from trajforge.runner.generate import GenerateSummary, generate
from trajforge.runner.ledger import Ledger
from trajforge.runner.settings import GenerateSettings
from trajforge.tasks import load_tasks


@dataclass(frozen=True)
class RayOptions:
    """Where the Ray cluster is and how many shares the work is cut into."""

    address: str | None = None
    """`ray.init(address=...)`; None starts a local instance."""
    workers: int = 2
    """Shares of the task list, each run by one Ray task (one CPU)."""


def _run_share(sources: Sequence[str], task_ids: list[str], settings: GenerateSettings) -> dict[str, Any]:
    """Inside a Ray worker: the asyncio runner over this share's tasks."""
    chosen = set(task_ids)
    tasks = [t for t in load_tasks(sources).tasks if t.spec.id in chosen]
    # not the folder's owner: the driver repairs before and syncs rows after; a worker touches only its own files
    summary = asyncio.run(generate(tasks, settings, owner=False))
    return {
        "todo": summary.todo,
        "ran": summary.ran,
        "resumed": summary.resumed,
        "retried": summary.retried,
        "not_runnable": summary.not_runnable,
        "transient": summary.transient,
        "errors": dict(summary.errors),
        "stopped": summary.stopped,
        "model_retries": summary.model_retries,
        "setup_failed": summary.setup_failed,
        "unrenderable": summary.unrenderable,
        "finishes": dict(summary.finishes),
        "outcomes": dict(summary.outcomes),
    }


def generate_on_ray(
    sources: Sequence[str], task_ids: list[str], settings: GenerateSettings, options: RayOptions
) -> GenerateSummary:
    """Run the tasks `task_ids` of `sources` over Ray in `options.workers` shares; returns the merged summary."""
    import ray  # imported only when this backend is chosen: it is heavy

    ledger = Ledger(settings.out, settings.config)
    ledger.repair()
    started_here = not ray.is_initialized()
    if started_here:
        cpus = options.workers if options.address is None else None  # a local instance gets one CPU per share
        ray.init(address=options.address, num_cpus=cpus, include_dashboard=False, log_to_driver=False)
    try:
        remote = ray.remote(num_cpus=1)(_run_share)
        shares = [task_ids[k :: options.workers] for k in range(options.workers)]
        parts = ray.get([remote.remote(list(sources), share, settings) for share in shares if share])
    finally:
        if started_here:
            ray.shutdown()
    summary = GenerateSummary(ledger.records_dir, ledger.rows_dir)
    for part in parts:
        for name in ("todo", "ran", "resumed", "retried", "transient", "model_retries"):
            setattr(summary, name, getattr(summary, name) + part[name])
        summary.setup_failed += part["setup_failed"]
        summary.unrenderable += part["unrenderable"]
        summary.not_runnable += part["not_runnable"]
        summary.finishes.update(part["finishes"])
        summary.outcomes.update(part["outcomes"])
        summary.errors.update(part["errors"])
        summary.stopped = summary.stopped or part["stopped"]
    summary.rows_rebuilt = ledger.sync_rows()
    return summary
