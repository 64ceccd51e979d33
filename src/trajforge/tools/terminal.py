"""The `terminal` tool: a shell command in the sandbox, state kept between calls."""

from __future__ import annotations

from typing import Any

from trajforge.sandbox import ExecRequest, ExecResult
from trajforge.sandbox.process import SHELL_ENDED_NOTE
from trajforge.tools.registry import ToolContext, tool
from trajforge.trace import Flag
from trajforge.trace.turns import dumps

MAX_TIMEOUT = 600


def exec_payload(result: ExecResult, ctx: ToolContext, timeout: float) -> dict[str, Any]:
    """The JSON a command's result is reported as, raising the truncation flag when output was cut."""
    payload: dict[str, Any] = {"output": result.output, "exit_code": result.exit_code}
    if result.omitted_bytes:
        ctx.flags.add(Flag.TRUNCATED_TOOL_OUTPUT)
    if result.timed_out:
        payload["error"] = f"timed out after {timeout:g} s; the command and its children were killed"
    elif result.output_capped:
        payload["error"] = "output limit reached; the command was killed"
    if result.shell_ended:
        payload["note"] = SHELL_ENDED_NOTE
    return payload


@tool("terminal")
async def terminal(ctx: ToolContext, command: str, timeout: int = 60) -> str:
    """Run a bash command in the workspace and return its output (stdout and stderr) and exit code.

    The working directory and exported variables persist between calls. Long
    output keeps its beginning and end.

    Args:
        command: The bash command to run.
        timeout: Seconds before the command is killed (at most 600).
    """
    limit = max(1, min(timeout, MAX_TIMEOUT))
    result = await ctx.sandbox.run(ExecRequest(command, timeout=limit))
    return dumps(exec_payload(result, ctx, limit))
