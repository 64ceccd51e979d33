"""Clean traces: under bubblewrap every episode sees the same paths, user, HOME, times and commit hashes."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import yaml

from trajforge.agent.environment import TaskEnvironment
from trajforge.agent.prompt import system_prompt
from trajforge.sandbox import ExecRequest, Sandbox, SandboxConfig, SandboxFactory
from trajforge.tasks import load_tasks
from trajforge.tools import ToolContext, build_toolbox
from trajforge.trace import ToolCall

from .harness import BACKENDS

needs_bwrap = pytest.mark.skipif("bwrap" not in BACKENDS, reason="bubblewrap cannot run here")
# Everything about the place an agent might look at: where it is, who it is, what the fixture looks like.
SURVEY = (
    "pwd; id; whoami; echo $HOME; hostname; ls -la; ls -la ~; ls -l --time-style=+%F notes made.txt; "
    "git -C repo log --format='%H %an %ae %ad %cn %ce %cd'; "
    "git -C repo status --short; git -C repo commit -q --allow-empty -m more && git -C repo rev-parse HEAD"
)
TASK = {
    "id": "clean-trace",
    "category": "Terminal & Coding",
    "subcategory": "script_writing",
    "prompt": "Look around.",
    "fixtures": {
        "files": {"notes/a.txt": "alpha\n"},
        "setup": ["touch -d 2025-05-05 notes/a.txt; echo made > made.txt"],
        "git": [
            {
                "path": "repo",
                "commits": [
                    {"message": "First", "files": {"x.py": "x = 1\n"}},
                    {"message": "Second", "files": {"x.py": "x = 2\n"}},
                ],
            }
        ],
    },
}


async def _episode_view(tmp_path: Path, backend: str) -> list[str]:
    """What one fresh sandbox with the task's fixtures shows to a survey and to the tools."""
    spec = tmp_path / "tasks.yaml"
    spec.write_text(yaml.safe_dump([TASK]))
    (task,) = load_tasks([spec]).tasks
    box = await SandboxFactory(SandboxConfig(backend=backend)).create()  # type: ignore[arg-type]
    try:
        async with TaskEnvironment(task, box):
            toolbox = build_toolbox(["terminal", "file", "code"], ToolContext(box))
            calls = [
                ToolCall("a", "terminal", {"command": SURVEY}),
                ToolCall("b", "read_file", {"path": f"{box.info.visible_workspace}/notes/a.txt"}),
                ToolCall("c", "read_file", {"path": "/etc/hostname"}),
                ToolCall("d", "execute_code", {"code": "import os\nprint(os.getcwd())\nraise SystemExit(1 / 0)"}),
                ToolCall("e", "write_file", {"path": "/workspace/new.txt", "content": "hi"}),
            ]
            results = [(await toolbox.call(call)).content for call in calls]
        return [system_prompt(str(box.info.visible_workspace), toolbox.definitions), *results]
    finally:
        await box.close()


@needs_bwrap
def test_two_sandboxes_show_the_same_place(tmp_path: Path) -> None:
    first = asyncio.run(_episode_view(tmp_path, "bwrap"))
    second = asyncio.run(_episode_view(tmp_path, "bwrap"))
    assert first == second
    prompt, survey, read, outside, code, written = first
    assert "Your workspace is /workspace;" in prompt
    output = json.loads(survey)["output"]
    assert output.startswith("/workspace\nuid=1000(agent) gid=1000(agent) groups=1000(agent)\nagent\n/home/agent\n")
    assert "trajforge-" not in output and "/tmp" not in output
    assert (
        "Trajforge Agent" in output and "Fri Jan 2 10:00:00 2026" in output
    )  # fixture commits: fixed author and dates
    assert "alpha" in read
    assert " 2025-05-05 a.txt" in output and " 2026-01-01 made.txt" in output  # dated by setup / fixed
    assert "outside the workspace /workspace" in outside
    assert (
        "/home/agent/.trajforge/code-" in code and "ZeroDivisionError" in code and '"stdout": "/workspace\\n"' in code
    )
    assert '"path": "new.txt"' in written


@needs_bwrap
def test_visible_paths_map_to_the_host_workspace() -> None:
    async def scenario() -> None:
        box: Sandbox = await SandboxFactory(SandboxConfig(backend="bwrap")).create()
        try:
            assert str(box.info.visible_workspace) == "/workspace" and str(box.info.visible_home) == "/home/agent"
            assert box.resolve("/workspace/a/b.txt") == box.workspace.resolve() / "a" / "b.txt"
            assert box.visible(box.workspace / "a") == "/workspace/a"
            assert box.visible(box.info.home / ".gitconfig") == "/home/agent/.gitconfig"
            await box.run(ExecRequest("echo hi > /workspace/made.txt; cd sub 2>/dev/null || mkdir sub && cd sub"))
            assert (box.workspace / "made.txt").read_text() == "hi\n"
            assert (await box.run(ExecRequest("pwd"))).output == "/workspace/sub\n"  # the saved cwd is the visible one
        finally:
            await box.close()

    asyncio.run(scenario())


def test_the_local_backend_says_its_paths_are_the_hosts() -> None:
    async def scenario() -> None:
        box = await SandboxFactory(SandboxConfig(backend="local")).create()
        try:
            assert Path(box.info.visible_workspace) == box.workspace
            assert any("paths are the host's" in note for note in box.info.notes)
            assert (await box.run(ExecRequest("pwd"))).output.strip() == str(box.workspace)
        finally:
            await box.close()

    asyncio.run(scenario())
