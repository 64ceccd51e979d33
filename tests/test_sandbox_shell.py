"""The persistent shell: one bash per sandbox, state between terminal calls, and every command still on its own."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from trajforge.sandbox import (
    ExecRequest,
    ExecResult,
    HostFailure,
    Limits,
    Sandbox,
    SandboxConfig,
    SandboxFactory,
    WriteRequest,
)
from trajforge.sandbox.procs import pids_of_uid
from trajforge.tools import ToolContext, build_toolbox
from trajforge.trace import ToolCall

from .harness import BACKENDS
from .test_hostile import _running as running

AS_ROOT = os.geteuid() == 0


@pytest.fixture(params=BACKENDS)
def box(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    sandbox = asyncio.run(SandboxFactory(SandboxConfig(backend=request.param)).create())
    yield sandbox
    asyncio.run(sandbox.close())


def sh(box: Sandbox, command: str, timeout: float = 20, **options: object) -> ExecResult:
    return asyncio.run(box.run(ExecRequest(command, timeout=timeout, **options)))  # type: ignore[arg-type]


def gone(name: str, patience: float = 3.0) -> bool:
    """Whether no process named `name` runs, waiting a moment for killed ones to finish exiting."""
    deadline = time.monotonic() + patience
    while running(name) and time.monotonic() < deadline:
        time.sleep(0.02)
    return not running(name)


def test_cwd_and_exported_variables_persist_and_nothing_else(box: Sandbox) -> None:
    first = sh(box, "mkdir -p sub && cd sub && export KEPT=yes && LOCAL=no && f() { :; }")
    assert first.exit_code == 0 and first.cwd == f"{box.info.visible_workspace}/sub"
    second = sh(box, "pwd; echo KEPT=$KEPT LOCAL=$LOCAL; type f 2>&1 | head -1")
    assert second.output.splitlines()[:2] == [f"{box.info.visible_workspace}/sub", "KEPT=yes LOCAL="]
    assert "not found" in second.output
    fresh = sh(box, "pwd; echo KEPT=$KEPT; cd /; export KEPT=changed", fresh=True)
    assert fresh.output == f"{box.info.visible_workspace}\nKEPT=\n" and fresh.cwd is None
    assert sh(box, "pwd; echo $KEPT").output == f"{box.info.visible_workspace}/sub\nyes\n"  # fresh left it alone


def test_exit_exec_and_signals_leave_the_shell_and_background_processes_alone(box: Sandbox) -> None:
    marker = uuid.uuid4().hex[:8]
    sh(box, f"bash -c 'exec -a bg-{marker} sleep 300' > /dev/null 2>&1 &")
    assert sh(box, "exit 3").exit_code == 3
    assert sh(box, "exec true").exit_code == 0
    assert sh(box, "kill $$; kill -HUP $$; echo after").output == "after\n"
    assert running(f"bg-{marker}")  # still the same shell (under bwrap: the same pid namespace)
    ended = sh(box, "cd /tmp; export GONE=1; kill -9 $$; sleep 5")
    assert ended.shell_ended and ended.exit_code is None and not ended.timed_out
    after = sh(box, "pwd; echo ok")
    assert after.exit_code == 0 and after.output.endswith("ok\n") and not after.shell_ended
    toolbox = build_toolbox(["terminal"], ToolContext(box))
    result = json.loads(asyncio.run(toolbox.call(ToolCall("c", "terminal", {"command": "kill -9 $$"}))).content)
    assert result["exit_code"] is None and "starts a new one" in result["note"]
    assert sh(box, "echo back").output == "back\n"


def test_a_shell_killed_between_commands_is_replaced_without_a_word(box: Sandbox) -> None:
    sh(box, "export KEEP=1; (sleep 0.2; kill -9 $$) > /dev/null 2>&1 &")
    time.sleep(1)
    after = sh(box, "echo $KEEP")
    assert (after.output, after.exit_code, after.shell_ended) == ("1\n", 0, False)


def test_a_timeout_kills_the_commands_group_and_tree_and_the_shell_goes_on(box: Sandbox) -> None:
    marker = uuid.uuid4().hex[:8]
    sh(box, f"bash -c 'exec -a earlier-{marker} sleep 300' > /dev/null 2>&1 &")
    command = (
        f"bash -c 'exec -a group-{marker} sleep 300' & setsid bash -c 'exec -a tree-{marker} sleep 300' & "
        f"exec -a main-{marker} sleep 300"
    )
    result = sh(box, command, timeout=1)
    assert result.timed_out and result.exit_code is None
    for name in ("group", "tree", "main"):
        assert gone(f"{name}-{marker}"), name
    assert running(f"earlier-{marker}")  # the timeout killed that command's processes only
    assert sh(box, "echo usable").output == "usable\n"


def test_output_of_a_finished_commands_background_process_never_reaches_the_next(box: Sandbox) -> None:
    first = sh(box, "(sleep 0.5; echo LATE) & echo first")
    assert first.output == "first\n"
    second = sh(box, "sleep 1; echo second")
    assert second.output == "second\n"


def test_stdin_is_empty_or_given_and_never_the_shells(box: Sandbox) -> None:
    assert sh(box, "cat; read -r line; echo status=$?").output == "status=1\n"
    assert sh(box, "tr a-z A-Z", stdin="piped in\n").output == "PIPED IN\n"
    assert sh(box, "echo still here").output == "still here\n"


def test_calls_at_once_each_get_a_shell(box: Sandbox) -> None:
    async def both() -> list[ExecResult]:
        slow, quick = ExecRequest("sleep 1; echo slow"), ExecRequest("echo quick")
        return list(await asyncio.gather(box.run(slow), box.run(quick)))

    slow, quick = asyncio.run(both())
    assert (slow.output, quick.output) == ("slow\n", "quick\n") and quick.seconds < slow.seconds


def test_the_shells_private_folder_cannot_be_turned_against_the_host(box: Sandbox, tmp_path: Path) -> None:
    sh(box, "rm -rf ~/.trajforge && ln -s / ~/.trajforge")
    assert sh(box, "echo works; pwd").output.startswith("works\n")
    assert not Path("/cmd-2").exists() and not Path("/out-2").exists()
    sh(box, f"rm -rf ~/.trajforge && ln -s {tmp_path} ~/.trajforge")
    assert sh(box, "echo again").output == "again\n"
    assert list(tmp_path.iterdir()) == []


def test_limits_are_per_command_not_per_shell() -> None:
    box = asyncio.run(SandboxFactory(SandboxConfig(backend="local", limits=Limits(cpu_seconds=1))).create())
    try:
        burn = "i=0; while [ $i -lt 60000 ]; do i=$((i+1)); done; echo done"  # a loop in the command's own shell
        for _ in range(3):  # each under the 1 s limit; together over it
            assert sh(box, burn, timeout=60).output == "done\n"
        killed = sh(box, "while :; do :; done", timeout=60)
        assert killed.exit_code is not None and killed.exit_code > 128 and not killed.timed_out
    finally:
        asyncio.run(box.close())


@pytest.mark.skipif(not AS_ROOT, reason="files belong to a pool uid only when trajforge runs as root")
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_kept_workspace_is_handed_back_to_the_invoking_user(backend: str) -> None:
    parent = Path(tempfile.mkdtemp(prefix="kept-"))  # in /tmp: the sandbox's uid must reach its workspace
    parent.chmod(0o755)
    config = SandboxConfig(backend=backend, keep_workspace=True, parent=parent)  # type: ignore[arg-type]

    async def scenario() -> tuple[Path, int]:
        box = await SandboxFactory(config).create()
        made = await box.run(ExecRequest("mkdir -p made/deep && echo x > made/deep/f && ln -s f made/deep/link"))
        assert made.exit_code == 0, made.output
        await box.write_file(WriteRequest("api.txt", "y"))
        await box.close()
        assert box.info.uid is not None
        return box.workspace.parent, box.info.uid

    try:
        root, uid = asyncio.run(scenario())
        owners = {(p.lstat().st_uid, p.lstat().st_gid) for p in [root, *root.rglob("*")]}
        assert owners == {(os.getuid(), os.getgid())}, owners
        assert (root / "workspace/made/deep/f").read_text() == "x\n"
        assert pids_of_uid(uid) == []
    finally:
        shutil.rmtree(parent)


def test_a_shell_that_cannot_start_is_the_hosts_failure_not_a_tool_result(box: Sandbox) -> None:
    box.shell_argv = lambda: ["bash", "-c", "echo 'cannot start here' >&2; exit 1"]  # type: ignore[method-assign]
    toolbox = build_toolbox(["terminal"], ToolContext(box))
    with pytest.raises(HostFailure, match="shell did not start: cannot start here"):
        asyncio.run(toolbox.call(ToolCall("c", "terminal", {"command": "true"})))
