"""Options that several commands share, defined once: one vocabulary for `generate` and `run-task`."""

from __future__ import annotations

from pathlib import Path, PurePath
from typing import Annotated, Any, get_args, get_origin

import typer

from trajforge.cli.common import fail
from trajforge.sandbox import Backend

ENDPOINT_ENV = ["TRAJFORGE_ENDPOINT", "OPENAI_BASE_URL"]

Endpoint = Annotated[
    list[str] | None,
    typer.Option(
        help="Base URL of an OpenAI-compatible API (…/v1); repeat for several.",
        envvar=ENDPOINT_ENV,
        metavar="URL",
        show_default=False,
    ),
]
ModelName = Annotated[str, typer.Option(help="Model name as the server knows it.", metavar="NAME")]
ApiKey = Annotated[
    str, typer.Option(envvar="OPENAI_API_KEY", show_default=False, metavar="KEY", help="API key (never recorded).")
]
Config = Annotated[
    str, typer.Option(help="Dataset config name (default: oracle, or the model's name).", metavar="NAME")
]
Sandbox = Annotated[str, typer.Option(help="Sandbox backend.", metavar="auto|local|bwrap")]
KeepWorkspace = Annotated[bool, typer.Option(help="Keep each workspace on disk after its episode.")]
Temperature = Annotated[float | None, typer.Option(help="Sampling temperature.", metavar="T")]
TopP = Annotated[float | None, typer.Option(help="Nucleus sampling (0-1].", metavar="P")]
MaxTokens = Annotated[int | None, typer.Option(help="Most tokens per model call.", metavar="N")]
MaxTurns = Annotated[int | None, typer.Option(help="Most assistant turns (default: the task's).", metavar="N")]
MaxContextTokens = Annotated[
    int | None,
    typer.Option(help="The model's context window (default: the server's max_model_len, when set).", metavar="N"),
]
OnContext = Annotated[
    str,
    typer.Option(help="A prompt that would exceed the context: end the episode, or compress middle turns.",
                 metavar="end|compress"),
]  # fmt: skip
MaxToolResultTokens = Annotated[
    int | None, typer.Option(help="Cut longer tool results in the middle, with a marker.", metavar="N")
]
Tokenizer = Annotated[
    str | None,
    typer.Option(help="Counts prompt tokens: tokenizer.json, its folder or a hub id (default: 4 characters a token).",
                 metavar="NAME"),
]  # fmt: skip
WallSeconds = Annotated[
    float | None, typer.Option(help="Wall-clock limit of an episode (default: the task's).", metavar="S")
]
Toolsets = Annotated[
    str | None, typer.Option(help="Comma-separated toolsets offered (default: the task's).", metavar="LIST")
]
ExtraBody = Annotated[
    str, typer.Option(help="JSON object sent as is with every request.", metavar="JSON", show_default=False)
]
RequestTimeout = Annotated[float, typer.Option(help="Seconds one model request may take.", metavar="S")]
ReasoningField = Annotated[
    list[str] | None,
    typer.Option(help="Field(s) earlier reasoning is sent back in (repeat for several).", metavar="FIELD"),
]
ToolFormat = Annotated[
    str | None,
    typer.Option(help="Read tool calls the server leaves in the text: hermes, kimi_k2, glm45, glm47, qwen3_coder, "
                 "deepseek_v3, deepseek_v31, llama3_json, mistral or pythonic (vLLM's parser names).", metavar="NAME"),
]  # fmt: skip
Api = Annotated[
    str,
    typer.Option(help="chat (/v1/chat/completions) or completions (/v1/completions on a prompt built from the "
                 "chat template; needs --tool-format).", metavar="chat|completions"),
]  # fmt: skip
ChatTemplatePath = Annotated[
    str | None,
    typer.Option("--chat-template", help="The model's chat template for --api completions: a .jinja file, a "
                 "tokenizer_config.json or a model folder (default: the --tokenizer folder's).", metavar="PATH"),
]  # fmt: skip
ReasoningParser = Annotated[
    str | None,
    typer.Option(help="How raw text splits into reasoning: think, deepseek_r1, qwen3, kimi_k2, glm45, mistral or "
                 "none (default: the tool format's usual one).", metavar="NAME"),
]  # fmt: skip
TaskSources = Annotated[
    list[str] | None, typer.Option("--tasks", help="Spec files or folders; `builtin` is the catalog.", metavar="PATH")
]
OutFolder = Annotated[
    Path | None, typer.Option(help="Run folder: runs/<config>/ records, rows/<config>/ rows.", metavar="DIR")
]


_BACKENDS: dict[str, Backend] = {"auto": "auto", "local": "local", "bwrap": "bwrap"}


def sandbox_backend(name: str) -> Backend:
    """The sandbox backend `name`, or a usage error naming the choices (a typo never falls back to auto)."""
    if name not in _BACKENDS:
        raise fail(f"--sandbox must be auto, local or bwrap, not {name!r}")
    return _BACKENDS[name]


def typed_options(ctx: typer.Context, values: dict[str, Any]) -> dict[str, Any]:
    """The options the user gave, on the command line or through the environment, not defaults.

    Where a value came from decides what wins over a run file: a flag typed with its
    default value (`--policy model`) still counts as given.
    """
    given = {}
    for name, value in values.items():
        source = ctx.get_parameter_source(name)
        if source is not None and source.name in ("COMMANDLINE", "ENVIRONMENT"):
            given[name] = value
    return given


def plain_metavars(command: Any) -> None:
    """Help shows words (TEXT, N, PATH), never Python types (`<list[str]>`, `<bool>`), for every command.

    `command` is what `typer.main.get_command` returns; typer vendors its own click,
    whose classes are private, so parameters are read through their attributes.
    """
    # click adds --help outside `params`, on first use; make it now so it gets a word too
    help_option = command.get_help_option(command.context_class(command))
    for param in [*command.params, *([help_option] if help_option is not None else [])]:
        if param.metavar is None:
            param.metavar = _word(param)
        if param.param_type_name == "argument":
            # typer shows an argument's Python type (`<list[Path]>`) beside its name whatever its metavar;
            # this argument's own methods say the word instead (the class stays typer's)
            shown = _argument_type(param)
            param.display_type = param.display_type_rich = lambda ctx, shown=shown: shown
    for child in getattr(command, "commands", {}).values():
        plain_metavars(child)


def _argument_type(param: Any) -> str:
    """An argument's kind of value in words (PATH, TEXT, N), with `...` when it takes several."""
    described = getattr(param, "type_descriptor", None)
    if described is None:
        return ""
    annotation, several = described.annotation, False
    while get_origin(annotation) in (list, tuple) and get_args(annotation):
        annotation, several = get_args(annotation)[0], True
    is_path = described.is_path or (isinstance(annotation, type) and issubclass(annotation, PurePath))
    word = "PATH" if is_path else {int: "N", float: "NUMBER"}.get(annotation, "TEXT")
    return word + ("..." if several else "")


def _word(param: Any) -> str:
    described = getattr(param, "type_descriptor", None)
    if described is None:
        return ""
    if described.is_choice:
        return "|".join(str(c) for c in described.choices or ())
    if described.is_path:
        return "PATH" if param.param_type_name == "option" else str(param.name or "path").upper()
    annotation = described.annotation
    while get_origin(annotation) in (list, tuple) and get_args(annotation):
        annotation = get_args(annotation)[0]
    words = {bool: "", int: "N", float: "NUMBER", str: "TEXT"}
    if param.param_type_name == "argument":
        return str(param.name or "arg").upper()
    return words.get(annotation, "VALUE")
