"""Episodes made to fail one curation filter each, and the folders that hold them."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path

from trajforge.trace import Episode, Finish, Flag, Message, Outcome, ToolCall, render, to_record

from .episodes import sample_episode

SECRET_KEY = "sk-proj-" + "A1b2C3d4E5" * 4
AWS_KEY = "AKIA" + "ABCDEFGHIJKLMNOP"
EMAIL = "jane.doe@example.org"


def words(seed: int, count: int = 200) -> str:
    """Text of random words that no other seed's text resembles."""
    rng = random.Random(seed)
    return " ".join("".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(3, 9))) for _ in range(count))


def varied(seed: int) -> Episode:
    """A distinct, clean episode that passes every default filter."""
    episode = sample_episode(f"00000000-0000-4000-8000-{seed:012d}")
    episode.task.prompt = f"Task {seed}: {words(seed + 1000, 12)}"
    episode.messages[1].content = episode.task.prompt
    episode.messages[2].reasoning = words(seed)
    episode.config = "mix"
    episode.model.name = "test-model"
    episode.outcome = Outcome.PASSED
    return episode


def failing_episodes() -> dict[str, list[Episode]]:
    """Filter name -> the episodes that fail it (and only it), plus the clean ones under "kept"."""
    kept = [varied(i) for i in range(6)]
    failing: dict[str, list[Episode]] = {"kept": kept}

    cut = varied(10)
    cut.finish = Finish.MAX_TURNS
    failing["finish not stop"] = [cut]

    collision = varied(11)
    collision.messages[-1].content = "Done. <tool_call> was in my answer"
    collision.add_flag(Flag.TAG_COLLISION)
    failing["tag collision"] = [collision]

    not_offered = varied(12)
    not_offered.messages[2].tool_calls[0].name = "browser_navigate"
    not_offered.messages[4].name = "browser_navigate"
    failing["tool not offered"] = [not_offered]

    invalid = varied(13)
    invalid.messages[2].tool_calls[0].arguments = {}
    invalid.messages[2].tool_calls[0].raw_arguments = '{"command": "ls'
    invalid.add_flag(Flag.INVALID_TOOL_ARGUMENTS)
    failing["invalid tool-call JSON"] = [invalid]

    silent = varied(14)
    for message in silent.messages:
        message.reasoning = None
    failing["no reasoning"] = [silent]

    failing["repetition loop"] = [_looping(15, repeats=6)]

    erring = varied(16)
    for message in erring.messages:
        if message.role == "tool":
            message.content = json.dumps({"error": "no such file"})
    failing["tool error rate"] = [erring]

    exact = copy.deepcopy(kept[0])  # same trajectory, another id and other call ids
    exact.id = "00000000-0000-4000-8000-999999999999"
    for message in exact.messages:
        for call in message.tool_calls:
            call.id = "x" + call.id
        if message.tool_call_id:
            message.tool_call_id = "x" + message.tool_call_id
    failing["exact duplicate"] = [exact]

    near = copy.deepcopy(kept[1])
    near.id = "00000000-0000-4000-8000-888888888888"
    near.messages[2].reasoning = (near.messages[2].reasoning or "").replace(" ", " also ", 1)
    failing["near duplicate"] = [near]

    failing["duplicate id"] = [copy.deepcopy(kept[2])]
    return failing


def _looping(seed: int, repeats: int) -> Episode:
    episode = varied(seed)
    final = episode.messages[-1]
    del episode.messages[2:]
    for k in range(repeats):
        call = ToolCall(f"loop_{k}", "terminal", {"command": "ls"})
        episode.messages.append(Message(role="assistant", reasoning="Look again.", tool_calls=[call]))
        episode.messages.append(Message(role="tool", content="a\nb", tool_call_id=call.id, name="terminal"))
    episode.messages.append(final)
    return episode


def with_secrets(episode: Episode) -> Episode:
    """`episode` with a key in a tool result (inside JSON, after an escape), another in arguments, and an e-mail."""
    episode.messages[4].content = json.dumps({"output": f"env:\n{AWS_KEY}\nOPENAI={SECRET_KEY}", "exit_code": 0})
    episode.messages[2].tool_calls[0].arguments = {"command": f"curl -H 'Authorization: Bearer {SECRET_KEY}'"}
    episode.messages[-1].content = f"Mail {EMAIL} when done."
    return episode


def write_run(folder: Path, episodes: list[Episode], config: str = "mix") -> Path:
    """A run folder like `generate` writes: runs/<config>/episodes-*.jsonl."""
    records = folder / "runs" / config / "episodes-test.jsonl"
    records.parent.mkdir(parents=True, exist_ok=True)
    with records.open("w") as handle:
        for episode in episodes:
            handle.write(json.dumps(to_record(episode)) + "\n")
    return folder


def write_rows(path: Path, episodes: list[Episode]) -> Path:
    """FORMAT.md rows of `episodes` in a JSONL file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        for episode in episodes:
            handle.write(json.dumps(render(episode)) + "\n")
    return path
