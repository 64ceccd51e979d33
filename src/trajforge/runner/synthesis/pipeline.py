"""Synthesis: ask a model for tasks, keep the ones that validate, are new, set up, resist wrong solutions.

Workers (`concurrency` of them) each take the subcategory furthest below its
target, pick seed tasks and an environment afresh, send one request, and pass
every spec of the answer through the gates in order: the loader's validation,
the named heuristics, the duplicate index, the probe, calibration. A task that
passes is appended to the output file at once (fsync'd), so a run killed at
any point loses only the requests in flight, and a rerun goes on from the file.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from pydantic import ValidationError

from trajforge.policy import OpenAIPolicy, PolicyError
from trajforge.runner.ledger import cut_partial_line
from trajforge.runner.lock import RunLock
from trajforge.runner.records import append_line
from trajforge.runner.synthesis.calibrate import calibrate
from trajforge.runner.synthesis.probe import check_runnable, probe
from trajforge.runner.synthesis.settings import Key, SynthesisSettings
from trajforge.sandbox import SandboxFactory
from trajforge.tasks import LoadedTask, TaskSpec, load_tasks
from trajforge.tasks.synthesis import environments as envs
from trajforge.tasks.synthesis.answers import extract_entries, read_candidate
from trajforge.tasks.synthesis.distribution import Quotas, weights
from trajforge.tasks.synthesis.guide import entry as guide_entry
from trajforge.tasks.synthesis.heuristics import screen
from trajforge.tasks.synthesis.novelty import PromptIndex
from trajforge.tasks.synthesis.outcomes import Reason, Rejected
from trajforge.tasks.synthesis.prompting import evolve_messages, request_messages
from trajforge.tasks.synthesis.report import SynthesisReport
from trajforge.tasks.synthesis.store import TaskFile, report_path, side_folder, write_atomically
from trajforge.trace import Message, ModelInfo
from trajforge.trace.turns import json_bytes, loads


@dataclass(frozen=True)
class SynthesisEvent:
    """Something a progress display shows: a request answered or failed, a task accepted or rejected."""

    kind: str
    """`accepted`, `rejected`, `request`, `failed` or `warning`."""
    text: str


@dataclass(frozen=True)
class _Job:
    key: Key
    env: envs.Environment
    parent: TaskSpec | None = None
    """Set for a harder variant of this accepted task."""


class Synthesis:
    """One run of synthesis into `settings.out`; `await run()` returns the report (over all runs)."""

    def __init__(self, settings: SynthesisSettings, on_event: Callable[[SynthesisEvent], None] | None = None,
                 stop: asyncio.Event | None = None) -> None:  # fmt: skip
        self.settings = settings
        self.on_event = on_event or (lambda _event: None)
        self.stop = stop or asyncio.Event()
        self.file = TaskFile(settings.out)
        self.fixture_root = settings.out.parent / "fixtures"
        self.raw_path = side_folder(settings.out) / "raw.jsonl"
        self.rng = random.Random(settings.seed)
        self.taken: set[str] = set()
        self.index = PromptIndex(settings.near_duplicate)
        self.pending: Counter[Key] = Counter()
        self.evolve_queue: list[_Job] = []
        self.requests_this_run = 0
        self._changed = asyncio.Event()
        self._installed: dict[envs.Environment, envs.Environment] = {}
        self.report = SynthesisReport()
        self.quotas = Quotas({}, {})
        self.seeds: list[TaskSpec] = []
        self.user_envs = [envs.user_environment(path) for path in settings.environments]
        self.catalog_envs: dict[str, list[envs.Environment]] = {}

    def open(self) -> list[str]:
        """Read the output (repairing a cut last task), the seeds and the last report; returns problems to show."""
        problems: list[str] = []
        existing = self.file.open()
        if self.raw_path.exists():
            cut_partial_line(self.raw_path)  # a crash mid-append: the next answer starts on its own line
        if self.file.repaired_bytes:
            problems.append(f"note: cut a partial last task ({self.file.repaired_bytes} bytes) from {self.file.path}")
        accepted: Counter[Key] = Counter()
        for data in existing:
            try:
                spec = TaskSpec.model_validate(data)
            except ValidationError as exc:
                problems.append(
                    f"note: {self.file.path}: task {data.get('id', '?')} no longer valid: {exc.errors()[0]['msg']}"
                )
                continue
            self.taken.add(spec.id)
            self.index.add(spec.id, spec.prompt)
            accepted[(spec.category, spec.subcategory)] += 1
        seeds = load_tasks(self.settings.seed_sources)
        problems += [f"note: seed tasks: {p}" for p in seeds.problems[:5]]
        self.seeds = [t.spec for t in seeds.tasks]
        self.catalog_envs = envs.catalog_environments(seeds.tasks)
        for spec in self.seeds:
            self.taken.add(spec.id)
            self.index.add(spec.id, spec.prompt)
        self.report = self._previous_report(len(existing))
        weight = weights(self.settings.distribution, self.settings.allowed)
        self.quotas = Quotas.build(self.settings.total, weight, self.settings.cap, dict(accepted))
        return problems

    def _previous_report(self, tasks_in_file: int) -> SynthesisReport:
        path = report_path(self.settings.out)
        try:
            report = SynthesisReport.from_json(loads(path.read_bytes())) if tasks_in_file else SynthesisReport()
        except (OSError, ValueError, TypeError, AttributeError):
            report = SynthesisReport()
        report.accepted, report.stopped = tasks_in_file, None
        return report

    async def run(self) -> SynthesisReport:
        """Request, judge and keep tasks until the quotas are met, the request budget is spent, or `stop` is set."""
        settings = self.settings
        self.model = OpenAIPolicy(settings.model)
        calibration = settings.calibration_model or settings.model
        self.calibration = OpenAIPolicy(calibration) if settings.calibrate else None
        self.calibration_info = ModelInfo(name=calibration.model, endpoint=calibration.endpoint)
        self.factory = SandboxFactory(settings.sandbox)
        if await self.factory.backend() == "local" and (settings.probe or settings.calibrate):
            text = "the local sandbox does not isolate the file system: model-written set-up and checks run as you"
            self.on_event(SynthesisEvent("warning", text))
        missing = sum(self.quotas.missing(key) for key in self.quotas.target)
        self.max_requests = settings.max_requests or 4 * math.ceil(missing / max(1, settings.per_request)) + 4
        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(max(1, settings.concurrency)):
                    group.create_task(self._worker())
        except ExceptionGroup as group:  # a worker's failure (a full disk...) as itself, for one clear line
            raise group.exceptions[0] from None
        finally:
            await self.model.close()
            if self.calibration is not None:
                await self.calibration.close()
            self.save_report()
        return self.report

    def save_report(self) -> None:
        """Write the report beside the output (whole, never half)."""
        data = json_bytes(self.report.to_json(self.quotas))
        write_atomically(report_path(self.settings.out), data + b"\n")

    async def _worker(self) -> None:
        while not self.stop.is_set():
            job = self._next_job()
            if job is None:
                if not sum(self.pending.values()):
                    return
                self._changed.clear()
                await self._changed.wait()  # another request may still fill a quota, or fail and leave it open
                continue
            self.pending[job.key] += 1
            try:
                await self._run_job(job)
            finally:
                self.pending[job.key] -= 1
                self._changed.set()

    def _next_job(self) -> _Job | None:
        if self.model.breaker_open:
            self.report.stopped = f"the model endpoints keep failing: {self.model.breaker_reason}"
            return None
        if self.quotas.done:
            return None
        if self.requests_this_run >= self.max_requests:
            self.report.stopped = f"made {self.requests_this_run} requests (--max-requests) before reaching the target"
            return None
        while self.evolve_queue:
            job = self.evolve_queue.pop(0)
            if self.quotas.missing(job.key) > self.pending[job.key]:
                return job
        open_keys = [k for k in self.quotas.target if self.quotas.missing(k) > self.pending[k]]
        if not open_keys:
            return None
        best = max(self.quotas.missing(k) - self.pending[k] for k in open_keys)
        key = self.rng.choice([k for k in open_keys if self.quotas.missing(k) - self.pending[k] == best])
        return _Job(key, self._environment(key))

    def _environment(self, key: Key) -> envs.Environment:
        options = self.user_envs or [*self.catalog_envs.get(key[1], []), envs.INLINE]
        chosen = self.rng.choice(options)
        if chosen not in self._installed:
            self._installed[chosen] = envs.install(chosen, self.fixture_root)
        return self._installed[chosen]

    def _seeds_for(self, key: Key) -> list[TaskSpec]:
        pool = [s for s in self.seeds if (s.category, s.subcategory) == key] or [
            s for s in self.seeds if s.category == key[0]
        ]
        return self.rng.sample(pool, min(self.settings.seeds_per_request, len(pool)))

    async def _run_job(self, job: _Job) -> None:
        self.requests_this_run += 1
        if job.parent is not None:
            self.report.evolve_requests += 1
            messages, seeds = evolve_messages(job.parent, job.env), [job.parent.id]
        else:
            chosen = self._seeds_for(job.key)
            messages = request_messages(guide_entry(*job.key), chosen, job.env, self.settings.per_request)
            seeds = [s.id for s in chosen]
        self.report.requests += 1
        started = time.monotonic()
        try:
            reply = await self.model.exchange([Message(role=role, content=text) for role, text in messages], [])
        except PolicyError as exc:
            self.report.failed_requests += 1
            self.on_event(SynthesisEvent("failed", f"request for {job.key[1]} failed: {exc}"))
            return
        text = reply.message.content or ""
        append_line(self.raw_path, {
            "request": self.report.requests, "kind": "evolve" if job.parent else "new", "category": job.key[0],
            "subcategory": job.key[1], "environment": job.env.name, "seeds": seeds, "model": self.settings.model.model,
            "seconds": round(time.monotonic() - started, 3), "reasoning": reply.message.reasoning, "answer": text,
        })  # fmt: skip
        self.on_event(SynthesisEvent("request", f"{job.key[1]}: answered in {time.monotonic() - started:.1f} s"))
        try:
            entries = extract_entries(text)
        except Rejected as rejection:
            self._reject(rejection)
            return
        self.report.proposed += len(entries)
        for entry in entries:
            await self._consider(entry, job)
        self.save_report()

    async def _consider(self, entry: Any, job: _Job) -> None:
        try:
            candidate = read_candidate(entry, category=job.key[0], subcategory=job.key[1], taken=self.taken,
                                       fixture_root=self.fixture_root)  # fmt: skip
            for note in candidate.notes:
                self.report.note(note)
            spec = candidate.spec
            screen(spec)
            self._check_new(spec, job.key)
            task = LoadedTask(spec, self.settings.out)
            check_runnable(task)
            if self.settings.probe:
                await probe(task, self.factory)
            if self.calibration is not None:
                self.report.calibration_episodes += self.settings.calibrate
                measured = await calibrate(task, self.factory, self.calibration, self.settings.calibrate,
                                           self.calibration_info, self.settings.band)  # fmt: skip
                spec = spec.model_copy(update={"calibration": measured})
            self._check_new(spec, job.key)  # again: another worker may have kept a like task meanwhile
        except Rejected as rejection:
            self._reject(rejection)
            return
        self._accept(spec, job)

    def _check_new(self, spec: TaskSpec, key: Key) -> None:
        try:
            self.index.check(spec.prompt)
        except Rejected as rejection:
            raise Rejected(rejection.reason, rejection.detail, spec.id) from None
        if self.quotas.missing(key) <= 0:
            raise Rejected(Reason.OVER_CAP, f"{key[0]}/{key[1]} has its {self.quotas.target[key]} tasks", spec.id)

    def _accept(self, spec: TaskSpec, job: _Job) -> None:
        data = spec.model_dump(mode="json", exclude_defaults=True)
        self.file.append(data)
        self.index.add(spec.id, spec.prompt)
        self.quotas.accepted[job.key] = self.quotas.accepted.get(job.key, 0) + 1
        self.report.accepted += 1
        self.report.evolved += job.parent is not None
        self.on_event(SynthesisEvent("accepted", spec.id))
        if self.settings.evolve and job.parent is None:
            self.evolve_queue.append(replace(job, parent=spec))

    def _reject(self, rejection: Rejected) -> None:
        self.report.reject(rejection)
        self.on_event(SynthesisEvent("rejected", str(rejection)))


async def synthesize(
    settings: SynthesisSettings,
    on_event: Callable[[SynthesisEvent], None] | None = None,
    stop: asyncio.Event | None = None,
    on_open: Callable[[Synthesis, list[str]], None] | None = None,
) -> Synthesis:
    """Run synthesis into `settings.out` under its lock (RunFolderLocked when another run holds it)."""
    with RunLock(side_folder(settings.out)):
        synthesis = Synthesis(settings, on_event, stop)
        problems = synthesis.open()
        if on_open is not None:
            on_open(synthesis, problems)
        await synthesis.run()
    return synthesis
