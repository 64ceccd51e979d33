"""`curate --require-grounded`: episodes whose final answer states what no tool result shows are dropped."""

from __future__ import annotations

import json
from pathlib import Path

from .curation_data import varied, write_run
from .test_cli import run


def test_require_grounded_drops_only_the_ungrounded_answers(tmp_path: Path) -> None:
    episodes = [varied(i) for i in range(4)]
    episodes[1].messages[-1].content = "There are 7 files; notes.txt has 42 lines."
    episodes[2].messages[-1].content = "The files are shown above."
    runs = write_run(tmp_path / "run", episodes)
    assert json.loads(run("curate", runs, "--json").stdout)["configs"][0]["kept"] == 4  # off by default
    report = run("curate", runs, "--json", "--require-grounded")
    assert report.returncode == 0, report.stderr
    config = json.loads(report.stdout)["configs"][0]
    assert config["kept"] == 2
    assert {name: n for name, n in config["dropped"].items() if n} == {"ungrounded answer": 2}
