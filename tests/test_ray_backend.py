"""`generate --runner ray` on a local Ray instance with 2 CPUs: the same layout, ids and resume."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from .harness import ledger_records
from .scripted_server import ScriptedServer, looping_script
from .test_cli import run
from .test_generate_reliability import _spec

pytest.importorskip("ray")


def test_generate_on_a_local_ray_instance(tmp_path: Path) -> None:
    spec, out = _spec(tmp_path, 12), tmp_path / "out"
    with ScriptedServer(looping_script(3), models=[{"id": "m"}]) as server:
        argv = ("generate", "--tasks", spec, "--model", "m", "--endpoint", server.url, "--out", out,
                "--runner", "ray", "--ray-workers", "2", "--concurrency", "4")  # fmt: skip
        first = run(*argv)
        assert first.returncode == 0, first.stderr
        again = run(*argv)  # resumes: nothing left to do
    assert again.returncode == 0, again.stderr
    records = ledger_records(out, "m")
    assert len(records) == 12 and len({r["id"] for r in records}) == 12
    assert all(r["finish"] == "stop" for r in records)
    writers = {p.name.split("-")[2] for p in (out / "runs" / "m").glob("episodes-*.jsonl") if p.stat().st_size}
    assert len(writers) == 2  # two worker processes, each with its own ledger file
    assert re.search(r"episodes run\s*│\s*0\s", again.stdout), again.stdout
    assert re.search(r"already recorded \(resumed\)\s*│\s*12\s", again.stdout), again.stdout
    assert json.loads((out / "runs" / "m" / "manifest.json").read_text())["runner"] == "ray"
