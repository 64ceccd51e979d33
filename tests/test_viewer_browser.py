"""`trajforge view` in headless Chromium: what a user clicks and types, and a hostile trace that must run nothing."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from .viewer_data import XSS_TASK, ViewerServer, write_dataset, write_run_folder

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]  # fmt: skip
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ViewerServer]:
    root = tmp_path_factory.mktemp("viewer-browser")
    write_run_folder(root / "run")
    write_dataset(root / "ds")
    with ViewerServer([root / "run", root / "ds"], root / "cache") as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def tab(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(
        viewport={"width": 1400, "height": 900}, permissions=["clipboard-read", "clipboard-write"]
    )
    opened = context.new_page()
    problems: list[str] = []
    opened.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    opened.on("console", lambda message: problems.append(f"console: {message.text}"))
    opened.on("dialog", lambda dialog: (problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    opened.problems = problems  # type: ignore[attr-defined]
    yield opened
    context.close()


def shoot(page: Page, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 1000


def test_home_filter_search_open_trace_and_expand_reasoning(server: ViewerServer, tab: Page, tmp_path: Path) -> None:
    tab.goto(server.url + "/")
    assert tab.locator("#statistics").is_visible() and tab.locator("svg.chart").count() >= 13
    shoot(tab, tmp_path, "home")
    tab.click("text=Traces")
    assert tab.locator("#count strong").inner_text() == "14"
    with tab.expect_navigation():
        tab.select_option("select[name=category]", "File Operations")  # submits by itself
    assert "category=File+Operations" in tab.url and tab.locator("#count strong").inner_text() == "2"
    with tab.expect_navigation():
        tab.select_option("select[name=tool]", "read_file")
    assert "tool=read_file" in tab.url and tab.locator("#count strong").inner_text() == "2"
    shoot(tab, tmp_path, "list-filtered")
    tab.fill("header input[name=q]", "beta thinks differently")
    with tab.expect_navigation():
        tab.press("header input[name=q]", "Enter")
    assert tab.locator("#count strong").inner_text() == "4"
    with tab.expect_navigation():
        tab.locator("#traces td.task a").first.click()
    assert "/trace?" in tab.url
    reasoning = tab.locator("details.reasoning").first
    assert not reasoning.locator("pre.think").is_visible()
    reasoning.locator("summary").click()
    assert reasoning.locator("pre.think").is_visible()
    assert "beta thinks differently" in reasoning.locator("pre.think").inner_text()
    shoot(tab, tmp_path, "trace")
    assert tab.problems == []  # type: ignore[attr-defined]


def test_j_and_k_step_through_the_current_list(server: ViewerServer, tab: Page, tmp_path: Path) -> None:
    tab.goto(server.url + "/list?config=alpha&sort=-think")
    tab.keyboard.press("j")
    assert tab.locator("#traces tr.current").count() == 1
    with tab.expect_navigation():
        tab.keyboard.press("Enter")
    assert tab.locator("#stepper").inner_text().count("1 of 4") == 1
    first = tab.url
    for place in ("2 of 4", "3 of 4"):
        with tab.expect_navigation():
            tab.keyboard.press("j")
        assert place in tab.locator("#stepper").inner_text()
    with tab.expect_navigation():
        tab.keyboard.press("k")
    assert "2 of 4" in tab.locator("#stepper").inner_text()
    with tab.expect_navigation():
        tab.keyboard.press("k")
    assert tab.url == first
    shoot(tab, tmp_path, "stepped")
    tab.bring_to_front()  # the clipboard wants a focused page
    tab.click("#copy-json")
    # a locator waits without evaluating a string in the page, which the viewer's CSP (no unsafe-eval) can refuse
    expect(tab.locator("#copy-status")).to_have_text(re.compile(r"^copied"))
    row = json.loads(tab.evaluate("navigator.clipboard.readText()"))
    assert row["id"] in tab.locator("#permalink").get_attribute("href") and len(row["conversations"]) == 5
    assert tab.problems == []  # type: ignore[attr-defined]


def test_compare_two_configs(server: ViewerServer, tab: Page, tmp_path: Path) -> None:
    tab.goto(server.url + "/list?config=alpha")
    with tab.expect_navigation():
        tab.locator("#traces td.task a").first.click()
    with tab.expect_navigation():
        tab.click("text=compare this task")
    columns = [h.inner_text() for h in tab.locator("#compare section.column h2").all()]
    assert {"alpha", "beta"} <= set(columns)
    assert tab.locator("#compare .card").count() == len(columns)
    shoot(tab, tmp_path, "compare")
    with tab.expect_navigation():
        tab.locator("#compare section.column", has_text="beta").locator("text=open trace").click()
    assert "config=beta" in tab.url
    assert tab.problems == []  # type: ignore[attr-defined]


def test_hostile_trace_shows_as_text_and_runs_nothing(server: ViewerServer, tab: Page, tmp_path: Path) -> None:
    tab.goto(server.url + "/list?config=oracle")
    with tab.expect_navigation():
        tab.click(f"text={XSS_TASK}")
    for details in tab.locator("details").all():
        details.locator("summary").click()
    for button in tab.locator("button.show-all").all():
        button.click()
    shoot(tab, tmp_path, "hostile")
    text = tab.locator("#trace").inner_text()
    assert text.count("<script>window.__xss = 'script'</script>") >= 5  # content x2, reasoning, arguments, output
    assert "<img src=x onerror=" in text and "javascript:window.__xss='link'" in text
    assert tab.evaluate("typeof window.__xss") == "undefined"
    assert tab.locator("#trace script, #trace img, #trace iframe, #trace [onerror]").count() == 0
    hrefs = tab.eval_on_selector_all("#trace a[href]", "links => links.map(a => a.getAttribute('href'))")
    assert not [h for h in hrefs if re.match(r"\s*(javascript|data|vbscript):", h, re.I)]
    for link in tab.locator("#trace a", has_text="click me").all():
        link.click()
    tab.wait_for_timeout(200)
    assert tab.evaluate("typeof window.__xss") == "undefined"
    assert tab.problems == []  # type: ignore[attr-defined]
