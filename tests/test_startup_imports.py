"""`generate` without a browser task never imports Playwright, Starlette or the openai SDK (issue 10: start-up).

Each check runs in a fresh interpreter and reads its `sys.modules` after the work.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .test_cli_generate import SPEC

HEAVY = (
    *("playwright", "starlette", "uvicorn", "openai", "httpx", "httpx2", "httpcore", "httpcore2", "croniter"),
    *("trajforge.trace.textformats", "trajforge.policy.native"),
)
"""Not needed without a browser, a site, a vision call, a cron schedule (croniter runs `file` on import), or a
model-native tool format (`--tool-format`: the formats' parsers)."""


def _loaded_after(code: str) -> list[str]:
    """The heavy top-level packages imported once `code` has run in a fresh interpreter."""
    probe = f"{code}\nimport sys\nprint('LOADED:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    line = result.stdout.splitlines()[-1]
    assert line.startswith("LOADED:"), result.stdout[-2000:]
    return [m for m in line.removeprefix("LOADED:").split(",") if m]


def test_importing_the_cli_and_the_runner_imports_no_browser_site_or_sdk() -> None:
    assert _loaded_after("import trajforge.cli.main, trajforge.cli.generate, trajforge.runner, trajforge.tools") == []


def test_a_generate_run_without_browser_tasks_imports_none_of_them(tmp_path: Path) -> None:
    spec = tmp_path / "tasks.yaml"
    spec.write_text(SPEC)
    out = tmp_path / "out"
    args = ["generate", "--tasks", str(spec), "--policy", "oracle", "--out", str(out), "--sandbox", "local", "--quiet"]
    code = (
        "import sys\nfrom trajforge.cli.main import main\n"
        f"sys.argv = ['trajforge', *{args!r}]\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    assert exc.code in (0, None), exc.code\n"
    )
    assert _loaded_after(code) == []  # one episode ran (file tools, a check), then the same over the finished folder
    assert list((out / "runs" / "oracle").glob("episodes-*.jsonl"))
    assert _loaded_after(code) == []


def test_the_browser_toolset_still_loads_when_asked_for() -> None:
    code = (
        "from trajforge.tools import TOOLSETS, tools_of\n"
        "assert 'browser' in TOOLSETS\n"
        "import sys; assert 'playwright' not in sys.modules\n"
        "names = [t.name for t in tools_of(['browser'])]\n"
        "assert names[0] == 'browser_navigate' and len(names) == 10, names\n"
        "from trajforge.tools.browser import BrowserSession, BROWSER_TOOLS\n"
        "assert BROWSER_TOOLS == tuple(TOOLSETS['browser'])\n"
    )
    assert "playwright" in _loaded_after(code)
