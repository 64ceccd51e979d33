"""Task synthesis's parts that run things: the model requests, the probe in a sandbox, calibration episodes.

The parts that only read and judge text (prompts, answers, heuristics,
duplicates, the output file, the distribution) are in `trajforge.tasks.synthesis`,
which may import only `trace`; these need the model client, the sandbox and
the runner, so they live in the runner's room.
"""

from trajforge.runner.synthesis.calibrate import calibrate
from trajforge.runner.synthesis.pipeline import Synthesis, SynthesisEvent, synthesize
from trajforge.runner.synthesis.probe import probe
from trajforge.runner.synthesis.settings import SynthesisSettings

__all__ = ["Synthesis", "SynthesisEvent", "SynthesisSettings", "calibrate", "probe", "synthesize"]
