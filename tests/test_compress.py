"""Trajectory compression to a training budget: cut points, the extractive and model summaries, the pipeline."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trajforge.dataset.compression import CompressSettings, compress, compress_episode
from trajforge.dataset.compression.pipeline import CompressError
from trajforge.dataset.targets import OutputError
from trajforge.trace import Episode, Message, TaskRef, ToolCall, parse, render
from trajforge.trace.compaction import SUMMARY_PREFIX, apply, cuts, extractive_summary, turns_of
from trajforge.trace.model import Compaction
from trajforge.trace.tokens import ChatMessage, load_counter

from .curation_data import write_rows, write_run
from .episodes import tool_def
from .scripted_server import ScriptedServer, reply
from .tokenizer_files import WORDS, write_tokenizer

SCRIPT = Path(sys.executable).parent / "trajforge"


def text(seed: int, count: int) -> str:
    """`count` words the test tokenizer knows whole."""
    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) for _ in range(count))


def long_episode(seed: int, steps: int, *, parallel: int = 2, result_words: int = 60) -> Episode:
    """An episode of `steps` assistant turns, each with `parallel` calls whose results arrive out of order."""
    rng = random.Random(seed)
    messages = [
        Message(role="system", content="You are a careful agent."),
        Message(role="user", content=f"Task {seed}: {text(seed, 10)}"),
    ]
    for step in range(steps):
        calls = [
            ToolCall(f"call_{step}_{n}", "terminal", {"command": f"cat file_{step}_{n}.txt"}) for n in range(parallel)
        ]
        messages.append(Message(role="assistant", reasoning=text(seed * 100 + step, 30), tool_calls=calls))
        for call in rng.sample(calls, len(calls)):
            output = json.dumps({"output": text(seed * 1000 + step, result_words), "exit_code": step % 3})
            messages.append(Message(role="tool", content=output, tool_call_id=call.id, name=call.name))
    messages.append(Message(role="assistant", reasoning="Done.", content=f"Found {steps * parallel} files."))
    return Episode(
        id=f"00000000-0000-4000-8000-{seed:012d}",
        task=TaskRef("t", "Terminal & Coding", "script_writing", messages[1].content or ""),
        messages=messages,
        tools=[tool_def("terminal")],
        config="long",
    )


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tokenizer(tmp_path_factory.mktemp("tokenizer"))


def _pairs_intact(messages: list[Message]) -> bool:
    """Every tool result follows the assistant turn that made its call, with only results between them."""
    open_calls: set[str] = set()
    for message in messages:
        if message.role == "assistant":
            open_calls = {call.id for call in message.tool_calls}
        elif message.role == "tool":
            if message.tool_call_id not in open_calls:
                return False
        else:
            open_calls = set()
    return True


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 12), st.integers(1, 3), st.integers(0, 6))
def test_no_cut_separates_a_call_from_its_results(seed: int, steps: int, parallel: int, keep_last: int) -> None:
    episode = long_episode(seed, steps, parallel=parallel, result_words=5)
    head = 3 + parallel  # system, user, first assistant turn and its results
    for start, end in cuts(episode.messages, keep_last):
        assert start == head and end > start
        summary = extractive_summary(episode.messages[start:end])
        compaction = Compaction(start, end, summary, "extractive", len(episode.messages))
        seen = apply(episode.messages, compaction)
        assert _pairs_intact(seen)
        assert seen[:start] == episode.messages[:start]
        assert seen[start].role == "user" and seen[start].content == summary
        tail_turns = turns_of(episode.messages)[-keep_last:] if keep_last else []
        for turn in tail_turns:
            assert turn.start >= end  # the last K turns are never replaced
        row = render(Episode(**{**episode.__dict__, "compactions": [compaction]}))
        # the published row is what the model saw (results in call order), and it parses
        assert sorted(map(repr, parse(row).messages)) == sorted(map(repr, seen))


def test_extractive_summary_names_calls_arguments_and_status() -> None:
    episode = long_episode(3, 4)
    summary = extractive_summary(episode.messages[5:13])
    assert summary.startswith(SUMMARY_PREFIX)
    assert "terminal(command=cat file_1_0.txt)" in summary
    assert "-> exit 1; " in summary and "-> exit 2; " in summary
    again = extractive_summary([Message(role="user", content=summary), *episode.messages[13:17]])
    assert again.startswith(summary)  # an earlier summary is folded in, not lost


def test_rows_over_budget_fit_and_rows_under_are_unchanged(tokenizer: Path) -> None:
    counter = load_counter(str(tokenizer))
    assert counter.has_template and not counter.estimated
    short, long = long_episode(1, 1), long_episode(2, 14)
    budget = counter.count_conversation([ChatMessage(t["from"], t["value"]) for t in render(short)["conversations"]])
    budget += 200
    fits = compress_episode(short, counter, budget, keep_last=2)
    assert fits.status == "fits" and fits.row == render(short)
    done = compress_episode(long, counter, budget * 3, keep_last=2)
    assert done.status == "compressed" and done.row is not None
    assert done.tokens_before > budget * 3 >= done.tokens_after
    exact = counter.count_conversation([ChatMessage(t["from"], t["value"]) for t in done.row["conversations"]])
    assert exact == done.tokens_after
    conversations = done.row["conversations"]
    assert conversations[:4] == render(long)["conversations"][:4]  # system, human, first gpt and tool
    assert conversations[-2:] == render(long)["conversations"][-2:]
    assert [t["from"] for t in conversations].count("human") == 2
    assert compress_episode(long, counter, 50, keep_last=2).status == "too_long"


def test_pipeline_writes_a_dataset_that_validates(tokenizer: Path, tmp_path: Path) -> None:
    episodes = [long_episode(seed, steps) for seed, steps in ((1, 1), (2, 12), (3, 16), (4, 2))]
    write_run(tmp_path / "run", episodes, config="long")
    write_rows(tmp_path / "rows" / "other.jsonl", [long_episode(5, 14)])
    (tmp_path / "rows" / "other.jsonl").open("a").write("{not json\n")
    out = tmp_path / "out"
    report = compress([tmp_path / "run", tmp_path / "rows"], out, CompressSettings(3000, str(tokenizer), keep_last=2))
    long_counts, other = report.configs["long"], report.configs["other"]
    assert (long_counts.read, long_counts.fits, long_counts.compressed) == (4, 2, 2)
    assert other.read == 1 and other.compressed == 1 and other.skipped == 1 and "other.jsonl:2" in other.problems[0]
    assert max(long_counts.tokens_after) <= 3000 < max(long_counts.tokens_before)
    rows = [json.loads(line) for line in (out / "long" / "train.jsonl").read_text().splitlines()]
    assert [row["id"] for row in rows] == [e.id for e in episodes]
    assert rows[0] == render(episodes[0])
    check = subprocess.run([str(SCRIPT), "validate", str(out)], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    saved = json.loads((out / "compress-report.json").read_text())
    assert saved["configs"]["long"]["compressed"] == 2 and saved["configs"]["long"]["tokens_after"]["max"] <= 3000
    # the test tokenizer is byte-level BPE: counted by tiktoken on its vocabulary, every text checked at first
    assert saved["counted_by"] == ["tiktoken's BPE on the tokenizer's vocabulary, checked against the tokenizer"]
    assert saved["configs"]["long"]["fast_checked"] > 0
    assert "Tokens counted by: tiktoken's BPE" in (out / "README.md").read_text()
    datasets = pytest.importorskip("datasets")
    loaded = datasets.load_dataset(str(out), "long", split="train", cache_dir=str(tmp_path / "cache"))
    assert loaded["id"] == [e.id for e in episodes]


def test_too_long_rows_are_dropped_or_kept(tmp_path: Path) -> None:
    write_run(tmp_path / "run", [long_episode(1, 3), long_episode(2, 30, result_words=400)], config="c")
    dropped = compress([tmp_path / "run"], tmp_path / "a", CompressSettings(2000, None, keep_last=30))
    assert dropped.configs["c"].too_long == 1
    assert len((tmp_path / "a" / "c" / "train.jsonl").read_text().splitlines()) == 1
    kept = compress([tmp_path / "run"], tmp_path / "b", CompressSettings(2000, None, keep_last=30, keep_too_long=True))
    assert len((tmp_path / "b" / "c" / "train.jsonl").read_text().splitlines()) == 2 and kept.configs["c"].too_long == 1


def test_summary_model_and_its_failure(tmp_path: Path) -> None:
    write_run(tmp_path / "run", [long_episode(seed, 12) for seed in (1, 2)], config="c")

    seen: list[int] = []

    def answer(request: dict[str, Any]) -> dict[str, Any]:
        seen.append(1)
        if len(seen) == 1:  # the first summary request fails (a final 400): that row keeps the extractive summary
            return {"status": 400}
        return reply("The agent read 20 files; exit codes 0, 1 and 2.")

    with ScriptedServer(answer) as server:
        report = compress(
            [tmp_path / "run"],
            tmp_path / "out",
            CompressSettings(2500, None, keep_last=2),
            summarizer=_summarizer(server.url),
        )
        asked = list(server.requests)
    counts = report.configs["c"]
    assert (counts.compressed, counts.model_summaries, counts.summary_fallbacks) == (2, 1, 1)
    assert asked and "Summarise" in asked[0]["messages"][1]["content"] and asked[0].get("tools") in (None, [])
    rows = [json.loads(line) for line in (tmp_path / "out" / "c" / "train.jsonl").read_text().splitlines()]
    summaries = [t["value"] for row in rows for t in row["conversations"] if t["value"].startswith(SUMMARY_PREFIX)]
    assert len(summaries) == 2
    assert sum("The agent read 20 files" in s for s in summaries) == 1
    with pytest.raises(Exception):  # noqa: B017 - a dead endpoint is any connection error
        import asyncio

        asyncio.run(_summarizer("http://127.0.0.1:9/v1")([Message(role="user", content="x")], 10))
    dead = compress(
        [tmp_path / "run"],
        tmp_path / "dead",
        CompressSettings(2500, None, keep_last=2),
        summarizer=_summarizer("http://127.0.0.1:9/v1"),
    )
    assert dead.configs["c"].summary_fallbacks == 2 and dead.configs["c"].compressed == 2


def _summarizer(url: str) -> Any:
    from trajforge.cli.compress import _summarizer as make

    return make(url, "scripted", "EMPTY")


def test_resume_reuses_finished_parts(tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        write_rows(tmp_path / "in" / f"{name}.jsonl", [long_episode(ord(name), 10)])
    calls: list[tuple[int, int]] = []

    def stop_after_first(done: int, total: int) -> None:
        calls.append((done, total))
        if done == 1:
            raise KeyboardInterrupt

    settings_ = CompressSettings(2500, None, keep_last=2, workers=1)
    with pytest.raises(KeyboardInterrupt):
        compress([tmp_path / "in"], tmp_path / "out", settings_, progress=stop_after_first)
    parts = sorted((tmp_path / "out" / ".compress-parts").rglob("*.jsonl"))
    assert len(parts) == 1
    calls.clear()
    report = compress([tmp_path / "in"], tmp_path / "out", settings_, progress=lambda d, t: calls.append((d, t)))
    assert calls[0] == (1, 3)  # the finished part counted as done before any work
    assert sum(c.compressed for c in report.configs.values()) == 3
    assert not (tmp_path / "out" / ".compress-parts").exists()


def test_refuses_to_write_into_its_input_and_a_held_folder(tmp_path: Path) -> None:
    write_run(tmp_path / "run", [long_episode(1, 3)], config="c")
    with pytest.raises(OutputError, match="overlaps the input"):
        compress([tmp_path / "run"], tmp_path, CompressSettings(1500, None))
    result = subprocess.run(
        [str(SCRIPT), "compress", str(tmp_path / "run"), "--max-tokens", "1500", "--out", str(tmp_path / "run")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2 and "overlaps the input" in result.stderr and "Traceback" not in result.stderr
    bad = subprocess.run(
        [str(SCRIPT), "compress", str(tmp_path / "run"), "--max-tokens", "1500", "--out", str(tmp_path / "o"),
         "--tokenizer", str(tmp_path / "missing.json")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert bad.returncode == 2 and "cannot load tokenizer" in bad.stderr and not (tmp_path / "o").exists()


def test_a_second_run_on_the_same_output_is_refused(tmp_path: Path) -> None:
    import fcntl

    write_run(tmp_path / "run", [long_episode(1, 3)], config="c")
    (tmp_path / "out").mkdir()
    with (tmp_path / "out" / ".compress.lock").open("a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(CompressError, match="another compress run"):
            compress([tmp_path / "run"], tmp_path / "out", CompressSettings(2500, None))
    assert not (tmp_path / "out" / "c").exists()


def test_a_dataset_published_from_compressed_rows_says_so_in_its_card(tmp_path: Path) -> None:
    from trajforge.dataset import CurationSettings, publish

    write_run(tmp_path / "run", [long_episode(1, 2), long_episode(2, 12)], config="c")
    compress([tmp_path / "run"], tmp_path / "fitted", CompressSettings(2500, None, keep_last=2, workers=1))
    publish([tmp_path / "fitted"], tmp_path / "pub", CurationSettings(), workers=1)
    text = (tmp_path / "pub" / "README.md").read_text()
    assert "Rows were fitted to 2500 tokens" in text and "| c | 2 | 1 | 1 | 0 |" in text
