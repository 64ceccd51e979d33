"""One row read on demand from where the index says it is (a JSONL byte range, or a Parquet row group)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from trajforge.trace.turns import loads
from trajforge.viewer.index import ViewIndex


@dataclass
class RowData:
    """A row as read: its parsed data, or the raw text and why it could not be read."""

    data: Any = None
    raw: str = ""
    problem: str = ""


class RowReader:
    """Reads rows of one index, keeping the last few Parquet row groups (j/k steps through neighbours)."""

    def __init__(self, index: ViewIndex, groups: int = 2) -> None:
        self.index = index
        self._groups: OrderedDict[tuple[Path, int], pa.Table] = OrderedDict()
        self._keep = groups

    def read(self, position: int) -> RowData:
        """The row at `position` of the index."""
        num = self.index.num
        file = self.index.files[int(num["file"][position])]
        problem = self.index.text["problem"][position]
        group = int(num["group"][position])
        try:
            if group >= 0 and num["packed_start"][position] >= 0:
                return RowData(data=loads(self._packed(position)), problem=problem)
            if group >= 0:
                return RowData(data=self._parquet_row(file, group, int(num["start"][position])), problem=problem)
            with file.open("rb") as handle:
                handle.seek(int(num["start"][position]))
                line = handle.read(int(num["length"][position]))
        except (OSError, pa.ArrowException, IndexError) as exc:
            return RowData(problem=problem or f"{file}: cannot read this row now: {exc}".splitlines()[0])
        try:
            data = loads(line)
        except ValueError:
            return RowData(raw=line.decode("utf-8", "replace"), problem=problem or "invalid JSON")
        expected = self.index.text["id"][position]
        if expected and (not isinstance(data, dict) or data.get("id") != expected):
            return RowData(problem=f"{file} changed since it was indexed; reload the page")
        return RowData(data=data, problem=problem)

    def _packed(self, position: int) -> bytes:
        num = self.index.num
        with self.index.rows_path.open("rb") as handle:
            handle.seek(int(num["packed_start"][position]))
            frame = handle.read(int(num["packed_length"][position]))
        data: bytes = pa.decompress(
            frame, decompressed_size=int(num["packed_size"][position]), codec="zstd", asbytes=True
        )
        return data

    def _parquet_row(self, file: Path, group: int, place: int) -> Any:
        key = (file, group)
        table = self._groups.get(key)
        if table is None:
            table = pq.ParquetFile(file).read_row_group(group)
            self._groups[key] = table
            if len(self._groups) > self._keep:
                self._groups.popitem(last=False)
        self._groups.move_to_end(key)
        return table.slice(place, 1).to_pylist()[0]
