"""`trajforge compress` on the synthetic dataset of the reference's scale, to 8,192 tokens, extractive summaries.

Writes the two synthetic configs (14,701 rows at --scale 1), trains a byte-level
BPE tokenizer on a sample of their text (no hub here) with a ChatML chat
template, then compresses in a child process and prints the wall time, the peak
RSS of the run and of its largest worker, and the counts. Targets on the
2-core machine: under 60 s, peak RSS under 2 GB.

    .venv/bin/python benchmarks/bench_compress.py [--scale 1.0] [--max-tokens 8192] [--keep DIR]
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

from benchmarks.synthetic import REFERENCE, write_synthetic

CHATML = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
)


def train_tokenizer(files: list[Path], folder: Path, sample_lines: int = 2000) -> Path:
    """A byte-level BPE tokenizer (8k vocabulary) trained on the first rows of `files`."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    texts: list[str] = []
    for file in files:
        with file.open() as handle:
            for _, line in zip(range(sample_lines // len(files)), handle, strict=False):
                texts.extend(turn["value"] for turn in json.loads(line)["conversations"])
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=8000, special_tokens=["<|im_start|>", "<|im_end|>"], show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )  # fmt: skip
    tokenizer.train_from_iterator(texts, trainer=trainer)
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(folder / "tokenizer.json"))
    (folder / "tokenizer_config.json").write_text(json.dumps({"chat_template": CHATML}))
    return folder


def _step(files: list[str], tokenizer: str, max_tokens: int, workers: int) -> dict[str, object]:
    from trajforge.dataset.compression import CompressSettings, compress

    out = Path(tempfile.mkdtemp(prefix="bench-compress-"))
    settings = CompressSettings(max_tokens, tokenizer, keep_last=4, workers=workers or None)
    start = time.perf_counter()
    report = compress(files, out, settings)
    seconds = time.perf_counter() - start
    subprocess.run(["rm", "-rf", str(out)], check=True)
    counts = {name: c.summary() for name, c in report.configs.items()}
    return {
        "seconds": seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "worker_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "counted_by": report.to_json()["counted_by"],
        "checked": sum(c.fast_checked for c in report.configs.values()),
        "configs": {
            name: {
                k: c[k] for k in ("read", "fits", "compressed", "too_long", "skipped", "tokens_before", "tokens_after")
            }
            for name, c in counts.items()
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the reference row counts")
    parser.add_argument("--max-tokens", type=int, default=8192)
    parser.add_argument("--workers", type=int, default=0, help="worker processes (0: one per core)")
    parser.add_argument("--keep", type=Path, help="write the dataset here and keep it (reused when present)")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("--tokenizer", help=argparse.SUPPRESS)
    parser.add_argument("files", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        print(json.dumps(_step(args.files, args.tokenizer, args.max_tokens, args.workers)))
        return
    specs = tuple(dataclasses.replace(s, rows=max(1, int(s.rows * args.scale))) for s in REFERENCE)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        files = sorted(folder.glob("*.jsonl")) or write_synthetic(folder, specs, ".jsonl")
        tokenizer = folder / "tokenizer"
        if not (tokenizer / "tokenizer.json").exists():
            train_tokenizer(files, tokenizer)
        rows = sum(1 for f in files for _ in f.open())
        size = sum(f.stat().st_size for f in files) / 1e6
        print(f"input: {rows:,} rows, {size:,.0f} MB JSONL; budget {args.max_tokens}")
        command = [sys.executable, "-m", "benchmarks.bench_compress", "--step", "compress", "--tokenizer",
                   str(tokenizer), "--max-tokens", str(args.max_tokens), "--workers", str(args.workers),
                   *map(str, files)]  # fmt: skip
        figures = json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
        print(
            f"compress {figures['seconds']:7.1f} s   peak RSS {figures['peak_rss_mb']:6.0f} MB "
            f"(largest worker {figures['worker_peak_rss_mb']:.0f} MB)   targets: 60 s, 2,048 MB"
        )
        ways = "; ".join(figures["counted_by"])
        print(f"  tokens counted by: {ways} ({figures['checked']:,} texts counted both ways)")
        for name, c in figures["configs"].items():
            before, after = c["tokens_before"], c["tokens_after"]
            print(
                f"  {name:8} read {c['read']:,}  fit {c['fits']:,}  compressed {c['compressed']:,}  "
                f"too long {c['too_long']:,}  skipped {c['skipped']}  tokens p50/p95/max "
                f"{before['p50']}/{before['p95']}/{before['max']} -> {after['p50']}/{after['p95']}/{after['max']}"
            )


if __name__ == "__main__":
    main()
