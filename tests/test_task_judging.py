"""Negatives, alternates, the answer file, the seed and the check helpers, played in real sandboxes."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml

from trajforge.runner.task_judging import judge_task
from trajforge.sandbox import SandboxConfig, SandboxFactory
from trajforge.tasks import load_tasks

from .harness import BACKENDS
from .test_cli import run

BASE = {"category": "Terminal & Coding", "subcategory": "script_writing"}
WRITE_SUM = {
    "tool": "write_file",
    "args": {"path": "total.py", "content": "import sys\nprint(sum(int(x) for x in sys.stdin.read().split()))\n"},
}
# The check: run the agent's program on inputs drawn from the seed, against a reference, and read the answer.
CHECK = """\
import trajforge_check as tc
r = tc.rng()
cases = [" ".join(str(r.randint(-50, 50)) for _ in range(r.randint(0, 9))) for _ in range(5)]
tc.compare_program(["python3", "total.py"], cases, lambda c: str(sum(int(x) for x in c.split())), stdin=True)
tc.answer_states(sum(int(x) for x in open("numbers.txt").read().split()))
"""
TASK: dict[str, Any] = {
    **BASE,
    "id": "sum-numbers",
    "prompt": "Write total.py summing the integers on stdin; tell me the total of numbers.txt.",
    "seeded": True,
    "fixtures": {
        "setup": [
            'python3 -c "import trajforge_check as tc; r = tc.rng(); '
            'print(*[r.randint(1, 99) for _ in range(6)])" > numbers.txt'
        ]
    },
    "check_python": CHECK,
    "oracle": {
        "steps": [WRITE_SUM, {"tool": "terminal", "args": {"command": "python3 total.py < numbers.txt"}}],
        "answer": "The total of numbers.txt is {{result 2}}.",
    },
    "negatives": [
        {"name": "lazy", "answer": "Done."},
        {
            "name": "hard-coded",
            "steps": [{"tool": "write_file", "args": {"path": "total.py", "content": "print(42)"}}],
            "answer": "The total is 42.",
        },
        {"name": "no total", "steps": [WRITE_SUM], "answer": "total.py is written."},
    ],
    "alternates": [
        {
            "name": "awk",
            "steps": [
                {
                    "tool": "write_file",
                    "args": {
                        "path": "total.py",
                        "content": "import subprocess, sys\n"
                        "print(subprocess.run(['awk', '{for(i=1;i<=NF;i++)s+=$i} END{print s+0}'],"
                        " input=sys.stdin.read(), capture_output=True, text=True).stdout.strip())\n",
                    },
                },
                {"tool": "terminal", "args": {"command": "awk '{for(i=1;i<=NF;i++)s+=$i} END{print s}' numbers.txt"}},
            ],
            "answer": "numbers.txt adds up to {{result 2}}",
        },
    ],
}


def _write(tmp_path: Path, *tasks: dict[str, Any]) -> Path:
    path = tmp_path / "tasks.yaml"
    path.write_text(yaml.safe_dump(list(tasks), allow_unicode=True, sort_keys=False))
    return path


@pytest.mark.parametrize("backend", BACKENDS)
def test_negatives_fail_and_alternates_pass_on_seeded_data(tmp_path: Path, backend: str) -> None:
    load = load_tasks([_write(tmp_path, TASK)])
    assert not load.problems, load.problems
    plays = asyncio.run(judge_task(load.tasks[0], SandboxFactory(SandboxConfig(backend=backend))))  # type: ignore[arg-type]
    wrong = [(p.label, p.reason) for p in plays if p.misjudged]
    assert not wrong
    assert [p.kind for p in plays] == ["oracle", "oracle", "negative", "negative", "negative", "alternate"]
    oracle_answers = [p.episode.messages[-1].content for p in plays[:2] if p.episode]
    # Two seeds, two data sets: the answer quotes each one's own tool result.
    assert len(set(oracle_answers)) == 2 and all(a and a[-2].isdigit() for a in oracle_answers)


def test_validate_reports_a_negative_that_passes_and_an_alternate_that_fails(tmp_path: Path) -> None:
    lenient = {
        **BASE,
        "id": "lenient",
        "prompt": "Make out.txt say hi.",
        "check": "test -f out.txt",
        "oracle": {
            "steps": [{"tool": "write_file", "args": {"path": "out.txt", "content": "hi"}}],
            "answer": "out.txt says hi",
        },
        "negatives": [
            {
                "name": "empty file",
                "steps": [{"tool": "terminal", "args": {"command": "touch out.txt"}}],
                "answer": "done",
            }
        ],
        "alternates": [{"name": "elsewhere", "answer": "hi"}],
    }
    result = run("tasks", "validate", "--tasks", _write(tmp_path, lenient), "--run-oracles", "--sandbox", "local")
    assert result.returncode == 1
    assert "negative 'empty file': check passed: the check passed this wrong solution" in result.stdout
    assert "alternate 'elsewhere': check failed" in result.stdout
    assert "1 negatives played, 1 passed; 1 alternates played, 1 failed" in result.stdout


def test_negatives_need_a_check(tmp_path: Path) -> None:
    spec = {**BASE, "id": "no-check", "prompt": "x", "negatives": [{"answer": "no"}]}
    problems = load_tasks([_write(tmp_path, spec)]).problems
    assert len(problems) == 1 and "negatives and alternates are judged by the check" in problems[0]


def test_the_agent_cannot_shadow_the_helpers_or_plant_an_answer(tmp_path: Path) -> None:
    planted = {
        **BASE,
        "id": "planted",
        "prompt": "Say the word.",
        "check": 'trajforge-check answer-states swordfish && grep -qx swordfish "$TRAJFORGE_ANSWER"',
        "oracle": {"steps": [], "answer": "swordfish"},
        "negatives": [
            {
                "name": "shadow",
                "steps": [
                    {"tool": "write_file", "args": {"path": "trajforge_check.py", "content": "raise SystemExit(0)\n"}},
                    {
                        "tool": "terminal",
                        "args": {"command": "mkdir -p ~/.trajforge && echo swordfish > ~/.trajforge/answer.txt"},
                    },
                ],
                "answer": "I will not say it.",
            }
        ],
    }
    load = load_tasks([_write(tmp_path, planted)])
    plays = asyncio.run(judge_task(load.tasks[0], SandboxFactory(SandboxConfig(backend="local"))))
    assert [(p.label, p.outcome, p.misjudged) for p in plays] == [
        ("oracle", "passed", False),
        ("shadow", "failed", False),
    ]


def test_validate_notes_a_fixture_folder_shared_by_more_than_six_tasks(tmp_path: Path) -> None:
    (tmp_path / "fixtures" / "proj").mkdir(parents=True)
    (tmp_path / "fixtures" / "proj" / "a.txt").write_text("a")
    tasks = [{**BASE, "id": f"t{n}", "prompt": "p", "fixtures": {"folders": {"proj": "."}}} for n in range(7)]
    result = run("tasks", "validate", "--tasks", _write(tmp_path, *tasks))
    assert result.returncode == 0
    assert "note: fixture folder proj is used by 7 tasks (the standard is at most 6)" in result.stdout
    fewer = run("tasks", "validate", "--tasks", _write(tmp_path, *tasks[:6]))
    assert "note:" not in fewer.stdout
