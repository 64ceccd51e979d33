"""`trajforge tasks synthesize` against a scripted model: every kind of answer handled, counted, and the result runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from trajforge.tasks import load_tasks

from .scripted_server import ScriptedServer
from .synthesis_script import ScriptedModel, fenced, user_text
from .test_cli import run

ORGANIZING = ["--category", "File Operations", "--subcategory", "organizing", "--distribution", "uniform"]

GOOD_LOGS = {
    "id": "move-logs",
    "prompt": "Move every .log file at the top of the workspace into a new folder named logs/, keeping keep.txt.",
    "toolsets": ["terminal", "file"],
    "fixtures": {"folders": {"inbox_env": "."}},
    "check": "test -f logs/a.log && test -f logs/b.log && test -z \"$(ls *.log 2>/dev/null)\" && test -f keep.txt",
    "wrong_solution": {"steps": [{"tool": "terminal", "args": {"command": "mkdir -p logs && cp *.log logs/"}}],
                       "answer": "Moved the logs."},
}  # fmt: skip
GOOD_SORT = {
    "id": "move-logs",  # the model repeats an id: it is made unique
    "prompt": "Sort the files in inbox/ into inbox/images (the .png files) and inbox/texts (the .txt files).",
    "fixtures": {"files": {"inbox/a.png": "png", "inbox/b.txt": "text"}},
    "check": "test -f inbox/images/a.png && test -f inbox/texts/b.txt",
    "wrong_solution": {"steps": [{"tool": "terminal", "args": {"command": "mkdir -p inbox/images inbox/texts"}}]},
}
SOLVE = {
    "Move every .log": "mkdir -p logs && mv *.log logs/",
    "Sort the files in inbox/": "mkdir -p inbox/images inbox/texts && mv inbox/*.png inbox/images/ && "
    "mv inbox/*.txt inbox/texts/",
}


def _task(task_id: str, prompt: str, **fields: Any) -> dict[str, Any]:
    return {"id": task_id, "prompt": prompt, "fixtures": {"files": {"in/x.txt": "x"}},
            "check": "test -f out/x.txt", **fields}  # fmt: skip


FIRST = fenced([
    GOOD_LOGS,
    _task("pre-solved", "Make sure the folder in/ holds the file x.txt and nothing else is needed.", check="true"),
    _task("bad-setup", "Move in/x.txt into a folder out/ and then tidy the in/ folder away.",
          fixtures={"files": {"in/x.txt": "x"}, "setup": ["exit 3"]}),
    _task("teleport", "Move in/x.txt into out/ using the teleport tool of this machine, please.", toolsets=["teleport"]),
    _task("missing-fixture", "Move every file of the project folder into out/ by its kind, please.",
          fixtures={"folders": {"nope": "."}}),
])  # fmt: skip
MALFORMED = "Sure!\n```yaml\n- id: [unclosed\n  prompt: oops\n```\n"
SECOND = fenced({"tasks": [
    {**GOOD_LOGS, "id": "again"},  # the same prompt as an accepted task
    _task("seed-copy", "Sort the files in downloads/ into subfolders by kind - documents (pdf, docx, txt, xlsx), "
          "images (jpg, png, any case), audio (mp3) and archives (zip). Leave nothing loose in downloads/."),
    _task("wrong-passes", "Copy in/x.txt into a new folder out/ so that a backup of it exists.",
          wrong_solution={"steps": [{"tool": "terminal", "args": {"command": "mkdir out && cp in/x.txt out/"}}]}),
    _task("short", "Tidy up.", check="test -d out"),
    GOOD_SORT,
]})  # fmt: skip


def _environment(tmp_path: Path) -> Path:
    env = tmp_path / "inbox_env"
    env.mkdir()
    for name, text in {"a.log": "one\n", "b.log": "two\n", "keep.txt": "keep\n"}.items():
        (env / name).write_text(text)
    return env


def _synthesize(server: ScriptedServer, out: Path, *args: str | Path) -> Any:
    return run("tasks", "synthesize", "--endpoint", server.url, "--model", "scripted", "--out", out,
               "--sandbox", "local", "--seed", "1", "--concurrency", "1", *args)  # fmt: skip


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any, ScriptedModel]:
    tmp_path = tmp_path_factory.mktemp("synth")
    model = ScriptedModel([FIRST, MALFORMED, SECOND], SOLVE)
    out = tmp_path / "out" / "tasks.yaml"
    with ScriptedServer(model) as server:
        result = _synthesize(server, out, "--n", "2", "--environments", _environment(tmp_path), *ORGANIZING)
    return out, result, model


def test_each_kind_of_answer_is_handled_and_counted(synthesized: tuple[Path, Any, ScriptedModel]) -> None:
    out, result, model = synthesized
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    report = json.loads(out.with_name("tasks.report.json").read_text())
    assert report["requests"] == 3 and report["accepted"] == 2 and report["proposed"] == 10
    assert report["rejected"] == {
        "not parseable": 1,
        "unknown toolset": 1,
        "fixture not found": 1,
        "exact duplicate prompt": 2,
        "prompt too short": 1,
        "setup fails": 1,
        "check passes on the untouched environment": 1,
        "check passes the wrong solution": 1,
    }, report["rejected"]
    assert "prompt_too_short" in report["examples"]["prompt too short"][0]
    assert "fo-organize-downloads" in " ".join(report["examples"]["exact duplicate prompt"])
    assert "accepted: 2" in result.stdout and "setup fails: 1" in result.stdout
    raw = [json.loads(line) for line in (out.parent / "tasks.synthesis" / "raw.jsonl").read_text().splitlines()]
    assert [r["answer"] for r in raw] == [FIRST, MALFORMED, SECOND]
    # The prompt: the taxonomy entry, seed tasks of the subcategory, the environment's tree and heads of files.
    asked = user_text(model.synthesis_requests[0])
    assert "Subcategory: organizing" in asked and "Sort files into folders by a rule." in asked
    assert "fo-organize" in asked and "keep.txt" in asked and "{folders: {inbox_env: .}}" in asked


def test_accepted_tasks_load_with_negatives_and_unique_ids(synthesized: tuple[Path, Any, ScriptedModel]) -> None:
    out, _, _ = synthesized
    load = load_tasks([out])
    assert load.problems == []
    specs = {t.spec.id: t.spec for t in load.tasks}
    assert sorted(specs) == ["move-logs", "move-logs-2"]
    first = specs["move-logs"]
    assert first.oracle is None and first.category == "File Operations" and first.subcategory == "organizing"
    assert [n.name for n in first.negatives] == ["do-nothing", "wrong-solution"]
    assert (out.parent / "fixtures" / "inbox_env" / "keep.txt").read_text() == "keep\n"


def test_generate_runs_the_synthesized_file(synthesized: tuple[Path, Any, ScriptedModel], tmp_path: Path) -> None:
    out, _, _ = synthesized
    with ScriptedServer(ScriptedModel([], SOLVE)) as server:
        result = run("generate", "--tasks", out, "--endpoint", server.url, "--model", "scripted",
                     "--out", tmp_path / "run", "--sandbox", "local")  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    records = [json.loads(line) for f in (tmp_path / "run" / "runs").rglob("*.jsonl") for line in f.open()]
    assert sorted((r["task"]["id"], r["outcome"]) for r in records) == [
        ("move-logs", "passed"),
        ("move-logs-2", "passed"),
    ]
