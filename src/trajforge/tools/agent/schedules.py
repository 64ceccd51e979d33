"""Schedules of cron jobs: cron expressions, intervals, one-shots and ISO times, against a given clock."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from trajforge.tools.agent.home import iso, utc

_UNITS = {"m": 1, "min": 1, "mins": 1, "minute": 1, "minutes": 1, "h": 60, "hr": 60, "hrs": 60, "hour": 60,
          "hours": 60, "d": 1440, "day": 1440, "days": 1440, "w": 10080, "week": 10080, "weeks": 10080}  # fmt: skip
_DURATION = re.compile(r"^(\d{1,9})\s*([a-z]+)$")
MAX_MINUTES = 10 * 366 * 1440
"""The longest interval or delay taken: ten years."""


class ScheduleError(ValueError):
    """A schedule that cannot be read; the message says which forms are understood."""


@dataclass(frozen=True)
class Schedule:
    """A parsed schedule: `kind` cron | interval | once."""

    text: str
    kind: str
    display: str
    minutes: int = 0
    """interval: minutes between runs."""
    at: str | None = None
    """once: the run time (ISO, UTC)."""

    def next_after(self, now: dt.datetime, last: dt.datetime | None = None) -> str | None:
        """The next run time after `now` (ISO, UTC); None for a one-shot whose time has passed."""
        if self.kind == "cron":
            from croniter import croniter  # here: its import runs `file` on the interpreter (platform.architecture)

            return iso(croniter(self.text, now).get_next(dt.datetime))
        if self.kind == "interval":
            return iso((last or now) + dt.timedelta(minutes=self.minutes))
        assert self.at is not None
        return self.at if utc(self.at) > now else None


def _minutes(text: str) -> int | None:
    match = _DURATION.match(text.strip().lower())
    if not match or match.group(2) not in _UNITS:
        return None
    minutes = int(match.group(1)) * _UNITS[match.group(2)]
    if minutes > MAX_MINUTES:
        raise ScheduleError(f"{text.strip()} is longer than ten years")
    return minutes


def parse_schedule(text: str, now: dt.datetime) -> Schedule:
    """Read `0 9 * * 1-5` (cron), `30m` or `every 2h` (interval), `in 30m` (once, from `now`),
    or `2026-03-02T09:00:00Z` (once at that time)."""
    raw = " ".join(text.split())
    lowered = raw.lower()
    if lowered.startswith("in "):
        minutes = _minutes(lowered[3:])
        if minutes:
            at = iso(now + dt.timedelta(minutes=minutes))
            return Schedule(raw, "once", f"once in {lowered[3:]}", at=at)
    body = lowered[6:] if lowered.startswith("every ") else lowered
    minutes = _minutes(body)
    if minutes:
        return Schedule(raw, "interval", f"every {minutes}m", minutes=minutes)
    from croniter import CroniterBadDateError, croniter  # imported by cron schedules only (see next_after)

    if (len(raw.split()) in (5, 6) or raw.startswith("@")) and croniter.is_valid(raw):
        try:
            croniter(raw, now).get_next(dt.datetime)
        except (CroniterBadDateError, ValueError, OverflowError):
            raise ScheduleError(f"the cron expression {raw!r} never runs") from None
        return Schedule(raw, "cron", raw)
    if re.match(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", raw):
        try:
            when = utc(raw)
        except ValueError:
            pass
        else:
            if when <= now:
                raise ScheduleError(f"{raw} is not in the future (now is {iso(now)})")
            return Schedule(raw, "once", f"once at {iso(when)}", at=iso(when))
    raise ScheduleError(
        f"cannot read schedule {text!r}; use a cron expression ('0 9 * * *'), an interval ('30m', "
        "'every 2h'), a one-shot delay ('in 30m') or an ISO time ('2026-03-02T09:00:00Z')"
    )
