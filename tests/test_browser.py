"""The browser tools on a real Chromium: each tool through the scripted model server, blocked hosts,
isolation between episodes, crash and restart, page text that looks like markup, refs and cuts."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Error as PlaywrightError
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from trajforge.policy import ModelConfig, OpenAIPolicy
from trajforge.runner import run_task_episode
from trajforge.runner.browsing import vision_config
from trajforge.sandbox import SandboxConfig, SandboxFactory
from trajforge.tasks import load_tasks
from trajforge.tasks.sites import static_site
from trajforge.tools.browser import SNAPSHOT_LIMIT, BrowserEngine
from trajforge.trace import Flag, ModelInfo, Outcome

from .browser_kit import browsing
from .scripted_server import ScriptedServer, call, reply

pytestmark = pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="Chromium is not installed")


TASK = """
tasks:
- id: browse-all
  category: Browser Automation
  subcategory: navigation
  prompt: Look around {site_url} and {site_url:forms}.
  toolsets: [browser, file]
  fixtures:
    sites: [{app: shop}, {app: forms}]
"""


def _results(episode: Any) -> dict[str, dict[str, Any]]:
    """Each tool result of the episode by its call id."""
    return {m.tool_call_id: json.loads(m.content) for m in episode.messages if m.role == "tool"}


def _vision_or_next(script: list[dict[str, Any]]) -> Any:
    """The scripted model: a request with an image gets a vision answer, others the next scripted reply."""

    def answer(body: dict[str, Any]) -> dict[str, Any]:
        content = body["messages"][-1]["content"]
        if isinstance(content, list) and any(part.get("type") == "image_url" for part in content):
            assert content[1]["image_url"]["url"].startswith("data:image/png;base64,")
            return reply("The top bar shows Home, Products, Cart and About.")
        return script.pop(0)

    return answer


def test_every_tool_end_to_end_through_the_scripted_server(
    tmp_path: Path, loop: asyncio.Runner, engine: BrowserEngine
) -> None:
    (tmp_path / "tasks.yaml").write_text(TASK)
    task = load_tasks([tmp_path / "tasks.yaml"]).tasks[0]
    turns = [
        [call("browser_navigate", {"url": "http://shop.test/"}, "nav")],
        [call("browser_snapshot", {"full": True}, "snap")],
        [
            call("browser_type", {"ref": "@e14", "text": "tea"}, "type"),
            call("browser_press", {"key": "Enter"}, "press"),
        ],
        [call("browser_back", {}, "back")],
        [call("browser_snapshot", {}, "snap-again"), call("browser_scroll", {"direction": "down"}, "scroll")],
        [call("browser_click", {"ref": "@e8"}, "click")],
        [call("browser_get_images", {}, "images"), call("browser_console", {}, "console")],
        [call("browser_console", {"expression": "document.title"}, "eval")],
        [call("browser_vision", {"question": "What links are in the top bar?", "annotate": True}, "vision")],
        [
            call("browser_navigate", {"url": "ftp://files.example/x"}, "bad-url"),
            call("browser_navigate", {"url": "http://forms.test/register"}, "forms"),
        ],
    ]
    script = [reply(reasoning="next", calls=calls) for calls in turns] + [reply("Done.")]
    with ScriptedServer(_vision_or_next(script)) as server:
        model = ModelConfig(server.url, "scripted", timeout=30, backoff_base=0.01)

        async def main() -> Any:
            policy = OpenAIPolicy(model)
            try:
                factory = SandboxFactory(SandboxConfig(backend="local"))
                return await run_task_episode(task, factory, policy, config="t", model=ModelInfo(),
                                              browser=engine, vision=vision_config(model))  # fmt: skip
            finally:
                await policy.close()

        ran = loop.run(main())
    episode = ran.episode
    assert episode.task.prompt == "Look around http://shop.test/ and http://forms.test/."
    results = _results(episode)
    assert results["nav"]["success"] and results["nav"]["title"] == "Home - Tiny Shop"
    assert "[ref=e14]" in results["nav"]["snapshot"] and results["nav"]["element_count"] > 5
    assert 'searchbox "Search products" [ref=e14]' in results["snap"]["snapshot"]
    assert results["type"] == {"success": True, "typed": "tea", "element": "@e14",
                               "url": "http://shop.test/", "title": "Home - Tiny Shop"}  # fmt: skip
    assert (
        results["press"]["url"] == "http://shop.test/search?q=tea" and results["press"]["title"] == "Search - Tiny Shop"
    )
    assert results["back"]["url"] == "http://shop.test/"
    assert results["scroll"]["scrolled"] == "down"
    assert results["click"] == {"success": True, "clicked": "@e8", "url": "http://shop.test/about",
                                "title": "About - Tiny Shop"}  # fmt: skip
    assert results["images"]["images"] == [
        {"src": "http://shop.test/static/logo.png", "alt": "Tiny Shop logo", "width": 0, "height": 0}
    ]
    errors = [m for m in results["console"]["console_messages"] if m["type"] == "error"]
    assert errors and errors[0]["url"] == "http://shop.test/static/logo.png"
    assert results["eval"]["result"] == "About - Tiny Shop" and results["eval"]["result_type"] == "str"
    vision = results["vision"]
    assert vision["analysis"] == "The top bar shows Home, Products, Cart and About."
    assert vision["screenshot_path"].endswith("screenshots/browser_screenshot_1.png")
    assert [a["ref"] for a in vision["annotations"]][:4] == ["@e5", "@e6", "@e7", "@e8"]
    assert results["bad-url"]["error"] == "only http(s) URLs can be opened, not ftp: ftp://files.example/x"
    assert results["forms"]["title"] == "Register - Lyon Tea Festival"
    assert episode.run["browser"] == {
        **{"actions": 14, "blocked_requests": 1, "page_crashes": 0, "browser_restarts": 0},
        "executable": "chromium",  # the tests' rule: /usr/bin/chromium (conftest), even where the shell is installed
    }
    assert len(server.requests) == len(turns) + 2  # the turns, the final answer and one vision request


def test_vision_without_a_model_says_so_and_keeps_the_screenshot(loop: asyncio.Runner, engine: BrowserEngine) -> None:
    async def main() -> dict[str, Any]:
        async with browsing(engine=engine) as b:
            await b.call("browser_navigate", url="http://shop.test/")
            result = await b.call("browser_vision", question="What colour is the header?")
            assert (b.sandbox.workspace / "screenshots" / "browser_screenshot_1.png").read_bytes()[:4] == b"\x89PNG"
            return result

    result = loop.run(main())
    assert not result["success"] and "needs a vision-capable model" in result["error"]
    assert result["url"] == "http://shop.test/"


def test_other_hosts_are_blocked_reported_and_counted(
    tmp_path: Path, loop: asyncio.Runner, engine: BrowserEngine
) -> None:
    (tmp_path / "index.html").write_text(
        "<title>Leaky</title><img src='http://tracker.example/pixel.png' alt='pixel'>"
        "<script>fetch('http://api.example/data').catch(() => console.log('fetch refused'))</script>"
    )

    async def main() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], int]:
        async with browsing(extra={"leaky.test": static_site(tmp_path)}, engine=engine) as b:
            page = await b.call("browser_navigate", url="http://leaky.test/")
            await asyncio.sleep(0.3)
            later = await b.call("browser_console")
            away = await b.call("browser_navigate", url="https://example.com/")
            return page, later, away, b.session.stats.blocked_requests

    page, later, away, counted = loop.run(main())
    blocked = page.get("blocked_requests", []) + later.get("blocked_requests", [])
    assert [m["text"] for m in later["console_messages"]].count("fetch refused") == 1  # logged once, listed once
    assert "http://tracker.example/pixel.png" in blocked and "http://api.example/data" in blocked
    assert not away["success"] and away["error"].startswith("blocked: example.com is not one of this task's sites")
    assert away["blocked_requests"] == ["https://example.com/"] and away["url"] == "http://leaky.test/"
    assert counted == 3


def test_two_concurrent_episodes_share_no_cookies(loop: asyncio.Runner, engine: BrowserEngine) -> None:
    async def main() -> tuple[str, str, list[Any]]:
        async with browsing(engine=engine) as first, browsing(engine=engine) as second:
            await first.call("browser_navigate", url="http://shop.test/product/mug")
            added = await first.call("browser_click", ref="@e19")
            assert added["url"] == "http://shop.test/cart"
            mine, theirs = await asyncio.gather(
                first.call("browser_snapshot", full=True), second.call("browser_navigate", url="http://shop.test/cart")
            )
            cookies = await second.call("browser_console", expression="document.cookie")
            return mine["snapshot"], theirs["snapshot"], [cookies["result"]]

    mine, theirs, cookies = loop.run(main())
    assert 'cell "Mug"' in mine
    assert "Mug" not in theirs and "Proceed to checkout" not in theirs
    assert cookies == [""]  # httponly or not, the other context never got the first one's cart cookie


def test_a_killed_browser_is_an_error_result_then_restarts(loop: asyncio.Runner, engine: BrowserEngine) -> None:
    async def main() -> tuple[dict[str, Any], dict[str, Any], int, int]:
        async with browsing(engine=engine) as b:
            await b.call("browser_navigate", url="http://shop.test/")
            launches = engine.stats.launches
            os.kill(engine.pids()[0], signal.SIGKILL)
            for _ in range(100):  # the driver notices the death asynchronously
                if not engine.running:
                    break
                await asyncio.sleep(0.05)
            failed = await b.call("browser_snapshot")
            again = await b.call("browser_navigate", url="http://shop.test/about")
            return failed, again, b.session.stats.browser_restarts, engine.stats.launches - launches

    failed, again, restarts, launches = loop.run(main())
    assert not failed["success"] and "the browser crashed and was restarted" in failed["error"]
    assert again["success"] and again["title"] == "About - Tiny Shop"
    assert (restarts, launches) == (1, 1)


def test_a_crashed_page_is_an_error_result_then_a_new_page(loop: asyncio.Runner, engine: BrowserEngine) -> None:
    async def main() -> tuple[dict[str, Any], dict[str, Any]]:
        async with browsing(engine=engine) as b:
            await b.call("browser_navigate", url="http://shop.test/")
            page = await b.session.page()
            with pytest.raises(PlaywrightError):
                await page.goto("chrome://crash", timeout=5000)
            failed = await b.call("browser_snapshot")
            again = await b.call("browser_navigate", url="http://shop.test/cart")
            return failed, again

    failed, again = loop.run(main())
    assert not failed["success"] and "the page crashed" in failed["error"]
    assert again["success"] and again["title"] == "Cart - Tiny Shop"


def test_markup_in_page_text_stays_text(loop: asyncio.Runner, engine: BrowserEngine) -> None:
    async def main() -> tuple[dict[str, Any], dict[str, Any]]:
        async with browsing(("news",), engine=engine) as b:
            await b.call("browser_navigate", url="http://news.test/article/budget-2026")
            return await b.call("browser_snapshot", full=True), await b.call("browser_console")

    snapshot, console = loop.run(main())
    assert (
        "- strong [ref=e51]: h4x0r\n          - text: \": <script>alert('pwned')</script> nice budget\""
        in snapshot["snapshot"]
    )
    assert console["console_messages"] == [] and console["js_errors"] == []


def test_refs_belong_to_their_page(loop: asyncio.Runner, engine: BrowserEngine) -> None:
    async def main() -> list[dict[str, Any]]:
        async with browsing(engine=engine) as b:
            await b.call("browser_navigate", url="http://shop.test/")
            moved = await b.call("browser_click", ref="e6")
            return [
                moved,
                await b.call("browser_click", ref="@e44"),
                await b.call("browser_snapshot"),
                await b.call("browser_click", ref="@e999"),
                await b.call("browser_click", ref="Next page"),
                await b.call("browser_type", ref="@e44", text="x"),
            ]

    moved, stale, fresh, unknown, not_a_ref, wrong_kind = loop.run(main())
    assert moved["clicked"] == "@e6" and moved["url"] == "http://shop.test/products"
    assert "belongs to an earlier page" in stale["error"]
    assert 'link "Next page" [ref=e44]' in fresh["snapshot"]
    assert unknown["error"] == "no element @e999 in the snapshots of this page"
    assert "is not a ref" in not_a_ref["error"]
    assert not wrong_kind["success"] and wrong_kind["url"] == "http://shop.test/products"


def test_long_pages_are_cut_and_say_so(tmp_path: Path, loop: asyncio.Runner, engine: BrowserEngine) -> None:
    links = "".join(f"<a href='/p{n}'>Product page number {n}</a><br>" for n in range(1500))
    (tmp_path / "index.html").write_text(f"<title>Long</title><h1>Many</h1>{links}")

    async def main() -> tuple[dict[str, Any], set[Flag]]:
        async with browsing(extra={"long.test": static_site(tmp_path)}, engine=engine) as b:
            result = await b.call("browser_navigate", url="http://long.test/")
            return result, b.toolbox.context.flags

    result, flags = loop.run(main())
    assert result["truncated"] is True and len(result["snapshot"]) < SNAPSHOT_LIMIT + 300
    assert "more lines cut: a snapshot shows at most 8000 characters" in result["snapshot"]
    assert Flag.TRUNCATED_TOOL_OUTPUT in flags


CATALOG = {t.spec.id: t for t in load_tasks().tasks}


@pytest.mark.parametrize("played", ["oracle", "the confirmation page opened directly"])
def test_a_form_task_passes_its_oracle_and_fails_the_shortcut(
    played: str, loop: asyncio.Runner, engine: BrowserEngine
) -> None:
    from trajforge.runner.task_episode import solution_policy

    task = CATALOG["br-form-register"]
    spec = task.spec
    solution = spec.oracle if played == "oracle" else next(n for n in spec.negatives if n.name == played)
    assert solution is not None

    async def main() -> Outcome:
        factory = SandboxFactory(SandboxConfig(backend="local"))
        ran = await run_task_episode(
            task, factory, solution_policy(solution), config="t", model=ModelInfo(), browser=engine
        )
        return ran.episode.outcome

    assert loop.run(main()) == (Outcome.PASSED if played == "oracle" else Outcome.FAILED)


def test_a_script_that_never_ends_is_a_result_and_the_page_is_replaced(
    loop: asyncio.Runner, engine: BrowserEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("trajforge.tools.browser.tools.EVALUATE_SECONDS", 1.0)

    async def main() -> tuple[dict[str, Any], dict[str, Any]]:
        async with browsing(engine=engine) as b:
            await b.call("browser_navigate", url="http://shop.test/")
            stuck = await b.call("browser_console", expression="(() => { while (true) {} })()")
            again = await b.call("browser_navigate", url="http://shop.test/about")
            return stuck, again

    stuck, again = loop.run(main())
    assert not stuck["success"] and "did not finish within 1 s" in stuck["error"]
    assert again["success"] and again["title"] == "About - Tiny Shop"


def test_a_missing_chromium_is_a_result_not_a_crash(loop: asyncio.Runner, engine: BrowserEngine) -> None:
    async def main() -> dict[str, Any]:
        async with browsing(engine=BrowserEngine(executable="/nonexistent/chromium")) as b:
            return await b.call("browser_navigate", url="http://shop.test/")

    result = loop.run(main())
    assert result == {"success": False, "error": "Chromium is not installed at /nonexistent/chromium "
                      "(Debian package chromium)", "url": "", "title": ""}  # fmt: skip


def test_a_page_that_never_loads_is_a_timeout_result(
    loop: asyncio.Runner, engine: BrowserEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("trajforge.tools.browser.session.NAVIGATION_TIMEOUT_MS", 1000)
    monkeypatch.setattr("trajforge.tools.browser.tools.NAVIGATION_TIMEOUT_MS", 1000)

    async def slow(request: Any) -> Any:
        await asyncio.sleep(5)
        return HTMLResponse("<title>late</title>")

    stalled = Starlette(routes=[Route("/", slow)])

    async def main() -> dict[str, Any]:
        async with browsing(engine=engine, extra={"slow.test": stalled}) as b:  # type: ignore[dict-item]
            return await b.call("browser_navigate", url="http://slow.test/")

    result = loop.run(main())
    assert result["success"] is False and result["error"] == "navigation to http://slow.test/ did not finish within 1 s"


def test_uploads_come_from_the_workspace_only(loop: asyncio.Runner, engine: BrowserEngine) -> None:
    async def main() -> list[dict[str, Any]]:
        async with browsing(("forms",), engine=engine) as b:
            (b.sandbox.workspace / "photo.png").write_bytes(b"\x89PNG fake")
            await b.call("browser_navigate", url="http://forms.test/register")
            return [
                await b.call("browser_type", ref="@e34", text=path) for path in ("/etc/passwd", "nope.png", "photo.png")
            ]

    outside, missing, fine = loop.run(main())
    assert outside["error"].startswith("only files in the workspace can be uploaded")
    assert missing["error"] == "no file 'nope.png' in the workspace to upload"
    assert fine["success"] and fine["typed"] == "photo.png"


def test_repeats_of_a_browser_task_read_the_same(loop: asyncio.Runner, engine: BrowserEngine) -> None:
    """Sites have fixed names (no port), refs are numbered per page: two repeats give the same trace."""
    from trajforge.runner.task_episode import oracle_policy

    task = CATALOG["br-nav-broken-resource"]

    async def once() -> list[tuple[str, str]]:
        factory = SandboxFactory(SandboxConfig(backend="local"))
        ran = await run_task_episode(
            task, factory, oracle_policy(task.spec), config="t", model=ModelInfo(), browser=engine
        )
        assert ran.episode.outcome is Outcome.PASSED
        return [(m.role, m.content or "") for m in ran.episode.messages if m.role in ("user", "tool")]

    first, second = loop.run(once()), loop.run(once())
    assert first == second and "http://shop.test/" in first[0][1]
