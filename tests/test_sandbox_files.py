"""The sandbox's file API: paths as the agent writes them, links that lead out, caps, ownership, host failures."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from trajforge.agent import EpisodeLimits, run_episode
from trajforge.policy import ModelConfig, OpenAIPolicy
from trajforge.sandbox import (
    ExecRequest,
    FileTooLarge,
    HostFailure,
    Limits,
    ListRequest,
    NotARegularFile,
    PathOutsideWorkspace,
    ReadRequest,
    RemoveRequest,
    Sandbox,
    SandboxConfig,
    SandboxFactory,
    WriteRequest,
)
from trajforge.tools import ToolContext, build_toolbox
from trajforge.trace import Finish, ToolCall

from .harness import BACKENDS, TASK
from .scripted_server import ScriptedServer, call, reply

LIMITS = Limits(file_bytes=1 << 20)


@pytest.fixture(params=BACKENDS)
def box(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    sandbox = asyncio.run(SandboxFactory(SandboxConfig(backend=request.param, limits=LIMITS)).create())
    yield sandbox
    asyncio.run(sandbox.close())


def sh(box: Sandbox, command: str) -> str:
    return asyncio.run(box.run(ExecRequest(command, timeout=20))).output


def test_paths_as_the_agent_writes_them(box: Sandbox) -> None:
    async def scenario() -> None:
        seen_ws, seen_home = box.info.visible_workspace, box.info.visible_home
        written = await box.write_file(WriteRequest("a/b/c.txt", "héllo\n"))
        assert (written.path, written.bytes, written.created) == ("a/b/c.txt", 7, True)
        for path in ("a/b/c.txt", "./a//b/c.txt", f"{seen_ws}/a/b/c.txt", str(box.workspace / "a/b/c.txt")):
            content = await box.read_file(ReadRequest(path))
            assert (content.path, content.text(), content.size) == ("a/b/c.txt", "héllo\n", 7), path
        home = await box.write_file(WriteRequest("~/notes/todo.md", b"- x\n"))
        assert home.path == f"{seen_home}/notes/todo.md"
        assert (await box.read_file(ReadRequest(f"{seen_home}/notes/todo.md"))).data == b"- x\n"
        assert await box.exists("~/notes") and not await box.exists("~/nothing") and not await box.exists("/etc")
        again = await box.write_file(WriteRequest("a/b/c.txt", "more\n", append=True))
        assert not again.created and (await box.read_file(ReadRequest("a/b/c.txt"))).text() == "héllo\nmore\n"
        listing = await box.list_files(ListRequest(".", recursive=True))
        assert [(e.path, e.kind) for e in listing.entries] == [("a", "dir"), ("a/b", "dir"), ("a/b/c.txt", "file")]
        assert (await box.stat("a/b")).kind == "dir" and (await box.make_dirs("x/y")).path == "x/y"
        await box.remove(RemoveRequest("a/b/c.txt"))
        with pytest.raises(OSError):  # not empty without recursive
            await box.remove(RemoveRequest("x"))
        await box.remove(RemoveRequest("x", recursive=True))
        await box.remove(RemoveRequest("gone", missing_ok=True))
        assert [e.path for e in (await box.list_files(ListRequest())).entries] == ["a"]

    asyncio.run(scenario())
    # what the API wrote, the agent's commands see as theirs and can change
    assert sh(box, "cat ~/notes/todo.md && echo y >> ~/notes/todo.md && touch a/new && echo ok") == "- x\nok\n"


def test_written_files_belong_to_the_agents_user(box: Sandbox) -> None:
    asyncio.run(box.write_file(WriteRequest("deep/er/f.py", "print(1)\n", mode=0o755)))
    owners = sh(box, "stat -c '%u %a' deep deep/er deep/er/f.py; id -u").split("\n")
    agent = owners[3]
    assert owners[:3] == [f"{agent} 755", f"{agent} 755", f"{agent} 755"], owners
    if box.info.uid is not None:  # own uid (as root): on the host too
        assert (box.workspace / "deep/er/f.py").stat().st_uid == box.info.uid


def test_links_are_followed_as_the_agents_shell_would(box: Sandbox, tmp_path: Path) -> None:
    outside = Path.home() / ".trajforge-files-test-outside.txt"
    outside.write_text("host")
    try:
        seen = box.info.visible_workspace
        links = f"ln -s {seen}/data.txt alias; ln -s data.txt rel; mkdir d; ln -s ../data.txt d/up; ln -s {outside} out"
        sh(box, f"echo data > data.txt; {links}; ln -s / root; ln -s loop1 loop2; ln -s loop2 loop1")

        async def scenario() -> None:
            for path in ("alias", "rel", "d/up", "d/../alias"):
                assert (await box.read_file(ReadRequest(path))).text() == "data\n", path
            for path in ("out", "root/etc/passwd", "../x", "d/../../x", "/etc/passwd", "/workspace/../etc/passwd"):
                if path.startswith("/workspace") and seen != Path("/workspace"):
                    continue
                with pytest.raises(PathOutsideWorkspace):
                    await box.read_file(ReadRequest(path))
                with pytest.raises(PathOutsideWorkspace):
                    await box.write_file(WriteRequest(path, "pwned"))
            with pytest.raises(OSError, match="symbolic links"):
                await box.read_file(ReadRequest("loop1"))
            await box.remove(RemoveRequest("out"))  # the link goes, never its target
            listing = await box.list_files(ListRequest(recursive=True))
            assert ("root", "symlink") in [(e.path, e.kind) for e in listing.entries]
            assert not any(e.path.startswith("root/") for e in listing.entries)  # links are not entered

        asyncio.run(scenario())
        assert outside.read_text() == "host"
    finally:
        outside.unlink()


def test_errors_name_the_agents_path_never_the_hosts(box: Sandbox) -> None:
    async def scenario() -> None:
        with pytest.raises(FileNotFoundError) as missing:
            await box.read_file(ReadRequest("no/such.txt"))
        assert missing.value.filename == "no/such.txt" and str(box.workspace) not in str(missing.value)
        await box.make_dirs("folder")
        with pytest.raises(IsADirectoryError):
            await box.read_file(ReadRequest("folder"))
        with pytest.raises(IsADirectoryError):
            await box.write_file(WriteRequest("folder", "x"))
        with pytest.raises(FileNotFoundError):
            await box.write_file(WriteRequest("new/f.txt", "x", make_parents=False))

    asyncio.run(scenario())


def test_caps_offsets_and_special_files(box: Sandbox) -> None:
    sh(box, "seq 1 100000 > big.txt; mkfifo pipe; for i in $(seq 1 30); do touch f$i; done")

    async def scenario() -> None:
        head = await box.read_file(ReadRequest("big.txt", max_bytes=10))
        assert head.data == b"1\n2\n3\n4\n5\n" and head.truncated and head.size == 588895
        tail = await box.read_file(ReadRequest("big.txt", max_bytes=100, offset=-7))
        assert tail.data == b"100000\n" and tail.truncated
        with pytest.raises(FileTooLarge):
            await box.write_file(WriteRequest("huge.bin", b"\0" * ((1 << 20) + 1)))
        assert not await box.exists("huge.bin")
        with pytest.raises(NotARegularFile):  # a FIFO would block a reader for ever
            await box.read_file(ReadRequest("pipe"))
        listing = await box.list_files(ListRequest(limit=5))
        assert len(listing.entries) == 5 and listing.truncated

    asyncio.run(asyncio.wait_for(scenario(), 20))


def test_file_tools_use_the_api_for_the_home_too(box: Sandbox) -> None:
    toolbox = build_toolbox(["file", "code"], ToolContext(box))

    def use(name: str, **arguments: object) -> str:
        return asyncio.run(toolbox.call(ToolCall("c", name, dict(arguments)))).content

    written = json.loads(use("write_file", path="~/plan.md", content="step 1\n"))
    assert written == {"path": f"{box.info.visible_home}/plan.md", "bytes": 7}
    assert use("read_file", path="~/plan.md") == "     1\tstep 1"
    assert "replaced" in use("patch", path="~/plan.md", old_string="1", new_string="2")
    out = json.loads(use("execute_code", code="import sys; print('out'); sys.exit('boom')"))
    assert out == {"stdout": "out\n", "stderr": "boom\n", "exit_code": 1}
    assert sh(box, "ls -A ~/.trajforge | grep -c code || true").strip() == "0"  # the program and its stderr removed


@contextlib.contextmanager
def _open_files_limit(spare: int) -> Iterator[None]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    lowest_free = os.open("/dev/null", os.O_RDONLY)  # open() takes the lowest free number; the limit is on numbers
    os.close(lowest_free)
    resource.setrlimit(resource.RLIMIT_NOFILE, (lowest_free + spare, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_running_out_of_descriptors_is_the_hosts_failure(box: Sandbox) -> None:
    toolbox = build_toolbox(["file"], ToolContext(box))
    asyncio.run(box.write_file(WriteRequest("a/b/c/d.txt", "x")))

    async def scenario() -> None:
        with _open_files_limit(spare=1):
            with pytest.raises(HostFailure, match="Too many open files"):
                await box.read_file(ReadRequest("a/b/c/d.txt"))
            with pytest.raises(HostFailure):  # the toolbox lets it through: the model never reads it
                await toolbox.call(ToolCall("c", "read_file", {"path": "a/b/c/d.txt"}))

    asyncio.run(scenario())


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 512 KiB tmpfs (root only), to fill."""
    mount = tmp_path / "disk"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mount)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_full_disk_ends_the_episode_as_error_not_as_a_tool_result(tiny_disk: Path, backend: str) -> None:
    script = [
        reply(calls=[call("write_file", {"path": "fill.bin", "content": "x" * (900 << 10)})]),
        reply("done"),
    ]

    async def scenario(server: ScriptedServer) -> tuple[str, str, list[str]]:
        config = SandboxConfig(backend=backend, parent=tiny_disk)  # type: ignore[arg-type]
        sandbox = await SandboxFactory(config).create()
        policy = OpenAIPolicy(ModelConfig(server.url, "scripted", backoff_base=0.01))
        try:
            toolbox = build_toolbox(["file"], ToolContext(sandbox))
            episode = await run_episode(TASK, policy, toolbox, sandbox, EpisodeLimits(max_turns=4))
        finally:
            await sandbox.close()
            await policy.close()
        answers = [str(m.content) for m in episode.messages if m.role == "tool"]
        return episode.finish.value, episode.error or "", answers

    with ScriptedServer(script) as server:
        finish, detail, answers = asyncio.run(scenario(server))
    assert finish == Finish.ERROR.value and "No space left" in detail, detail
    assert not any("space" in answer for answer in answers)  # nothing the model would be trained on


def test_locate_names_one_file_however_it_is_written(box: Sandbox) -> None:
    sh(box, "mkdir -p d && touch d/f && ln -s d/f link && ln -s / out")
    home = box.info.visible_home
    assert len({box.locate(p) for p in ("d/f", "./d//f", "link", f"{box.info.visible_workspace}/d/f")}) == 1
    assert box.locate("~/notes.md") == box.locate(f"{home}/notes.md") != box.locate("notes.md")
    with pytest.raises(PathOutsideWorkspace):
        box.locate("out/etc/passwd")
