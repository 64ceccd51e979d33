"""Export to training formats, import from other harnesses, and push's failure without network."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from trajforge.dataset import discover, validate
from trajforge.trace import parse, render
from trajforge.trace.turns import build_system

from .curation_data import varied, write_rows, write_run
from .fake_hub import FakeHub
from .test_cli import run


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_export_openai_pairs_calls_and_results_by_id(tmp_path: Path) -> None:
    runs = write_run(tmp_path / "run", [varied(i) for i in range(3)])
    out = tmp_path / "openai"
    result = run("export", runs, "--to", "openai", "--out", out)
    assert result.returncode == 0, result.stderr
    rows = _lines(out / "mix.jsonl")
    assert len(rows) == 3 and [r["id"] for r in rows] == sorted(r["id"] for r in rows)
    messages = rows[0]["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "tool", "tool", "assistant"]
    calls = messages[2]["tool_calls"]
    assert [c["function"]["name"] for c in calls] == ["terminal", "read_file"]
    assert calls[1]["function"]["arguments"]["nested"] == {"x": [1, 2.5, None, True]}  # an object, for chat templates
    assert {m["tool_call_id"] for m in messages[3:5]} == {c["id"] for c in calls}
    assert messages[2]["reasoning_content"].startswith(varied(0).messages[2].reasoning[:20])
    assert rows[0]["tools"][0]["function"]["name"] == "terminal"
    as_strings = run("export", runs, "--to", "openai", "--out", tmp_path / "s", "--arguments-as-string",
                     "--reasoning-field", "reasoning")  # fmt: skip
    assert as_strings.returncode == 0, as_strings.stderr
    message = _lines(tmp_path / "s" / "mix.jsonl")[0]["messages"][2]
    assert json.loads(message["tool_calls"][0]["function"]["arguments"]) == {"command": "ls"}
    assert "reasoning" in message and "reasoning_content" not in message


def test_export_llamafactory_alternates_roles_as_llamafactory_requires(tmp_path: Path) -> None:
    runs = write_run(tmp_path / "run", [varied(i) for i in range(2)])
    out = tmp_path / "lf"
    assert run("export", runs, "--to", "llamafactory", "--out", out).returncode == 0
    info = json.loads((out / "dataset_info.json").read_text())
    assert info["mix"]["formatting"] == "sharegpt" and info["mix"]["columns"]["tools"] == "tools"
    for row in _lines(out / "mix.jsonl"):
        turns = row["conversations"]
        # LLaMA-Factory's sharegpt rule: human/observation at even places, gpt/function_call at odd ones
        assert all(t["from"] in ("human", "observation") for t in turns[0::2])
        assert all(t["from"] in ("gpt", "function_call") for t in turns[1::2])
        call = turns[1]["value"]
        assert call.startswith("<think>\n")  # the turn's reasoning, then the calls
        assert json.loads(call.split("</think>\n\n", 1)[1])[1]["name"] == "read_file"  # parallel calls: a list
        # results in call order, joined as LLaMA-Factory's OpenAI converter joins them (not a JSON list)
        assert turns[2]["value"].split("\n</tool_response>\n<tool_response>\n")[1] == "line one\nline two"
        assert row["system"] == "You are a careful agent." and json.loads(row["tools"])[0]["name"] == "terminal"


def test_export_sharegpt_jsonl_rows_validate(tmp_path: Path) -> None:
    runs = write_run(tmp_path / "run", [varied(i) for i in range(2)])
    out = tmp_path / "rows"
    assert run("export", runs, "--to", "sharegpt-jsonl", "--out", out).returncode == 0
    assert validate(discover([out / "mix.jsonl"]), lambda problem: None).rows_checked == 2
    assert run("export", runs, "--to", "alpaca", "--out", out).returncode == 2


def test_openai_export_imports_back_to_the_same_episodes(tmp_path: Path) -> None:
    episodes = [varied(i) for i in range(3)]
    runs = write_run(tmp_path / "run", episodes)
    assert run("export", runs, "--to", "openai", "--out", tmp_path / "openai").returncode == 0
    imported = run("import", tmp_path / "openai" / "mix.jsonl", "--from", "openai", "--out", tmp_path / "back",
                   "--config", "mix")  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    assert "3 episodes imported, 0 rows skipped" in imported.stdout
    rows = tmp_path / "back" / "rows" / "mix"
    assert validate(discover([rows]), lambda problem: None).ok
    back = {row["id"]: row for row in _lines(next(rows.glob("*.jsonl")))}
    for episode in episodes:
        # ids, names, pairing, reasoning: all kept (a row holds results in call order)
        assert parse(back[episode.id]).messages == parse(render(episode)).messages


def _hermes_row() -> dict[str, object]:
    """A row the way hermes-agent's batch_runner writes one, with two of its habits: no think block on a turn,
    and parallel results named by position although they arrived in the other order (Kimi's ids tell)."""
    tools = [{"name": n, "description": f"The {n} tool.", "parameters": {"type": "object", "properties": {},
              "required": None}} for n in ("terminal", "read_file")]  # fmt: skip
    system = build_system("You are Hermes.", tools)
    call = '<tool_call>\n{"name": "%s", "arguments": {"path": "a.txt"}}\n</tool_call>'
    response = '<tool_response>\n{"tool_call_id": "%s", "name": "%s", "content": %s}\n</tool_response>'
    return {
        "conversations": [
            {"from": "system", "value": system},
            {"from": "human", "value": "Read a.txt and list files."},
            {"from": "gpt", "value": "<think>\nBoth.\n</think>\n" + call % "terminal" + "\n" + call % "read_file"},
            # read_file's result came first; hermes-agent named it after the first call (terminal)
            {"from": "tool", "value": response % ("functions.read_file:1", "terminal", '"hello"') + "\n"
                + response % ("functions.terminal:0", "read_file", '{"output": "a.txt", "exit_code": 0}')},
            {"from": "gpt", "value": "a.txt says hello."},
        ],
        "completed": True,
    }  # fmt: skip


def test_import_hermes_agent_rows_repairs_names_and_publishes(tmp_path: Path) -> None:
    source = tmp_path / "hermes.jsonl"
    source.write_text(json.dumps(_hermes_row()) + "\n" + json.dumps({"conversations": "oops"}) + "\n")
    no_category = run("import", source, "--from", "hermes-agent", "--out", tmp_path / "x", "--config", "kimi")
    assert no_category.returncode == 1 and "--category" in no_category.stderr
    result = run("import", source, "--from", "hermes-agent", "--out", tmp_path / "imported", "--config", "kimi",
                 "--category", "File Operations", "--subcategory", "searching")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "1 episodes imported, 1 rows skipped" in result.stdout and f"{source}:2" in result.stderr
    rows = tmp_path / "imported" / "rows"
    assert validate(discover([rows]), lambda problem: None).ok
    (row,) = _lines(next((rows / "kimi").glob("*.jsonl")))
    episode = parse(row)
    calls = episode.messages[2].tool_calls
    results = {m.tool_call_id: m for m in episode.messages[3:5]}
    assert results[calls[0].id].name == "terminal" and "a.txt" in (results[calls[0].id].content or "")
    assert results[calls[1].id].name == "read_file" and results[calls[1].id].content == "hello"
    assert episode.messages[-1].reasoning is None and row["category"] == "File Operations"
    published = run("publish", tmp_path / "imported", "--out", tmp_path / "dataset", "--no-require-reasoning")
    assert published.returncode == 0, published.stderr
    assert "kimi: 1 rows published" in published.stdout


def test_import_sharegpt_rows_and_reject_unknown_source(tmp_path: Path) -> None:
    rows = write_rows(tmp_path / "in.jsonl", [varied(1), varied(2)])
    result = run("import", rows, "--from", "sharegpt", "--out", tmp_path / "run", "--config", "glm")
    assert result.returncode == 0 and "2 episodes imported" in result.stdout
    again = run("import", rows, "--from", "sharegpt", "--out", tmp_path / "run", "--config", "glm")
    assert again.returncode == 0  # same file again: the same files rewritten, no duplicate ids
    curated = json.loads(run("curate", tmp_path / "run", "--json").stdout)
    assert curated["configs"][0]["read"] == 2 and curated["configs"][0]["kept"] == 2
    assert run("import", rows, "--from", "langchain", "--out", tmp_path / "r", "--config", "x").returncode == 2


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("offline", [False, True])
def test_push_without_network_fails_clearly_and_changes_nothing(
    tmp_path: Path, offline: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = write_run(tmp_path / "run", [varied(1)])
    dataset = tmp_path / "dataset"
    assert run("publish", runs, "--out", dataset).returncode == 0
    before = {p: p.read_bytes() for p in sorted(dataset.rglob("*")) if p.is_file()}
    env = {"HF_ENDPOINT": f"http://127.0.0.1:{_closed_port()}", "HF_TOKEN": "hf_" + "x" * 34,
           "HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "1" if offline else "0"}  # fmt: skip
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    result = run("push", dataset, "me/traces")
    assert result.returncode == 1
    assert ("HF_HUB_OFFLINE" in result.stderr) if offline else ("cannot reach the hub" in result.stderr)
    assert "Traceback" not in result.stderr
    assert {p: p.read_bytes() for p in sorted(dataset.rglob("*")) if p.is_file()} == before
    assert run("push", tmp_path / "run", "me/traces").returncode == 1  # not a dataset folder


def test_push_uploads_the_dataset_folder_in_one_commit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runs = write_run(tmp_path / "run", [varied(1), varied(2)])
    dataset = tmp_path / "dataset"
    assert run("publish", runs, "--out", dataset).returncode == 0
    (dataset / "stray.txt").write_text("not part of the dataset")
    with FakeHub() as hub:
        for key, value in {"HF_ENDPOINT": hub.url, "HF_TOKEN": "hf_" + "x" * 34, "HF_HOME": str(tmp_path / "hf"),
                           "HF_HUB_OFFLINE": "0", "HF_HUB_DISABLE_XET": "1"}.items():  # fmt: skip
            monkeypatch.setenv(key, value)
        result = run("push", dataset, "me/traces", "--private")
    assert result.returncode == 0, result.stderr + str(hub.state.unknown)
    assert hub.state.repos == {"me/traces": {"private": True, "type": "dataset"}}
    assert hub.state.commits == ["me/traces"]
    assert any("config_name: mix" in card for card in hub.state.validated)  # the hub's card check saw our card
    local = {str(p.relative_to(dataset)): p.read_bytes() for p in dataset.rglob("*") if p.is_file()}
    del local["stray.txt"]  # only README.md and data/ go up
    assert hub.state.files["me/traces"] == local
