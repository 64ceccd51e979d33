"""Times `trajforge view` on a published dataset at the reference dataset's scale (14,701 rows, ~500 MB).

Run: .venv/bin/python benchmarks/bench_viewer.py [--scale 1.0] [--keep DIR] [--format parquet|jsonl]

The dataset is the synthetic one of bench_dataset.py, laid out as a published
dataset folder (README.md with `configs:`, one Parquet file per config), or as
JSONL files. Each step runs in its own Python process, so its peak RSS is its
own: `index` builds the index into an empty cache; `serve` starts the viewer
on the cached index and times real HTTP requests to it. Targets on this
machine: home page < 3 s, a trace page < 300 ms, a filtered list < 1 s, peak
RSS < 1 GB.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_dataset import _peak_rss_mb  # noqa: E402
from benchmarks.synthetic import REFERENCE, write_synthetic  # noqa: E402

LISTS = {
    "filtered list (category + tool + turns, sorted)": "category=Agent+Tools&tool=memory&turns_min=20&sort=-think",
    "filtered list (config + subcategory, page 3)": "config=glm-5.1&subcategory=debugging&page=3",
    "search, a rare word": "q=kalorutavi",
    "search, two common words": "q=kalo+ruta",
    "search, a phrase no row holds": "q=%22zzqq+no+such+phrase%22",
}


def _fetch(url: str, cpu: list[float] | None = None) -> float:
    """Seconds to get `url`; its CPU seconds (this process: the server's threads and the client) go to `cpu`."""
    start, used = time.perf_counter(), time.process_time()
    with urllib.request.urlopen(url, timeout=120) as response:
        response.read()
        assert response.status == 200, url
    if cpu is not None:
        cpu.append(time.process_time() - used)
    return time.perf_counter() - start


def _step_index(folder: Path, cache: Path) -> dict[str, float]:
    from trajforge.dataset.rows.parallel import default_workers
    from trajforge.viewer import find_sources, open_index

    start = time.perf_counter()
    index = open_index([folder], find_sources([folder]), cache=cache, workers=default_workers())
    seconds = time.perf_counter() - start
    size = sum(f.stat().st_size for f in index.folder.iterdir()) / 1e6
    return {"seconds": seconds, "cpu_seconds": _cpu_seconds(), "rows": len(index), "cache_mb": size,
            "peak_rss_mb": _peak_rss_mb()}  # fmt: skip


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (the index workers): the figure load does not inflate."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _step_serve(folder: Path, cache: Path, traces: int) -> dict[str, float]:
    import uvicorn

    from trajforge.viewer import Settings, ViewerState, create_app

    start = time.perf_counter()
    state = ViewerState(Settings([folder], cache=cache))
    server = uvicorn.Server(uvicorn.Config(create_app(state, port=0), host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    base = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    cpu_home: list[float] = []
    figures: dict[str, float] = {"home": _fetch(base + "/", cpu_home)}
    figures["home, CPU"] = cpu_home[0]
    figures["start to home"] = time.perf_counter() - start
    figures["home again"] = _fetch(base + "/")
    rng = random.Random(0)
    positions = rng.sample(range(len(state.index)), min(traces, len(state.index)))
    times, cpu_traces = [], []
    for position in positions:
        ident = {"config": state.index.source_of(position).name, "id": state.index.text["id"][position]}
        times.append(_fetch(f"{base}/trace?{urlencode(ident)}", cpu_traces))
    figures["trace page, median"] = statistics.median(times)
    figures["trace page, slowest"] = max(times)
    figures["trace page, median CPU"] = statistics.median(cpu_traces)
    for name, query in LISTS.items():
        cpu: list[float] = []
        figures[name] = _fetch(f"{base}/list?{query}", cpu)
        figures[f"{name}, CPU"] = cpu[0]
    server.should_exit = True
    thread.join(timeout=10)
    figures["peak_rss_mb"] = _peak_rss_mb()
    return figures


def _write(folder: Path, scale: float, fmt: str) -> Path:
    specs = tuple(dataclasses.replace(s, rows=max(1, int(s.rows * scale))) for s in REFERENCE)
    if (folder / "README.md").is_file():
        return folder
    files = write_synthetic(folder / "data", specs, f".{fmt}")
    configs = "".join(f"- config_name: {f.stem}\n  data_files: data/{f.name}\n" for f in files)
    (folder / "README.md").write_text(f"---\nconfigs:\n{configs}---\n\n# synthetic\n")
    return folder


def _run(step: str, folder: Path, cache: Path, traces: int) -> dict[str, float]:
    command = [sys.executable, __file__, "--step", step, "--traces", str(traces), str(folder), str(cache)]
    return dict(json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the reference row counts")
    parser.add_argument("--keep", type=Path, help="write the dataset here and keep it (reused when already there)")
    parser.add_argument("--format", choices=("parquet", "jsonl"), default="parquet")
    parser.add_argument("--traces", type=int, default=30, help="trace pages timed")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("paths", nargs="*", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        folder, cache = args.paths
        result = _step_index(folder, cache) if args.step == "index" else _step_serve(folder, cache, args.traces)
        print(json.dumps(result))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = _write(args.keep or Path(tmp) / "dataset", args.scale, args.format)
        size = sum(f.stat().st_size for f in (folder / "data").iterdir()) / 1e6
        cache = Path(tmp) / "cache"
        built = _run("index", folder, cache, args.traces)
        print(f"dataset: {int(built['rows']):,} rows, {size:,.0f} MB {args.format} in {folder}")
        print(f"index built in {built['seconds']:.1f} s, {built['cpu_seconds']:.1f} CPU s (once; cached, "
              f"{built['cache_mb']:,.0f} MB), peak RSS {built['peak_rss_mb']:,.0f} MB; load average "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")  # fmt: skip
        served = _run("serve", folder, cache, args.traces)
    rss = served.pop("peak_rss_mb")
    print(f"(wall times on a machine with load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
          "CPU: what the request itself used)")  # fmt: skip
    for name, seconds in served.items():
        print(f"{name:52} {seconds * 1000:9.0f} ms")
    print(f"{'viewer peak RSS':52} {rss:9.0f} MB")


if __name__ == "__main__":
    main()
