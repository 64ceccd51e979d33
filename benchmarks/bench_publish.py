"""Times `publish` (every filter, near-dup included) and `export --to openai` at the reference dataset's scale.

Run: .venv/bin/python benchmarks/bench_publish.py [--scale 1.0] [--keep DIR] [--workers N]

The synthetic rows of the foundation benchmark (14,701 rows, two configs)
get a share of duplicates, near duplicates and secrets mixed in, so that
the filters have work to do. Each step runs in its own process; its peak RSS
and its worker processes' largest peak RSS are printed. Targets on a 2-core
machine: publish < 60 s, export < 30 s, peak RSS < 2 GB.

`--huge-row MB` publishes instead one row whose final answer is MB megabytes
of varied words (the issue's 200 MB row, which took 11.7 GB in the
near-duplicate step): its peak RSS must stay under 2 GB.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_dataset import _peak_rss_mb  # noqa: E402
from benchmarks.synthetic import REFERENCE, write_synthetic  # noqa: E402

SECRET = "sk-proj-" + "Zx9" * 10


def add_curation_work(files: list[Path], share: float = 0.01, seed: int = 0) -> dict[str, int]:
    """Append exact duplicates, near duplicates and rows with a secret (each `share` of the rows) to `files`."""
    rng = random.Random(seed)
    added = {"exact": 0, "near": 0, "secret": 0}
    for file in files:
        lines = file.read_text().splitlines()
        picks = rng.sample(range(len(lines)), k=3 * max(1, int(len(lines) * share)))
        third = len(picks) // 3
        extra = []
        for n, index in enumerate(picks):
            row = json.loads(lines[index])
            row["id"] = f"{row['id'][:-4]}{n:04x}"
            turns = row["conversations"]
            if n < third:
                added["exact"] += 1
            elif n < 2 * third:
                turns[2]["value"] = turns[2]["value"].replace(" ", " also ", 1)
                added["near"] += 1
            else:
                row = json.loads(lines[index])  # the original itself, now holding a key
                turns = row["conversations"]
                turns[1]["value"] += f" (use the key {SECRET})"
                row["task"] = turns[1]["value"]
                lines[index] = json.dumps(row, ensure_ascii=False)
                added["secret"] += 1
                continue
            extra.append(json.dumps(row, ensure_ascii=False))
        file.write_text("\n".join(lines + extra) + "\n")
    return added


def write_huge_row(folder: Path, megabytes: int) -> Path:
    """One FORMAT.md row (from the synthetic generator) whose final answer holds `megabytes` MB of words."""
    (source,) = write_synthetic(folder, (dataclasses.replace(REFERENCE[0], rows=200),), ".jsonl")
    row = json.loads(source.read_text().splitlines()[0])
    rng = random.Random(1)
    vocabulary = ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(3, 9))) for _ in range(50_000)]
    words = " ".join(rng.choices(vocabulary, k=200_000))
    text = (words + "\n") * (megabytes * 1_000_000 // (len(words) + 1) + 1)
    row["conversations"][-1]["value"] += "\n" + text  # the final answer: plain text, no layout to keep
    huge = folder / "huge.jsonl"
    huge.write_text(json.dumps(row) + "\n")
    source.unlink()
    return huge


def _step(name: str, files: list[str], workers: int) -> dict[str, float]:
    from trajforge.dataset import CurationSettings, export, publish

    out = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
    settings = CurationSettings()  # every default filter on: exact and near duplicates, scrub, loops, error rate
    start = time.perf_counter()
    if name == "publish":
        result = publish(files, out / "dataset", settings, workers=workers or None)
        reports = result.curation.configs
    else:
        exported = export(files, out / "openai", "openai", settings, workers=workers or None)
        reports = exported.curation.configs
    seconds = time.perf_counter() - start
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    subprocess.run(["rm", "-rf", str(out)], check=True)
    return {
        "seconds": seconds,
        "peak_rss_mb": _peak_rss_mb(),
        "worker_peak_rss_mb": children,
        "kept": sum(c.report.kept for c in reports),
        "dropped": dict(sum((c.report.dropped for c in reports), Counter())),
        "scrubbed": sum(c.report.scrubbed for c in reports),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the reference row counts")
    parser.add_argument("--keep", type=Path, help="write the dataset here and keep it (reused when present)")
    parser.add_argument("--workers", type=int, default=0, help="worker processes (0: one per core)")
    parser.add_argument("--huge-row", type=int, default=0, metavar="MB", help="publish one row of this size instead")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("files", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        print(json.dumps(_step(args.step, args.files, args.workers)))
        return

    if args.huge_row:
        with tempfile.TemporaryDirectory() as tmp:
            huge = write_huge_row(Path(tmp), args.huge_row)
            print(f"input: one row of {huge.stat().st_size / 1e6:,.0f} MB JSONL")
            command = [sys.executable, __file__, "--step", "publish", "--workers", "1", str(huge)]
            figures = json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
            print(f"publish  {figures['seconds']:7.1f} s   peak RSS {figures['peak_rss_mb']:6.0f} MB   "
                  f"kept {figures['kept']:,}   dropped {figures['dropped']}")  # fmt: skip
        return
    specs = tuple(dataclasses.replace(s, rows=max(1, int(s.rows * args.scale))) for s in REFERENCE)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        marker = folder / "curation-work.json"
        if marker.exists():
            files = sorted(folder.glob("*.jsonl"))
            added = json.loads(marker.read_text())
        else:
            files = write_synthetic(folder, specs, ".jsonl")
            added = add_curation_work(files)
            marker.write_text(json.dumps(added))
        rows = sum(1 for f in files for _ in f.open())
        size = sum(f.stat().st_size for f in files) / 1e6
        print(f"input: {rows:,} rows, {size:,.0f} MB JSONL; mixed in: {added}")
        for name in ("publish", "export"):
            command = [sys.executable, __file__, "--step", name, "--workers", str(args.workers), *map(str, files)]
            figures = json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
            print(
                f"{name:8} {figures['seconds']:7.1f} s   peak RSS {figures['peak_rss_mb']:6.0f} MB "
                f"(largest worker {figures['worker_peak_rss_mb']:.0f} MB)   kept {figures['kept']:,}   "
                f"dropped {figures['dropped']}   secrets replaced {figures['scrubbed']}"
            )


if __name__ == "__main__":
    main()
