"""Parsed task files are kept between runs by their bytes; a stale, corrupt or unwritable cache only costs time."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from trajforge.tasks import load_tasks
from trajforge.tasks.parse_cache import parsed, user_cache


class Counting:
    """A parser that says how often it ran."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, raw: bytes) -> Any:
        self.calls += 1
        if raw.startswith(b"!"):
            raise ValueError("bad input")
        return {"text": raw.decode(), "list": [1, 2.5, None]}


def test_the_same_bytes_are_parsed_once_and_other_bytes_again(tmp_path: Path) -> None:
    parse = Counting()
    first = parsed(b"a: 1", parse, tmp_path)
    assert parsed(b"a: 1", parse, tmp_path) == first and parse.calls == 1
    assert parsed(b"a: 2", parse, tmp_path)["text"] == "a: 2" and parse.calls == 2


def test_a_corrupt_entry_is_parsed_again_and_errors_are_not_kept(tmp_path: Path) -> None:
    parse = Counting()
    parsed(b"a: 1", parse, tmp_path)
    for entry in tmp_path.glob("*.pickle"):
        entry.write_bytes(b"\x80\x05truncated")
    assert parsed(b"a: 1", parse, tmp_path)["text"] == "a: 1" and parse.calls == 2
    for _ in range(2):
        with pytest.raises(ValueError, match="bad input"):
            parsed(b"!oops", parse, tmp_path)
    assert parse.calls == 4


def test_an_unwritable_cache_only_costs_time(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    parse = Counting()
    assert parsed(b"a: 1", parse, blocker / "cache")["text"] == "a: 1"
    assert parsed(b"a: 1", parse, blocker / "cache")["text"] == "a: 1" and parse.calls == 2


def test_the_catalog_loads_the_same_from_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAJFORGE_CACHE", str(tmp_path))
    assert user_cache("tasks") == tmp_path / "tasks"
    cold = load_tasks(["builtin"])
    assert any((tmp_path / "tasks").glob("*.pickle"))
    warm = load_tasks(["builtin"])
    assert [t.spec for t in warm.tasks] == [t.spec for t in cold.tasks] and warm.problems == cold.problems


def test_an_edited_task_file_is_read_anew(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAJFORGE_CACHE", str(tmp_path / "cache"))
    spec = tmp_path / "tasks.yaml"
    body = "- id: t\n  category: Terminal & Coding\n  subcategory: script_writing\n  prompt: {}\n"
    spec.write_text(body.format("first"))
    assert load_tasks([spec]).tasks[0].spec.prompt == "first"
    spec.write_text(body.format("second"))
    os.utime(spec, ns=(0, 0))  # the same time stamp cannot make it stale: the key is the bytes
    assert load_tasks([spec]).tasks[0].spec.prompt == "second"
