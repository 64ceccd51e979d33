"""CPU per model call of the OpenAI client: N completions against the scripted server at zero latency.

Run: .venv/bin/python benchmarks/bench_model_client.py [--calls 2000] [--messages 20]

The scripted server runs in its own process so that only the client's work is
counted: the process CPU time (user + system) of this process divided by the
calls. Each call sends a conversation of `--messages` messages with the
terminal tool offered and gets a reply with reasoning and one tool call back,
as in a generate run.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from trajforge.policy import ModelConfig, OpenAIPolicy  # noqa: E402
from trajforge.trace import Message  # noqa: E402

TOOL = {
    "type": "function",
    "function": {
        "name": "terminal",
        "description": "Run a shell command.",
        "parameters": {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]},
    },
}


def _conversation(size: int) -> list[Message]:
    messages = [Message(role="system", content="You are a careful agent. " * 20), Message(role="user", content="Go.")]
    while len(messages) < size:
        messages.append(Message(role="assistant", content=None, reasoning="Thinking about the next step. " * 5))
        messages.append(Message(role="tool", content="ok\n" * 10, tool_call_id="call_1", name="terminal"))
    return messages


async def _measure(url: str, calls: int, size: int) -> float:
    policy = OpenAIPolicy(ModelConfig(url, "scripted", timeout=60))
    messages = _conversation(size)
    try:
        for _ in range(20):  # warm up: connections, caches
            await policy.complete(messages, [TOOL])
        started = time.process_time()
        for _ in range(calls):
            await policy.complete(messages, [TOOL])
        return (time.process_time() - started) / calls * 1000
    finally:
        await policy.close()


def main() -> None:
    """Print the client's CPU milliseconds per call."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--messages", type=int, default=20)
    args = parser.parse_args()
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.scripted_server", "1000000"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        per_call = asyncio.run(_measure(url, args.calls, args.messages))
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait(timeout=10)
    print(f"{args.calls} calls, {args.messages} messages each: {per_call:.3f} ms CPU per call (client process)")


if __name__ == "__main__":
    main()
