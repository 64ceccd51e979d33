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
from trajforge.sandbox.files import (
    FileContent,
    FileStat,
    FileTooLarge,
    HostFailure,
    Listing,
    ListRequest,
    NotARegularFile,
    ReadRequest,
    RemoveRequest,
    WriteRequest,
    WriteResult,
    is_host_failure,
)
from trajforge.sandbox.uids import UidLease, UidPool, UidPoolError
from trajforge.sandbox.workspaces import remove_stale_workspaces

__all__ = [
    "Backend",
    "BwrapSandbox",
    "ExecRequest",
    "ExecResult",
    "FileContent",
    "FileStat",
    "FileTooLarge",
    "HostFailure",
    "Limits",
    "ListRequest",
    "Listing",
    "LocalSandbox",
    "NotARegularFile",
    "PathOutsideWorkspace",
    "ReadRequest",
    "RemoveRequest",
    "Sandbox",
    "SandboxConfig",
    "SandboxError",
    "SandboxFactory",
    "SandboxInfo",
    "SandboxUnavailable",
    "UidLease",
    "UidPool",
    "UidPoolError",
    "WriteRequest",
    "WriteResult",
    "is_host_failure",
    "remove_stale_workspaces",
]
