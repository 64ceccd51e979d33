"""Episodes over a list of tasks, one after another, into a run folder that can be resumed.

Layout: OUT/runs/<config>/episodes.jsonl (records, the resume ledger) and
OUT/rows/<config>.jsonl (published rows). A task id that already has N
records is not run again for those N repeats.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from trajforge.agent.environment import EnvironmentSetupError
from trajforge.policy import ModelConfig, OpenAIPolicy, Policy
from trajforge.runner.records import write_episode
from trajforge.runner.task_episode import oracle_policy, run_task_episode, runnable
from trajforge.sandbox import SandboxConfig, SandboxFactory
from trajforge.tasks import LoadedTask
from trajforge.trace import ModelInfo


@dataclass(frozen=True)
class GenerateSettings:
    """Where and how a generation run goes."""

    out: Path
    config: str
    sandbox: SandboxConfig = field(default_factory=SandboxConfig)
    model: ModelConfig | None = None
    """The served model; None plays each task's oracle."""
    repeat: int = 1


@dataclass
class GenerateSummary:
    """What a run did."""

    records: Path
    rows: Path
    ran: int = 0
    resumed: int = 0
    not_runnable: list[str] = field(default_factory=list)
    setup_failed: list[str] = field(default_factory=list)
    unrenderable: list[str] = field(default_factory=list)
    finishes: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)


def recorded_counts(records: Path) -> Counter[str]:
    """Records per task id in a ledger; a partial last line (a crash) is ignored."""
    counts: Counter[str] = Counter()
    if records.exists():
        with records.open("rb") as handle:
            for line in handle:
                try:
                    counts[orjson.loads(line)["task"]["id"]] += 1
                except (orjson.JSONDecodeError, KeyError, TypeError):
                    continue
    return counts


async def generate(
    tasks: list[LoadedTask], settings: GenerateSettings, on_episode: Callable[[str, str], None] = lambda _i, _s: None
) -> GenerateSummary:
    """Run every runnable task `repeat` times (resuming), appending records and rows."""
    summary = GenerateSummary(settings.out / "runs" / settings.config / "episodes.jsonl",
                              settings.out / "rows" / f"{settings.config}.jsonl")  # fmt: skip
    done = recorded_counts(summary.records)
    factory = SandboxFactory(settings.sandbox)
    shared = OpenAIPolicy(settings.model) if settings.model else None
    info = model_info(settings.model)
    try:
        for task in tasks:
            spec = task.spec
            if not runnable(spec) or (shared is None and spec.oracle is None):
                summary.not_runnable.append(spec.id)
                continue
            for _ in range(done[spec.id], settings.repeat):
                policy: Policy = shared or oracle_policy(spec)
                try:
                    ran = await run_task_episode(
                        task, factory, policy, config=settings.config, model=info,
                        secrets=(settings.model.api_key,) if settings.model else (),
                    )  # fmt: skip
                except EnvironmentSetupError as exc:
                    summary.setup_failed.append(str(exc).splitlines()[0])
                    on_episode(spec.id, "setup failed")
                    break
                episode = ran.episode
                if write_episode(episode, summary.records, summary.rows):
                    summary.unrenderable.append(spec.id)
                summary.ran += 1
                summary.finishes[episode.finish.value] += 1
                summary.outcomes[episode.outcome.value] += 1
                on_episode(spec.id, f"{episode.finish.value}, check {episode.outcome.value}")
            summary.resumed += min(done[spec.id], settings.repeat)
    finally:
        if shared:
            await shared.close()
    return summary


def model_info(model: ModelConfig | None) -> ModelInfo:
    """What the record says about the model (the oracle when there is none)."""
    if model is None:
        return ModelInfo(name="oracle", endpoint="", sampling={})
    return ModelInfo(name=model.model, endpoint=model.endpoint, sampling=model.sampling())
