"""Run folders and dataset folders the viewer tests open: small, varied, and one hostile trace."""

from __future__ import annotations

import json
from pathlib import Path

from trajforge.dataset import write_rows
from trajforge.trace import Finish, Flag, Outcome, ToolCall, Usage, render, to_record
from trajforge.trace.model import CallTiming, Episode, Message, TaskRef, Timing

from .curation_data import varied
from .episodes import tool_def

XSS_SCRIPT = "<script>window.__xss = 'script'</script>"
XSS_IMG = "<img src=x onerror=\"window.__xss = 'img'\">"
XSS_LINK = "[click me](javascript:window.__xss='link') <a href=\"javascript:window.__xss='a'\">a</a>"
XSS = f"{XSS_SCRIPT} {XSS_IMG} {XSS_LINK}"
XSS_TASK = "Read the hostile page and report."


def hostile_episode() -> Episode:
    """A trace whose content, reasoning, arguments and tool output all hold script, handlers and javascript: links."""
    calls = [ToolCall("call_x", "terminal", {"command": f"echo '{XSS}'", XSS_IMG: XSS_SCRIPT})]
    messages = [
        Message(role="system", content=f"System {XSS}"),
        Message(role="user", content=XSS_TASK),
        Message(role="assistant", reasoning=f"Thinking {XSS}", content=f"Look: {XSS}", tool_calls=calls),
        Message(
            role="tool", content=json.dumps({"output": XSS, "exit_code": 0}), tool_call_id="call_x", name="terminal"
        ),
        Message(role="assistant", reasoning="done", content=f"Final {XSS}\n\n![pic](javascript:window.__xss='md')"),
    ]
    return Episode(
        id="00000000-0000-4000-8000-0000000000ff",
        task=TaskRef("hostile", "Browser Automation", "scraping", XSS_TASK),
        messages=messages,
        tools=[tool_def("terminal")],
        config="oracle",
    )


def run_episodes() -> list[Episode]:
    """Six episodes with records' extras: outcomes, finishes, flags, timings, usage, a failing tool."""
    found = []
    for seed in range(5):
        episode = varied(seed)
        episode.config = "oracle"
        episode.task.id = f"task-{seed % 3}"
        episode.usage = [Usage(100 + seed, 20), Usage(180 + seed, 30)]
        episode.timing = Timing(
            [0.5, 0.25], [CallTiming("call_a", "terminal", 0.125), CallTiming("call_b", "read_file", 0.0625)]
        )
        episode.wall_seconds = 2.5
        episode.check_output = "1 passed in 0.01s"
        found.append(episode)
    found[1].outcome, found[1].check_output = Outcome.FAILED, "AssertionError: expected 3 lines"
    found[2].finish, found[2].error = Finish.MAX_TURNS, "reached 2 turns"
    found[2].add_flag(Flag.TRUNCATED_TOOL_OUTPUT)
    found[3].messages[4].content = json.dumps({"output": "", "error": "command not found", "exit_code": 127})
    long_output = "\n".join(f"line {k} of a long listing" for k in range(400))
    found[4].messages[3].content = long_output
    found.append(hostile_episode())
    return found


def write_run_folder(out: Path, episodes: list[Episode] | None = None, config: str = "oracle") -> Path:
    """OUT/runs/<config>/episodes-1-1.jsonl (records) and OUT/rows/<config>/train-1-1.jsonl, as generate writes."""
    episodes = run_episodes() if episodes is None else episodes
    records = out / "runs" / config / "episodes-1-1.jsonl"
    records.parent.mkdir(parents=True, exist_ok=True)
    records.write_text("".join(json.dumps(to_record(e)) + "\n" for e in episodes))
    write_rows(out / "rows" / config / "train-1-1.jsonl", (render(e) for e in episodes))
    return out


def dataset_episodes(config: str, count: int = 4) -> list[Episode]:
    """Episodes of one published config; every config holds the same tasks (the compare page's subject)."""
    found = []
    for seed in range(count):
        episode = varied(seed)
        episode.id = f"{seed:08d}-0000-4000-8000-{sum(map(ord, config)):012d}"
        if config == "beta":
            episode.messages[2].reasoning = f"beta thinks differently {seed}"
        if seed == 1:
            episode.task.category, episode.task.subcategory = "File Operations", "searching"
        found.append(episode)
    return found


def write_dataset(out: Path, configs: tuple[str, ...] = ("alpha", "beta")) -> Path:
    """A published dataset folder: README.md with `configs:` and data/<config>/train-00000.parquet."""
    lines = ["---", "configs:"]
    for config in configs:
        write_rows(out / "data" / config / "train-00000.parquet", (render(e) for e in dataset_episodes(config)))
        lines += [f"- config_name: {config}", f"  data_files: data/{config}/*.parquet"]
    (out / "README.md").write_text("\n".join([*lines, "---", "", "# test dataset", ""]))
    return out


class ViewerServer:
    """`trajforge view`'s app served by uvicorn on a free 127.0.0.1 port in a thread; stopped on exit."""

    def __init__(self, paths: list[Path], cache: Path, token: str | None = None) -> None:
        from trajforge.viewer import Settings, ViewerState

        self.state = ViewerState(Settings(paths, cache=cache))
        self.token = token
        self.url = ""

    def __enter__(self) -> ViewerServer:
        import threading
        import time

        import uvicorn

        from trajforge.viewer import create_app

        app = create_app(self.state, token=self.token, port=0)
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("viewer server did not start")
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
