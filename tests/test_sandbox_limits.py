"""Limits are set by the command's own shell before the command runs, and the command cannot raise them."""

from __future__ import annotations

import asyncio

import pytest

from trajforge.sandbox import ExecRequest, Limits, SandboxConfig, SandboxFactory

from .harness import BACKENDS

LIMITS = Limits(cpu_seconds=17, memory_bytes=1 << 30, file_bytes=16 << 20, open_files=200, processes=90)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fresh", [False, True])
def test_limits_hold_and_cannot_be_raised(backend: str, fresh: bool) -> None:
    async def scenario() -> tuple[str, str]:
        box = await SandboxFactory(SandboxConfig(backend=backend, limits=LIMITS)).create()  # type: ignore[arg-type]
        try:
            shown = await box.run(ExecRequest("ulimit -t -v -f -n -u; ulimit -H -t -u", fresh=fresh))
            raised = await box.run(ExecRequest("ulimit -t unlimited || ulimit -u 100000 || echo refused", fresh=fresh))
            return shown.output, raised.output
        finally:
            await box.close()

    shown, raised = asyncio.run(scenario())
    values = [line.rsplit(" ", 1)[-1] for line in shown.splitlines()]
    assert values == ["17", str(1 << 20), str(16 << 10), "200", "90", "17", "90"], shown
    assert raised.strip().endswith("refused"), raised
