"""Screenshots browser tools saved in the workspace are kept in the run folder, where the viewer finds them."""

from __future__ import annotations

import asyncio
from pathlib import Path

from trajforge.runner.task_episode import keep_screenshots
from trajforge.sandbox import SandboxConfig, SandboxFactory, WriteRequest

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def test_screenshots_are_copied_by_name(tmp_path: Path) -> None:
    async def scenario() -> tuple[int, int]:
        box = await SandboxFactory(SandboxConfig(backend="local")).create()
        try:
            none = await keep_screenshots(box, tmp_path / "none")  # no screenshots/ folder: nothing, no error
            await box.write_file(WriteRequest("screenshots/browser_screenshot_1.png", PNG))
            await box.write_file(WriteRequest("screenshots/notes.txt", "not an image"))
            return none, await keep_screenshots(box, tmp_path / "kept")
        finally:
            await box.close()

    none, kept = asyncio.run(scenario())
    assert (none, kept) == (0, 1) and not (tmp_path / "none").exists()
    assert [p.name for p in (tmp_path / "kept").iterdir()] == ["browser_screenshot_1.png"]
    assert (tmp_path / "kept" / "browser_screenshot_1.png").read_bytes() == PNG
