"""Workspaces a dead trajforge left behind are removed, with what still runs in them; others are left."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from trajforge.sandbox import ExecRequest, SandboxConfig, SandboxFactory, UidPool, remove_stale_workspaces

from .harness import BACKENDS
from .test_hostile import _running

# A trajforge process that makes a sandbox, starts a background process in it, and waits to be killed.
_OWNER = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from trajforge.sandbox import ExecRequest, SandboxConfig, SandboxFactory, UidPool

    async def main() -> None:
        config = SandboxConfig(backend=sys.argv[3], parent=Path(sys.argv[1]))
        box = await SandboxFactory(config, UidPool(Path(sys.argv[2]), base=500_000, size=1_000)).create()
        await box.run(ExecRequest(f"setsid bash -c 'exec -a left-{sys.argv[4]} sleep 300' >/dev/null 2>&1 &"))
        print(box.workspace.parent, flush=True)
        await asyncio.sleep(300)

    asyncio.run(main())
    """
)


def _eventually_running(name: str) -> bool:
    deadline = time.monotonic() + 10  # the background process may not have started yet
    while not _running(name):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def parent() -> Iterator[Path]:
    """A folder for workspaces that sandbox users can pass through (pytest's tmp_path is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="tf-stale-test-"))
    folder.chmod(0o711)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_a_killed_owners_workspace_and_processes_are_removed(parent: Path, tmp_path: Path) -> None:
    pool = tmp_path / "uids"
    marker = uuid.uuid4().hex[:8]
    owner = subprocess.Popen(
        [sys.executable, "-c", _OWNER, str(parent), str(pool), BACKENDS[-1], marker], stdout=subprocess.PIPE, text=True
    )
    assert owner.stdout is not None
    dead_root = Path(owner.stdout.readline().strip())
    assert dead_root.is_dir() and _eventually_running(f"left-{marker}")
    os.kill(owner.pid, signal.SIGKILL)
    owner.wait()

    not_ours = parent / "trajforge-notours"
    not_ours.mkdir()
    reused_pid = parent / "trajforge-reusedpid"  # its pid lives, but as another process (other start time)
    reused_pid.mkdir()
    (reused_pid / ".trajforge-owner").write_text(json.dumps({"pid": os.getpid(), "host": os.uname().nodename,
                                                              "start": 1, "uid": None}))  # fmt: skip

    async def scenario() -> None:
        factory = SandboxFactory(SandboxConfig(backend="local", parent=parent), UidPool(pool, base=500_000, size=1_000))
        live = await factory.create()
        try:
            assert remove_stale_workspaces(parent, UidPool(pool, base=500_000, size=1_000)) == 2
            assert live.workspace.is_dir()
            assert (await live.run(ExecRequest("echo alive"))).output == "alive\n"
        finally:
            await live.close()

    asyncio.run(scenario())
    assert not dead_root.exists() and not reused_pid.exists()
    assert not_ours.is_dir()
    assert not _running(f"left-{marker}")


def test_a_kept_workspace_is_never_stale(tmp_path: Path) -> None:
    async def scenario() -> Path:
        box = await SandboxFactory(SandboxConfig(backend="local", parent=tmp_path, keep_workspace=True)).create()
        await box.close()
        return box.workspace

    kept = asyncio.run(scenario())
    assert remove_stale_workspaces(tmp_path) == 0
    assert kept.is_dir()
