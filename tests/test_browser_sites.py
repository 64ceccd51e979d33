"""The browser's parts that need no Chromium: site specs, the site server, snapshots, vision settings."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.responses import RedirectResponse
from starlette.routing import Route

from trajforge.policy import ModelConfig
from trajforge.runner.browsing import vision_config
from trajforge.tasks import Fixtures, SiteFixture
from trajforge.tasks.sites import SITE_APPS, make_site
from trajforge.tools.browser import SiteServer, VisionConfig
from trajforge.tools.browser.siteserver import SESSION_HEADER
from trajforge.tools.browser.snapshot import compact, ref_of, renumber, shown


def test_a_site_is_an_app_or_a_folder_with_a_host_name() -> None:
    assert SiteFixture(app="shop").name == "shop"
    assert SiteFixture(folder="pages").name == "site"
    assert SiteFixture(app="news", name="gazette").name == "gazette"
    refused: list[tuple[dict[str, str], str]] = [
        ({}, "either app"),
        ({"app": "shop", "folder": "x"}, "either app"),
        ({"app": "bank"}, "no built-in site 'bank'"),
        ({"app": "shop", "name": "Shop_1"}, "pattern"),
    ]
    for bad, says in refused:
        with pytest.raises(ValidationError, match=says):
            SiteFixture(**bad)
    with pytest.raises(ValidationError, match="two sites are named shop"):
        Fixtures(sites=[{"app": "shop"}, {"app": "shop"}])  # type: ignore[list-item]


def test_every_built_in_site_answers_its_pages() -> None:
    """Each app's pages through the real site server, as the browser reaches them."""
    pages = {"shop": ["/", "/products?page=3", "/product/mug", "/cart", "/about"], "forms": ["/", "/register"],
             "news": ["/", "/articles?page=2", "/article/best-cafes", "/authors"],
             "dashboard": ["/", "/chart.svg", "/data", "/live", "/api/live", "/status"],
             "portal": ["/login"]}  # fmt: skip
    assert set(pages) == set(SITE_APPS)

    async def main() -> dict[str, int]:
        server = SiteServer()
        await server.start()
        key = server.add({f"{app}.test": make_site(app) for app in SITE_APPS}, ())
        try:
            return {
                f"{app}{path}": (await asyncio.to_thread(_get, server.port, f"{app}.test", path, key))[0]
                for app, paths in pages.items()
                for path in paths
            }
        finally:
            await server.stop()

    statuses = asyncio.run(main())
    assert set(statuses.values()) == {200}, statuses


def _get(port: int, host: str, path: str, key: str | None, data: bytes | None = None) -> tuple[int, dict[str, str]]:
    headers = {"Host": host, **({SESSION_HEADER: key} if key else {})}
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, headers=headers)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=10) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers)


def test_the_site_server_answers_only_its_episodes_and_guards_redirects() -> None:
    async def main() -> list[tuple[int, dict[str, str]]]:
        server = SiteServer()
        await server.start()
        away = Starlette(routes=[Route("/go", lambda request: RedirectResponse("http://evil.example/steal"))])
        mine = server.add({"portal.test": make_site("portal"), "away.test": away}, ())
        other = server.add({"shop.test": make_site("shop")}, ())
        server.remove(other)
        try:
            login = b"username=maria&password=tea-for-two-42"
            return [
                await asyncio.to_thread(_get, server.port, "portal.test", "/login", None),
                await asyncio.to_thread(_get, server.port, "shop.test", "/", mine),
                await asyncio.to_thread(_get, server.port, "shop.test", "/", other),
                await asyncio.to_thread(_get, server.port, "portal.test", "/login?next=/invoices", mine, login),
                await asyncio.to_thread(_get, server.port, "portal.test", "/login?next=//evil.example/", mine, login),
                await asyncio.to_thread(_get, server.port, "away.test", "/go", mine),
            ]
        finally:
            await server.stop()

    no_key, wrong_site, removed, signed_in, offsite, redirected = asyncio.run(main())
    assert (no_key[0], wrong_site[0], removed[0]) == (404, 404, 404)
    assert signed_in[0] == 303 and signed_in[1]["location"] == "/invoices"
    assert offsite[0] == 303 and offsite[1]["location"] == "/account"  # the portal refuses to send you away
    assert redirected[0] == 403  # a redirect is not routed again by the browser: the server refuses it


def test_compact_snapshots_keep_what_can_be_acted_on() -> None:
    full = "\n".join([
        "- generic [ref=f2e1]:",
        "  - banner [ref=f2e2]:",
        "    - navigation [ref=f2e3]:",
        '      - link "Home" [ref=f2e4]:',
        "        - /url: /",
        "  - main [ref=f2e5]:",
        '    - heading "Cart" [level=1] [ref=f2e6]',
        "    - paragraph [ref=f2e7]: Subtotal 3 €",
        '    - combobox "Size" [ref=f2e8]:',
        '      - option "S" [selected]',
        '    - button "Pay" [ref=f2e9]',
    ])  # fmt: skip
    mine: dict[str, str] = {}
    ours = renumber(full, mine)
    assert mine["f2e9"] == "e9" and "[ref=e4]" in ours and "f2e" not in ours
    assert compact(ours).splitlines() == [
        '- link "Home" [ref=e4]:',
        "  - /url: /",
        '- heading "Cart" [level=1] [ref=e6]',
        '- combobox "Size" [ref=e8]:',
        '  - option "S" [selected]',
        '- button "Pay" [ref=e9]',
    ]
    assert [ref_of(a) for a in ("@e9", "e9", "[ref=e9]", " @e9 ", "9", "Pay", "@f2e9")] == [
        "e9", "e9", "e9", "e9", None, None, None]  # fmt: skip


def test_a_long_snapshot_is_cut_at_a_line_with_a_note() -> None:
    text = "\n".join(f'- link "Item {n}" [ref=e{n}]' for n in range(1, 2001))
    cut = shown(text, limit=500)
    assert cut.cut_lines > 0 and len(cut.text) < 700
    assert cut.text.splitlines()[-1].startswith(f"[... {cut.cut_lines} more lines cut")
    assert cut.refs == tuple(f"e{n}" for n in range(1, len(cut.refs) + 1))
    assert shown("- button [ref=e1]").cut_lines == 0


def test_vision_goes_to_the_run_endpoint_unless_told_otherwise() -> None:
    model = ModelConfig("http://served/v1", "kimi", api_key="k")
    assert vision_config(None) is None
    assert vision_config(model) == VisionConfig("http://served/v1", "kimi", "k")
    assert vision_config(model, name="qwen-vl") == VisionConfig("http://served/v1", "qwen-vl", "k")
    assert vision_config(model, "http://vision/v1", "qwen-vl") == VisionConfig("http://vision/v1", "qwen-vl", "")
    assert vision_config(None, "http://vision/v1", "qwen-vl") == VisionConfig("http://vision/v1", "qwen-vl", "")
    assert vision_config(None, "http://vision/v1") is None  # no model to ask


def test_site_state_is_json_ready() -> None:
    for app in SITE_APPS:
        json.dumps(make_site(app).state())
