"""The pidfd child watcher the sandbox installs (Python 3.11) serves every event loop, not just the first."""

from __future__ import annotations

import asyncio
import threading

from trajforge.sandbox import ExecRequest, SandboxConfig, SandboxFactory


async def _sandbox_echo() -> str:
    box = await SandboxFactory(SandboxConfig(backend="local")).create()
    try:
        return (await box.run(ExecRequest("echo hi"))).output
    finally:
        await box.close()


async def _subprocess() -> int:
    process = await asyncio.create_subprocess_exec("true")
    return await process.wait()


def test_subprocesses_work_on_later_loops_and_other_threads() -> None:
    assert asyncio.run(_sandbox_echo()) == "hi\n"  # installs the watcher on this (then closed) loop
    codes: list[int] = []
    thread = threading.Thread(target=lambda: codes.append(asyncio.run(_subprocess())))
    thread.start()
    thread.join(30)
    assert codes == [0]  # a browser driver started from another thread's loop (Playwright) works
    assert asyncio.run(_subprocess()) == 0 and asyncio.run(_sandbox_echo()) == "hi\n"
