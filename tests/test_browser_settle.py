"""How long a browser action waits before its result: woken by the page's own events, not a fixed
grace. A click that only fetches waits for its request; a key that submits a form reports the new
page; a click or key that starts nothing returns. The routing that only looks at other hosts."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route

from trajforge.tools.browser import BrowserEngine
from trajforge.tools.browser.session import outside

from .browser_kit import browsing

pytestmark = pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="Chromium is not installed")

PAGE = """<!doctype html><title>Figures</title>
<h1>Figures</h1>
<button id="load" onclick="fetch('/api/figure').then(r => r.json()).then(d => {
  document.getElementById('out').textContent = 'Figure: ' + d.value; })">Load figure</button>
<p id="out">No figure yet</p>
<label>Tick <input type="checkbox"></label>
<form action="/found" method="get"><label>Query <input name="q"></label></form>
"""


async def _index(request: Any) -> Any:
    return HTMLResponse(PAGE)


async def _figure(request: Any) -> Any:
    await asyncio.sleep(0.6)  # longer than the old fixed grace (0.1 s) after a click
    return JSONResponse({"value": 42})


async def _found(request: Any) -> Any:
    await asyncio.sleep(0.3)
    return HTMLResponse(f"<!doctype html><title>Found {request.query_params.get('q', '')}</title><h1>Found</h1>")


FIGURES = Starlette(routes=[Route("/", _index), Route("/api/figure", _figure), Route("/found", _found)])


def test_routing_looks_only_at_hosts_that_are_not_the_episodes_sites() -> None:
    pattern = outside(["shop.test", "forms.test"])
    for inside in (
        "http://shop.test/",
        "http://shop.test",
        "http://forms.test:80/contact?x=1",
        "https://shop.test#top",
    ):
        assert pattern.search(inside) is None, inside
    for other in (
        "http://news.test/",
        "http://shop.test.evil.example/",
        "https://example.com/shop.test/",
        "ws://shop.test/",
    ):
        assert pattern.search(other) is not None, other
    assert outside([]).search("http://shop.test/") is not None  # no sites: every request is looked at


def test_a_click_that_fetches_is_reported_once_its_request_is_done(loop: asyncio.Runner, engine: BrowserEngine) -> None:
    async def main() -> tuple[dict[str, Any], dict[str, Any]]:
        async with browsing((), engine=engine, extra={"figures.test": FIGURES}) as b:  # type: ignore[dict-item]
            page = await b.call("browser_navigate", url="http://figures.test/")
            button = next(line for line in page["snapshot"].splitlines() if "Load figure" in line)
            clicked = await b.call("browser_click", ref=button.rpartition("ref=")[2].rstrip("]"))
            return clicked, await b.call("browser_snapshot", full=True)

    clicked, after = loop.run(main())
    assert clicked["success"] and clicked["url"] == "http://figures.test/" and clicked["title"] == "Figures"
    assert "Figure: 42" in after["snapshot"] and "No figure yet" not in after["snapshot"]


def test_keys_and_clicks_that_start_nothing_or_submit(loop: asyncio.Runner, engine: BrowserEngine) -> None:
    async def main() -> list[dict[str, Any]]:
        async with browsing((), engine=engine, extra={"figures.test": FIGURES}) as b:  # type: ignore[dict-item]
            page = await b.call("browser_navigate", url="http://figures.test/")
            refs = {line.split('"')[0].strip("- ").strip(): line.rpartition("ref=")[2].rstrip("]")
                    for line in page["snapshot"].splitlines() if "ref=" in line}  # fmt: skip
            return [
                await b.call("browser_press", key="End"),  # nothing focused: the body takes it
                await b.call("browser_click", ref=refs["checkbox"]),
                await b.call("browser_snapshot", full=True),
                await b.call("browser_type", ref=refs["textbox"], text="tea"),
                await b.call("browser_press", key="Enter"),  # submits the form: a slow page
            ]

    end, tick, ticked, typed, enter = loop.run(main())
    assert end["success"] and end["url"] == "http://figures.test/"
    assert tick["success"] and tick["url"] == "http://figures.test/" and "[checked]" in ticked["snapshot"]
    assert typed["success"]
    assert enter["success"] and enter["url"] == "http://figures.test/found?q=tea" and enter["title"] == "Found tea"
