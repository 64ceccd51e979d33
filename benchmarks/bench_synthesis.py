"""Synthesized task files: how fast a file of N synthesized tasks loads (target: 1,000 tasks in under 2 s).

Run: .venv/bin/python benchmarks/bench_synthesis.py [--tasks 1000]

The file is written the way `tasks synthesize` writes it (one fsync'd YAML
document per task, each with inline files, a fixture folder, a check and its
negatives). Printed: the time to write it, to load it with the loader
(`trajforge generate --tasks FILE` and `tasks validate` do this), and to
reopen it for a resume (repair, read, and index every prompt for duplicates).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from trajforge.tasks import load_tasks  # noqa: E402
from trajforge.tasks.synthesis import DO_NOTHING, PromptIndex, TaskFile  # noqa: E402

_WORDS = (
    "amber",
    "basil",
    "cedar",
    "delta",
    "ember",
    "fjord",
    "garnet",
    "harbor",
    "indigo",
    "juniper",
    "kestrel",
    "lantern",
    "meadow",
    "nectar",
    "orchid",
    "pepper",
    "quartz",
    "raven",
    "saffron",
    "thistle",
    "umber",
    "violet",
    "willow",
    "xenon",
    "yarrow",
    "zephyr",
)


def task(number: int) -> dict[str, object]:
    """A synthesized task as the output file holds it."""
    a, b, c, d = (_WORDS[(number // 26**k) % 26] for k in range(4))
    return {
        "id": f"syn-organizing-{a}-{b}-{c}-{number}",
        "category": "File Operations",
        "subcategory": "organizing",
        "prompt": f"Sort the {a} files in inbox/ into {b}/ and {c}/ by extension, log each move to {d}.log "
        f"and leave a summary of how many files moved in {a}-{number}.txt.",
        "toolsets": ["terminal", "file"],
        "fixtures": {"folders": {"inbox_env": "."}, "files": {f"inbox/{a}.txt": f"{b}\n" * 20, "notes.md": d}},
        "check": f"test -f {a}-{number}.txt && test -s {d}.log && test -z \"$(ls inbox)\"",
        "negatives": [
            DO_NOTHING.model_dump(mode="json", exclude_defaults=True),
            {"name": "wrong-solution", "steps": [{"tool": "terminal", "args": {"command": f"touch {a}-{number}.txt"}}],
             "answer": "Sorted."},
        ],
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "tasks.yaml"
        (Path(tmp) / "fixtures" / "inbox_env").mkdir(parents=True)
        (Path(tmp) / "fixtures" / "inbox_env" / "a.log").write_text("x\n")
        store = TaskFile(out)
        store.open()
        started = time.perf_counter()
        for number in range(args.tasks):
            store.append(task(number))
        written = time.perf_counter() - started
        started, cpu = time.perf_counter(), time.process_time()
        load = load_tasks([out])
        loaded, loaded_cpu = time.perf_counter() - started, time.process_time() - cpu
        assert len(load.tasks) == args.tasks and not load.problems, load.problems[:3]
        started = time.perf_counter()
        index = PromptIndex()
        for data in TaskFile(out).open():
            index.add(str(data["id"]), str(data["prompt"]))
        reopened = time.perf_counter() - started
        size = out.stat().st_size
    print(f"{args.tasks} synthesized tasks, {size / 1e6:.2f} MB of YAML")
    print(f"  write (one fsync'd document each): {written:.2f} s")
    print(f"  load with the loader (generate --tasks): {loaded:.2f} s wall, {loaded_cpu:.2f} s CPU"
          "   (target: under 2 s for 1,000)")  # fmt: skip
    print(f"  reopen for a resume (repair, read, index prompts): {reopened:.2f} s")


if __name__ == "__main__":
    main()
