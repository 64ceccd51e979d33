"""The `execute_code` tool: a Python program run in the sandbox."""

from __future__ import annotations

import shlex

from trajforge.sandbox import ExecRequest, ReadRequest, RemoveRequest, WriteRequest
from trajforge.tools.registry import ToolContext, tool
from trajforge.tools.terminal import MAX_TIMEOUT, exec_payload
from trajforge.trace.turns import dumps

STDERR_CHARS = 20_000  # the end of a program's stderr kept in the result (where a traceback is)


@tool("code")
async def execute_code(ctx: ToolContext, code: str, timeout: int = 60) -> str:
    """Run a Python 3 program from the workspace root and return its stdout, stderr and exit code.

    Args:
        code: The complete Python source to run.
        timeout: Seconds before the program is killed (at most 600).
    """
    # Numbered, not random: the program's path shows in tracebacks, and repeats must read the same.
    source = ctx.sandbox.scratch_path("code", ".py")
    errors = source.removesuffix(".py") + ".err"
    await ctx.sandbox.write_file(WriteRequest(source, code))
    limit = max(1, min(timeout, MAX_TIMEOUT))
    try:
        command = f"python3 {shlex.quote(source)} 2> {shlex.quote(errors)}"
        result = await ctx.sandbox.run(ExecRequest(command, timeout=limit, fresh=True))
        try:
            # bytes from the end: 4 per character at most, so STDERR_CHARS characters are surely in them
            stderr = (await ctx.sandbox.read_file(ReadRequest(errors, 4 * STDERR_CHARS, -4 * STDERR_CHARS))).text()
        except FileNotFoundError:
            stderr = ""  # the shell could not even open it (the program never ran)
    finally:
        for path in (source, errors):
            await ctx.sandbox.remove(RemoveRequest(path, missing_ok=True))
    payload = exec_payload(result, ctx, limit)
    return dumps({"stdout": payload.pop("output"), "stderr": stderr[-STDERR_CHARS:], **payload})
