"""Task synthesis, the text side: prompts from the taxonomy, seeds and environments; answers read and judged.

What needs the model client, a sandbox or the runner (requests, the probe,
calibration, the run itself) is in `trajforge.runner.synthesis`.
"""

from trajforge.tasks.synthesis.answers import DO_NOTHING, Candidate, extract_entries, read_candidate, unique_id
from trajforge.tasks.synthesis.distribution import (
    REFERENCE_COUNTS,
    DistributionError,
    Quotas,
    apportion,
    apportion_by_category,
    weights,
)
from trajforge.tasks.synthesis.environments import INLINE, Environment, UnusableEnvironment, describe, user_environment
from trajforge.tasks.synthesis.guide import Entry, all_entries, entry
from trajforge.tasks.synthesis.heuristics import HEURISTICS, screen
from trajforge.tasks.synthesis.novelty import PromptIndex
from trajforge.tasks.synthesis.outcomes import Band, Reason, Rejected
from trajforge.tasks.synthesis.prompting import evolve_messages, request_messages
from trajforge.tasks.synthesis.report import SynthesisReport
from trajforge.tasks.synthesis.store import NotOurFile, TaskFile, TaskFileError, report_path, side_folder

__all__ = [
    "DO_NOTHING",
    "HEURISTICS",
    "INLINE",
    "REFERENCE_COUNTS",
    "Band",
    "Candidate",
    "DistributionError",
    "Entry",
    "Environment",
    "NotOurFile",
    "PromptIndex",
    "Quotas",
    "Reason",
    "Rejected",
    "SynthesisReport",
    "TaskFile",
    "TaskFileError",
    "UnusableEnvironment",
    "all_entries",
    "apportion",
    "apportion_by_category",
    "describe",
    "entry",
    "evolve_messages",
    "extract_entries",
    "read_candidate",
    "report_path",
    "request_messages",
    "screen",
    "side_folder",
    "unique_id",
    "user_environment",
    "weights",
]  # fmt: skip
