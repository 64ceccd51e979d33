"""`trajforge view` over real HTTP: the pages, filters, index cache, malformed input and the safety rules."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pytest

from trajforge.dataset import compute_stats, row_sources, write_rows
from trajforge.dataset.stats import ConfigStats
from trajforge.trace import render
from trajforge.viewer import find_sources, open_index

from .episodes import sample_episode
from .viewer_data import XSS_SCRIPT, ViewerServer, run_episodes, write_dataset, write_run_folder

TRAJFORGE = str(Path(sys.executable).with_name("trajforge"))


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("viewer")
    write_run_folder(root / "run")
    write_dataset(root / "ds")
    return root


@pytest.fixture(scope="module")
def server(data: Path) -> Iterator[ViewerServer]:
    with ViewerServer([data / "run", data / "ds"], data / "cache") as running:
        yield running


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str, dict[str, str]]:
    request = urllib.request.Request(url, headers=headers or {})
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.read().decode(errors="replace"), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace"), dict(exc.headers)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def count(html: str) -> int:
    found = re.search(r'id="count"><strong>([\d,]+)</strong>', html)
    assert found, html[:2000]
    return int(found.group(1).replace(",", ""))


def table_cells(html: str, table_id: str) -> list[list[str]]:
    body = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    cells = [re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S) for row in rows]
    return [[unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in row] for row in cells]


def test_home_shows_the_figures_of_trajforge_stats(server: ViewerServer, data: Path) -> None:
    status, html, _ = get(server.url + "/")
    assert status == 200
    expected = compute_stats(row_sources([data / "run", data / "ds"]))
    cells = table_cells(html, "statistics")
    assert cells[0] == ["Metric", *(s.config for s in expected)]
    for row, (label, cell) in zip(cells[1:], ConfigStats.table_rows(), strict=True):
        assert row == [label, *(cell(s) for s in expected)]
    categories = {row[0]: row[1:] for row in table_cells(html, "categories")[1:]}
    assert categories["Terminal & Coding"] == ["5", "3", "3"]
    assert categories["Browser Automation"] == ["1", "0", "0"]
    for title in (
        "Turns per sample",
        "Tool calls per sample",
        "Tool calls by tool",
        "Finish reasons",
        "Check outcomes",
    ):
        assert f">{title}<" in html
    assert html.count("<svg") >= 13
    index = server.state.index  # the list's per-row figures add up to the card's totals, records and rows alike
    for number, stats in enumerate(expected):
        rows = index.num["config"] == number
        assert (int(rows.sum()), int(index.num["turns"][rows].sum()), int(index.num["calls"][rows].sum())) == (
            stats.samples,
            stats.total_turns,
            stats.total_tool_calls,
        )


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ("", 14),
        ("config=oracle", 6),
        ("config=alpha&config=beta", 8),
        ("category=File+Operations", 2),
        ("category=File+Operations&config=beta", 1),
        ("subcategory=scraping", 1),
        ("finish=max_turns", 1),
        ("outcome=failed", 1),
        ("flag=truncated_tool_output", 1),
        ("tool=read_file", 13),
        ("tool=read_file&tool=terminal", 13),
        ("turns_min=6", 0),
        ("calls_max=1", 1),
        ("calls_min=2&calls_max=2", 13),
        ("q=BETA+thinks", 4),
        ("q=%22thinks+differently+2%22", 1),
        ("q=window.__xss", 1),
        ("q=line+one", 12),  # one run episode reads a long listing instead
        ("q=command+not+found", 1),
        ("q=nothing-like-this", 0),
        ("turns_min=abc", 14),
    ],
)
def test_list_filters_count_matches(server: ViewerServer, params: str, expected: int) -> None:
    status, html, _ = get(f"{server.url}/list?{params}")
    assert status == 200
    assert count(html) == expected


def test_list_notes_what_it_ignored_and_sorts(server: ViewerServer) -> None:
    _, html, _ = get(server.url + "/list?turns_min=abc&sort=bogus")
    assert "turns_min=&#39;abc&#39; is not a whole number" in html
    assert "sort=&#39;bogus&#39; is not one of" in html
    _, html, _ = get(server.url + "/list?config=oracle&sort=-think")
    thinks = [float(row[5].replace(",", "")) for row in table_cells(html, "traces")[1:]]
    assert thinks == sorted(thinks, reverse=True) and len(thinks) == 6
    _, html, _ = get(server.url + "/list?per=5&page=2")
    assert "page 2 of 3" in html and 'rel="prev"' in html and 'rel="next"' in html


def _first(pattern: str, html: str) -> str:
    found = re.search(pattern, html, re.S)
    assert found, pattern
    return unescape(found.group(1))


def trace_url(server: ViewerServer, params: str) -> str:
    _, html, _ = get(f"{server.url}/list?{params}")
    found = re.search(r'<td class="task"><a href="([^"]+)"', html)
    assert found, html
    return server.url + unescape(found.group(1))


def test_trace_page_pairs_results_folds_long_output_and_marks_errors(server: ViewerServer) -> None:
    status, html, _ = get(trace_url(server, "config=oracle&q=command+not+found"))
    assert status == 200
    # sample_episode's results arrive out of order: each must sit beside its own call
    calls = [piece.split("</section>", 1)[0] for piece in re.split(r'<div class="call(?=[ "])', html)[1:]]
    by_name = {_first(r"<h4>(\w+)", body): (body.startswith(" error"), body) for body in calls}
    assert by_name["read_file"][0] is False and "line one\nline two" in by_name["read_file"][1]
    assert by_name["terminal"][0] is True and "command not found" in by_name["terminal"][1]
    assert "Reasoning · 200 words" in html
    panel = html.split('id="panel"', 1)[1]
    for text in (
        "test-model",
        "passed",
        "1 passed in 0.01s",
        "2 in 0.75 s",
        "2 in 0.19 s",
        "286 prompt, 50 completion",
    ):
        assert text in panel
    _, long_html, _ = get(trace_url(server, "config=oracle&q=long+listing"))
    assert 'class="output folded"' in long_html and "show all (" in long_html
    assert "line 399 of a long listing" in long_html


def test_trace_page_steps_through_the_list_and_has_a_permalink(server: ViewerServer) -> None:
    first = trace_url(server, "config=alpha&sort=-think")
    _, html, _ = get(first)
    assert "1 of 4" in html and 'id="prev"' not in html
    following = server.url + _first(r'id="next" rel="next" href="([^"]+)"', html)
    _, html2, _ = get(following)
    assert "2 of 4" in html2 and "sort=-think" in following
    permalink = _first(r'id="permalink" href="([^"]+)"', html2)
    status, _, _ = get(server.url + permalink)
    assert status == 200 and "config=alpha" in permalink and "sort" not in permalink
    raw = _first(r'data-src="([^"]+)"', html2)
    status, body, headers = get(server.url + raw)
    row = json.loads(body)
    assert status == 200 and headers["content-type"].startswith("application/json")
    assert row["id"] in permalink and set(row) == {"id", "conversations", "tools", "category", "subcategory", "task"}


def test_compare_shows_one_task_across_configs(server: ViewerServer) -> None:
    status, html, _ = get(server.url + "/compare")
    assert status == 200
    links = re.findall(r'href="(/compare\?task=\w+)"', html)
    assert len(links) == 4  # the four dataset tasks; the run's tasks 0-3 share their text
    _, page, _ = get(server.url + links[0])
    columns = re.findall(r'<section class="column">\s*<h2>([^<]+)</h2>', page)
    assert columns[:1] == ["oracle"] or columns[0] in ("alpha", "beta")
    assert {"alpha", "beta"} <= set(columns)
    assert page.count("open trace") == len(columns)
    status, html, _ = get(server.url + "/compare?task=doesnotexist")
    assert status == 200 and "No such task" in html


def test_every_response_forbids_inline_script_and_pages_have_none(server: ViewerServer) -> None:
    for path in ("/", "/list", "/compare", "/static/viewer.js", trace_url(server, "q=window.__xss")[len(server.url) :]):
        status, html, headers = get(server.url + path)
        assert status == 200, path
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "default-src 'none'" in csp
        assert headers["x-content-type-options"] == "nosniff"
        if path.startswith("/static"):
            continue
        assert re.findall(r"<script(?![^>]*\bsrc=\"/static/viewer\.js\")", html) == []
        assert re.findall(r"<[a-zA-Z][^>]*\son\w+\s*=", html) == []  # no event handler attribute anywhere
        assert " style=" not in html
    _, html, _ = get(trace_url(server, "q=window.__xss"))
    assert XSS_SCRIPT not in html and "&lt;script&gt;" in html
    assert 'href="javascript:' not in html and "<img src=x" not in html


def test_loopback_viewer_refuses_other_host_names(server: ViewerServer) -> None:
    status, _, _ = get(server.url + "/", headers={"Host": "attacker.example:80"})
    assert status == 400


def test_token_required_wrong_token_403_cookie_after_first_visit(data: Path) -> None:
    with ViewerServer([data / "ds"], data / "cache", token="s3cret-token") as running:
        assert get(running.url + "/")[0] == 401
        assert get(running.url + "/list?token=wrong")[0] == 403
        status, _, headers = get(running.url + "/list?config=alpha&token=s3cret-token")
        assert status == 303 and headers["location"] == "/list?config=alpha"
        cookie = headers["set-cookie"].split(";", 1)[0]
        assert "HttpOnly" in headers["set-cookie"] and "SameSite=strict" in headers["set-cookie"]
        status, html, _ = get(running.url + "/list?config=alpha", headers={"Cookie": cookie})
        assert status == 200 and count(html) == 4
        name = cookie.split("=", 1)[0]
        assert get(running.url + "/", headers={"Cookie": f"{name}=forged"})[0] == 403
        assert get(running.url + "/static/viewer.js")[0] == 401


def test_malformed_rows_are_listed_and_shown_raw(tmp_path: Path) -> None:
    rows = tmp_path / "broken.jsonl"
    good = json.loads(get_sample_line())
    turns = [{"from": "system", "value": "s"}, {"from": "gpt", "value": "no think"}]
    bad_turns = dict(good, id="bad-turns", conversations=turns)
    rows.write_text(json.dumps(good) + "\n{not json\n" + json.dumps(bad_turns) + "\n[1, 2]\n\n")
    truncated = tmp_path / "cut.parquet"
    write_rows(truncated, [render(sample_episode("whole"))])
    truncated.write_bytes(truncated.read_bytes()[:-40])
    with ViewerServer([rows, truncated], tmp_path / "cache") as running:
        _, html, _ = get(running.url + "/list")
        assert count(html) == 5 and html.count(">malformed<") == 4
        _, page, _ = get(running.url + "/trace?config=cut&id=")
        assert "not a readable Parquet file" in page
        for href in re.findall(r'<td class="task"><a href="([^"]+)"', html):
            status, page, _ = get(running.url + unescape(href))
            assert status == 200
        _, page, _ = get(running.url + "/trace?config=broken&id=")
        assert "invalid JSON" in page and "{not json" in page
        _, page, _ = get(running.url + "/trace?config=broken&id=bad-turns")
        assert "gpt turn does not start with a &lt;think&gt; block" in page and "no think" in page
        status, _, _ = get(running.url + "/trace?config=broken&id=nope")
        assert status == 404


def test_an_empty_dataset_shows_empty_pages(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    with ViewerServer([empty], tmp_path / "cache") as running:
        for path in ("/", "/list?q=anything&sort=-turns", "/compare"):
            assert get(running.url + path)[0] == 200
        assert count(get(running.url + "/list?q=word")[1]) == 0
        assert get(running.url + "/trace?config=empty&id=x")[0] == 404


def get_sample_line() -> str:
    return json.dumps(render(sample_episode("good-row")))


def test_index_is_cached_by_size_and_mtime_and_rebuilt_on_change(tmp_path: Path) -> None:
    data = write_run_folder(tmp_path / "run")
    cache = tmp_path / "cache"
    sources = find_sources([data])
    first = open_index([data], sources, cache=cache)
    again = open_index([data], sources, cache=cache)
    assert again.folder == first.folder and len(again) == 6
    records = data / "runs" / "oracle" / "episodes-1-1.jsonl"
    lines = records.read_text().splitlines(keepends=True)
    records.write_text("".join(lines + lines[:1]))  # the first episode recorded again: it supersedes
    changed = open_index([data], find_sources([data]), cache=cache)
    assert changed.folder != first.folder and not first.folder.exists()
    assert len(changed) == 6 and sorted(changed.num["line"].tolist()) == [2, 3, 4, 5, 6, 7]
    assert [p.name for p in cache.iterdir()] == [changed.folder.name]


def test_running_viewer_sees_appended_records(tmp_path: Path) -> None:
    data = write_run_folder(tmp_path / "run")
    records = data / "runs" / "oracle" / "episodes-1-1.jsonl"
    with ViewerServer([data], tmp_path / "cache") as running:
        assert count(get(running.url + "/list")[1]) == 6
        record = json.loads(records.read_text().splitlines()[0])
        record["id"] = "appended-episode"
        with records.open("a") as handle:
            handle.write(json.dumps(record) + "\n")
        os.utime(records, ns=(1, 1))
        running.state._looked = 0.0  # the next page looks at the files now
        assert count(get(running.url + "/list")[1]) == 6  # the old index is served while the new one builds
        deadline = time.monotonic() + 60
        while count(get(running.url + "/list")[1]) != 7:
            assert time.monotonic() < deadline, "the new index never replaced the old one"
            time.sleep(0.1)
        assert [p.name for p in (tmp_path / "cache").iterdir()] == [running.state.index.folder.name]
        assert count(get(running.url + "/list?q=line+one")[1]) == 5  # searches the new index's files


def test_screenshots_the_run_kept_are_shown(tmp_path: Path) -> None:
    episodes = run_episodes()
    shot_result = {"analysis": "a chart", "screenshot_path": "/workspace/screenshots/step-1.png"}
    episodes[0].messages[4].content = json.dumps(shot_result)
    data = write_run_folder(tmp_path / "run", episodes)
    episode_id = "00000000-0000-4000-8000-000000000000"
    shots = data / "runs" / "oracle" / "screenshots" / episode_id
    shots.mkdir(parents=True)
    (shots / "step-1.png").write_bytes(b"\x89PNG\r\n\x1a\nfake")
    (shots / "notes.txt").write_text("not an image")
    with ViewerServer([data], tmp_path / "cache") as running:
        _, html, _ = get(f"{running.url}/trace?config=oracle&id={episode_id}")
        beside = html.split('<aside class="panel"', 1)[0]
        assert beside.count('<img class="shot"') == 1  # beside the call that took it, and in the panel
        src = _first(r'<img class="shot" src="([^"]+)"', html)
        status, _, headers = get(running.url + src)
        assert status == 200 and headers["content-type"] == "image/png"
        for name in ("notes.txt", "../../episodes-1-1.jsonl", "%2e%2e%2fepisodes-1-1.jsonl"):
            assert get(f"{running.url}/shot?config=oracle&id={episode_id}&name={name}")[0] == 404


def test_cli_refuses_public_host_without_token_and_missing_paths(tmp_path: Path) -> None:
    data = write_run_folder(tmp_path / "run")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    env.pop("TRAJFORGE_VIEW_TOKEN", None)
    command = [TRAJFORGE, "view", str(data), "--host", "0.0.0.0"]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 2 and "--token" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    command = [TRAJFORGE, "view", str(tmp_path / "nothing")]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 2 and "no such file or folder" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "xdg").exists()


def test_cli_serves_until_interrupted(tmp_path: Path) -> None:
    data = write_run_folder(tmp_path / "run")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    command = [TRAJFORGE, "view", str(data), "--port", "0"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stderr is not None
        line = ""
        while "http" not in line and process.poll() is None:
            line = process.stderr.readline()  # "trajforge view: 6 traces at http://127.0.0.1:PORT/"
        url = re.search(r"http://127\.0\.0\.1:\d+/", line)
        assert url, line
        status, html, _ = get(url.group(0) + "list")
        assert status == 200 and count(html) == 6
        assert list((tmp_path / "xdg" / "trajforge" / "viewer").iterdir())
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    assert process.returncode in (0, 130)


def test_delegated_children_show_inside_their_call(tmp_path: Path) -> None:
    from trajforge.trace import Message, ToolCall, to_record

    parent = sample_episode("00000000-0000-4000-8000-00000000c0de")
    parent.messages[2].tool_calls[0] = ToolCall("call_a", "delegate_task", {"goal": "count the lines"})
    for message in parent.messages:
        if message.role == "tool" and message.tool_call_id == "call_a":
            message.name = "delegate_task"
    child = sample_episode("00000000-0000-4000-8000-0000000c41d0")
    child.messages[-1] = Message(role="assistant", content="The child counted 42 lines in notes.txt.")
    parent.run = {"repeat": 0, "children": {"call_a": [to_record(child)]}}
    with ViewerServer([write_run_folder(tmp_path / "run", [parent])], tmp_path / "cache") as server:
        status, html, _ = get(trace_url(server, "config=oracle"))
    assert status == 200
    # inside the delegate call, before the parent's own final answer
    at_call, at_children = html.index("<h4>delegate_task"), html.index("Child episodes (1)")
    at_child_answer = html.index("The child counted 42 lines in notes.txt.")
    assert at_call < at_children < at_child_answer < html.index("Two files; notes.txt has two lines.")
    panel = html.split('id="panel"', 1)[1]
    assert "The child counted" not in panel  # the record's run panel leaves the children to their calls
