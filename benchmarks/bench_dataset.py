"""Times `stats` and `validate` on a synthetic dataset at the reference dataset's scale.

Run: .venv/bin/python benchmarks/bench_dataset.py [--scale 1.0] [--keep DIR]

Each timed step runs in its own Python process, so its peak RSS is its own. The
plain reference (json module, a Python loop) runs in the same way in the same
run, and the ratio is stats' speed-up over it; stats steps keep the best of
`--repeat` runs, as the machines here are noisy. Targets on a 2-core machine:
stats < 10 s for both configs, validate < 30 s, peak RSS < 1.5 GB, stats >= 3x
faster than the reference.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.synthetic import REFERENCE, write_synthetic  # noqa: E402


def _step(name: str, files: list[str]) -> dict[str, float]:
    """Run one step in this process and return its seconds and peak RSS (MB)."""
    from benchmarks.reference_stats import reference_stats
    from trajforge.dataset import compute_stats, discover, validate

    paths = [Path(f) for f in files]
    start = time.perf_counter()
    if name == "reference":
        reference_stats(paths)
    elif name == "stats":
        compute_stats(discover(paths))
    elif name == "validate":
        summary = validate(discover(paths), lambda problem: None)
        assert summary.ok, summary
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "peak_rss_mb": _peak_rss_mb()}


def _peak_rss_mb() -> float:
    """This process's peak RSS; VmHWM, since ru_maxrss keeps the forking parent's peak across exec."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _measure(name: str, files: list[Path], repeat: int) -> dict[str, float]:
    """Best time and worst peak RSS of `repeat` fresh processes running the step."""
    runs = [
        json.loads(
            subprocess.run(
                [sys.executable, __file__, "--step", name, *map(str, files)], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(repeat)
    ]
    return {"seconds": min(r["seconds"] for r in runs), "peak_rss_mb": max(r["peak_rss_mb"] for r in runs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the reference row counts")
    parser.add_argument("--keep", type=Path, help="write the dataset here and keep it")
    parser.add_argument("--repeat", type=int, default=3, help="runs per step; the best time is kept (noisy machines)")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("files", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        print(json.dumps(_step(args.step, args.files)))
        return

    specs = tuple(dataclasses.replace(s, rows=max(1, int(s.rows * args.scale))) for s in REFERENCE)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        jsonl = write_synthetic(folder, specs, ".jsonl")
        parquet = write_synthetic(folder / "parquet", specs, ".parquet")
        size = sum(f.stat().st_size for f in jsonl) / 1e6
        print(
            f"synthetic dataset: {sum(s.rows for s in specs):,} rows, {size:,.0f} MB JSONL, "
            f"written in {time.perf_counter() - start:.1f} s"
        )
        results = {
            "reference stats (json + loop, JSONL)": _measure("reference", jsonl, args.repeat),
            "stats (JSONL)": _measure("stats", jsonl, args.repeat),
            "stats (Parquet)": _measure("stats", parquet, args.repeat),
            "validate (JSONL)": _measure("validate", jsonl, 1),
            "validate (Parquet)": _measure("validate", parquet, 1),
        }
    reference = results["reference stats (json + loop, JSONL)"]["seconds"]
    print(f"{'step':40} {'seconds':>8} {'vs reference':>13} {'peak RSS MB':>12}")
    for name, figures in results.items():
        ratio = reference / figures["seconds"]
        print(f"{name:40} {figures['seconds']:8.2f} {ratio:12.1f}x {figures['peak_rss_mb']:12.0f}")


if __name__ == "__main__":
    main()
