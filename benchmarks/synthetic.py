"""Synthetic datasets at the reference dataset's scale, for benchmarks.

The shape follows hermes-agent-reasoning-traces' card: two configs (7,646 and
7,055 rows), about 24.3 and 19.1 turns and 13.9 and 9.7 tool calls per row,
think blocks of about 414 and 70 words, categories in the card's proportions.
Rows are made by `trajforge.trace.render`, so they are valid FORMAT.md rows.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from trajforge.dataset import write_rows
from trajforge.tasks import TAXONOMY
from trajforge.trace import Episode, Message, TaskRef, ToolCall, render


@dataclass(frozen=True)
class ConfigSpec:
    """Size and shape of one synthetic config."""

    name: str
    rows: int
    mean_turns: float
    mean_calls: float
    think_words: int
    category_counts: tuple[int, ...]  # in taxonomy order, as on the reference card


REFERENCE = (
    ConfigSpec("kimi", 7646, 24.3, 13.9, 414, (2010, 1474, 1109, 1048, 807, 757, 204, 201, 36)),
    ConfigSpec("glm-5.1", 7055, 19.1, 9.7, 70, (2237, 2775, 1022, 639, 52, 134, 104, 92, 0)),
)
TOOLS = ["terminal", "read_file", "write_file", "patch", "search_files", "execute_code", "browser_navigate", "memory"]
_TOOL_DEFS = [
    {
        "type": "function",
        "function": {
            "name": name,
            "description": f"The {name} tool.",
            "parameters": {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]},
        },
    }
    for name in TOOLS
]


class _Words:
    """Random text cut from one pre-drawn pool of words, which is far faster than drawing per word."""

    def __init__(self, rng: random.Random, pool_size: int = 400_000) -> None:
        syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "so", "vi", "de", "pa", "chi", "zu"]
        vocabulary = ["".join(rng.choices(syllables, k=rng.randint(1, 4))) for _ in range(3000)]
        self._pool = rng.choices(vocabulary, k=pool_size)
        self._rng = rng

    def text(self, count: int, line_every: int = 0) -> str:
        start = self._rng.randrange(len(self._pool) - count - 1)
        words = self._pool[start : start + count]
        if line_every:
            return "\n".join(" ".join(words[i : i + line_every]) for i in range(0, len(words), line_every))
        return " ".join(words)


def _episode(rng: random.Random, words: _Words, spec: ConfigSpec, category: str) -> Episode:
    prompt = words.text(rng.randint(10, 40))
    messages = [Message(role="system", content=words.text(60)), Message(role="user", content=prompt)]
    steps = max(1, round(rng.uniform(1, 2 * (spec.mean_turns - 3) / 2 - 1)))  # turns = 3 + 2 * steps
    extra_call = spec.mean_calls / ((spec.mean_turns - 3) / 2) - 1  # chance of a second call in a step
    for step in range(steps):
        calls = [
            ToolCall(f"call_{step}_{k}", rng.choice(TOOLS), {"command": words.text(rng.randint(2, 12))})
            for k in range(1 + (rng.random() < extra_call))
        ]
        reasoning = words.text(rng.randint(spec.think_words // 2, spec.think_words * 3 // 2))
        messages.append(Message(role="assistant", reasoning=reasoning, content=None, tool_calls=calls))
        for call in reversed(calls):
            output = json.dumps({"output": words.text(rng.randint(10, 200), line_every=12), "exit_code": 0})
            messages.append(Message(role="tool", content=output, tool_call_id=call.id, name=call.name))
    final = words.text(rng.randint(spec.think_words // 2, spec.think_words * 3 // 2))
    messages.append(Message(role="assistant", reasoning=final, content=words.text(rng.randint(20, 80))))
    subcategory = rng.choice(TAXONOMY[category])
    return Episode(
        id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        task=TaskRef("synthetic", category, subcategory, prompt),
        messages=messages,
        tools=_TOOL_DEFS,
    )


def synthetic_rows(spec: ConfigSpec, seed: int = 0) -> Iterator[dict[str, object]]:
    """The rows of one synthetic config, deterministic for a seed."""
    rng = random.Random(f"{spec.name}-{seed}")
    words = _Words(rng)
    scale = spec.rows / sum(spec.category_counts)
    categories = [c for c, n in zip(TAXONOMY, spec.category_counts, strict=True) for _ in range(round(n * scale))]
    for category in categories[: spec.rows]:
        yield render(_episode(rng, words, spec, category))


def write_synthetic(folder: Path, specs: tuple[ConfigSpec, ...] = REFERENCE, suffix: str = ".jsonl") -> list[Path]:
    """Write each config to `folder/<name><suffix>`; returns the files."""
    files = []
    for spec in specs:
        path = folder / f"{spec.name}{suffix}"
        write_rows(path, synthetic_rows(spec))
        files.append(path)
    return files
