"""The whole built-in catalog's depth: oracles average 8 calls or more, none under 3, fixture folders not overused."""

from __future__ import annotations

from collections import Counter

from trajforge.tasks import TaskLoad, load_tasks
from trajforge.tasks.spec import Solution

MEAN_CALLS = 8
MIN_CALLS = 3
MAX_TASKS_PER_FOLDER = 6


def _catalog() -> TaskLoad:
    load = load_tasks(["builtin"])
    assert not load.problems
    return load


def _calls(solution: Solution) -> int:
    """Tool calls of a solution's own turns: its steps and those after each follow-up (not delegated children's)."""
    steps = [*solution.steps, *(step for part in solution.follow_ups for step in part.steps)]
    return sum(len(step.all_calls()) for step in steps)


def test_oracles_average_eight_calls_and_none_makes_fewer_than_three() -> None:
    calls = {t.spec.id: _calls(t.spec.oracle) for t in _catalog().tasks if t.spec.oracle is not None}
    shallow = sorted(task for task, n in calls.items() if n < MIN_CALLS)
    assert not shallow, f"oracles under {MIN_CALLS} calls: {shallow}"
    assert sum(calls.values()) / len(calls) >= MEAN_CALLS


def test_no_fixture_folder_serves_more_than_six_tasks() -> None:
    use: Counter[str] = Counter()
    for task in _catalog().tasks:  # a folder copied into the workspace, or committed as a repository's first commit
        fixtures = task.spec.fixtures
        use.update({*fixtures.folders, *(git.folder for git in fixtures.git if git.folder)})
    assert {f: n for f, n in use.items() if n > MAX_TASKS_PER_FOLDER} == {}


def test_every_task_with_a_check_has_a_lazy_and_a_working_negative() -> None:
    lacking = []
    for task in _catalog().tasks:
        spec = task.spec
        if spec.has_check and not (any(not n.steps for n in spec.negatives) and any(n.steps for n in spec.negatives)):
            lacking.append(spec.id)
    assert not lacking, f"tasks with a check lacking a do-nothing or a plausible wrong negative: {lacking}"
