"""`trajforge publish`: a dataset folder that `datasets.load_dataset` reads offline, deterministic."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .test_cli import run
from .test_cli_generate import SPEC as GENERATE_SPEC

SPEC = GENERATE_SPEC.split("- id: needs-browser")[0]  # one task: the counts below do not move with the toolsets


def test_publish_two_configs_and_load_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    datasets = pytest.importorskip("datasets")
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    runs = tmp_path / "runs"
    for config in ("kimi", "glm-5.1"):
        made = run(
            "generate", "--tasks", spec, "--policy", "oracle", "--config", config, "--out", runs, "--repeat", "3"
        )
        assert made.returncode == 0, made.stderr
    out = tmp_path / "dataset"
    # The oracle plays the same steps three times: the default filters keep one of each.
    deduplicated = run("publish", runs, "--out", out)
    assert deduplicated.returncode == 0, deduplicated.stderr
    assert "kimi: 1 rows published, 2 dropped" in deduplicated.stdout
    assert "| exact duplicate (same task and trajectory as a kept episode) | 2 | 2 |" in (out / "README.md").read_text()
    published = run("publish", runs, "--out", out, "--no-dedup", "--near-dup", "0", "--repo-id", "me/traces")
    assert published.returncode == 0, published.stderr
    assert "kimi: 3 rows published, 0 dropped" in published.stdout
    card = (out / "README.md").read_text()
    assert "config_name: kimi" in card and "| Samples | 3 | 3 |" in card and "## Curation" in card
    assert 'load_dataset("me/traces", "kimi", split="train")' in card
    assert "## Generation" in card and "- Policy: `oracle`" in card  # from the run's manifest
    assert "- Tool sandbox used (on the machine that started the run): `" in card
    first = {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    again = ("publish", runs, "--out", out, "--no-dedup", "--near-dup", "0", "--repo-id", "me/traces", "--workers", "1")
    assert run(*again).returncode == 0
    assert {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()} == first  # byte-identical
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    for config in ("kimi", "glm-5.1"):
        rows = datasets.load_dataset(str(out), config, split="train")
        assert rows.column_names == ["id", "conversations", "tools", "category", "subcategory", "task"]
        assert len(rows) == 3 and rows[0]["category"] == "File Operations"
        assert json.loads(rows[0]["tools"])[0]["type"] == "function"
    stats = json.loads(run("stats", out, "--json").stdout)
    assert [(c["config"], c["samples"]) for c in stats["configs"]] == [("glm-5.1", 3), ("kimi", 3)]
    assert len(list((out / "data" / "kimi").glob("train-*-00000-of-00001.parquet"))) == 1
