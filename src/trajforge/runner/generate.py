"""Many episodes at once over a list of tasks, into a run folder that survives crashes.

One asyncio process keeps `concurrency` episodes in flight; tasks are taken
lazily, so memory does not grow with their number. Every episode has a stable
id (config, task, repeat): resuming skips the ids whose last record is final,
and a crash or Ctrl-C costs only the episodes in flight. An episode that ends on
a transient failure (endpoint down, 5xx, timeouts) or a harness error is
recorded and run again by the next run over the folder.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from trajforge.agent.environment import EnvironmentSetupError
from trajforge.agent.loop import describe_exception
from trajforge.policy import ModelConfig, OpenAIPolicy, Policy
from trajforge.runner.browsing import vision_config
from trajforge.runner.ledger import Ledger, episode_id
from trajforge.runner.settings import GenerateSettings
from trajforge.runner.task_episode import TaskEpisode, oracle_policy, run_task_episode, runnable
from trajforge.runner.users import user_policy
from trajforge.sandbox import SandboxFactory
from trajforge.tasks import LoadedTask
from trajforge.tools.browser import BrowserEngine, BrowserPool
from trajforge.trace import Episode, Finish, Message, ModelInfo, TaskRef


@dataclass(frozen=True)
class EpisodeEvent:
    """One episode ended (or could not start): what progress displays and logs show."""

    task_id: str
    repeat: int
    status: str
    """`stop, check passed`, `setup failed: ...`, `model_error (transient): ...`."""
    seconds: float
    failed: bool
    """Not recorded as a final episode: a rerun runs it again."""


@dataclass
class GenerateSummary:
    """What a run did so far; live, so a progress display can read it."""

    records: Path
    rows: Path
    todo: int = 0
    ran: int = 0
    resumed: int = 0
    retried: int = 0
    """Episodes run again because their last record was a transient failure or a harness error."""
    in_flight: int = 0
    turns: int = 0
    tokens: int = 0
    started: float = field(default_factory=time.monotonic)
    not_runnable: list[str] = field(default_factory=list)
    setup_failed: list[str] = field(default_factory=list)
    unrenderable: list[str] = field(default_factory=list)
    finishes: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    transient: int = 0
    """Episodes recorded with a transient failure (a rerun retries them)."""
    errors: Counter[str] = field(default_factory=Counter)
    """Failures by kind: setup, harness error, transient model error."""
    stopped: str | None = None
    """Why the run stopped taking episodes before the end (breaker, --fail-fast), if it did."""
    model_retries: int = 0
    """Model requests retried after a transient failure."""
    rows_rebuilt: int = 0
    last_id: str | None = None
    """The episode recorded last."""

    def count(self, episode: Episode) -> None:
        """Fold a finished episode into the figures."""
        self.ran += 1
        self.last_id = episode.id
        self.turns += len(episode.timing.model_calls)
        self.tokens += sum((u.prompt_tokens or 0) + (u.completion_tokens or 0) for u in episode.usage)
        self.finishes[episode.finish.value] += 1
        self.outcomes[episode.outcome.value] += 1
        if episode.finish is Finish.ERROR:
            self.errors["harness error"] += 1
        elif episode.retryable:
            self.transient += 1
            self.errors[f"{episode.finish.value} (transient)"] += 1

    @property
    def failed(self) -> int:
        """Planned episodes that did not end with a final record."""
        return len(self.setup_failed) + self.finishes[Finish.ERROR.value] + self.transient

    @property
    def complete(self) -> bool:
        """Every planned episode ran and has a final record."""
        return self.failed == 0 and self.ran == self.todo and self.stopped is None


@dataclass(frozen=True)
class _Item:
    task: LoadedTask
    repeat: int
    id: str


def plan(tasks: list[LoadedTask], settings: GenerateSettings, ledger: Ledger, summary: GenerateSummary) -> list[_Item]:
    """The episodes still to run, in order (tasks that cannot run are noted in `summary`)."""
    scan = ledger.scan()
    done = scan.done(retry_failed=settings.retry_failed)
    order = list(tasks)
    if settings.seed is not None:
        random.Random(settings.seed).shuffle(order)
    items = []
    toolsets = settings.episode.toolsets
    for task in order:
        spec = task.spec
        if not runnable(spec, toolsets) or (settings.model is None and spec.oracle is None):
            summary.not_runnable.append(spec.id)
            continue
        for repeat in range(settings.repeat):
            key = episode_id(settings.config, spec.id, repeat)
            if key in done:
                summary.resumed += 1
                continue
            summary.retried += key in scan.retry or key in scan.final
            items.append(_Item(task, repeat, key))
    if settings.max_episodes is not None:
        items = items[: settings.max_episodes]
    summary.todo = len(items)
    return items


async def generate(
    tasks: list[LoadedTask],
    settings: GenerateSettings,
    on_episode: Callable[[EpisodeEvent], None] = lambda _event: None,
    *,
    stop: asyncio.Event | None = None,
    summary: GenerateSummary | None = None,
    owner: bool = True,
) -> GenerateSummary:
    """Run every planned episode, `settings.concurrency` at a time; setting `stop` takes no new ones.

    The `owner` of the run folder (the process holding its `RunLock`; not a Ray
    worker) repairs what a crash left first and brings the rows in line with the
    records at the end.
    """
    ledger = Ledger(settings.out, settings.config)
    summary = summary or GenerateSummary(ledger.records_dir, ledger.rows_dir)
    if owner:
        ledger.repair()
    items = iter(plan(tasks, settings, ledger, summary))
    ledger.open_writer()
    factory = SandboxFactory(settings.sandbox)
    if summary.todo:  # probe once, before the workers start (a finished folder spawns nothing: start-up)
        await factory.backend()
    shared = OpenAIPolicy(settings.model) if settings.model else None
    users = user_policy(settings.model, settings.user_endpoint, settings.user_model)
    stop = stop or asyncio.Event()
    workers = max(1, min(settings.concurrency, summary.todo))
    browsers = BrowserPool(min(workers, len(os.sched_getaffinity(0))))  # per core; each starts on first use
    run = _Run(settings, factory, shared, ledger, summary, stop, on_episode, users)
    try:
        async with asyncio.TaskGroup() as group:
            for number in range(workers):
                group.create_task(run.worker(items, browsers.for_worker(number)))
    finally:
        await browsers.close()
        if shared:
            summary.model_retries = shared.retries
            await shared.close()
        if users:
            await users.close()
        if owner:
            summary.rows_rebuilt = await asyncio.to_thread(ledger.sync_rows)
    return summary


@dataclass
class _Run:
    settings: GenerateSettings
    factory: SandboxFactory
    shared: OpenAIPolicy | None
    ledger: Ledger
    summary: GenerateSummary
    stop: asyncio.Event
    on_episode: Callable[[EpisodeEvent], None]
    users: OpenAIPolicy | None = None
    """The model playing simulated users, when --user-endpoint/--user-model name one of its own."""
    series: dict[str, asyncio.Lock] = field(default_factory=dict)
    """One lock per shared home (`home.shared`): the sessions of a series run one after another."""

    async def worker(self, items: Iterator[_Item], engine: BrowserEngine | None = None) -> None:
        """Take items until none is left or the run stops; browser tasks use `engine`."""
        while not self.stop.is_set():
            if self.shared is not None and self.shared.breaker_open:
                self.summary.stopped = f"the model endpoints keep failing: {self.shared.breaker_reason}"
                self.stop.set()
                return
            item = next(items, None)  # one shared iterator: each item goes to exactly one worker
            if item is None:
                return
            await self.one(item, engine)

    async def _episode(self, item: _Item, policy: Policy, engine: BrowserEngine | None) -> TaskEpisode:
        """Run the item's episode; the sessions of a series (`home.shared`) one after another, in order."""
        home = item.task.spec.home
        # Asked for before the first await, as items leave the iterator in order: a series keeps its order.
        series = self.series.setdefault(home.shared, asyncio.Lock()) if home and home.shared else None
        async with series or contextlib.nullcontext():
            return await run_task_episode(
                item.task, self.factory, policy, config=self.settings.config, model=model_info(self.settings.model),
                secrets=(self.settings.model.api_key,) if self.settings.model else (), episode_id=item.id,
                overrides=self.settings.episode, repeat=item.repeat, browser=engine,
                vision=vision_config(self.settings.model, self.settings.vision_endpoint, self.settings.vision_model),
                user_policy=self.users, homes=self.settings.out / "homes",
                screenshots=self.settings.out / "runs" / self.settings.config / "screenshots",
            )  # fmt: skip

    async def one(self, item: _Item, engine: BrowserEngine | None = None) -> None:
        spec, summary = item.task.spec, self.summary
        policy: Policy = self.shared or oracle_policy(spec)
        started = time.monotonic()
        summary.in_flight += 1
        try:
            ran = await self._episode(item, policy, engine)
            episode = ran.episode
        except EnvironmentSetupError as exc:
            summary.setup_failed.append(str(exc).splitlines()[0])
            summary.errors["setup failed"] += 1
            self.on_episode(EpisodeEvent(spec.id, item.repeat, f"setup failed: {str(exc).splitlines()[0]}",
                                         time.monotonic() - started, failed=True))  # fmt: skip
            return
        except Exception as exc:  # the harness's or the host's fault: this episode's `error`, the run goes on
            episode = _error_episode(item, self.settings, describe_exception(exc))
        finally:
            summary.in_flight -= 1
        if self.ledger.write(episode) and not episode.retryable:
            summary.unrenderable.append(spec.id)
        summary.count(episode)
        self.on_episode(_event(item, episode, time.monotonic() - started))
        if episode.finish is Finish.ERROR and self.settings.fail_fast:
            summary.stopped = f"--fail-fast: {spec.id} ended with a harness error: {episode.error}"
            self.stop.set()


def _event(item: _Item, episode: Episode, seconds: float) -> EpisodeEvent:
    status = episode.finish.value + (" (transient)" if episode.retryable and episode.finish is not Finish.ERROR else "")
    if episode.outcome.value != "none":
        status += f", check {episode.outcome.value}"
    if episode.error and episode.finish is not Finish.STOP:
        status += f": {episode.error.splitlines()[0][:200]}"
    return EpisodeEvent(item.task.spec.id, item.repeat, status, seconds, failed=episode.retryable)


def _error_episode(item: _Item, settings: GenerateSettings, error: str) -> Episode:
    """The record of an episode the harness failed before the loop could record it."""
    spec = item.task.spec
    return Episode(
        id=item.id,
        task=TaskRef(spec.id, spec.category, spec.subcategory, spec.prompt),
        messages=[Message(role="user", content=spec.prompt)],
        config=settings.config,
        model=model_info(settings.model),
        finish=Finish.ERROR,
        error=error,
    )


def model_info(model: ModelConfig | None) -> ModelInfo:
    """What the record says about the model (the oracle when there is none)."""
    if model is None:
        return ModelInfo(name="oracle", endpoint="", sampling={})
    endpoint = ", ".join(model.endpoints)
    return ModelInfo(name=model.model, endpoint=endpoint, sampling=model.sampling())
