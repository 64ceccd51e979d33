"""Before a run: does every endpoint answer, accept the key, and serve the model? (issue 10)

A run against a dead endpoint used to record every episode as a model error;
the preflight says what is wrong in one line before anything is recorded.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, replace
from typing import Any

from trajforge.policy.base import PreflightError
from trajforge.policy.config import ModelConfig
from trajforge.policy.http_client import HTTPFailure
from trajforge.policy.openai_client import OpenAIPolicy, describe, make_client
from trajforge.trace import Message
from trajforge.trace.turns import loads


@dataclass(frozen=True)
class ServedModel:
    """One model an endpoint lists, with its context window when the server reports it (vLLM does)."""

    id: str
    max_model_len: int | None = None


@dataclass(frozen=True)
class EndpointCheck:
    """What one endpoint answered to `GET <url>/models`."""

    url: str
    models: tuple[ServedModel, ...] = ()
    problem: str | None = None
    """One line naming the URL and what is wrong; None when the endpoint is usable."""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether the endpoint answered and serves the model asked for."""
        return self.problem is None


@dataclass(frozen=True)
class PreflightReport:
    """Every endpoint's check; at least one is usable (else `preflight` raised)."""

    model: str
    checks: tuple[EndpointCheck, ...]

    @property
    def usable(self) -> list[str]:
        """URLs that serve the model."""
        return [c.url for c in self.checks if c.ok]

    @property
    def failed(self) -> list[EndpointCheck]:
        """Endpoints that do not (the CLI warns about each: `check.problem`)."""
        return [c for c in self.checks if not c.ok]

    @property
    def warnings(self) -> list[str]:
        """One line per endpoint that failed while others serve (the run goes on without it)."""
        return [f"{c.problem} (the run uses the other endpoints)" for c in self.failed]

    @property
    def max_model_len(self) -> int | None:
        """The model's smallest reported context window over the usable endpoints (None: not reported)."""
        lengths = [
            m.max_model_len for c in self.checks if c.ok for m in c.models if m.id == self.model and m.max_model_len
        ]
        return min(lengths) if lengths else None


async def list_models(url: str, api_key: str = "", timeout: float = 10.0) -> EndpointCheck:
    """`GET <url>/models` (API key sent); raises PreflightError, one line naming `url`, when it fails."""
    started = time.perf_counter()
    client = make_client(url, api_key, timeout)
    try:
        body = await client.get("/models")
    except HTTPFailure as exc:
        raise PreflightError(f"{url}: {describe(exc)}") from None
    finally:
        await client.close()
    return EndpointCheck(url, _served(url, body), seconds=time.perf_counter() - started)


def _served(url: str, body: bytes) -> tuple[ServedModel, ...]:
    try:
        data: Any = loads(body)
    except (ValueError, RecursionError):
        data = None
    entries = data.get("data") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not all(isinstance(e, dict) and isinstance(e.get("id"), str) for e in entries):
        raise PreflightError(f"{url}: /models did not answer with an OpenAI model list")
    return tuple(ServedModel(e["id"], _length(e.get("max_model_len"))) for e in entries)


def _length(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


async def check_endpoint(url: str, model: str, api_key: str = "", timeout: float = 10.0) -> EndpointCheck:
    """One endpoint's check; its `problem` says what is wrong (never raises for the endpoint's failures)."""
    try:
        check = await list_models(url, api_key, timeout)
    except PreflightError as exc:
        return EndpointCheck(url, problem=str(exc))
    if not any(m.id == model for m in check.models):
        served = ", ".join(m.id for m in check.models) or "none"
        return EndpointCheck(url, check.models, f"model {model!r} is not served at {url}; served: {served}")
    return check


async def preflight(config: ModelConfig) -> PreflightReport:
    """Check every endpoint of `config` at once; raises PreflightError when none serves the model.

    An endpoint that fails while others serve is listed in the report's `failed`
    (the run goes on without surprises: the pool rests it after its failures).
    """
    checks = await asyncio.gather(
        *(check_endpoint(url, config.model, config.api_key, config.preflight_timeout) for url in config.endpoints)
    )
    report = PreflightReport(config.model, tuple(checks))
    if not report.usable:
        raise PreflightError("; ".join(c.problem or "" for c in checks))
    return report


PROBE_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_time",
        "description": "The current time in a time zone.",
        "parameters": {
            "type": "object",
            "properties": {"timezone": {"type": "string", "description": "IANA name, e.g. Europe/Paris"}},
            "required": ["timezone"],
        },
    },
}
_PROBE_PROMPT = "What time is it in Paris? Call the get_time tool; do not answer in text."


@dataclass(frozen=True)
class ProbeResult:
    """What one test completion with a tool offered gave back."""

    tool_calls: tuple[str, ...]
    """Names of the tools the model called (empty: it answered in text)."""
    reasoning_field: str | None
    """Where reasoning came back: `reasoning`, `reasoning_content`, `inline <think>`, or None."""
    seconds: float
    content: str | None


async def probe(config: ModelConfig) -> ProbeResult:
    """One completion asking the model to call `get_time` (no retries); raises ModelError or ContextLengthExceeded."""

    policy = OpenAIPolicy(replace(config, more_endpoints=(), max_retries=0))
    started = time.perf_counter()
    try:
        reply = await policy.exchange([Message(role="user", content=_PROBE_PROMPT)], [PROBE_TOOL])
    finally:
        await policy.close()
    message = reply.message
    return ProbeResult(
        tuple(c.name for c in message.tool_calls), reply.reasoning_field, time.perf_counter() - started, message.content
    )
