"""What a long `generate` shows: a progress bar on a terminal, timestamped lines elsewhere, a log file always.

On a terminal: one 80-column line (done/total, ETA, rate first). When stderr is not a
terminal (nohup, Slurm, CI) or with --quiet: a status line every `--log-every`
seconds and one line per failed episode (--quiet: one per episode). Every line also
goes to the run's log file, so a run left alone for days can be read afterwards.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

if TYPE_CHECKING:  # the runner pulls in the model client: imported when a run starts
    from trajforge.runner import EpisodeEvent, GenerateSummary


def clock() -> str:
    """The local time as log lines show it."""
    return time.strftime("%Y-%m-%d %H:%M:%S")


class RunDisplay:
    """Use as `with RunDisplay(...) as display:` and pass `display.on_episode` to the runner."""

    def __init__(self, summary: GenerateSummary, log: Path, *, quiet: bool, log_every: float) -> None:
        self.summary = summary
        self.errors = Console(stderr=True, highlight=False, soft_wrap=True)
        self.quiet = quiet
        self.interactive = self.errors.is_terminal and not quiet
        self.log_every = log_every
        self._last_status = time.monotonic()
        self._log_path = log
        self._log: TextIO | None = None
        columns = [MofNCompleteColumn(), TimeRemainingColumn(), TextColumn("{task.fields[rate]}"),
                   BarColumn(bar_width=16), TextColumn("{task.fields[note]}")]  # fmt: skip
        self._progress = Progress(*columns, console=self.errors, disable=not self.interactive)
        self._bar = self._progress.add_task("", total=None, rate="", note="")

    def __enter__(self) -> RunDisplay:
        self._log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self._log_path.open("a", encoding="utf-8", buffering=1)
        self._progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._progress.stop()
        if self._log is not None:
            self._log.close()

    def say(self, message: str, *, screen: bool = True) -> None:
        """A timestamped line in the log file, and on stderr unless `screen` is False."""
        line = f"{clock()} {message}"
        if self._log is not None:
            self._log.write(line + "\n")
        if screen:
            if self.interactive:
                self._progress.console.print(message, markup=False)
            else:
                print(line, file=sys.stderr, flush=True)

    def on_episode(self, event: EpisodeEvent) -> None:
        """One episode ended: update the bar, log it, and print what the mode asks for."""
        s = self.summary
        done = s.ran + len(s.setup_failed)
        line = f"[{done}/{s.todo}] {event.task_id} #{event.repeat}: {event.status} ({event.seconds:.1f} s)"
        self.say(line, screen=self.quiet or event.failed)
        self._progress.update(self._bar, completed=done, total=s.todo, rate=self.rate(), note=self.note())
        if not self.interactive and not self.quiet and time.monotonic() - self._last_status >= self.log_every:
            self._last_status = time.monotonic()
            self.say(self.status())

    def rate(self) -> str:
        """Episodes per minute so far."""
        elapsed = max(1e-9, time.monotonic() - self.summary.started)
        return f"{60 * (self.summary.ran + len(self.summary.setup_failed)) / elapsed:.1f} ep/min"

    def note(self) -> str:
        """A few words that fit beside the bar: failures and episodes in flight."""
        s = self.summary
        failed = f", {s.failed} failed" if s.failed else ""
        return f"{s.in_flight} running{failed}"

    def status(self) -> str:
        """The periodic line: done/total, ETA, rate, then the rest."""
        s = self.summary
        done = s.ran + len(s.setup_failed)
        elapsed = time.monotonic() - s.started
        eta = (s.todo - done) * elapsed / done if done else float("nan")
        passed = s.outcomes.get("passed", 0)
        return (
            f"{done}/{s.todo} done, ETA {duration(eta)}, {self.rate()}; {s.in_flight} running, {s.failed} failed, "
            f"{passed} checks passed, {s.turns / max(elapsed, 1e-9):.1f} turns/s"
        )


def duration(seconds: float) -> str:
    """H:MM:SS or M:SS; `?` for an unknown (NaN) duration."""
    if seconds != seconds:  # NaN: nothing done yet
        return "?"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
