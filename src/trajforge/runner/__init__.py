"""Running episodes and writing their records (one at a time for now; batches come later)."""

from trajforge.runner.records import append_line
from trajforge.runner.single import SingleRun, run_single

__all__ = ["SingleRun", "append_line", "run_single"]
