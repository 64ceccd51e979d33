"""The `trajforge` console script, run as a user runs it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from trajforge import __version__
from trajforge.dataset import write_rows

from .episodes import sample_row

EXAMPLES = Path(__file__).parent.parent / "examples"
SCRIPT = Path(sys.executable).parent / "trajforge"


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SCRIPT), *map(str, args)], capture_output=True, text=True, timeout=120, check=False)


def test_help_lists_the_commands_and_version() -> None:
    result = run("--help")
    assert result.returncode == 0
    assert "stats" in result.stdout and "validate" in result.stdout
    assert run("--version").stdout.strip() == f"trajforge {__version__}"


def test_stats_prints_both_tables() -> None:
    result = run("stats", EXAMPLES, "--json")
    assert result.returncode == 0, result.stderr
    figures = {c["config"]: c for c in json.loads(result.stdout)["configs"]}
    assert set(figures) == {"kimi", "glm-5.1"}
    assert figures["kimi"]["samples"] == 6
    table = run("stats", EXAMPLES / "kimi.jsonl", EXAMPLES / "glm-5.1.jsonl")
    assert table.returncode == 0
    for label in (
        "Samples",
        "Total turns",
        "Total tool calls",
        "Avg turns per sample",
        "Avg tool calls per sample",
        "Avg <think> depth (words)",
        "Terminal & Coding",
        "Conversational",
    ):
        assert label in table.stdout
    assert "kimi" in table.stdout and "glm-5.1" in table.stdout


def test_validate_examples_pass() -> None:
    result = run("validate", EXAMPLES)
    assert result.returncode == 0, result.stdout
    assert result.stdout.strip().endswith("12 rows checked, 0 failed, 0 problem(s)")


def test_validate_reports_and_fails(tmp_path: Path) -> None:
    rows = [sample_row() for _ in range(3)]
    rows[1]["category"] = "Cooking"
    path = tmp_path / "bad.jsonl"
    write_rows(path, rows)
    with path.open("a") as handle:
        handle.write("{oops\n")
    result = run("validate", path)
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    assert lines[0] == f"{path}:2: id={rows[1]['id']} category 'Cooking' is not in the taxonomy"
    assert lines[1].startswith(f"{path}:4: invalid JSON")
    assert lines[-1] == "4 rows checked, 2 failed, 2 problem(s)"
    capped = run("validate", path, "--max-errors", "1", "--json")
    report = json.loads(capped.stdout)
    assert (report["rows_checked"], report["rows_failed"], report["problems_total"]) == (4, 2, 2)
    assert [p["row"] for p in report["problems"]] == [2]


def test_bad_input_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "cut.parquet").write_bytes(b"PAR1 truncated")
    for command in ("stats", "validate"):
        result = run(command, tmp_path / "cut.parquet")
        assert result.returncode == 1
        assert "Traceback" not in result.stdout + result.stderr
        assert "cut.parquet" in result.stdout + result.stderr
    missing = run("stats", tmp_path / "nope.jsonl")
    assert missing.returncode == 2
    assert missing.stderr.strip() == f"error: {tmp_path / 'nope.jsonl'}: no such file or folder"


def test_help_shows_words_not_python_types() -> None:
    # Every command's help, --help's own line included, names values in words (N, PATH, URL), not `<bool>`.
    from trajforge.cli.main import _COMMANDS, _GROUPS

    commands = [(name,) for name in (*_COMMANDS, *_GROUPS)] + [("tasks", "validate")]
    for args in (("--help",), *((*command, "--help") for command in commands)):
        result = subprocess.run(
            [sys.executable, "-m", "trajforge", *args],
            capture_output=True,
            text=True,
            env={**os.environ, "COLUMNS": "200"},
        )
        assert result.returncode == 0, result.stderr
        assert "--help" in result.stdout
        assert not re.search(r"<(bool|int|str|float|list|path)", result.stdout, re.IGNORECASE), (args, result.stdout)
