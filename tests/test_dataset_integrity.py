"""Issue 14, nothing lost and nothing invalid published: each test starts from the issue's reproduction."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from trajforge.dataset import CurationSettings, compute_stats, curate, discover, export, publish, validate
from trajforge.dataset.curation import dedup
from trajforge.dataset.curation.filters import OPTIONS, Filter, settings_from_options
from trajforge.dataset.curation.spill import SPILL_PREFIX
from trajforge.dataset.targets import Kind, OutputError
from trajforge.policy.replies import MalformedReply, parse_reply
from trajforge.tasks import TAXONOMY
from trajforge.trace import render, to_record

from .curation_data import varied, write_rows, write_run
from .test_cli import SCRIPT, run

NO_FILTERS = ("--no-dedup", "--near-dup", "0")


def _rows(folder: Path) -> list[dict[str, object]]:
    return [row for f in sorted(folder.rglob("*.parquet")) for row in pq.read_table(f).to_pylist()]


def _valid(path: Path) -> bool:
    return validate(discover([path]), lambda problem: None).ok


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_sharegpt_export_holds_the_rows_and_never_writes_into_its_inputs(tmp_path: Path) -> None:
    """`export demo-dataset --to sharegpt-jsonl` wrote id/category/subcategory only; `--out` = input overwrote it."""
    dataset = tmp_path / "demo-dataset"
    publish([write_run(tmp_path / "run", [varied(i) for i in range(3)])], dataset, workers=1)
    result = run("export", dataset, "--to", "sharegpt-jsonl", "--out", tmp_path / "x")
    assert result.returncode == 0, result.stderr
    exported = [json.loads(line) for line in (tmp_path / "x" / "mix.jsonl").read_text().splitlines()]
    assert sorted(exported, key=lambda r: str(r["id"])) == sorted(_rows(dataset), key=lambda r: str(r["id"]))
    assert _valid(tmp_path / "x" / "mix.jsonl")
    before = _snapshot(dataset)
    for command in ("export", "publish"):
        extra = ("--to", "sharegpt-jsonl") if command == "export" else ()
        into = run(command, dataset, *extra, "--out", dataset)
        assert into.returncode == 2 and "refusing to write into inputs" in into.stderr
        assert "Traceback" not in into.stderr and len(into.stderr.strip().splitlines()) == 1
        inside = run(command, dataset, *extra, "--out", dataset / "data" / "sub")
        assert inside.returncode == 2
    assert _snapshot(dataset) == before


def test_publish_drops_what_validate_rejects_and_checks_column_types(tmp_path: Path) -> None:
    """A bogus category, a subcategory outside its category, a non-UUID id; Parquet categories of integers."""
    bogus, outside, not_uuid = varied(1), varied(2), varied(3)
    bogus.task.category = "Astrology"
    outside.task.subcategory = next(s for c, subs in TAXONOMY.items() if c != outside.task.category for s in subs)
    not_uuid.id = "episode-3"
    rows = write_rows(tmp_path / "rows" / "mix.jsonl", [varied(0), bogus, outside, not_uuid])
    out = tmp_path / "dataset"
    result = publish([rows], out, CurationSettings(), workers=1)
    (config,) = result.curation.configs
    assert config.report.kept == 1 and config.report.dropped["invalid row"] == 3
    assert _valid(out)
    assert "| invalid row (the row fails `trajforge validate`" in (out / "README.md").read_text()
    # Parquet: a `category` column of integers is not turned into strings ("0" or, worse, "")
    table = pa.Table.from_pylist([render(varied(i)) for i in range(2)])
    table = table.set_column(table.schema.get_field_index("category"), "category", pa.array([0, 1]))
    (tmp_path / "ints").mkdir()
    pq.write_table(table, tmp_path / "ints" / "mix.parquet")
    with curate([tmp_path / "ints"], CurationSettings(), workers=1) as curated:
        assert curated.configs[0].report.dropped["malformed row"] == 2 and curated.configs[0].report.kept == 0
    stats = json.loads(run("stats", tmp_path / "ints", "--json").stdout)
    assert stats["configs"][0]["samples"] == 0  # the rows are reported, not counted under category "0"


def test_publish_with_nothing_kept_says_why_and_leaves_the_previous_dataset(tmp_path: Path) -> None:
    """Publishing empty or all-filtered input crashed with FileNotFoundError .../README.md."""
    out = tmp_path / "dataset"
    publish([write_run(tmp_path / "run", [varied(1)])], out, workers=1)
    before = _snapshot(out)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    cut = varied(2)
    del cut.messages[-1]  # not stopped: filtered
    filtered = write_rows(tmp_path / "cut.jsonl", [cut])
    for source, why in ((empty, "hold no rows"), (filtered, "every one of the 1 rows read was dropped")):
        result = run("publish", source, "--out", out)
        assert result.returncode == 1, result.stderr
        assert why in result.stderr and "nothing published" in result.stderr and "Traceback" not in result.stderr
        assert _snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.jsonl", "dataset", "empty.jsonl", "run"]


def _deep_inputs(tmp_path: Path) -> list[Path]:
    """'[' * 100000; call arguments nested 900 deep in a record; a tool call nested 900 deep inside a row."""
    brackets = tmp_path / "brackets" / "mix.jsonl"
    brackets.parent.mkdir()
    brackets.write_text("[" * 100000 + "\n" + json.dumps(render(varied(1))) + "\n")
    deep: dict[str, object] = {}
    level = deep
    for _ in range(900):
        level["a"] = {}
        level = level["a"]  # type: ignore[assignment]
    record = to_record(varied(2))
    record["messages"][2]["tool_calls"][0]["arguments"] = deep
    runs = tmp_path / "records" / "runs" / "mix" / "episodes-deep.jsonl"
    runs.parent.mkdir(parents=True)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(5000)  # only to write the input
    try:
        runs.write_text(json.dumps(record) + "\n" + json.dumps(to_record(varied(3))) + "\n")
        row = render(varied(4))
        value = row["conversations"][2]["value"]
        start = value.index("<tool_call>\n") + len("<tool_call>\n")
        body = json.dumps({"name": "terminal", "arguments": deep})
        row["conversations"][2]["value"] = value[:start] + body + value[value.index("\n</tool_call>") :]
        in_row = tmp_path / "in_row" / "mix.jsonl"
        in_row.parent.mkdir()
        in_row.write_text(json.dumps(row) + "\n" + json.dumps(render(varied(5))) + "\n")
    finally:
        sys.setrecursionlimit(limit)
    return [brackets.parent, tmp_path / "records", in_row.parent]


def test_deep_json_is_one_problem_of_its_row_everywhere(tmp_path: Path) -> None:
    """RecursionError in validate, stats, curate, publish, export and the model client."""
    sources = _deep_inputs(tmp_path)
    for index, source in enumerate(sources):
        summary = validate(discover([source]), lambda problem: None)
        assert summary.rows_failed == 1 or index == 1  # a run folder's records are not rows: validate reads rows/
        compute_stats(discover([source]))
        with curate([source], CurationSettings(), workers=1) as curated:
            report = curated.configs[0].report
            assert report.read == 2 and report.kept == 1  # the deep one is counted and dropped, the other kept
        assert publish([source], tmp_path / f"p{index}", workers=1).stats[0].samples == 1
        assert len(export([source], tmp_path / f"e{index}", "openai", workers=1).files) == 1
    result = run("curate", *sources)  # the command line too, with its own (shallower) stack
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    reply = b'{"choices": [{"message": {"role": "assistant", "content": "x", "tool_calls": [{"id": "c", ' \
        b'"type": "function", "function": {"name": "t", "arguments": ' + b"[" * 100000 + b"}}]}}]}"  # fmt: skip
    with pytest.raises(MalformedReply):
        parse_reply(reply)
    arguments = json.dumps("[" * 900 + "]" * 900)
    body = (
        '{"choices": [{"message": {"role": "assistant", "content": null, "tool_calls": [{"id": "c", '
        '"type": "function", "function": {"name": "t", "arguments": ' + arguments + "}}]}}]}"
    )
    call = parse_reply(body.encode()).message.tool_calls[0]
    assert call.arguments == {} and call.raw_arguments  # kept as text, like invalid JSON


def _limited(max_bytes: int) -> None:
    """In the child: files may not grow past `max_bytes` (EFBIG instead of SIGXFSZ), as on a full disk."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))


def test_write_failures_are_one_line_and_keep_the_previous_output(tmp_path: Path) -> None:
    """A full disk gave raw tracebacks, and export left an empty folder behind."""
    runs = write_run(tmp_path / "run", [varied(i) for i in range(40)])
    out = tmp_path / "dataset"
    publish([runs], out, CurationSettings(near_dup_threshold=None), workers=1)
    before = _snapshot(out)
    for command in (("publish", runs, "--out", out), ("export", runs, "--to", "openai", "--out", tmp_path / "x")):
        result = subprocess.run([str(SCRIPT), *map(str, command), "--workers", "1"], capture_output=True, text=True,
                                timeout=120, check=False, preexec_fn=lambda: _limited(20_000))  # fmt: skip
        assert result.returncode == 1, result.stderr
        assert "File too large" in result.stderr and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert _snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dataset", "run"]  # no empty export, staging or spill
    with pytest.raises(OutputError) as raised:
        export([runs], tmp_path / "run" / "runs" / "x", "openai")
    assert raised.value.kind is Kind.INPUT


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _gone(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"


def test_kill_9_workers_exit_and_the_next_run_removes_the_spill(tmp_path: Path) -> None:
    """After kill -9 of a publish, the spill folder stayed forever and spawn workers hung, re-parented."""
    runs = tmp_path / "run"
    for part in range(4):
        write_run(runs / f"p{part}", [varied(100 * part + i) for i in range(60)])
    sources = [runs / f"p{part}" for part in range(4)]
    out = tmp_path / "dataset"
    command = [str(SCRIPT), "publish", *map(str, sources), "--out", str(out), "--workers", "2"]
    parent = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        workers: list[int] = []
        for _ in range(600):  # wait for the worker processes (spawned) to start
            workers = [c for c in _children(parent.pid) if "multiprocessing" in _cmdline(c)]
            if len(workers) >= 2 or parent.poll() is not None:
                break
            time.sleep(0.1)
        if parent.poll() is not None:
            pytest.skip("publish finished before its workers could be seen")
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        for _ in range(300):
            if all(_gone(w) for w in workers):
                break
            time.sleep(0.1)
        assert all(_gone(w) for w in workers), "workers outlived their killed parent"
    finally:
        if parent.poll() is None:
            parent.kill()
    stale = [p.name for p in tmp_path.iterdir() if p.name.startswith((SPILL_PREFIX, ".dataset."))]
    assert stale  # what the kill left behind...
    again = run("publish", *sources, "--out", out)
    assert again.returncode == 0, again.stderr
    assert not [p for p in tmp_path.iterdir() if p.name.startswith((SPILL_PREFIX, ".dataset."))]  # ...is gone


def _cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def test_every_line_is_counted_once_and_an_unreadable_file_stops_publish(tmp_path: Path) -> None:
    """curate on garbage said "malformed 0, read 0"; a truncated last line was not counted; publish and export
    skipped an unreadable file inside an input folder with exit 0."""
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_bytes(b"\x00\xffnot json\n{}\n[1, 2]\n")
    data = json.loads(run("curate", garbage, "--json").stdout)["configs"][0]
    assert data["read"] == 3 and data["dropped"]["malformed row"] == 3
    truncated = write_rows(tmp_path / "t" / "mix.jsonl", [varied(1), varied(2)])
    text = truncated.read_bytes()
    truncated.write_bytes(text[: len(text) - 200])  # the last line cut short, without its newline
    data = json.loads(run("curate", truncated, "--json").stdout)["configs"][0]
    assert data["read"] == 2 and data["kept"] == 1 and data["dropped"]["malformed row"] == 1
    folder = tmp_path / "folder"
    write_rows(folder / "a" / "mix.jsonl", [varied(3)])
    (folder / "b").mkdir()
    (folder / "b" / "mix.parquet").write_bytes(b"PAR1 this is not parquet")
    for command in (("publish", "--out", tmp_path / "d"), ("export", "--to", "openai", "--out", tmp_path / "e")):
        result = run(command[0], folder, *command[1:])
        assert result.returncode == 1, result.stderr
        assert "mix.parquet" in result.stderr and "nothing" in result.stderr
        assert not (tmp_path / "d").exists() and not (tmp_path / "e").exists()
    curated = run("curate", folder)
    assert curated.returncode == 1 and "mix.parquet" in curated.stderr


def test_import_of_two_files_into_one_config_is_that_config(tmp_path: Path) -> None:
    """Two files imported with --config glm made configs train-import-a and train-import-b; validate then missed
    the duplicate ids across them."""
    a = write_rows(tmp_path / "a.jsonl", [varied(1), varied(2)])
    b = write_rows(tmp_path / "b.jsonl", [varied(2), varied(3)])  # varied(2) twice: a duplicate id
    for source in (a, b):
        result = run("import", source, "--from", "sharegpt", "--out", tmp_path / "run", "--config", "glm")
        assert result.returncode == 0, result.stderr
    sources = discover([tmp_path / "run" / "rows"])
    assert [s.name for s in sources] == ["glm"] and len(sources[0].files) == 2
    problems: list[str] = []
    validate(sources, lambda problem: problems.append(problem.reason))
    assert any(reason.startswith("duplicate id") for reason in problems)
    stats = json.loads(run("stats", tmp_path / "run", "--json").stdout)
    assert [c["config"] for c in stats["configs"]] == ["glm"]


def test_minhash_of_a_huge_text_is_computed_in_windows_with_the_same_signature(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 200 MB row peaked at 11.7 GB in the near-duplicate step: the text is now hashed a window at a time
    (peak memory measured by benchmarks/bench_dataset.py); the signature must not change."""
    text = " ".join(f"w{i % 7919}x{i % 104729}" for i in range(60_000))
    whole = dedup.signature(text)
    monkeypatch.setattr(dedup, "WINDOW_BYTES", 4096)
    assert (dedup.signature(text) == whole).all()
    assert (dedup.signature("short") == dedup.signature("short")).all()


def test_the_filter_table_drives_the_options_the_report_and_the_card(tmp_path: Path) -> None:
    """One table of filters: every option of it is on the command line, every filter in the report and the card."""
    helped = run("publish", "--help")
    for option in OPTIONS:
        assert f"--{option.name.replace('_', '-')}" in helped.stdout
    out = tmp_path / "dataset"
    publish([write_run(tmp_path / "run", [varied(1)])], out, workers=1)
    card = (out / "README.md").read_text()
    described = CurationSettings().described()
    for name in Filter:
        assert f"| {name} ({described[name]}) |" in card
    assert settings_from_options({"max_repeats": 0, "near_dup": 0, "max_error_rate": 1.0}) == CurationSettings(
        max_repeats=None, near_dup_threshold=None, max_error_rate=None
    )
    with pytest.raises(ValueError, match="--max-tokens needs --tokenizer"):
        settings_from_options({"max_tokens": 10})
