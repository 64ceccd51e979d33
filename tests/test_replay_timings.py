"""Replay names wall-clock timings (pytest's duration, time(1)) as the only difference, and nothing else."""

from __future__ import annotations

from trajforge.policy import compare_results
from trajforge.trace import Episode, Message, TaskRef, ToolCall


def _episode(result: str) -> Episode:
    call = ToolCall("c1", "terminal", {"command": "pytest -q"})
    return Episode(
        id="e",
        task=TaskRef("t", "Terminal & Coding", "testing", "Run the tests."),
        messages=[
            Message(role="system", content="Your workspace is /workspace; work there."),
            Message(role="user", content="Run the tests."),
            Message(role="assistant", content=None, tool_calls=[call]),
            Message(role="tool", content=result, tool_call_id="c1", name="terminal"),
        ],
    )


def test_timings_alone_are_named_and_count_as_the_same() -> None:
    (same,) = compare_results(_episode("..\n2 passed in 0.03s\n"), _episode("..\n2 passed in 0.11s\n"))
    assert same.same and same.timings == ("pytest duration",)
    (timed,) = compare_results(_episode("real\t0m0.010s\nuser\t0m0.002s"), _episode("real\t0m0.020s\nuser\t0m0.001s"))
    assert timed.same and timed.timings == ("time(1) figures",)


def test_a_difference_beside_a_timing_is_a_difference() -> None:
    (other,) = compare_results(_episode("2 passed in 0.03s"), _episode("3 passed in 0.05s"))
    assert not other.same and other.timings == ()
    (equal,) = compare_results(_episode("2 passed in 0.03s"), _episode("2 passed in 0.03s"))
    assert equal.same and equal.timings == ()


def test_file_dates_are_a_named_timing() -> None:
    listing = "drwxr-xr-x 22 agent agent  520 Nov 30 18:45 ..\n-rw-r--r-- 1 agent agent 12 Jan  1  2026 a.txt"
    (ls,) = compare_results(_episode(listing), _episode(listing.replace("Nov 30 18:45", "Nov 30 18:51")))
    assert ls.same and ls.timings == ("file dates",)
    archive = "        0  2026-11-30 18:45   empty/\n      120  2026-11-30 18:45:50   pkg/__init__.py"
    (zipped,) = compare_results(_episode(archive), _episode(archive.replace("18:45", "18:48")))
    assert zipped.same and zipped.timings == ("file dates",)
    (sizes,) = compare_results(_episode(listing), _episode(listing.replace(" 520 ", " 540 ")))
    assert not sizes.same  # a size beside the date is a difference


def test_durations_a_command_measured_are_a_named_timing() -> None:
    timed = '{"output": "664579 primes 7.49 s\\n", "exit_code": 0}'
    (same,) = compare_results(_episode(timed), _episode(timed.replace("7.49 s", "0.85 s")))
    assert same.same and same.timings == ("measured durations",)
    (other,) = compare_results(_episode(timed), _episode(timed.replace("664579", "664578")))
    assert not other.same  # the count beside the duration is a difference
    (counted,) = compare_results(_episode("waited 3 s"), _episode("waited 4 s"))
    assert not counted.same  # whole numbers are counts as often as times: only measured figures (with a point) go
