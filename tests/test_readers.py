"""Readers stream, keep row numbers right, and turn every kind of bad input into a located Problem."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from trajforge.dataset import LayoutError, Problem, Row, discover, iter_rows, iter_tables, write_rows

from .episodes import sample_row


def _rows(n: int) -> list[dict[str, object]]:
    return [sample_row() for _ in range(n)]


def _table_problems(path: Path, **kwargs: int) -> tuple[int, list[Problem]]:
    rows, problems = 0, []
    for batch in iter_tables(path, **kwargs):
        rows += batch.table.num_rows
        problems.extend(batch.problems)
    return rows, problems


def test_jsonl_streams_in_chunks_with_exact_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    lines = [json.dumps(r) for r in _rows(40)]
    lines[17] = "{broken"
    lines[33] = json.dumps({"id": "x", "conversations": "not a list"})
    path.write_text("\n".join(lines[:20]) + "\n\n" + "\n".join(lines[20:]) + "\n")
    batches = list(iter_tables(path, chunk_bytes=4096))
    assert len(batches) > 5  # memory is bounded by the chunk, not the file
    rows, problems = _table_problems(path, chunk_bytes=4096)
    assert rows == 38
    assert [(p.row, p.reason.split(":")[0]) for p in problems] == [
        (18, "invalid JSON"),
        (35, "missing columns tools, category, subcategory, task"),
    ]
    python_view = list(iter_rows(path))
    assert [p.row for p in python_view if isinstance(p, Problem)] == [18]
    assert [r.number for r in python_view if isinstance(r, Row)][-1] == 41  # the blank line counts


def test_a_line_longer_than_a_chunk(tmp_path: Path) -> None:
    big = sample_row()
    big["conversations"][3]["value"] = big["conversations"][3]["value"].replace("line one", "x" * 3_000_000)
    write_rows(tmp_path / "big.jsonl", [sample_row(), big, sample_row()])
    assert _table_problems(tmp_path / "big.jsonl", chunk_bytes=1 << 20) == (3, [])


def test_wrong_types_and_nulls_are_rows_not_crashes(tmp_path: Path) -> None:
    path = tmp_path / "types.jsonl"
    rows = _rows(4)
    rows[1]["tools"] = ["not", "a", "string"]
    rows[2]["category"] = None
    rows[3]["conversations"][1] = {"from": "human"}
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    count, problems = _table_problems(path)
    assert count == 1
    assert [(p.row, p.reason) for p in problems] == [
        (2, "column tools is list, not a string"),
        (3, "column category is null, not a string"),
        (4, "conversations[1] is not an object with string 'from' and 'value'"),
    ]
    assert problems[0].id == rows[1]["id"]


def test_parquet_round_trip_and_batches(tmp_path: Path) -> None:
    rows = _rows(25)
    write_rows(tmp_path / "rows.parquet", rows, batch_rows=7)
    assert pq.read_schema(tmp_path / "rows.parquet").names == list(rows[0])
    back = [r.data for r in iter_rows(tmp_path / "rows.parquet", batch_rows=4) if isinstance(r, Row)]
    assert back == rows
    assert len(list(iter_tables(tmp_path / "rows.parquet", batch_rows=4))) == 7


def test_truncated_parquet_is_one_line(tmp_path: Path) -> None:
    write_rows(tmp_path / "rows.parquet", _rows(5))
    data = (tmp_path / "rows.parquet").read_bytes()
    (tmp_path / "cut.parquet").write_bytes(data[: len(data) // 2])
    (problem,) = [p for b in iter_tables(tmp_path / "cut.parquet") for p in b.problems]
    assert problem.row is None and problem.file.endswith("cut.parquet")
    assert problem.reason.startswith("not a readable Parquet file") and "\n" not in problem.reason
    assert list(iter_rows(tmp_path / "cut.parquet")) == [problem]


def test_parquet_missing_column_and_nulls(tmp_path: Path) -> None:
    rows = _rows(3)
    table = pa.Table.from_pylist([{k: v for k, v in r.items() if k != "task"} for r in rows])
    pq.write_table(table, tmp_path / "notask.parquet")
    (problem,) = [p for b in iter_tables(tmp_path / "notask.parquet") for p in b.problems]
    assert problem.reason == "missing column task"
    per_row = [p for p in iter_rows(tmp_path / "notask.parquet") if isinstance(p, Row)]
    assert len(per_row) == 3  # validate still sees the rows, and reports each one

    rows[1]["id"] = None
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "nulls.parquet")
    count, problems = _table_problems(tmp_path / "nulls.parquet")
    assert count == 2
    assert [(p.row, p.reason) for p in problems] == [(2, "column id is null, not a string")]


def test_writer_leaves_the_old_file_when_interrupted(tmp_path: Path) -> None:
    path = tmp_path / "keep.jsonl"
    write_rows(path, _rows(2))
    before = path.read_bytes()

    def failing() -> object:
        yield sample_row()
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        write_rows(path, failing())  # type: ignore[arg-type]
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["keep.jsonl"]


def test_layout_errors_name_the_path(tmp_path: Path) -> None:
    with pytest.raises(LayoutError, match="no such file or folder"):
        discover([tmp_path / "absent.jsonl"])
    with pytest.raises(LayoutError, match="no dataset files"):
        discover([tmp_path])
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(LayoutError, match=r"notes\.txt: not a dataset file"):
        discover([tmp_path / "notes.txt"])
    (tmp_path / "README.md").write_text("---\nconfigs:\n- config_name: kimi\n  data_files: data/kimi/*.parquet\n---\n")
    with pytest.raises(LayoutError, match=re.escape("config 'kimi': no file matches data/kimi/*.parquet")):
        discover([tmp_path])
