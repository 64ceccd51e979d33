"""`python3 -m trajforge_data`, the seeded data sets set-up commands draw: sizes it cannot draw are one clear line."""

from __future__ import annotations

import os
import subprocess
import sys

from trajforge.tasks.checking import CHECKLIB


def _data(*args: str, seed: str = "7") -> subprocess.CompletedProcess[str]:
    env = os.environ | {"PYTHONPATH": str(CHECKLIB.parent), "TRAJFORGE_SEED": seed}
    return subprocess.run([sys.executable, "-m", "trajforge_data", *args], capture_output=True, text=True, env=env)


def test_each_data_set_is_drawn_from_the_seed() -> None:
    for name in ("access-log", "app-log", "numbers", "words", "users"):
        first, again, other = _data(name), _data(name), _data(name, seed="8")
        assert first.returncode == 0 and first.stdout and first.stdout == again.stdout, name
        assert other.stdout != first.stdout, name


def test_a_size_it_cannot_draw_is_refused_in_one_line() -> None:
    for args in (("access-log", "3"), ("access-log", "x"), ("users", "999"), ("numbers", "-1")):
        result = _data(*args)
        assert result.returncode == 2, args
        assert "SIZE must be a whole number" in result.stderr and "Traceback" not in result.stderr, args
    assert _data("nothing").returncode == 2


def test_app_log_errors_have_distinct_counts_whatever_the_seed() -> None:
    # "the most frequent error" is then one message: with ties, a task's answer depended on sort order
    sys.path.insert(0, str(CHECKLIB.parent))
    try:
        import trajforge_data
    finally:
        sys.path.remove(str(CHECKLIB.parent))
    import collections
    import random

    for seed in range(300):
        log = trajforge_data.app_log(random.Random(seed), 150)
        counts = collections.Counter(line.split(" ERROR ", 1)[1] for line in log.splitlines() if " ERROR " in line)
        assert len(set(counts.values())) == len(counts), (seed, counts)
        assert len(log.splitlines()) == 152  # the lines asked for, and two blank ones
