"""Sandbox folders on disk: made with an owner file, and removed when their owner died.

Each sandbox lives in `<parent>/trajforge-XXXX/` with `workspace/` and `home/`
inside. The owner file beside them names the trajforge process that made it
(pid, host and the process's start time, so that a reused pid is not taken for
the owner) and the sandbox's uid. A folder whose owner process is gone was
left by a kill -9, a lost terminal or a crash; `remove_stale_workspaces` kills
what still runs there and removes it. Folders without an owner file (not ours,
or kept on purpose) are never touched.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from trajforge.sandbox.procs import identity_argv, kill_tree, pids_of_uid, pids_with_marker, start_time
from trajforge.sandbox.uids import UidPool

PREFIX = "trajforge-"
OWNER_FILE = ".trajforge-owner"


@dataclass(frozen=True)
class SandboxDirs:
    """The three folders of one sandbox on the host."""

    root: Path
    workspace: Path
    home: Path


def make_sandbox_dirs(parent: Path | None, uid: int | None) -> SandboxDirs:
    """Create a sandbox's folders with its owner file; workspace and home belong to `uid` when given.

    The root itself stays ours (mode 755), so the sandbox's user cannot rewrite the owner file.
    """
    root = Path(tempfile.mkdtemp(prefix=PREFIX, dir=parent))
    root.chmod(0o755)
    workspace = root / "workspace"
    home = root / "home"  # beside the workspace, so git status or find in it never see our state
    workspace.mkdir()
    (home / ".trajforge").mkdir(parents=True)
    if uid is not None:
        for path in (workspace, home, home / ".trajforge"):
            os.chown(path, uid, uid)
    owner = {"pid": os.getpid(), "host": socket.gethostname(), "start": start_time(os.getpid()), "uid": uid}
    (root / OWNER_FILE).write_text(json.dumps(owner) + "\n", encoding="utf-8")
    return SandboxDirs(root, workspace, home)


def disown(root: Path) -> None:
    """Take the owner file away: the folder is kept on purpose and no cleanup may remove it."""
    (root / OWNER_FILE).unlink(missing_ok=True)


def remove_stale_workspaces(parent: Path | None = None, uids: UidPool | None = None) -> int:
    """Remove the sandbox folders in `parent` (default: the temporary directory) whose owner died.

    What still runs in such a sandbox is killed first: every process of its uid
    when running as root (unless the uid is lent to a living sandbox again, whose
    own start killed them already), else every process carrying its marker.
    Returns how many folders were removed.
    """
    folder = parent or Path(tempfile.gettempdir())
    removed = 0
    for root in sorted(folder.glob(f"{PREFIX}*")):
        owner = _stale_owner(root)
        if owner is None:
            continue
        _kill_leftovers(root, owner.get("uid"), uids)
        shutil.rmtree(root, ignore_errors=True)
        removed += not root.exists()
    return removed


def _stale_owner(root: Path) -> dict[str, object] | None:
    """The owner record of `root` when it is ours and its owner process is gone, else None."""
    try:
        if root.is_symlink() or not root.is_dir():
            return None
        owner = json.loads((root / OWNER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(owner, dict) or owner.get("host") != socket.gethostname():
        return None
    pid = owner.get("pid")
    if not isinstance(pid, int) or (start_time(pid) is not None and start_time(pid) == owner.get("start")):
        return None  # its owner lives
    return owner


def _kill_leftovers(root: Path, uid: object, uids: UidPool | None) -> None:
    if isinstance(uid, int) and os.geteuid() == 0:
        lease = (uids or UidPool()).take(uid)
        if lease is None:
            return  # lent to a living sandbox again: the lending killed the dead one's processes
        try:
            deadline = time.monotonic() + 2  # a process forking at that moment may leave a child: repeat
            while pids_of_uid(uid) and time.monotonic() < deadline:
                subprocess.run([*identity_argv(uid), "kill", "-KILL", "-1"], check=False, capture_output=True)
        finally:
            lease.release()
        return
    for pid in pids_with_marker(marker_of(root)):
        kill_tree(pid)


def marker_of(root: Path) -> str:
    """The value of TRAJFORGE_SANDBOX in the environment of every command of the sandbox in `root`."""
    return f"trajforge-{root.name}"
