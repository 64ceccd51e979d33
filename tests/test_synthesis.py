"""`trajforge tasks synthesize` against a scripted model: every kind of answer handled, counted, and the result runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from trajforge.tasks import load_tasks

from .harness import ledger_records
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
    _task("teleport", "Move in/x.txt into out/ with the teleport tool of this machine, please.", toolsets=["teleport"]),
    _task("missing-fixture", "Move every file of the project folder into out/ by its kind, please.",
          fixtures={"folders": {"nope": "."}}),
])  # fmt: skip
SEED = next(t for t in load_tasks(["builtin"]).tasks if t.spec.subcategory == "organizing")
MALFORMED = "Sure!\n```yaml\n- id: [unclosed\n  prompt: oops\n```\n"
SECOND = fenced({"tasks": [
    {**GOOD_LOGS, "id": "again"},  # the same prompt as an accepted task
    _task("seed-copy", SEED.spec.prompt),  # a catalog task's prompt, word for word
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
    rows = {(r["category"], r["subcategory"]): (r["target"], r["accepted"]) for r in report["distribution"]}
    assert rows[("File Operations", "organizing")] == (2, 2) and rows[("File Operations", "")] == (2, 2)
    assert "counts against the target distribution" in result.stdout
    assert SEED.spec.id in " ".join(report["examples"]["exact duplicate prompt"])
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
    records = ledger_records(tmp_path / "run", "scripted")
    assert sorted((r["task"]["id"], r["outcome"]) for r in records) == [
        ("move-logs", "passed"),
        ("move-logs-2", "passed"),
    ]
    judged = run("tasks", "validate", "--tasks", out, "--run-oracles", "--sandbox", "local")
    assert judged.returncode == 0, judged.stdout + judged.stderr  # the stored negatives still fail the checks
    assert "4 negatives played, 0 passed" in judged.stdout


def _inline(task_id: str, prompt: str, target: str) -> dict[str, Any]:
    return {"id": task_id, "prompt": prompt, "fixtures": {"files": {"in/data.txt": "data"}},
            "check": f"test -f {target}/data.txt && test ! -e in/data.txt"}  # fmt: skip


def test_calibration_keeps_and_drops_by_pass_rate(tmp_path: Path) -> None:
    tasks = [
        _inline("always", "Move in/data.txt into a new folder named easy/ and remove it from in/.", "easy"),
        _inline("never", "Move in/data.txt into a new folder named hard/ and remove it from in/ too.", "hard"),
        _inline("half", "Move in/data.txt into a new folder named middle/, leaving in/ without it.", "middle"),
    ]
    commands = {"named easy/": "mkdir easy && mv in/data.txt easy/", "named middle/": "mkdir middle && mv in/* middle/"}
    model = ScriptedModel([fenced(tasks)], commands, solve_every={"named middle/": 2})
    out = tmp_path / "tasks.yaml"
    with ScriptedServer(model) as server:
        result = _synthesize(server, out, "--n", "3", "--calibrate", "2", "--keep-pass-rate", "0.1-0.9",
                             "--max-requests", "1", *ORGANIZING)  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr  # 1 of the 3 wanted: a rerun would go on
    assert "stopped early" in result.stdout
    report = json.loads(out.with_name("tasks.report.json").read_text())
    assert report["rejected"] == {
        "calibration: pass rate below the band": 1,
        "calibration: pass rate above the band": 1,
    }
    assert report["calibration_episodes"] == 6
    kept = load_tasks([out]).tasks
    assert [t.spec.id for t in kept] == ["half"]
    assert kept[0].spec.calibration is not None
    assert kept[0].spec.calibration.model_dump() == {"episodes": 2, "passed": 1, "pass_rate": 0.5, "model": "scripted"}


def test_evolve_asks_for_a_harder_variant_and_judges_it_like_a_new_task(tmp_path: Path) -> None:
    base = _inline("base", "Move in/data.txt into a new folder named done/ and remove it from in/.", "done")
    harder = {**_inline("harder", "Move in/data.txt into done/, then write a line naming it to done/LOG.txt.", "done"),
              "check": "test -f done/data.txt && grep -q data.txt done/LOG.txt"}  # fmt: skip

    def answer(request: dict[str, Any]) -> str:
        return fenced([harder] if "Rewrite this task" in user_text(request) else [base])

    model = ScriptedModel(answer)
    out = tmp_path / "tasks.yaml"
    with ScriptedServer(model) as server:
        result = _synthesize(server, out, "--n", "2", "--per-request", "1", "--evolve", *ORGANIZING)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(out.with_name("tasks.report.json").read_text())
    assert (report["requests"], report["evolve_requests"], report["evolved"], report["accepted"]) == (2, 1, 1, 2)
    assert "Move in/data.txt into a new folder named done/" in user_text(model.synthesis_requests[1])
    assert [t.spec.id for t in load_tasks([out]).tasks] == ["base", "harder"]


_WORDS = ["amber", "basil", "cedar", "delta", "ember", "fjord", "garnet", "harbor", "indigo", "juniper",
          "kestrel", "lantern", "meadow", "nectar"]  # fmt: skip


def _fresh_task(request: dict[str, Any]) -> str:
    """A new prompt on every call (as a model's sampling gives), always under the same id."""
    number = len(_fresh_task.seen)  # type: ignore[attr-defined]
    _fresh_task.seen.append(number)  # type: ignore[attr-defined]
    a, b, c = (_WORDS[(number * k + k) % len(_WORDS)] for k in (1, 3, 5))
    prompt = f"Create the folder {a}-{number}/ holding a file {b}.txt whose only line is {c}, then report it."
    return fenced([{"id": "same-id", "prompt": prompt, "check": f"grep -qx {c} {a}-{number}/{b}.txt"}])


def test_a_run_killed_with_sigkill_resumes_without_duplicate_ids(tmp_path: Path) -> None:
    import signal
    import subprocess
    import time

    from .test_cli import SCRIPT

    _fresh_task.seen = []  # type: ignore[attr-defined]
    out = tmp_path / "tasks.yaml"
    with ScriptedServer(ScriptedModel(_fresh_task), latency=0.2) as server:
        args = [str(SCRIPT), "tasks", "synthesize", "--endpoint", server.url, "--model", "scripted", "--out", str(out),
                "--n", "8", "--per-request", "1", "--concurrency", "1", "--no-probe", *ORGANIZING]  # fmt: skip
        process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (not out.exists() or out.read_bytes().count(b"\n...\n") < 3):
            assert process.poll() is None, "the run ended before it could be killed"
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait()
        before = out.read_bytes().count(b"\n...\n")
        assert 3 <= before < 8
        with out.open("ab") as handle:  # a task cut half-way, as a crash mid-write leaves it
            handle.write(b"---\nid: same-id\ncategory: File Operations\nprompt: cut he")
        raw = out.parent / "tasks.synthesis" / "raw.jsonl"
        with raw.open("ab") as handle:  # and an answer cut half-way
            handle.write(b'{"request": 99, "answ')
        result = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "cut a partial last task" in result.stderr and f"holds {before} tasks" in result.stderr
    ids = [t.spec.id for t in load_tasks([out]).tasks]
    assert len(ids) == 8 and len(set(ids)) == 8
    assert ids[:2] == ["same-id", "same-id-2"]
    assert json.loads(out.with_name("tasks.report.json").read_text())["accepted"] == 8
    answers = [json.loads(line) for line in raw.read_text().splitlines()]  # every line whole
    assert len(answers) >= 8 and all(a["request"] != 99 for a in answers)


def test_concurrent_requests_fill_the_quota_exactly_and_a_rerun_has_nothing_to_do(tmp_path: Path) -> None:
    _fresh_task.seen = []  # type: ignore[attr-defined]
    out = tmp_path / "tasks.yaml"
    with ScriptedServer(ScriptedModel(_fresh_task), latency=0.05) as server:
        args = ("--n", "6", "--per-request", "1", "--no-probe", "--concurrency", "4", *ORGANIZING)
        first = run("tasks", "synthesize", "--endpoint", server.url, "--model", "scripted", "--out", out, *args)
        again = run("tasks", "synthesize", "--endpoint", server.url, "--model", "scripted", "--out", out, *args)
    assert first.returncode == 0 and again.returncode == 0, first.stderr + again.stderr
    ids = [t.spec.id for t in load_tasks([out]).tasks]
    assert len(ids) == 6 and len(set(ids)) == 6
    report = json.loads(out.with_name("tasks.report.json").read_text())
    assert report["accepted"] == 6 and report["requests"] == len(_fresh_task.seen)  # type: ignore[attr-defined]
    assert "requests: " in again.stdout and "resuming" in again.stderr


def test_usage_errors_are_one_line(tmp_path: Path) -> None:
    from trajforge.runner import RunLock
    from trajforge.tasks.synthesis import side_folder

    hand_written = tmp_path / "mine.yaml"
    hand_written.write_text("- id: mine\n  category: Conversational\n  subcategory: single_lookup\n  prompt: hi\n")
    with ScriptedServer(ScriptedModel([])) as server:
        cases = {
            "was not written by tasks synthesize": _synthesize(server, hand_written, "--n", "1"),
            "is not in the taxonomy": _synthesize(server, tmp_path / "a.yaml", "--n", "1", "--subcategory", "nope"),
            "no seed task loaded": _synthesize(server, tmp_path / "b.yaml", "--n", "1", "--seed-tasks", tmp_path / "n"),
        }
        with RunLock(side_folder(tmp_path / "e.yaml")):
            cases["is in use by"] = _synthesize(server, tmp_path / "e.yaml", "--n", "1")
    for words, result in cases.items():
        assert result.returncode == 2, (words, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr and words in result.stderr, (words, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert hand_written.read_text().startswith("- id: mine")


def test_bad_inputs_are_refused_by_name(tmp_path: Path) -> None:
    from trajforge.tasks.synthesis import Band, DistributionError, UnusableEnvironment, user_environment, weights

    allowed = [("Terminal & Coding", "debugging")]
    for text, words in [
        ("Terminal & Coding: lots\n", "must be a number"),
        ("Nowhere: 1\n", "unknown category"),
        ("Terminal & Coding/nope: 1\n", "no subcategory 'nope'"),
        ("[1, 2]\n", "expected a mapping"),
    ]:
        with pytest.raises(DistributionError, match=words):
            weights(str(_write(tmp_path / "w.yaml", text)), allowed)
    with pytest.raises(DistributionError, match="configs are"):
        weights("reference:nope", allowed)
    with pytest.raises(UnusableEnvironment, match="not a folder"):
        user_environment(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UnusableEnvironment, match="holds no files"):
        user_environment(tmp_path / "empty")
    for text in ("9", "0.9-0.1", "a-b", "0.1-2"):
        with pytest.raises(ValueError, match="--keep-pass-rate"):
            Band.parse(text)
    assert Band.parse("0-1") == Band(0.0, 1.0)


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path
