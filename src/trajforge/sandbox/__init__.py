"""Isolated execution: a workspace per episode, limits, and backends (local, bubblewrap)."""

from trajforge.sandbox.backends import Backend, BwrapSandbox, LocalSandbox, SandboxConfig, SandboxFactory
from trajforge.sandbox.base import (
    ExecRequest,
    ExecResult,
    Limits,
    PathOutsideWorkspace,
    Sandbox,
    SandboxError,
    SandboxInfo,
    SandboxUnavailable,
)
from trajforge.sandbox.uids import UidLease, UidPool, UidPoolError
from trajforge.sandbox.workspaces import remove_stale_workspaces

__all__ = [
    "Backend",
    "BwrapSandbox",
    "ExecRequest",
    "ExecResult",
    "Limits",
    "LocalSandbox",
    "PathOutsideWorkspace",
    "Sandbox",
    "SandboxConfig",
    "SandboxError",
    "SandboxFactory",
    "SandboxInfo",
    "SandboxUnavailable",
    "UidLease",
    "UidPool",
    "UidPoolError",
    "remove_stale_workspaces",
]
