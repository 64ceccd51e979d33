"""Hostile commands stay contained, under every backend available; the host is untouched afterwards."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from trajforge.sandbox import ExecRequest, Limits, Sandbox, SandboxConfig, SandboxFactory
from trajforge.sandbox.procs import pids_of_uid, pids_with_marker
from trajforge.tools import ToolContext, build_toolbox
from trajforge.trace import ToolCall

from .harness import BACKENDS

AS_ROOT = os.geteuid() == 0
needs_own_uid = pytest.mark.skipif(not AS_ROOT, reason="containment by uid needs trajforge to run as root")
LIMITS = Limits(cpu_seconds=20, memory_bytes=1 << 30, file_bytes=16 << 20, processes=64, output_bytes=1 << 20)


@pytest.fixture(params=BACKENDS)
def sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    factory = SandboxFactory(SandboxConfig(backend=request.param, limits=LIMITS))
    box = asyncio.run(factory.create())
    yield box
    asyncio.run(box.close())


def sh(box: Sandbox, command: str, timeout: float = 20) -> tuple[str, int | None, bool]:
    result = asyncio.run(box.run(ExecRequest(command, timeout=timeout)))
    return result.output, result.exit_code, result.timed_out


def tool(box: Sandbox, name: str, **arguments: object) -> dict[str, object]:
    toolbox = build_toolbox(["terminal", "file", "code"], ToolContext(box))
    result = asyncio.run(toolbox.call(ToolCall("c1", name, dict(arguments))))
    return json.loads(result.content) if result.content.startswith("{") else {"text": result.content}


@pytest.fixture
def host_dir() -> Iterator[Path]:
    """A folder outside /tmp (which bwrap replaces), like a user's files."""
    folder = Path.home() / f".trajforge-hostile-{uuid.uuid4().hex[:8]}"
    folder.mkdir(mode=0o700)
    yield folder
    for file in folder.iterdir():
        file.unlink()
    folder.rmdir()


def isolates_files(box: Sandbox) -> bool:
    return box.info.isolates_filesystem or (AS_ROOT and box.info.uid is not None)


def test_writing_outside_the_workspace(sandbox: Sandbox, host_dir: Path) -> None:
    if not isolates_files(sandbox):
        pytest.skip("the local backend without its own uid does not isolate files")
    output, code, _ = sh(sandbox, f"echo pwned > {host_dir}/pwned; echo pwned > /etc/trajforge-pwned; echo $?")
    assert not (host_dir / "pwned").exists() and not Path("/etc/trajforge-pwned").exists()
    assert code == 0 and output.strip().endswith("1")


def test_reading_a_planted_host_file(sandbox: Sandbox, host_dir: Path) -> None:
    secret = host_dir / "secret.txt"
    secret.write_text("planted-secret-4711")
    secret.chmod(0o600)
    if not isolates_files(sandbox):
        pytest.skip("the local backend without its own uid does not isolate files")
    output, _, _ = sh(sandbox, f"cat {secret}; cat /root/.bash_history 2>&1 | head -1")
    assert "planted-secret-4711" not in output
    assert "outside the workspace" in str(tool(sandbox, "read_file", path=str(secret))["error"])


def test_secrets_of_the_parent_environment(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "parent-secret-value-0815")
    output, code, _ = sh(sandbox, "env; cat /proc/$PPID/environ 2>/dev/null | tr '\\0' '\\n'")
    assert code == 0
    assert "parent-secret-value-0815" not in output and "AWS_SECRET" not in output


def test_file_tool_escapes(sandbox: Sandbox, host_dir: Path) -> None:
    (host_dir / "target.txt").write_text("host file")
    sh(sandbox, f"ln -s {host_dir}/target.txt out_link; ln -s {host_dir} out_dir; ln -s /etc/passwd pw")
    for path in ["../../etc/passwd", "/etc/passwd", "out_link", "out_dir/target.txt", "pw", "sub/../../x"]:
        assert "outside the workspace" in str(tool(sandbox, "read_file", path=path).get("error")), path
    for path in ["out_link", "out_dir/new.txt", "../escape.txt", f"{host_dir}/new.txt"]:
        assert "outside the workspace" in str(tool(sandbox, "write_file", path=path, content="x").get("error")), path
    assert "outside" in str(tool(sandbox, "patch", path="out_link", old_string="host", new_string="x").get("error"))
    assert (host_dir / "target.txt").read_text() == "host file"
    assert sorted(p.name for p in host_dir.iterdir()) == ["target.txt"]
    found = tool(sandbox, "search_files", pattern="host file")
    assert found == {"text": "no matches"}  # links out of the workspace are not followed


@needs_own_uid
def test_fork_bomb(sandbox: Sandbox) -> None:
    output, _, timed_out = sh(sandbox, ":(){ :|:& };:; sleep 2; echo survived", timeout=15)
    assert "Resource temporarily unavailable" in output or "retry" in output or timed_out
    asyncio.run(sandbox.close())
    assert pids_of_uid(sandbox.info.uid or -1) == []


def test_memory_bomb(sandbox: Sandbox) -> None:
    output, code, _ = sh(sandbox, "python3 -c 'x = bytearray(4 << 30)'")
    assert code != 0 and "MemoryError" in output


def test_disk_fill(sandbox: Sandbox) -> None:
    output, code, _ = sh(sandbox, "dd if=/dev/zero of=big bs=1M count=200 2>&1; ls -l big")
    assert code != 0 or "File size limit exceeded" in output
    assert (sandbox.workspace / "big").stat().st_size <= LIMITS.file_bytes


def test_endless_output(sandbox: Sandbox) -> None:
    result = asyncio.run(sandbox.run(ExecRequest("yes hostile", timeout=30)))
    assert result.output_capped and result.exit_code is None and not result.timed_out
    assert result.omitted_bytes > 0 and "bytes of output omitted" in result.output
    assert len(result.output) < 200_000
    assert "output limit" in str(tool(sandbox, "terminal", command="yes")["error"])


def test_sleep_past_the_timeout(sandbox: Sandbox) -> None:
    result = asyncio.run(sandbox.run(ExecRequest("sleep 60; echo never", timeout=1)))
    assert result.timed_out and result.exit_code is None and result.seconds < 10
    assert "never" not in result.output
    assert "timed out after 1 s" in str(tool(sandbox, "terminal", command="sleep 30", timeout=1)["error"])


def test_background_processes_die_with_the_episode(sandbox: Sandbox) -> None:
    marker = uuid.uuid4().hex[:8]
    sh(
        sandbox,
        f"nohup bash -c 'exec -a nohup-{marker} sleep 998' >/dev/null 2>&1 & "
        f"setsid bash -c 'exec -a bg-{marker} sleep 999' &",
    )
    sh(sandbox, "true")
    assert _running(f"bg-{marker}") and _running(f"nohup-{marker}")
    asyncio.run(sandbox.close())
    assert not _running(f"bg-{marker}") and not _running(f"nohup-{marker}")
    if sandbox.info.uid is not None:
        assert pids_of_uid(sandbox.info.uid) == []
    else:
        assert pids_with_marker(f"trajforge-{sandbox.workspace.parent.name}") == []


def _running(name: str) -> bool:
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and name.encode() in (proc / "cmdline").read_bytes():
                return True
        except OSError:
            continue
    return False


def test_network_is_cut_under_bwrap(sandbox: Sandbox) -> None:
    if sandbox.info.backend != "bwrap":
        pytest.skip("only bubblewrap takes the network away")
    # Only loopback exists inside, and it is not the host's: a server on the host's 127.0.0.1 is unreachable.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        probe = (
            "import socket\n"
            f"s = socket.socket(); s.settimeout(2)\n"
            f"print('reached' if s.connect_ex(('127.0.0.1', {port})) == 0 else 'unreachable')\n"
        )
        output, _, _ = sh(sandbox, f'python3 -c "{probe}"; cat /proc/net/dev')
    assert "unreachable" in output and "reached\n" not in output
    interfaces = [line.split(":")[0].strip() for line in output.splitlines() if ":" in line and "|" not in line]
    assert interfaces == ["lo"], output
