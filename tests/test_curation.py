"""Curation: each filter drops what it names, the scrub, dedup, tokens, determinism, and every kind of input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from trajforge.dataset import validate
from trajforge.dataset.curation.curate import curate
from trajforge.dataset.curation.dedup import jaccard, signature
from trajforge.dataset.curation.filters import FILTERS, CurationSettings
from trajforge.dataset.publishing.publish import PublishError, publish
from trajforge.dataset.rows.layout import discover
from trajforge.trace import Episode, parse, render

from .curation_data import (
    AWS_KEY,
    EMAIL,
    SECRET_KEY,
    failing_episodes,
    varied,
    with_secrets,
    words,
    write_rows,
    write_run,
)
from .test_cli import run


def _counts(result_json: dict[str, object]) -> dict[str, int]:
    (config,) = result_json["configs"]  # type: ignore[misc]
    return {name: n for name, n in config["dropped"].items() if n}  # type: ignore[index]


def test_each_filter_drops_exactly_the_episode_made_to_fail_it(tmp_path: Path) -> None:
    failing = failing_episodes()
    episodes = [e for group in failing.values() for e in group]
    runs = write_run(tmp_path / "run", episodes)
    report = run("curate", runs, "--json")
    assert report.returncode == 0, report.stderr
    data = json.loads(report.stdout)
    expected = {name: len(group) for name, group in failing.items() if name != "kept"}
    assert _counts(data) == expected
    assert data["configs"][0]["kept"] == len(failing["kept"])
    assert data["configs"][0]["read"] == len(episodes)
    assert set(expected) <= set(FILTERS)


def test_check_and_bounds_filters_are_off_until_asked(tmp_path: Path) -> None:
    clean = [varied(i) for i in range(4)]
    clean[0].outcome = clean[0].outcome.FAILED
    runs = write_run(tmp_path / "run", clean)
    assert json.loads(run("curate", runs, "--json").stdout)["configs"][0]["kept"] == 4
    asked = json.loads(run("curate", runs, "--json", "--require-passed", "--max-turns", "4").stdout)
    # every sample episode has 5 turns (system, human, gpt, tool, gpt): all fail the bound,
    # but the failed check is met first for the first one
    assert _counts(asked) == {"check not passed": 1, "turn count out of bounds": 3}
    calls = json.loads(run("curate", runs, "--json", "--min-calls", "3").stdout)
    assert _counts(calls) == {"tool-call count out of bounds": 4}


def test_secrets_are_scrubbed_from_published_rows(tmp_path: Path) -> None:
    copy = with_secrets(varied(1))
    copy.id = "00000000-0000-4000-8000-777777777777"  # an exact duplicate: its secrets are not counted
    episodes = [with_secrets(varied(1)), varied(2), copy]
    runs = write_run(tmp_path / "run", episodes)
    out = tmp_path / "dataset"
    result = publish([runs], out, CurationSettings(scrub_emails=True), workers=1)
    (config,) = result.curation.configs
    assert config.report.kept == 2 and config.report.scrubbed == 4  # AWS key, OpenAI key twice, the e-mail
    assert config.report.dropped["exact duplicate"] == 1 and config.report.models == {"test-model": 2}
    text = "".join(json.dumps(row) for f in out.rglob("*.parquet") for row in pq.read_table(f).to_pylist())
    assert SECRET_KEY not in text and AWS_KEY not in text and EMAIL not in text
    assert text.count("[REDACTED]") == 4
    assert "| Secrets replaced | 4 |" in (out / "README.md").read_text()
    kept_emails = publish([runs], out, CurationSettings(), workers=1)
    assert kept_emails.curation.configs[0].report.scrubbed == 3
    rows = [row for f in sorted(out.rglob("*.parquet")) for row in pq.read_table(f).to_pylist()]
    assert any(EMAIL in turn["value"] for row in rows for turn in row["conversations"])
    assert validate(discover([out]), lambda problem: None).ok
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dataset", "run"]  # no staging or spill left behind


def test_near_duplicate_threshold_and_signature() -> None:
    base = words(1, 400)
    edited = base.replace(" ", " also ", 2)
    unrelated = words(2, 400)
    assert jaccard(signature(base), signature(edited)) > 0.9
    assert jaccard(signature(base), signature(unrelated)) < 0.1
    assert (signature(base) == signature(base)).all()  # deterministic, no per-process salt


def test_publish_is_the_same_with_one_or_two_workers_and_any_file_order(tmp_path: Path) -> None:
    failing = failing_episodes()
    episodes = [e for name, group in failing.items() if name != "tag collision" for e in group]  # no row for it
    write_rows(tmp_path / "rows" / "a" / "mix.jsonl", episodes[: len(episodes) // 2])
    write_rows(tmp_path / "rows" / "b" / "mix.jsonl", episodes[len(episodes) // 2 :])
    one = publish([tmp_path / "rows"], tmp_path / "one", workers=1)
    two = publish([tmp_path / "rows" / "b" / "mix.jsonl", tmp_path / "rows" / "a" / "mix.jsonl"], tmp_path / "two",
                  workers=2, pretty_name="one")  # fmt: skip
    assert one.curation.configs[0].report.kept == two.curation.configs[0].report.kept > 0
    assert (tmp_path / "one" / "README.md").read_bytes() == (tmp_path / "two" / "README.md").read_bytes()
    assert shard(tmp_path / "one").read_bytes() == shard(tmp_path / "two").read_bytes()
    ids = pq.read_table(shard(tmp_path / "two")).column("id").to_pylist()
    assert ids == sorted(ids) and len(ids) == len(set(ids))  # taken from two spilled pieces, in id order


def test_rows_from_files_are_curated_like_records(tmp_path: Path) -> None:
    """Rows know no finish or outcome: a row cut off after a tool turn still counts as not stopped."""
    failing = failing_episodes()
    row_episodes = [e for name, group in failing.items() if name not in ("finish not stop", "tag collision")
                    for e in group]  # fmt: skip
    cut = varied(30)
    del cut.messages[-1]  # ends with tool results
    rows = write_rows(tmp_path / "mix.jsonl", [*row_episodes, cut])
    with curate([rows], CurationSettings(), workers=1) as result:
        (config,) = result.configs
    assert config.report.dropped["finish not stop"] == 1
    assert config.report.dropped["invalid tool-call JSON"] == 0  # a row cannot hold the raw string: {} is valid
    assert config.report.kept == len(failing["kept"]) + 1


def test_published_dataset_can_be_curated_again(tmp_path: Path) -> None:
    runs = write_run(tmp_path / "run", [varied(i) for i in range(3)])
    first = tmp_path / "first"
    assert run("publish", runs, "--out", first).returncode == 0
    second = tmp_path / "second"
    again = run("publish", first, "--out", second)
    assert again.returncode == 0, again.stderr
    assert "mix: 3 rows published, 0 dropped" in again.stdout
    before = pq.read_table(shard(first))
    after = pq.read_table(shard(second))
    assert before.equals(after)
    assert "no generation manifest" in (second / "README.md").read_text()
    in_place = run("publish", first, "--out", first)  # re-curating a dataset into itself: refused, untouched
    assert in_place.returncode == 2 and "refusing to write into inputs" in in_place.stderr
    assert pq.read_table(shard(first)).equals(before)


def test_publish_refuses_a_folder_that_is_not_a_dataset(tmp_path: Path) -> None:
    runs = write_run(tmp_path / "run", [varied(1)])
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    with pytest.raises(PublishError, match="refusing"):
        publish([runs], precious)
    refused = run("publish", runs, "--out", precious)
    assert refused.returncode == 2 and "refusing" in refused.stderr
    assert [p.name for p in precious.iterdir()] == ["notes.txt"]
    assert not list(tmp_path.glob(".precious*"))


def test_token_counts_and_max_tokens(tmp_path: Path) -> None:
    tokenizers = pytest.importorskip("tokenizers")
    short, long = varied(1), varied(2)
    long.messages[2].reasoning = words(2, 600)
    texts = [turn["value"] for row in turns_of([short, long]) for turn in row]
    model = tokenizers.Tokenizer(tokenizers.models.WordLevel(unk_token="[UNK]"))
    model.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    model.train_from_iterator(texts, tokenizers.trainers.WordLevelTrainer(special_tokens=["[UNK]"]))
    tokenizer = tmp_path / "tok" / "tokenizer.json"
    tokenizer.parent.mkdir()
    model.save(str(tokenizer))
    expected = [
        sum(len(model.encode(turn["value"], add_special_tokens=False).ids) for turn in row)
        for row in turns_of([short, long])
    ]
    runs = write_run(tmp_path / "run", [short, long])
    out = tmp_path / "dataset"
    published = run("publish", runs, "--out", out, "--tokenizer", tokenizer.parent)
    assert published.returncode == 0, published.stderr
    card = (out / "README.md").read_text()
    assert f"| Total tokens | {sum(expected):,} |" in card and f"| Max tokens per sample | {max(expected):,} |" in card
    limit = (expected[0] + expected[1]) // 2
    capped = json.loads(run("curate", runs, "--json", "--tokenizer", tokenizer, "--max-tokens", limit).stdout)
    assert _counts(capped) == {"too many tokens": 1}
    missing = run("curate", runs, "--tokenizer", tmp_path / "nope.json")
    assert missing.returncode == 2 and "cannot load tokenizer" in missing.stderr
    assert run("curate", runs, "--max-tokens", "5").returncode == 2  # needs a tokenizer


def turns_of(episodes: list[Episode]) -> list[list[dict[str, str]]]:
    return [render(e)["conversations"] for e in episodes]


def test_unreadable_lines_are_reported_with_file_and_line(tmp_path: Path) -> None:
    rows = write_rows(tmp_path / "mix.jsonl", [varied(1)])
    with rows.open("a") as handle:
        handle.write("{not json\n")
        handle.write(json.dumps({"id": "x", "conversations": [{"from": "gpt", "value": "hi"}]}) + "\n")
    result = run("curate", rows, "--json")
    assert result.returncode == 0
    assert f"skipped: {rows}:2:" in result.stderr
    data = json.loads(result.stdout)
    # every line counted once: the line that is not JSON is read and dropped as malformed, like the bad row
    assert data["unreadable"] == 1 and _counts(data) == {"malformed row": 2} and data["configs"][0]["read"] == 3
    assert parse  # the strict parser is what decides "malformed"


def test_python_m_runs_curation_in_worker_processes(tmp_path: Path) -> None:
    """`python -m trajforge` with spawned worker processes (two files, so two pieces of work)."""
    write_rows(tmp_path / "a" / "mix.jsonl", [varied(1), varied(2)])
    write_rows(tmp_path / "b" / "mix.jsonl", [varied(3)])
    command = [sys.executable, "-m", "trajforge", "curate", tmp_path, "--workers", "2", "--json"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["configs"][0]["kept"] == 3


def test_pieces_of_a_jsonl_file_cover_every_line_once_with_its_number(tmp_path: Path) -> None:
    from trajforge.dataset.rows.episodes import pieces, read_piece

    rows = write_rows(tmp_path / "mix.jsonl", [varied(i) for i in range(12)])
    with rows.open("a") as handle:
        handle.write("{broken\n")
    cut = pieces(rows, piece_bytes=3000)  # smaller than a row: every piece ends at a line end all the same
    assert len(cut) > 1
    items = [item for piece in cut for item in read_piece(piece)]
    assert [getattr(item, "number", None) or item.row for item in items] == list(range(1, 14))  # type: ignore[union-attr]
    assert [item.episode.id for item in items[:12]] == [varied(i).id for i in range(12)]  # type: ignore[union-attr]


def test_arguments_with_integers_beyond_64_bits_go_through_every_filter(tmp_path: Path) -> None:
    """orjson refuses such integers: keys, loops, scrub and export must not depend on it."""
    big = 2**70 + 1
    episode = varied(1)
    episode.messages[2].tool_calls[1].arguments["offset"] = big
    runs = write_run(tmp_path / "run", [episode, varied(2)])
    out = tmp_path / "dataset"
    result = publish([runs], out, CurationSettings(), workers=1)
    assert result.curation.configs[0].report.kept == 2
    rows = [row for f in out.rglob("*.parquet") for row in pq.read_table(f).to_pylist()]
    assert any(str(big) in turn["value"] for row in rows for turn in row["conversations"])
    exported = run("export", runs, "--to", "openai", "--out", tmp_path / "openai")
    assert exported.returncode == 0, exported.stderr
    assert str(big) in (tmp_path / "openai" / "mix.jsonl").read_text()


def shard(dataset: Path, config: str = "mix") -> Path:
    """The one Parquet shard of `config` (its name holds the content's fingerprint)."""
    (found,) = (dataset / "data" / config).glob("train-*-00000-of-00001.parquet")
    return found
