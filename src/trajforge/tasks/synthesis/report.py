"""The run's report: requests made, tasks accepted, each rejection reason with its count, counts against target."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from trajforge.tasks.synthesis.distribution import Quotas
from trajforge.tasks.synthesis.outcomes import Reason, Rejected

EXAMPLES_PER_REASON = 3


@dataclass
class SynthesisReport:
    """What synthesis did, over every run into the same output (a rerun adds to the previous report)."""

    requests: int = 0
    failed_requests: int = 0
    """Requests the model endpoint did not answer (errors after retries)."""
    evolve_requests: int = 0
    proposed: int = 0
    """Task specs found in the answers (an unparseable answer counts as none)."""
    accepted: int = 0
    evolved: int = 0
    """Accepted tasks that are harder variants of accepted ones."""
    calibration_episodes: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    """A few details per reason (task id and why), for the reader to look at."""
    notes: Counter[str] = field(default_factory=Counter)
    """Things mended on the way (renamed ids, dropped oracles, unusable wrong solutions)."""
    stopped: str | None = None

    def reject(self, rejection: Rejected) -> None:
        """Count one rejection."""
        reason = rejection.reason.value
        self.rejected[reason] += 1
        shown = self.examples.setdefault(reason, [])
        if len(shown) < EXAMPLES_PER_REASON:
            shown.append(f"{rejection.task_id or '?'}: {rejection.detail}" if rejection.detail else rejection.task_id)

    def note(self, text: str) -> None:
        """Count one mended thing, by its kind (the words before the first quote or colon)."""
        self.notes[text.split("'")[0].split(":")[0].strip()] += 1

    def to_json(self, quotas: Quotas | None = None) -> dict[str, Any]:
        """The report as the JSON file beside the output holds it."""
        data: dict[str, Any] = {
            "requests": self.requests, "failed_requests": self.failed_requests,
            "evolve_requests": self.evolve_requests, "proposed": self.proposed, "accepted": self.accepted,
            "evolved": self.evolved, "calibration_episodes": self.calibration_episodes,
            "rejected": {r.value: self.rejected[r.value] for r in Reason if self.rejected[r.value]},
            "examples": self.examples, "notes": dict(self.notes), "stopped": self.stopped,
        }  # fmt: skip
        if quotas is not None:
            data["distribution"] = distribution_rows(quotas)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SynthesisReport:
        """A previous run's report, to go on counting from."""
        report = cls()
        for name in ("requests", "failed_requests", "evolve_requests", "proposed", "accepted", "evolved",
                     "calibration_episodes"):  # fmt: skip
            value = data.get(name, 0)
            setattr(report, name, value if isinstance(value, int) else 0)
        report.rejected.update({k: v for k, v in (data.get("rejected") or {}).items() if isinstance(v, int)})
        report.notes.update({k: v for k, v in (data.get("notes") or {}).items() if isinstance(v, int)})
        examples = data.get("examples") or {}
        report.examples = {k: list(v) for k, v in examples.items() if isinstance(v, list)}
        return report

    def lines(self) -> list[str]:
        """The report as plain text lines (what the command prints)."""
        out = [
            f"requests: {self.requests} ({self.failed_requests} failed, {self.evolve_requests} for harder variants)",
            f"tasks proposed: {self.proposed}, accepted: {self.accepted} ({self.evolved} harder variants)",
        ]
        if self.calibration_episodes:
            out.append(f"calibration episodes: {self.calibration_episodes}")
        total = sum(self.rejected.values())
        out.append(f"rejected: {total}")
        for reason in Reason:
            if self.rejected[reason.value]:
                out.append(f"  {reason.value}: {self.rejected[reason.value]}")
                out += [f"      e.g. {example}" for example in self.examples.get(reason.value, [])]
        for note, count in sorted(self.notes.items()):
            out.append(f"note: {note}: {count}")
        if self.stopped:
            out.append(f"stopped early: {self.stopped}")
        return out


def distribution_rows(quotas: Quotas) -> list[dict[str, Any]]:
    """Per category and subcategory: target, accepted, and each as a share of its total."""
    total_target = sum(quotas.target.values()) or 1
    total_accepted = sum(quotas.accepted.values()) or 1
    rows = []
    categories: dict[str, list[tuple[str, str]]] = {}
    for key in quotas.target:
        categories.setdefault(key[0], []).append(key)
    for category, keys in categories.items():
        target = sum(quotas.target[k] for k in keys)
        accepted = sum(quotas.accepted.get(k, 0) for k in keys)
        rows.append(_row(category, "", target, accepted, total_target, total_accepted))
        rows += [_row(category, k[1], quotas.target[k], quotas.accepted.get(k, 0), total_target, total_accepted)
                 for k in keys]  # fmt: skip
    return rows


def _row(category: str, sub: str, target: int, accepted: int, all_target: int, all_accepted: int) -> dict[str, Any]:
    return {
        "category": category, "subcategory": sub, "target": target, "accepted": accepted,
        "target_share": round(target / all_target, 4), "accepted_share": round(accepted / all_accepted, 4),
    }  # fmt: skip
