"""Bad task specs are refused by the loader (and `tasks validate`) with one line each, before any set-up."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from trajforge.dataset import iter_rows, write_rows
from trajforge.tasks import CATEGORIES, UnknownCategory, load_tasks, nearest_category, resolve_category

from .episodes import sample_row
from .test_cli import run

GOOD = {"category": "File Operations", "subcategory": "organizing", "prompt": "Do it."}


def _spec(tmp_path: Path, *tasks: dict[str, Any]) -> Path:
    path = tmp_path / "tasks.yaml"
    path.write_text(yaml.safe_dump([{**GOOD, **task} for task in tasks], allow_unicode=True))
    return path


def _problems(tmp_path: Path, *tasks: dict[str, Any]) -> list[str]:
    path = _spec(tmp_path, *tasks)
    load = load_tasks([path])
    prefix = f"{path}: task "
    assert all(p.startswith(prefix) for p in load.problems), load.problems
    return [p.removeprefix(prefix) for p in load.problems]


def test_a_file_that_is_not_utf8_is_one_line_with_line_and_offset(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    data = b"- id: ok\n  prompt: caf\xe9\n"
    path.write_bytes(data)
    load = load_tasks([path])
    assert load.tasks == []
    assert load.problems == [f"{path}: line 2 not UTF-8: byte 0xe9 at offset {data.index(0xE9)}"]
    result = run("tasks", "validate", "--tasks", path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and f"error: {path}: line 2 not UTF-8" in result.stderr


@pytest.mark.parametrize(
    ("fixtures", "field", "reason"),
    [
        ({"files": {"../../escape.txt": "x"}}, "fixtures.files.../../escape.txt.[key]", "leads outside the workspace"),
        ({"files": {"/tmp/escape.txt": "x"}}, "fixtures.files./tmp/escape.txt.[key]", "is absolute"),
        ({"files": {"a/../../x": "x"}}, "fixtures.files.a/../../x.[key]", "leads outside the workspace"),
        ({"files": {".": "x"}}, "fixtures.files...[key]", "names a folder, not a file"),
        ({"files": {"a": "1", "a/b": "2"}}, "fixtures.files", "'a/b' would be inside 'a', which is a file"),
        ({"folders": {"data": "../out"}}, "fixtures.folders.data", "leads outside the workspace"),
        ({"folders": {"../../etc": "."}}, "fixtures.folders.../../etc.[key]", "leads outside the fixtures folder"),
        ({"folders": {".": "."}}, "fixtures.folders...[key]", "names the fixtures folder itself"),
        ({"git": [{"path": "/repo"}]}, "fixtures.git.0.path", "is absolute"),
        ({"git": [{"path": "r", "commits": [{"message": "m", "files": {"../x": "y"}}]}]},
         "fixtures.git.0.commits.0.files.../x.[key]", "leads outside the workspace"),
        ({"git": [{"commits": [{"message": "m", "branch": "a b; rm -rf /"}]}]},
         "fixtures.git.0.commits.0.branch", "is not a usable git branch name"),
        ({"sites": [{"folder": "/srv/www"}]}, "fixtures.sites.0.folder", "is absolute"),
        ({"setup": ["echo \0"]}, "fixtures.setup.0", "NUL character"),
    ],
)  # fmt: skip
def test_fixture_paths_leaving_the_workspace_are_refused(
    tmp_path: Path, fixtures: dict[str, Any], field: str, reason: str
) -> None:
    problems = _problems(tmp_path, {"id": "ok"}, {"id": "bad", "fixtures": fixtures})
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"bad: {field}: ") and reason in problems[0]


def test_text_that_cannot_be_written_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "tasks.yaml"
    # YAML's \ud800 escape gives a lone surrogate, which no UTF-8 file can hold.
    path.write_text(
        "- {id: bad, category: File Operations, subcategory: organizing, prompt: hi,\n"
        '   fixtures: {files: {a.txt: "x\\ud800y"}}}\n'
        '- {id: bad-check, category: File Operations, subcategory: organizing, prompt: hi, check_python: "\\udfff"}\n'
    )
    load = load_tasks([path])
    assert load.tasks == []
    assert load.problems == [
        f"{path}: task bad: fixtures.files.a.txt: Value error, text cannot be written as UTF-8: "
        "'\\ud800' at character 1 is a lone surrogate",
        f"{path}: task bad-check: check_python: Value error, text cannot be written as UTF-8: "
        "'\\udfff' at character 0 is a lone surrogate",
    ]


def test_missing_fixture_folders_are_refused_where_set_up_looks(tmp_path: Path) -> None:
    (tmp_path / "fixtures" / "present").mkdir(parents=True)
    (tmp_path / "fixtures" / "present" / "f.txt").write_text("x")
    (tmp_path / "present").mkdir()  # next to the spec, not in fixtures/: set-up would not find it there
    problems = _problems(
        tmp_path,
        {"id": "ok", "fixtures": {"folders": {"present": "."}, "sites": [{"folder": "present"}]}},
        {"id": "no-folder", "fixtures": {"folders": {"absent": "dest"}}},
        {"id": "no-git-folder", "fixtures": {"git": [{"path": "r", "folder": "gone"}]}},
        {"id": "no-site", "fixtures": {"sites": [{"folder": "nowhere"}]}},
    )
    root = tmp_path / "fixtures"
    assert problems == [
        f"no-folder: fixtures.folders.absent: no fixture folder 'absent' in {root}",
        f"no-git-folder: fixtures.git.0.folder: no fixture folder 'gone' in {root}",
        f"no-site: fixtures.sites.0.folder: no fixture folder 'nowhere' in {root}",
    ]


def test_fixture_folders_with_escaping_symlinks_or_collisions_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "fixtures" / "tree"
    (folder / "sub").mkdir(parents=True)
    (folder / "top.txt").write_text("x")
    (tmp_path / "fixtures" / "linked").mkdir()
    os.symlink("/etc/passwd", tmp_path / "fixtures" / "linked" / "passwd")
    problems = _problems(
        tmp_path,
        {"id": "ok", "fixtures": {"folders": {"tree": "."}, "files": {"other.txt": "y", "sub/new.txt": "z"}}},
        {"id": "link", "fixtures": {"folders": {"linked": "."}}},
        {"id": "clash", "fixtures": {"folders": {"tree": "."}, "files": {"sub": "a file where a folder goes"}}},
        {"id": "under", "fixtures": {"folders": {"tree": "t"}, "files": {"t/top.txt/x": "under a file"}}},
        {"id": "dest", "fixtures": {"folders": {"tree": "t"}, "files": {"t": "the destination"}}},
    )
    assert [p.split(":")[0] for p in problems] == ["link", "clash", "under", "dest"]
    assert "'passwd' in fixture folder 'linked' is a symlink leading outside it" in problems[0]
    assert "inline file 'sub' collides" in problems[1]


def test_generate_refuses_an_escaping_fixture_without_a_traceback(tmp_path: Path) -> None:
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    spec = _spec(
        work,
        {"id": "ok", "oracle": {"answer": "done"}},
        {"id": "escape", "fixtures": {"files": {"../../../../escape.txt": "x"}}, "oracle": {"answer": "done"}},
    )
    out = work / "out"
    result = run("generate", "--policy", "oracle", "--tasks", spec, "--out", out)
    assert "Traceback" not in result.stderr
    assert f"{spec}: task escape: fixtures.files." in result.stderr
    assert not list(tmp_path.rglob("escape.txt"))
    records = [json.loads(line) for f in (out / "runs" / "oracle").glob("episodes-*.jsonl") for line in f.open()]
    assert "escape" not in [r["task"]["id"] for r in records]
    checked = run("tasks", "validate", "--tasks", spec)
    assert checked.returncode == 1 and "1 tasks loaded, 1 problem(s)" in checked.stdout


def test_a_yaml_syntax_error_still_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("- id: x\n  prompt: [unclosed\n")
    result = run("tasks", "validate", "--tasks", path)
    assert result.returncode == 1 and f"error: {path}: line 3 not YAML" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("name", ["file operations", "File Operations", "file_operations", "FILE-OPERATIONS"])
def test_category_spellings_resolve(name: str) -> None:
    assert resolve_category(name) == "File Operations"


def test_categories_with_ampersand_and_every_canonical_name_resolve() -> None:
    assert resolve_category("terminal_coding") == "Terminal & Coding"
    assert resolve_category("planning and organization") == "Planning & Organization"
    assert [resolve_category(name) for name in CATEGORIES] == list(CATEGORIES)


def test_unknown_category_suggests_the_nearest() -> None:
    with pytest.raises(UnknownCategory, match=r"unknown category 'file operatons'; did you mean 'File Operations'\?"):
        resolve_category("file operatons")
    with pytest.raises(ValueError, match="'debugging' is a subcategory of 'Terminal & Coding'"):
        resolve_category("debugging")
    assert nearest_category("sheduling") == "Scheduling"
    assert nearest_category("zzzz") is None


def test_tasks_list_matches_categories_in_any_spelling() -> None:
    listed = run("tasks", "list", "--json", "--category", "file operations")
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert rows and {r["category"] for r in rows} == {"File Operations"}
    wrong = run("tasks", "list", "--category", "file operatons")
    assert wrong.returncode == 2 and wrong.stdout == ""
    assert wrong.stderr.strip() == "error: unknown category 'file operatons'; did you mean 'File Operations'?"


def test_integers_beyond_64_bits_survive_specs_and_row_files(tmp_path: Path) -> None:
    huge = 2**70
    path = _spec(tmp_path, {"id": "big", "oracle": {"steps": [{"tool": "terminal", "args": {"n": huge}}],
                                                   "answer": "done"}})  # fmt: skip
    (task,) = load_tasks([path]).tasks
    assert task.spec.oracle is not None and task.spec.oracle.steps[0].args["n"] == huge
    shown = run("tasks", "show", "big", "--tasks", path)
    assert shown.returncode == 0 and f"n: {huge}" in shown.stdout
    row = sample_row()
    row["tools"] = json.dumps([{"type": "function", "function": {"name": "t", "parameters": {"default": huge}}}])
    out = tmp_path / "rows.jsonl"
    assert write_rows(out, [row]) == 1
    (read,) = list(iter_rows(out))
    assert json.loads(read.data["tools"])[0]["function"]["parameters"]["default"] == huge  # type: ignore[union-attr]
