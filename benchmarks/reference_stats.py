"""A plain implementation of FORMAT.md section 5: the json module and a Python loop.

It is the yardstick `stats` is measured against (benchmarks) and checked against (tests).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

_THINK = re.compile(r"<think>(.*?)</think>", re.S)


def reference_stats(files: list[Path]) -> dict[str, Any]:
    """Samples, turns, tool calls, think words and blocks, categories over JSONL files."""
    samples = turns = calls = words = blocks = 0
    categories: Counter[str] = Counter()
    for file in files:
        with file.open(encoding="utf-8") as handle:
            for line in handle:
                if not line.strip():
                    continue
                row = json.loads(line)
                samples += 1
                categories[row["category"]] += 1
                turns += len(row["conversations"])
                for turn in row["conversations"]:
                    if turn["from"] != "gpt":
                        continue
                    calls += turn["value"].count("<tool_call>")
                    match = _THINK.match(turn["value"])
                    count = len(match.group(1).split()) if match else 0
                    words += count
                    blocks += count > 0
    return {
        "samples": samples,
        "total_turns": turns,
        "total_tool_calls": calls,
        "think_words": words,
        "think_blocks": blocks,
        "categories": dict(categories),
    }
