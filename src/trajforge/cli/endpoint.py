"""`trajforge endpoint check URL`: is this OpenAI-compatible endpoint usable for generation?

Exit 0 when it is: it answers, lists the model, and one test completion with a
tool offered comes back with a tool call. Exit 2 otherwise, with one line why.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated, Any

import typer

from trajforge.cli.common import fail

if TYPE_CHECKING:
    from trajforge.policy import EndpointCheck, ProbeResult

app = typer.Typer(help="Check a model endpoint before a run.", no_args_is_help=True)


class _Unusable(Exception):
    """The endpoint cannot serve a run; the message is the one line why."""


@app.command("check")
def check(
    url: Annotated[str, typer.Argument(help="Base URL of the OpenAI-compatible API, e.g. http://localhost:8000/v1.")],
    model: Annotated[
        str | None, typer.Option("--model", help="Model name; default: the only model served.", show_default=False)
    ] = None,
    api_key: Annotated[
        str, typer.Option("--api-key", envvar="OPENAI_API_KEY", help="API key (default: $OPENAI_API_KEY).")
    ] = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as one JSON object.")] = False,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds the test completion may take.")] = 120.0,
) -> None:
    """Reachable? Model listed (and its context window)? One test completion with a tool: tool call, reasoning."""
    found: dict[str, Any] = {"url": url, "usable": False}
    try:
        asyncio.run(_check(url, model, api_key, timeout, found))
    except _Unusable as exc:
        found["problem"] = str(exc)
    if as_json:
        typer.echo(json.dumps(found, ensure_ascii=False))
    else:
        _print(found)
    if not found["usable"]:
        raise fail(found["problem"])


async def _check(url: str, model: str | None, api_key: str, timeout: float, found: dict[str, Any]) -> None:
    from trajforge.policy import ModelConfig, PolicyError, PreflightError, list_models, probe

    try:
        listed = await list_models(url, api_key)
    except PreflightError as exc:
        raise _Unusable(str(exc)) from None
    found.update(reachable=True, list_seconds=round(listed.seconds, 3), models=[asdict(m) for m in listed.models])
    chosen = _choose(listed, model)
    found["model"] = chosen
    try:
        result = await probe(ModelConfig(url, chosen, api_key=api_key, timeout=timeout))
    except PolicyError as exc:
        raise _Unusable(f"{url}: the test completion failed: {exc}") from None
    found.update(_probe_findings(result))
    if not result.tool_calls:
        raise _Unusable(
            f"{url}: the model answered without a tool call (vLLM needs --enable-auto-tool-choice "
            "and the model's --tool-call-parser)"
        )
    found["usable"] = True


def _choose(listed: EndpointCheck, model: str | None) -> str:
    names = [m.id for m in listed.models]
    if model is not None:
        if model not in names:
            raise _Unusable(f"model {model!r} is not served at {listed.url}; served: {', '.join(names) or 'none'}")
        return model
    if len(names) != 1:
        what = f"{len(names)} models ({', '.join(names)})" if names else "no model"
        raise _Unusable(f"{listed.url} serves {what}: name one with --model")
    return names[0]


def _probe_findings(result: ProbeResult) -> dict[str, Any]:
    return {
        "tool_calls": list(result.tool_calls),
        "reasoning_field": result.reasoning_field,
        "completion_seconds": round(result.seconds, 3),
    }


def _print(found: dict[str, Any]) -> None:
    if found.get("reachable"):
        typer.echo(f"reachable:  {found['url']} ({found['list_seconds']:.2f} s)")
        for served in found["models"]:
            length = f" (max_model_len {served['max_model_len']})" if served["max_model_len"] else ""
            typer.echo(f"model:      {served['id']}{length}")
    if "completion_seconds" in found:
        calls = ", ".join(found["tool_calls"]) or "none"
        typer.echo(f"completion: {found['completion_seconds']:.2f} s with {found['model']}")
        typer.echo(f"tool calls: {calls}")
        typer.echo(f"reasoning:  {found['reasoning_field'] or 'none seen'}")
    if found["usable"]:
        typer.echo("usable")
