"""The `execute_code` tool: a Python program run in the sandbox."""

from __future__ import annotations

import shlex

from trajforge.sandbox import ExecRequest
from trajforge.tools.registry import ToolContext, tool
from trajforge.tools.terminal import MAX_TIMEOUT, exec_payload
from trajforge.trace.turns import dumps


@tool("code")
async def execute_code(ctx: ToolContext, code: str, timeout: int = 60) -> str:
    """Run a Python 3 program from the workspace root and return its stdout, stderr and exit code.

    Args:
        code: The complete Python source to run.
        timeout: Seconds before the program is killed (at most 600).
    """
    # Numbered, not random: the program's path shows in tracebacks, and repeats must read the same.
    source = ctx.sandbox.scratch_file("code", ".py")
    errors = source.with_suffix(".err")
    ctx.sandbox.write_text(source, code)
    limit = max(1, min(timeout, MAX_TIMEOUT))
    try:
        command = f"python3 {shlex.quote(ctx.sandbox.visible(source))} 2> {shlex.quote(ctx.sandbox.visible(errors))}"
        result = await ctx.sandbox.run(ExecRequest(command, timeout=limit, fresh=True))
        stderr = errors.read_text(encoding="utf-8", errors="replace") if errors.exists() else ""
    finally:
        source.unlink(missing_ok=True)
        errors.unlink(missing_ok=True)
    payload = exec_payload(result, ctx, limit)
    return dumps({"stdout": payload.pop("output"), "stderr": stderr[-20000:], **payload})
