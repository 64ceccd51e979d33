"""Why a synthesized task was rejected: one reason per rejection, counted in the run's report."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Reason(Enum):
    """The reasons a synthesized task is not kept, in the order the report lists them."""

    NOT_PARSEABLE = "not parseable"
    """The answer held no YAML list of specs (counted once per answer)."""
    INVALID_SPEC = "invalid spec"
    UNKNOWN_TOOLSET = "unknown toolset"
    FIXTURE_NOT_FOUND = "fixture not found"
    DUPLICATE_EXACT = "exact duplicate prompt"
    DUPLICATE_NEAR = "near-duplicate prompt"
    PROMPT_TOO_SHORT = "prompt too short"
    NO_TOOLS_NEEDED = "answerable without tools"
    OVER_CAP = "subcategory cap reached"
    SETUP_FAILS = "setup fails"
    PRESOLVED = "check passes on the untouched environment"
    WRONG_SOLUTION_PASSES = "check passes the wrong solution"
    CHECK_ERROR = "check could not run"
    TOO_HARD = "calibration: pass rate below the band"
    TOO_EASY = "calibration: pass rate above the band"
    CALIBRATION_FAILED = "calibration episodes could not run"


class Rejected(Exception):
    """A candidate task refused for `reason`; `detail` is one line saying more (the field, the heuristic)."""

    def __init__(self, reason: Reason, detail: str = "", task_id: str = "") -> None:
        super().__init__(reason, detail, task_id)
        self.reason = reason
        self.detail = detail
        self.task_id = task_id

    def __str__(self) -> str:
        return f"{self.reason.value}: {self.detail}" if self.detail else self.reason.value


@dataclass(frozen=True)
class Band:
    """The pass rates a kept task may have, both ends included."""

    low: float = 0.1
    high: float = 0.9

    @classmethod
    def parse(cls, text: str) -> Band:
        """`0.1-0.9` as a Band; ValueError with one line otherwise."""
        low, sep, high = text.partition("-")
        try:
            band = cls(float(low), float(high)) if sep else None
        except ValueError:
            band = None
        if band is None or not 0 <= band.low <= band.high <= 1:
            raise ValueError(
                f"--keep-pass-rate must be LOW-HIGH with 0 <= LOW <= HIGH <= 1, like 0.1-0.9, not {text!r}"
            )
        return band
