"""The two backends and the factory that picks one by configuration."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shutil
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from trajforge.sandbox.base import ExecRequest, Limits, Sandbox, SandboxError, SandboxInfo, SandboxUnavailable
from trajforge.sandbox.process import ProcessSandbox
from trajforge.sandbox.procs import kill_uid
from trajforge.sandbox.uids import UidLease, UidPool
from trajforge.sandbox.workspaces import make_sandbox_dirs

Backend = Literal["auto", "local", "bwrap"]
AGENT_USER = "agent"
AGENT_UID = 1000
VISIBLE_WORKSPACE = PurePosixPath("/workspace")
VISIBLE_HOME = PurePosixPath("/home/agent")
PASSWD = (
    "root:x:0:0:root:/root:/bin/bash\n"
    f"{AGENT_USER}:x:{AGENT_UID}:{AGENT_UID}:{AGENT_USER}:{VISIBLE_HOME}:/bin/bash\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
)
GROUP = f"root:x:0:\n{AGENT_USER}:x:{AGENT_UID}:\nnogroup:x:65534:\n"
_REPLACED = {"dev", "proc", "tmp", "home", VISIBLE_WORKSPACE.name}


class LocalSandbox(ProcessSandbox):
    """Child processes on the host: limits and a scrubbed environment, but the file system
    and the network are the host's (only a uid of its own, when run as root, protects files)."""


class BwrapSandbox(ProcessSandbox):
    """Child processes inside bubblewrap: the system read-only, the workspace read-write at `/workspace`,
    HOME at `/home/agent`, user `agent` (uid 1000), a private /tmp, a pid namespace with its own /proc,
    no network (a loopback of its own) unless allowed, dying with trajforge. Fixed paths and names keep
    traces free of per-episode noise."""

    uses_pid_namespace = True

    def __init__(
        self,
        info: SandboxInfo,
        root: Path,
        limits: Limits,
        keep: bool,
        network: bool,
        lease: UidLease | None = None,
    ) -> None:
        super().__init__(info, root, limits, keep, lease)
        self._network = network
        for name, text in (("passwd", PASSWD), ("group", GROUP)):
            (root / name).write_text(text, encoding="utf-8")

    def environment(self) -> dict[str, str]:
        """The base environment, with the fixed user's name."""
        return {**super().environment(), "USER": AGENT_USER, "LOGNAME": AGENT_USER}

    def shell_argv(self) -> list[str]:
        """bwrap around the persistent shell."""
        argv = [
            *_system_binds(),
            "--dev", "/dev",
            "--proc", "/proc",
            "--tmpfs", "/tmp",
            "--tmpfs", "/home",
            "--bind", str(self.info.workspace), str(self.info.visible_workspace),
            "--bind", str(self.info.home), str(self.info.visible_home),
            "--ro-bind", str(self._root / "passwd"), "/etc/passwd",
            "--ro-bind", str(self._root / "group"), "/etc/group",
            "--remount-ro", "/",
            "--unshare-user", "--uid", str(AGENT_UID), "--gid", str(AGENT_UID),
            "--unshare-pid",
            "--unshare-ipc", "--unshare-uts", "--hostname", "sandbox", "--unshare-cgroup-try",
            "--die-with-parent",
            "--new-session",
            "--chdir", str(self.info.visible_workspace),
        ]  # fmt: skip
        if not self._network:
            argv.append("--unshare-net")
        return ["bwrap", *argv, "--", *super().shell_argv()]


def _system_binds() -> list[str]:
    """The host's top-level folders read-only (links as links), except those the sandbox replaces.

    One by one on bubblewrap's own empty root rather than `/` at once, so that
    `/workspace` can be made in it.
    """
    argv: list[str] = []
    with os.scandir("/") as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            if entry.name in _REPLACED:
                continue
            if entry.is_symlink():
                argv += ["--symlink", os.readlink(entry.path), entry.path]
            elif entry.is_dir():
                argv += ["--ro-bind-try", entry.path, entry.path]
    return argv


@dataclass(frozen=True)
class SandboxConfig:
    """How episodes' sandboxes are made."""

    backend: Backend = "auto"
    """`bwrap` (bubblewrap isolation), `local` (limits only) or `auto` (bwrap where it works)."""
    limits: Limits = field(default_factory=Limits)
    keep_workspace: bool = False
    """Leave the workspace on disk after the episode, for inspection."""
    network: bool = False
    """Let commands reach the network (bwrap only; the local backend cannot take it away)."""
    parent: Path | None = None
    """Where workspaces are made (default: the system's temporary directory)."""


class SandboxFactory:
    """Makes sandboxes for one run; checks once whether bubblewrap works here."""

    def __init__(self, config: SandboxConfig, uids: UidPool | None = None) -> None:
        """`uids`: where sandboxes' uids come from when running as root (default: the machine's pool)."""
        self.config = config
        self._bwrap_probed = False
        self._bwrap_problem: str | None = None
        self._uids = (uids or UidPool()) if os.geteuid() == 0 else None

    async def backend(self) -> Literal["local", "bwrap"]:
        """The backend `create` will use; raises SandboxUnavailable when bwrap is asked for and fails."""
        if self.config.backend == "local":
            return "local"
        problem = await self._probe_bwrap()
        if problem is None:
            return "bwrap"
        if self.config.backend == "bwrap":
            raise SandboxUnavailable(f"bubblewrap cannot run here: {problem}")
        return "local"

    async def _probe_bwrap(self) -> str | None:
        if not self._bwrap_probed:
            self._bwrap_problem = await _bwrap_problem(self._uids)
            self._bwrap_probed = True
        return self._bwrap_problem

    async def create(self) -> Sandbox:
        """A fresh sandbox: new workspace, new HOME, its own uid where possible."""
        _watch_children_with_pidfd()
        backend = await self.backend()
        lease = await self._lease_uid()
        uid = lease.uid if lease is not None else None
        try:
            dirs = make_sandbox_dirs(self.config.parent, uid)
        except BaseException:
            if lease is not None:
                lease.release()
            raise
        isolated = backend == "bwrap"
        info = SandboxInfo(
            backend=backend,
            workspace=dirs.workspace,
            home=dirs.home,
            isolates_filesystem=isolated,
            isolates_network=isolated and not self.config.network,
            uid=uid,
            visible_workspace=VISIBLE_WORKSPACE if isolated else PurePosixPath(dirs.workspace),
            visible_home=VISIBLE_HOME if isolated else PurePosixPath(dirs.home),
            user=AGENT_USER if isolated else "",
        )
        if not isolated:
            info.notes.append("local backend: the file system and network are not isolated")
            info.notes.append(f"local backend: paths are the host's (the workspace is {dirs.workspace})")
        config = self.config
        if isolated:
            return BwrapSandbox(info, dirs.root, config.limits, config.keep_workspace, config.network, lease)
        return LocalSandbox(info, dirs.root, config.limits, config.keep_workspace, lease)

    async def _lease_uid(self) -> UidLease | None:
        """A uid of its own for the new sandbox when running as root, else None (commands run as us)."""
        if self._uids is None:
            return None
        unusable: list[UidLease] = []  # held while looking further, so the pool does not lend them again at once
        try:
            while True:
                lease = self._uids.acquire()
                # A dirty uid's last holder died or could not kill everything: that must not meet the new episode.
                if not lease.dirty or await kill_uid(lease.uid):
                    return lease
                unusable.append(lease)
        finally:
            for lease in unusable:
                lease.release(clean=False)


async def _bwrap_problem(uids: UidPool | None) -> str | None:
    """Why bubblewrap cannot run a command here, or None when it can."""
    if shutil.which("bwrap") is None:
        return "bwrap is not installed (Debian package bubblewrap)"
    factory = SandboxFactory(SandboxConfig(backend="local"), uids)
    probe = await factory.create()
    try:
        info = dataclasses.replace(probe.info, visible_workspace=VISIBLE_WORKSPACE, visible_home=VISIBLE_HOME)
        sandbox = BwrapSandbox(info, probe.workspace.parent, Limits(), keep=False, network=False)
        try:
            result = await sandbox.run(ExecRequest("true", timeout=10))
        except SandboxError as exc:
            return str(exc)
        finally:
            await sandbox.close()
        if result.exit_code != 0:
            return f"a trial command failed: {result.output.strip()[:200]}"
        return None
    finally:
        await probe.close()


def _watch_children_with_pidfd() -> None:
    """On Python 3.11, learn of exited commands through pidfds rather than a thread per process.

    3.11's default child watcher starts and joins a thread for every command,
    which costs the event loop over a millisecond per command under load
    (measured); 3.12 uses pidfds by itself, so this only acts on 3.11. The
    watcher is process-wide, so it must serve every event loop (a browser
    driver started from another thread's loop, a later `asyncio.run`): 3.11's
    own PidfdChildWatcher is bound to the one loop it was attached to.
    """
    if sys.version_info >= (3, 12) or not hasattr(os, "pidfd_open"):
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        if not isinstance(asyncio.get_child_watcher(), _AnyLoopPidfdWatcher):
            asyncio.set_child_watcher(_AnyLoopPidfdWatcher())


class _AnyLoopPidfdWatcher(asyncio.AbstractChildWatcher):
    """3.12's pidfd child watcher: each child is watched on the loop that started it."""

    def __enter__(self) -> _AnyLoopPidfdWatcher:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def is_active(self) -> bool:
        return True

    def close(self) -> None:
        return None

    def attach_loop(self, loop: asyncio.AbstractEventLoop | None) -> None:
        return None

    def add_child_handler(self, pid: int, callback: Any, *args: Any) -> None:  # type: ignore[override]
        loop = asyncio.get_running_loop()
        pidfd = os.pidfd_open(pid)
        loop._add_reader(pidfd, self._do_wait, pid, pidfd, callback, args)  # type: ignore[attr-defined]

    def _do_wait(self, pid: int, pidfd: int, callback: Any, args: tuple[Any, ...]) -> None:
        asyncio.get_running_loop()._remove_reader(pidfd)  # type: ignore[attr-defined]
        try:
            _, status = os.waitpid(pid, 0)
            code = os.waitstatus_to_exitcode(status)
        except ChildProcessError:  # reaped elsewhere
            code = 255
        os.close(pidfd)
        callback(pid, code, *args)

    def remove_child_handler(self, pid: int) -> bool:
        return True  # the pidfd's reader removes itself when the child exits
