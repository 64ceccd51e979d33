"""What one synthesis run is asked to do (the CLI builds it from its options)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from trajforge.policy import ModelConfig
from trajforge.sandbox import SandboxConfig
from trajforge.tasks.synthesis.outcomes import Band

Key = tuple[str, str]


@dataclass(frozen=True)
class SynthesisSettings:
    """Options of `trajforge tasks synthesize`, validated."""

    out: Path
    """The YAML file tasks are appended to (fixtures/ beside it receives the environments used)."""
    model: ModelConfig
    """The model that writes tasks."""
    total: int
    """Tasks wanted in `out` in all (a rerun goes on until it holds this many)."""
    allowed: list[Key]
    """The (category, subcategory) pairs asked for."""
    distribution: str = "reference"
    cap: int | None = None
    """At most this many tasks per subcategory."""
    seed_sources: list[str] = field(default_factory=lambda: ["builtin"])
    environments: list[Path] = field(default_factory=list)
    """The user's environment folders (none: the catalog's fixture folders and the empty workspace)."""
    per_request: int = 3
    seeds_per_request: int = 3
    concurrency: int = 4
    max_requests: int | None = None
    """Stop after this many requests in this run (default: about four per task still missing)."""
    probe: bool = True
    calibrate: int = 0
    """Episodes per accepted task with `calibration_model` (0: no calibration)."""
    calibration_model: ModelConfig | None = None
    band: Band = field(default_factory=Band)
    evolve: bool = False
    near_duplicate: float = 0.8
    sandbox: SandboxConfig = field(default_factory=SandboxConfig)
    seed: int | None = None
    """Seeds the choice of subcategory ties, seed tasks and environments (None: a fresh draw each run)."""
