"""Preflight of a run's endpoints and `trajforge endpoint check`, against real scripted servers (issue 10)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from trajforge.policy import ModelConfig, PolicyError, PreflightError, PreflightReport, preflight

from .scripted_server import Reply, ScriptedServer, call, reply
from .test_model_client import closed_port_url

SCRIPT = Path(sys.executable).parent / "trajforge"


def run_preflight(url: str, model: str = "scripted", api_key: str = "", *more: str) -> PreflightReport:
    return asyncio.run(preflight(ModelConfig(url, model, more_endpoints=more, api_key=api_key)))


def test_preflight_lists_the_model_and_its_context_window() -> None:
    with ScriptedServer([], models=[{"id": "scripted", "max_model_len": 32768}, {"id": "other"}]) as server:
        report = run_preflight(server.url)
    assert report.usable == [server.url] and report.failed == [] and report.warnings == []
    assert report.max_model_len == 32768


def test_a_model_not_served_is_one_line_naming_what_is() -> None:
    with ScriptedServer([], models=[{"id": "a"}, {"id": "b"}]) as server, pytest.raises(PreflightError) as caught:
        run_preflight(server.url, "x")
    assert str(caught.value) == f"model 'x' is not served at {server.url}; served: a, b"
    assert isinstance(caught.value, PolicyError) and isinstance(caught.value, ConnectionError)


def test_an_endpoint_that_refuses_connections_is_named() -> None:
    url = closed_port_url()
    with pytest.raises(PreflightError) as caught:
        run_preflight(url)
    assert str(caught.value) == f"{url}: connection refused"


def test_the_api_key_is_sent_and_a_refused_key_is_http_401() -> None:
    with ScriptedServer([], api_key="sk-right") as server:
        assert run_preflight(server.url, api_key="sk-right").usable == [server.url]
        with pytest.raises(PreflightError) as caught:
            run_preflight(server.url, api_key="sk-wrong")
    assert str(caught.value).startswith(f"{server.url}: HTTP 401")


def test_one_endpoint_down_among_two_is_a_warning_both_down_an_error() -> None:
    down = closed_port_url()
    with ScriptedServer([]) as server:
        report = run_preflight(server.url, "scripted", "", down)
    assert report.usable == [server.url]
    assert [c.url for c in report.failed] == [down]
    assert report.warnings == [f"{down}: connection refused (the run uses the other endpoints)"]
    other = closed_port_url()
    with pytest.raises(PreflightError) as caught:
        run_preflight(down, "scripted", "", other)
    assert f"{down}: connection refused" in str(caught.value) and f"{other}: connection refused" in str(caught.value)


def check(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), "endpoint", "check", *args], capture_output=True, text=True, timeout=120, env=env, check=False
    )


TOOL_REPLY = reply(reasoning="Paris is UTC+1.", calls=[call("get_time", {"timezone": "Europe/Paris"})])


def test_check_reports_a_usable_endpoint_as_json() -> None:
    with ScriptedServer([TOOL_REPLY]) as server:
        result = check(server.url, "--json")
        request = server.requests[0]
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["usable"] and found["model"] == "scripted" and found["tool_calls"] == ["get_time"]
    assert found["models"] == [{"id": "scripted", "max_model_len": 4096}]
    assert found["reasoning_field"] == "reasoning"
    assert [t["function"]["name"] for t in request["tools"]] == ["get_time"]


@pytest.mark.parametrize(("field", "seen"), [("reasoning_content", "reasoning_content"), ("inline", "inline <think>")])
def test_check_says_where_reasoning_came_back(field: str, seen: str) -> None:
    item = reply(reasoning="Think.", calls=[call("get_time", {"timezone": "UTC"})], reasoning_field=field)
    with ScriptedServer([item]) as server:
        result = check(server.url)
    assert result.returncode == 0, result.stderr
    assert f"reasoning:  {seen}" in result.stdout and "tool calls: get_time" in result.stdout


def test_check_sends_the_key_from_the_environment() -> None:
    import os

    with ScriptedServer([TOOL_REPLY], api_key="sk-env") as server:
        result = check(server.url, env={**os.environ, "OPENAI_API_KEY": "sk-env"})
        refused = check(server.url, "--api-key", "sk-bad")
    assert result.returncode == 0, result.stderr
    assert refused.returncode == 2 and "HTTP 401" in refused.stderr


@pytest.mark.parametrize(
    ("script", "models", "args", "words"),
    [
        ([reply(content="It is noon.")], None, [], "answered without a tool call"),
        ([{"status": 400, "error": '"auto" tool choice requires --enable-auto-tool-choice'}], None, [], "HTTP 400"),
        ([{"raw": "<html>oops</html>"}], None, [], "malformed reply"),
        ([], [{"id": "a"}, {"id": "b"}], [], "serves 2 models (a, b): name one with --model"),
        ([], None, ["--model", "x"], "model 'x' is not served"),
    ],
)
def test_check_exits_2_with_one_line_why(
    script: list[Reply], models: list[dict[str, str]] | None, args: list[str], words: str
) -> None:
    with ScriptedServer(script, models=models) as server:
        result = check(server.url, *args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0]
    assert "Traceback" not in result.stderr


def test_check_of_a_dead_endpoint_names_it() -> None:
    url = closed_port_url()
    result = check(url)
    assert result.returncode == 2 and result.stderr.strip() == f"error: {url}: connection refused"
