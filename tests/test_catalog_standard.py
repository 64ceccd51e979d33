"""The catalog standard, checked on the spec files without running anything (validate --run-oracles runs them)."""

from __future__ import annotations

from collections import Counter

from trajforge.tasks import CATALOG_DIR, TaskLoad, load_tasks
from trajforge.tasks.grounding import deferring_phrases

STANDARD_FILES = ("terminal_coding.yaml", "file_operations.yaml", "repository.yaml", "repository_real.yaml",
                  "multi_tool.yaml", "scheduling.yaml", "conversational_planning.yaml")  # fmt: skip


def _tasks() -> TaskLoad:
    return load_tasks([CATALOG_DIR / name for name in STANDARD_FILES])


def test_every_task_with_a_check_has_a_lazy_and_a_working_negative() -> None:
    load = _tasks()
    assert not load.problems
    for task in load.tasks:
        spec = task.spec
        assert spec.has_check, spec.id
        lazy = [n for n in spec.negatives if not n.steps]
        working = [n for n in spec.negatives if n.steps]
        assert lazy and working, f"{spec.id}: needs a do-nothing negative and a plausible wrong one"


def test_oracles_make_at_least_three_calls_and_answers_do_not_defer() -> None:
    for task in _tasks().tasks:
        oracle = task.spec.oracle
        assert oracle is not None
        # A conversation's calls count across its turns: the follow-ups' steps are part of the oracle.
        steps = [*oracle.steps, *(step for part in oracle.follow_ups for step in part.steps)]
        assert sum(len(step.all_calls()) for step in steps) >= 3, task.spec.id
        for answer in (oracle.answer, *(part.answer for part in oracle.follow_ups)):
            assert not deferring_phrases(answer), task.spec.id


def test_checks_write_no_fixed_tmp_paths_and_real_codebases_are_pinned() -> None:
    for task in _tasks().tasks:
        spec = task.spec
        assert "/tmp/" not in (spec.check or "") + (spec.check_python or ""), spec.id
        for source in spec.fixtures.sdists:
            assert source.sha256, f"{spec.id}: {source.name} {source.version} is not pinned"
    projects = Counter(s.name for t in _tasks().tasks for s in t.spec.fixtures.sdists)
    assert len(projects) >= 3 and sum(projects.values()) >= 10
