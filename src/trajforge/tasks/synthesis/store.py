"""The synthesized task file: YAML documents appended one per task, fsync'd, repaired and read on resume.

Each task is one document that ends with YAML's end marker `...`, so a file
cut by a crash (kill -9, a full disk) is repaired by dropping what follows
the last marker: a rerun never sees half a task, and never writes an id
twice. The loader reads every document of the file (`trajforge generate
--tasks FILE.yaml` runs it as it is).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

HEADER = b"# Tasks written by `trajforge tasks synthesize`: one YAML document per task.\n"
_END = b"\n...\n"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class TaskFileError(ValueError):
    """The output file cannot be continued; the message names it and why, in one line."""


class NotOurFile(TaskFileError):
    """The output file exists and was not written by synthesis: it is never cut or appended to."""


def side_folder(out: Path) -> Path:
    """Where a synthesis keeps its raw answers and its lock: `tasks.synthesis/` beside `tasks.yaml`."""
    return out.with_name(out.stem + ".synthesis")


def report_path(out: Path) -> Path:
    """The run's report, beside the output: `tasks.report.json`."""
    return out.with_name(out.stem + ".report.json")


class TaskFile:
    """The output file; `open()` repairs and reads it, `append()` adds one task durably."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.repaired_bytes = 0
        """Bytes of a partial last document cut by `open()` (a crash mid-write)."""

    def open(self) -> list[dict[str, Any]]:
        """Repair the file (creating it when missing) and return the tasks it holds."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists() or self.path.stat().st_size == 0:
            self._write(HEADER, create=True)
            return []
        data = self.path.read_bytes()
        if not data.startswith(HEADER) and not HEADER.startswith(data):
            raise NotOurFile(f"{self.path} exists and was not written by tasks synthesize; choose another --out")
        end = data.rfind(_END)
        keep = len(HEADER) if end < 0 else end + len(_END)
        if keep < len(data) or len(data) < len(HEADER):
            with self.path.open("r+b") as handle:
                handle.truncate(min(keep, len(data)))
                if len(data) < len(HEADER):
                    handle.seek(0)
                    handle.write(HEADER)
                handle.flush()
                os.fsync(handle.fileno())
            self.repaired_bytes = max(0, len(data) - keep)
        try:
            return list(self._documents(self.path.read_bytes()[: max(keep, len(HEADER))]))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:  # edited by hand since: never guess, never cut
            mark = getattr(exc, "problem_mark", None)
            where = f" line {mark.line + 1}" if mark is not None else ""
            raise TaskFileError(f"{self.path}{where} cannot be read ({getattr(exc, 'problem', None) or exc}); "
                                "fix it or choose another --out") from None  # fmt: skip

    @staticmethod
    def _documents(data: bytes) -> Iterator[dict[str, Any]]:
        for document in yaml.load_all(data.decode("utf-8"), Loader=_LOADER):
            if isinstance(document, dict):
                yield document

    def append(self, task: dict[str, Any]) -> None:
        """Write `task` as one document and fsync it before returning."""
        body = yaml.dump(task, Dumper=_DUMPER, sort_keys=False, allow_unicode=True, width=120)
        self._write(b"---\n" + body.encode("utf-8") + b"...\n")

    def _write(self, data: bytes, *, create: bool = False) -> None:
        flags = os.O_WRONLY | os.O_APPEND | (os.O_CREAT | os.O_TRUNC if create else 0)
        fd = os.open(self.path, flags, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        if create:
            _fsync_folder(self.path.parent)


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` with `data` whole (a reader never sees half a report)."""
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(data)
    os.replace(partial, path)
