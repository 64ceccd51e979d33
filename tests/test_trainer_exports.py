"""Issue 14, exports that real trainers load unchanged, republish, import and provenance.

`datasets` (installed) is the reader: it loads the folders the way TRL and
LLaMA-Factory do; each test starts from the issue's reproduction.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trajforge.dataset import CurationSettings, export, publish
from trajforge.dataset.conversion.formats import CallIds, ExportOptions, Reasoning
from trajforge.trace import ToolCall

from .curation_data import varied, write_run
from .episodes import tool_def
from .test_cli import run

NO_DEDUP = CurationSettings(exact_dedup=False, near_dup_threshold=None)


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _other_tools(seed: int) -> object:
    """An episode whose tool and call arguments have other keys than `varied`'s (struct inference breaks)."""
    episode = varied(seed)
    python = tool_def("execute_code")
    python["function"]["parameters"] = {"type": "object", "properties": {"code": {"type": "string"},
                                        "path": {"type": "string"}}}  # fmt: skip
    episode.tools = [python, tool_def("read_file")]
    episode.messages[2].tool_calls[0] = ToolCall("call_a", "execute_code", {"code": "print(1)", "path": "x.py"})
    episode.messages[4].name = "execute_code"
    return episode


def test_two_mixed_openai_exports_load_in_one_call_exactly_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`Couldn't cast array of type struct<command, path, code> to {command, timeout}`, or null keys added."""
    datasets = pytest.importorskip("datasets")
    if not hasattr(datasets, "Json"):
        pytest.skip("this datasets has no Json feature")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    export([write_run(tmp_path / "a", [varied(i) for i in range(3)], config="a")], tmp_path / "out", "openai")
    export([write_run(tmp_path / "b", [_other_tools(i) for i in range(10, 13)], config="b")], tmp_path / "out2",
           "openai")  # fmt: skip
    card = (tmp_path / "out" / "README.md").read_text()
    assert "dataset_info:" in card and "list: json" in card and "config_name: a" in card
    files = [str(tmp_path / "out" / "a.jsonl"), str(tmp_path / "out2" / "b.jsonl")]
    raw = [row for file in files for row in _lines(Path(file))]
    features = datasets.load_dataset(str(tmp_path / "out"), "a", split="train").features
    loaded = datasets.load_dataset("json", data_files=files, features=features, split="train")
    assert [dict(row) for row in loaded] == raw  # no null-valued keys, no cast error
    assert datasets.load_dataset(str(tmp_path / "out2"), "b", split="train")[0]["tools"] == raw[3]["tools"]
    # --tools-as-string: TRL takes `tools` as a JSON string, for readers without Json
    export([tmp_path / "b"], tmp_path / "s", "openai", options=ExportOptions(tools_as_string=True))
    (row, *_) = _lines(tmp_path / "s" / "b.jsonl")
    assert isinstance(row["tools"], str) and json.loads(row["tools"]) == raw[3]["tools"]


def test_republish_is_what_load_dataset_returns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Republishing 3 rows over 12 and loading again returned the 12 old rows from datasets' cache."""
    datasets = pytest.importorskip("datasets")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    out = tmp_path / "dataset"
    publish([write_run(tmp_path / "big", [varied(i) for i in range(12)])], out, NO_DEDUP, workers=1)
    assert len(datasets.load_dataset(str(out), "mix", split="train")) == 12
    publish([write_run(tmp_path / "small", [varied(i) for i in range(20, 23)])], out, NO_DEDUP, workers=1)
    again = datasets.load_dataset(str(out), "mix", split="train")
    assert len(again) == 3 and sorted(again["id"])[0].endswith("000000000020")


def test_llamafactory_reasoning_modes_and_joined_observations(tmp_path: Path) -> None:
    """Llama2-style templates (mistral) reject function_call turns that open with <think>; parallel results were
    one observation holding a JSON list (twice-encoded when rendered)."""
    runs = write_run(tmp_path / "run", [varied(1)])
    rows = {}
    for mode in Reasoning:
        export([runs], tmp_path / mode, "llamafactory", options=ExportOptions(reasoning=mode))
        (rows[mode],) = _lines(tmp_path / mode / "mix.jsonl")
    calls = {mode: row["conversations"][1]["value"] for mode, row in rows.items()}
    assert calls[Reasoning.KEEP].startswith("<think>\n")
    for mode in (Reasoning.DROP, Reasoning.SEPARATE):  # pure JSON, as LLaMA-Factory's FunctionFormatter reads it
        assert [c["name"] for c in json.loads(calls[mode])] == ["terminal", "read_file"]
    assert json.loads(rows[Reasoning.SEPARATE]["reasoning"]) == {"1": varied(1).messages[2].reasoning}
    assert "reasoning" not in rows[Reasoning.KEEP]
    observation = rows[Reasoning.KEEP]["conversations"][2]["value"]
    first, second = observation.split("\n</tool_response>\n<tool_response>\n")
    assert json.loads(first)["exit_code"] == 0 and second == "line one\nline two"  # call order, each as written


def test_tool_call_ids_for_mistral_are_nine_alphanumerics(tmp_path: Path) -> None:
    runs = write_run(tmp_path / "run", [varied(1), varied(2)])
    result = run("export", runs, "--to", "openai", "--out", tmp_path / "m", "--tool-call-ids", "mistral")
    assert result.returncode == 0, result.stderr
    again = export([runs], tmp_path / "m2", "openai", options=ExportOptions(tool_call_ids=CallIds.MISTRAL))
    rows = _lines(tmp_path / "m" / "mix.jsonl")
    assert rows == _lines(again.files["mix"])  # the same ids every time
    for row in rows:
        messages = row["messages"]
        ids = [c["id"] for m in messages for c in m.get("tool_calls", [])]
        assert all(len(i) == 9 and i.isalnum() for i in ids) and len(set(ids)) == len(ids)
        assert {m["tool_call_id"] for m in messages if m["role"] == "tool"} == set(ids)


def _hermes_row(system: str) -> dict[str, object]:
    call = '<tool_call>\n{"name": "terminal", "arguments": {"command": "ls"}}\n</tool_call>'
    return {"conversations": [
        {"from": "system", "value": system},
        {"from": "human", "value": "List the files."},
        {"from": "gpt", "value": "<think>\nls.\n</think>\n" + call},
        {"from": "tool", "value": '<tool_response>\n{"name": "terminal", "content": "a.txt"}\n</tool_response>'},
        {"from": "gpt", "value": "<think>\nDone.\n</think>\nOne file."},
    ]}  # fmt: skip


def test_hermes_import_finds_the_tools_block_by_its_structure(tmp_path: Path) -> None:
    """`<tools></tools>` without the space, or a system turn that is only the block, lost the tools silently."""
    tool = json.dumps({"name": "terminal", "description": "Run.", "parameters": {"type": "object", "properties": {}}})
    systems = [
        f"You are Hermes.\n\nYou may call functions. Signatures are in <tools></tools> XML tags:\n<tools>\n[{tool}]\n"
        "</tools>\nReturn calls in <tool_call></tool_call> tags.",
        f"<tools>\n{tool}\n</tools>",
        "You are Hermes, with no tools.",
    ]
    source = tmp_path / "hermes.jsonl"
    source.write_text("".join(json.dumps(_hermes_row(system)) + "\n" for system in systems))
    result = run("import", source, "--from", "hermes-agent", "--out", tmp_path / "run", "--config", "k",
                 "--category", "Terminal & Coding", "--subcategory", "script_writing")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "3 episodes imported" in result.stdout and "warning: 1 imported episode(s) offer no tools" in result.stderr
    checked = run("validate", tmp_path / "run" / "rows")
    assert "2 failed" not in checked.stdout and "1 failed" in checked.stdout  # only the row without tools
    rows = [json.loads(line) for f in (tmp_path / "run" / "rows" / "k").glob("*.jsonl")
            for line in f.read_text().splitlines()]  # fmt: skip
    assert sum(json.loads(r["tools"]) != [] for r in rows) == 2
    prompts = sorted(r["conversations"][0]["value"].split("\n\n")[0] for r in rows)
    assert "You are Hermes." in prompts


def test_card_shows_no_local_paths_or_ports_and_lists_setting_sets(tmp_path: Path) -> None:
    """The card published `Tasks: ../mytasks` and `http://localhost:18432/v1`."""
    first, second = varied(1), varied(2)
    second.model.sampling = {"temperature": 1.0}
    first.model.sampling = {"temperature": 0.2}
    runs = write_run(tmp_path / "out", [first, second])
    manifest = {"policy": "model", "model": "m", "endpoint": ["http://localhost:18432/v1", "https://api.example.com:8443/v1"],
                "tasks": ["../mytasks", "builtin", "/home/me/secret/tasks.yaml"], "out": "out"}  # fmt: skip
    (runs / "runs" / "mix" / "manifest.json").write_text(json.dumps(manifest))
    history = [{**manifest, "temperature": 0.2, "written": "2026-11-30T10:00"},
               {**manifest, "temperature": 1.0, "written": "2026-11-30T11:00"}]  # fmt: skip
    (runs / "runs" / "mix" / "manifests.jsonl").write_text("".join(json.dumps(m) + "\n" for m in history))
    out = tmp_path / "dataset"
    publish([runs], out, NO_DEDUP, workers=1)
    card = (out / "README.md").read_text()
    assert "18432" not in card and "localhost" not in card and "8443" not in card and "/home/me" not in card
    assert "`https://api.example.com/v1`" in card and "`a local server (/v1)`" in card
    assert "`../../mytasks (from the run folder)`" in card and "`builtin`" in card and "`tasks.yaml`" in card
    from trajforge import __version__

    assert f"trajforge {__version__}" in card
    assert "- model `test-model`, temperature `0.2`: 1 episodes" in card
    assert "- model `test-model`, temperature `1.0`: 1 episodes" in card
    assert "- `2026-11-30T10:00`: temperature `0.2`" in card and "- `2026-11-30T11:00`: temperature `1.0`" in card
