"""`compute_stats` gives FORMAT.md section 5's figures, equal to a plain reference implementation."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.reference_stats import reference_stats
from trajforge.dataset import compute_stats, discover, iter_rows, write_rows
from trajforge.trace import Episode, render

from .test_trace_roundtrip import episodes

EXAMPLES = Path(__file__).parent.parent / "examples"


def _figures(stats: object) -> dict[str, object]:
    data = stats.to_dict()  # type: ignore[attr-defined]
    counts = {name: n for name, n in data["categories"].items() if n}
    keys = ("samples", "total_turns", "total_tool_calls", "think_blocks")
    return {**{k: data[k] for k in keys}, "think_words": stats.think_words, "categories": counts}  # type: ignore[attr-defined]


def _reference(files: list[Path]) -> dict[str, object]:
    figures = reference_stats(files)
    return {k: figures[k] for k in ("samples", "total_turns", "total_tool_calls", "think_blocks", "think_words")} | {
        "categories": figures["categories"]
    }


def test_examples_match_reference() -> None:
    for source in discover([EXAMPLES]):
        (stats,) = compute_stats([source])
        assert _figures(stats) == _reference(list(source.files))
        assert stats.samples == 6


def test_known_figures_of_one_row(tmp_path: Path) -> None:
    from .episodes import sample_row

    write_rows(tmp_path / "one.jsonl", [sample_row()])
    (stats,) = compute_stats(discover([tmp_path / "one.jsonl"]))
    # system, human, gpt (2 calls), tool, gpt
    assert (stats.samples, stats.total_turns, stats.total_tool_calls) == (1, 5, 2)
    assert (stats.think_blocks, stats.think_words, stats.avg_think_words) == (1, 5, 5.0)
    assert stats.categories == {"Terminal & Coding": 1}


@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(episodes(), min_size=1, max_size=6))
def test_generated_rows_match_reference(tmp_path: Path, generated: list[Episode]) -> None:
    path = tmp_path / "gen.jsonl"
    write_rows(path, [render(e) for e in generated])
    (stats,) = compute_stats(discover([path]))
    assert _figures(stats) == _reference([path])


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_parquet_and_jsonl_give_the_same_figures(tmp_path: Path, suffix: str) -> None:
    rows = [r.data for f in sorted(EXAMPLES.glob("*.jsonl")) for r in iter_rows(f)]  # type: ignore[union-attr]
    write_rows(tmp_path / f"all{suffix}", rows, batch_rows=5)
    (stats,) = compute_stats(discover([tmp_path / f"all{suffix}"]))
    assert _figures(stats) == _reference(sorted(EXAMPLES.glob("*.jsonl")))


def test_published_layout_reads_configs_from_the_card(tmp_path: Path) -> None:
    for name in ("kimi", "glm-5.1"):
        rows = [r.data for r in iter_rows(EXAMPLES / f"{name}.jsonl")]  # type: ignore[union-attr]
        write_rows(tmp_path / "data" / name / "train-00000-of-00001.parquet", rows)
    (tmp_path / "README.md").write_text(
        "---\nconfigs:\n- config_name: kimi\n  data_files:\n  - split: train\n    path: data/kimi/*.parquet\n"
        "- config_name: glm-5.1\n  data_files: data/glm-5.1/train-*.parquet\n---\n# card\n"
    )
    results = compute_stats(discover([tmp_path]))
    assert [s.config for s in results] == ["kimi", "glm-5.1"]
    assert [_figures(s) for s in results] == [_reference([EXAMPLES / f"{n}.jsonl"]) for n in ("kimi", "glm-5.1")]


def test_folder_without_card_groups_shards_by_folder(tmp_path: Path) -> None:
    shutil.copy(EXAMPLES / "kimi.jsonl", tmp_path / "train-00000-of-00002.jsonl")
    shutil.copy(EXAMPLES / "kimi.jsonl", tmp_path / "train-00001-of-00002.jsonl")
    (stats,) = compute_stats(discover([tmp_path]))
    assert stats.config == tmp_path.name
    assert stats.samples == 12
