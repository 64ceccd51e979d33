"""Parse throughput of trace.textformats per format: MB/s over generated assistant turns.

Run: .venv/bin/python benchmarks/bench_textformats.py [--turns 10000] [--seed 0]

Each format gets the same `--turns` turns (seeded): reasoning, some content, zero to
three calls with string, number, boolean, list and object arguments (code with
newlines and angle brackets among them), one turn in twenty cut off mid-call as a
max_tokens stop would. The turns are written with `render` and read back with
`parse`; the figure is the text's UTF-8 size over the parse's CPU time (process
time, best of three: the machines here are shared, and wall time measured the
neighbours). Where `vllm` imports, its parser class of the same name
(`ToolParserManager.get_tool_parser`) runs `extract_tool_calls` on the same texts, in
a column beside ours, with a stand-in tokenizer that knows only the special tokens (as
vLLM's parser tests do); a cell says why when that parser cannot run so. Where `vllm`
does not import (here), the script says so.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from trajforge.trace import textformats  # noqa: E402
from trajforge.trace.textformats import TextCall  # noqa: E402

TOOLS: list[dict[str, Any]] = [
    {"type": "function", "function": {"name": name, "parameters": {"type": "object", "properties": props}}}
    for name, props in {
        "terminal": {"command": {"type": "string"}, "timeout": {"type": "integer"}},
        "write_file": {"path": {"type": "string"}, "content": {"type": "string"}},
        "search_files": {"pattern": {"type": "string"}, "limit": {"type": "integer"}, "regex": {"type": "boolean"}},
        "todo": {"items": {"type": "array"}, "options": {"type": "object"}},
    }.items()
]
CODE = "def main() -> None:\n    if a < b and c > d:\n        print('<done>')\n"


def _arguments(rng: random.Random, name: str) -> dict[str, Any]:
    if name == "terminal":
        return {
            "command": rng.choice(["ls -la", "pytest -q", "grep -rn 'x' src | head"]),
            "timeout": rng.randint(1, 600),
        }
    if name == "write_file":
        return {"path": f"src/m{rng.randint(0, 99)}.py", "content": CODE * rng.randint(1, 20)}
    if name == "search_files":
        return {"pattern": "TODO", "limit": rng.randint(1, 50), "regex": rng.random() < 0.5}
    return {"items": [{"id": i, "text": f"step {i}"} for i in range(rng.randint(1, 5))], "options": {"merge": True}}


def turns(fmt: str, count: int, seed: int) -> list[str]:
    """`count` rendered turns of format `fmt`."""
    rng = random.Random(seed)
    texts = []
    for index in range(count):
        names = rng.sample([t["function"]["name"] for t in TOOLS], rng.randint(0, 3))
        calls = [TextCall(n, _arguments(rng, n), f"functions.{n}:{index}" if fmt == "kimi_k2" else None) for n in names]
        reasoning = "Let me think about the next step. " * rng.randint(1, 30)
        content = rng.choice([None, "I will look at the files first.", "Done: the tests pass."])
        text = textformats.render(fmt, reasoning, content, calls, tools=TOOLS)
        if index % 20 == 19:
            text = text[: len(text) * 2 // 3]  # cut off, as at max_tokens
        texts.append(text)
    return texts


def throughput(fmt: str, texts: list[str]) -> tuple[float, int, int]:
    """(MB/s, calls read, turns with problems) of parsing `texts`, best of three."""
    size = sum(len(t.encode()) for t in texts)
    best, calls, problems = float("inf"), 0, 0
    for _ in range(3):
        started = time.process_time()
        parsed = [textformats.parse(fmt, text, TOOLS) for text in texts]
        best = min(best, time.process_time() - started)
        calls = sum(len(p.tool_calls) for p in parsed)
        problems = sum(bool(p.problems) for p in parsed)
    return size / best / 1e6, calls, problems


# The special tokens the formats use, for a stand-in tokenizer (vLLM's parsers look their ids up).
SPECIAL_TOKENS = [
    "<tool_call>", "</tool_call>", "<think>", "</think>", "<|tool_calls_section_begin|>", "<|tool_calls_section_end|>",
    "<|tool_call_section_begin|>", "<|tool_call_section_end|>", "<|tool_call_begin|>", "<|tool_call_end|>",
    "<|tool_call_argument_begin|>", "<|python_tag|>", "[TOOL_CALLS]", "[ARGS]", "[CALL_ID]", "<arg_key>",
    "</arg_key>", "<arg_value>", "</arg_value>", "<|assistant|>",
    *("<\uff5c" + "\u2581".join(words.split()) + "\uff5c>" for words in
      ("tool calls begin", "tool calls end", "tool call begin", "tool call end", "tool sep")),
]  # fmt: skip


class VocabOnly:
    """What vLLM's parsers read from a tokenizer to extract whole outputs: the special tokens' ids
    (vLLM's own parser tests use such a stand-in, tests/tool_parsers/utils.py `DummyTokenizer`)."""

    def __init__(self) -> None:
        self.vocab = {token: index for index, token in enumerate(SPECIAL_TOKENS)}

    def get_vocab(self) -> dict[str, int]:
        return self.vocab

    def encode(self, text: str, add_special_tokens: bool = False) -> list[int]:
        return [self.vocab.get(text, len(self.vocab))]

    def decode(self, ids: list[int], skip_special_tokens: bool = False) -> str:
        names = {index: token for token, index in self.vocab.items()}
        return "".join(names.get(i, "") for i in ids)

    def tokenize(self, text: str) -> list[str]:
        return []


def vllm_throughput(fmt: str, texts: list[str]) -> str:
    """MB/s of vLLM's parser of the same name on the same texts, or '-' and why it could not run."""
    try:
        from vllm.entrypoints.openai.chat_completion.protocol import (  # type: ignore[import-not-found]
            ChatCompletionRequest,
        )
        from vllm.tool_parsers import ToolParserManager  # type: ignore[import-not-found]

        parser = ToolParserManager.get_tool_parser(fmt)(VocabOnly())
        request = ChatCompletionRequest(messages=[], model="bench", tools=TOOLS)
        started = time.process_time()
        for text in texts:
            parser.extract_tool_calls(text, request)
        seconds = time.process_time() - started
    except Exception as exc:  # another vLLM layout, a parser that wants a real tokenizer...
        return f"- ({type(exc).__name__}: {str(exc)[:60]})"
    return f"{sum(len(t.encode()) for t in texts) / seconds / 1e6:.1f}"


def vllm_missing() -> str | None:
    """None when `vllm` imports, else why it does not."""
    try:
        import vllm  # type: ignore[import-not-found]  # noqa: F401
    except Exception as exc:  # not installed, or installed without its GPU stack
        return f"{type(exc).__name__}: {exc}"
    return None


def main() -> None:
    """Print MB/s per format (and vLLM's beside it where vllm imports)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    missing = vllm_missing()
    print(
        f"{'format':<14}{'MB':>8}{'MB/s':>9}{'turns/s':>10}{'calls':>8}{'cut off':>9}{'' if missing else '  vLLM MB/s'}"
    )
    for fmt in textformats.formats():
        texts = turns(fmt, args.turns, args.seed)
        size = sum(len(t.encode()) for t in texts) / 1e6
        speed, calls, problems = throughput(fmt, texts)
        theirs = "" if missing else f"  {vllm_throughput(fmt, texts)}"
        print(f"{fmt:<14}{size:>8.1f}{speed:>9.1f}{args.turns / (size / speed):>10.0f}{calls:>8}{problems:>9}{theirs}")
    if missing:
        print(f"vLLM comparison: skipped, `vllm` does not import here ({missing})")


if __name__ == "__main__":
    main()
