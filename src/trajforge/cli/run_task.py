"""`trajforge run-task`: one episode against a served model."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from trajforge.cli.common import fail
from trajforge.sandbox import SandboxConfig, SandboxUnavailable
from trajforge.tasks import TaskLimits, TaskSpec, taxonomy_problem
from trajforge.tools import UnknownToolset, parse_toolsets


def run_task(
    prompt: Annotated[str, typer.Option(help="What the user asks the agent.", show_default=False)],
    endpoint: Annotated[str, typer.Option(help="Base URL of an OpenAI-compatible API (…/v1).", show_default=False)],
    model: Annotated[str, typer.Option(help="Model name as the server knows it.", show_default=False)],
    out: Annotated[Path, typer.Option(help="Folder for episodes.jsonl and rows.jsonl.", show_default=False)],
    toolsets: Annotated[str, typer.Option(help="Comma-separated toolsets.")] = "terminal,file,code",
    category: Annotated[str, typer.Option(help="Taxonomy category of the task.")] = "Terminal & Coding",
    subcategory: Annotated[str, typer.Option(help="Subcategory within the category.")] = "script_writing",
    backend: Annotated[str, typer.Option(help="Sandbox: auto, local or bwrap.")] = "auto",
    max_turns: Annotated[int, typer.Option(min=1, help="Most assistant turns.")] = 30,
    wall_seconds: Annotated[float, typer.Option(min=1, help="Wall-clock limit of the episode.")] = 900.0,
    api_key: Annotated[
        str, typer.Option(envvar="OPENAI_API_KEY", show_default=False, help="API key (or OPENAI_API_KEY).")
    ] = "",
    temperature: Annotated[float | None, typer.Option(help="Sampling temperature.")] = None,
    top_p: Annotated[float | None, typer.Option(help="Nucleus sampling.")] = None,
    max_tokens: Annotated[int | None, typer.Option(help="Most tokens per model call.")] = None,
    extra_body: Annotated[str, typer.Option(help="JSON sent as is, e.g. '{\"chat_template_kwargs\": {}}'.")] = "",
    reasoning_field: Annotated[
        list[str] | None, typer.Option(help="Field(s) earlier reasoning is sent back in (repeat for several).")
    ] = None,
    config: Annotated[str, typer.Option(help="Dataset config name (default: the model's last path part).")] = "",
    keep_workspace: Annotated[bool, typer.Option(help="Keep the workspace after the episode.")] = False,
) -> None:
    """Run one episode with real tools in a sandbox; write its record and its row."""
    problem = taxonomy_problem(category, subcategory)
    if problem:
        raise fail(problem)
    if backend not in ("auto", "local", "bwrap"):
        raise fail(f"--backend must be auto, local or bwrap, not {backend!r}")
    try:
        names = parse_toolsets(toolsets)
        body = json.loads(extra_body) if extra_body else {}
    except UnknownToolset as exc:
        raise fail(str(exc)) from None
    except json.JSONDecodeError as exc:
        raise fail(f"--extra-body is not JSON: {exc}") from None
    from trajforge.policy import ModelConfig  # here: the model client (openai) is slow to import
    from trajforge.runner import run_single

    model_config = ModelConfig(
        endpoint=endpoint,
        model=model,
        api_key=api_key,
        temperature=temperature,
        top_p=top_p,
        max_tokens=max_tokens,
        extra_body=body,
        reasoning_fields=tuple(reasoning_field or ("reasoning", "reasoning_content")),
    )
    try:
        spec = TaskSpec(
            id="adhoc",
            category=category,
            subcategory=subcategory,
            prompt=prompt,
            toolsets=names,
            limits=TaskLimits(max_turns=max_turns, wall_seconds=wall_seconds),
        )
    except ValidationError as exc:
        raise fail("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())) from None
    sandbox = SandboxConfig(backend=backend, keep_workspace=keep_workspace)  # type: ignore[arg-type]
    try:
        result = asyncio.run(run_single(spec, model_config, sandbox, out, config or model.rstrip("/").split("/")[-1]))
    except SandboxUnavailable as exc:
        raise fail(str(exc)) from None
    episode = result.episode
    print(f"backend: {result.backend}")
    print(f"finish: {episode.finish.value}" + (f" ({episode.error})" if episode.error else ""))
    print(f"episode record: {result.record_path}")
    if result.row_path:
        print(f"row: {result.row_path}")
    else:
        print(f"row: not written ({result.row_error})")
    if keep_workspace:
        print(f"workspace kept: {result.workspace}")
