"""Many episodes at once over a list of tasks, into a run folder that survives crashes.

One asyncio process keeps `concurrency` episodes in flight; tasks are taken
lazily, so memory does not grow with their number. Every episode has a stable
id (config, task, repeat): resuming skips the ids the ledger holds, and a
crash or Ctrl-C costs only the episodes in flight.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from trajforge.agent.environment import EnvironmentSetupError
from trajforge.policy import ModelConfig, OpenAIPolicy, Policy
from trajforge.runner.ledger import Ledger, episode_id
from trajforge.runner.task_episode import oracle_policy, run_task_episode, runnable
from trajforge.sandbox import SandboxConfig, SandboxFactory
from trajforge.tasks import LoadedTask
from trajforge.trace import Episode, ModelInfo


@dataclass(frozen=True)
class GenerateSettings:
    """Where and how a generation run goes."""

    out: Path
    config: str
    sandbox: SandboxConfig = field(default_factory=SandboxConfig)
    model: ModelConfig | None = None
    """The served model; None plays each task's oracle."""
    repeat: int = 1
    concurrency: int = 1
    max_episodes: int | None = None
    """Stop after this many new episodes."""
    seed: int | None = None
    """Shuffle the task order with this seed (None keeps the given order)."""


@dataclass
class GenerateSummary:
    """What a run did so far; live, so a progress display can read it."""

    records: Path
    rows: Path
    todo: int = 0
    ran: int = 0
    resumed: int = 0
    in_flight: int = 0
    turns: int = 0
    tokens: int = 0
    started: float = field(default_factory=time.monotonic)
    not_runnable: list[str] = field(default_factory=list)
    setup_failed: list[str] = field(default_factory=list)
    unrenderable: list[str] = field(default_factory=list)
    finishes: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)

    def count(self, episode: Episode) -> None:
        """Fold a finished episode into the figures."""
        self.ran += 1
        self.turns += len(episode.timing.model_calls)
        self.tokens += sum((u.prompt_tokens or 0) + (u.completion_tokens or 0) for u in episode.usage)
        self.finishes[episode.finish.value] += 1
        self.outcomes[episode.outcome.value] += 1


@dataclass(frozen=True)
class _Item:
    task: LoadedTask
    repeat: int
    id: str


def plan(tasks: list[LoadedTask], settings: GenerateSettings, done: set[str], summary: GenerateSummary) -> list[_Item]:
    """The episodes still to run, in order (tasks that cannot run are noted in `summary`)."""
    order = list(tasks)
    if settings.seed is not None:
        random.Random(settings.seed).shuffle(order)
    items = []
    for task in order:
        spec = task.spec
        if not runnable(spec) or (settings.model is None and spec.oracle is None):
            summary.not_runnable.append(spec.id)
            continue
        for repeat in range(settings.repeat):
            key = episode_id(settings.config, spec.id, repeat)
            if key in done:
                summary.resumed += 1
            else:
                items.append(_Item(task, repeat, key))
    if settings.max_episodes is not None:
        items = items[: settings.max_episodes]
    summary.todo = len(items)
    return items


async def generate(
    tasks: list[LoadedTask],
    settings: GenerateSettings,
    on_episode: Callable[[str, str], None] = lambda _i, _s: None,
    *,
    stop: asyncio.Event | None = None,
    summary: GenerateSummary | None = None,
) -> GenerateSummary:
    """Run every planned episode, `settings.concurrency` at a time; setting `stop` takes no new ones."""
    ledger = Ledger(settings.out, settings.config)
    summary = summary or GenerateSummary(ledger.records_dir, ledger.rows_dir)
    items = iter(plan(tasks, settings, ledger.done_ids(), summary))
    ledger.open_writer()
    factory = SandboxFactory(settings.sandbox)
    await factory.backend()  # probe once, before the workers start
    shared = OpenAIPolicy(settings.model) if settings.model else None
    stop = stop or asyncio.Event()
    try:
        workers = [_worker(items, settings, factory, shared, ledger, summary, stop, on_episode)
                   for _ in range(max(1, settings.concurrency))]  # fmt: skip
        await asyncio.gather(*workers)
    finally:
        if shared:
            await shared.close()
    return summary


async def _worker(
    items: Iterator[_Item],
    settings: GenerateSettings,
    factory: SandboxFactory,
    shared: OpenAIPolicy | None,
    ledger: Ledger,
    summary: GenerateSummary,
    stop: asyncio.Event,
    on_episode: Callable[[str, str], None],
) -> None:
    info = model_info(settings.model)
    secrets = (settings.model.api_key,) if settings.model else ()
    while not stop.is_set():
        item = next(items, None)  # one shared iterator: each item goes to exactly one worker
        if item is None:
            return
        policy: Policy = shared or oracle_policy(item.task.spec)
        summary.in_flight += 1
        try:
            ran = await run_task_episode(item.task, factory, policy, config=settings.config, model=info,
                                         secrets=secrets, episode_id=item.id)  # fmt: skip
        except EnvironmentSetupError as exc:
            summary.setup_failed.append(str(exc).splitlines()[0])
            on_episode(item.task.spec.id, "setup failed")
            continue
        finally:
            summary.in_flight -= 1
        if ledger.write(ran.episode):
            summary.unrenderable.append(item.task.spec.id)
        summary.count(ran.episode)
        on_episode(item.task.spec.id, f"{ran.episode.finish.value}, check {ran.episode.outcome.value}")


def model_info(model: ModelConfig | None) -> ModelInfo:
    """What the record says about the model (the oracle when there is none)."""
    if model is None:
        return ModelInfo(name="oracle", endpoint="", sampling={})
    endpoint = ", ".join(model.endpoints)
    return ModelInfo(name=model.model, endpoint=endpoint, sampling=model.sampling())
