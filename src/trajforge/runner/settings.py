"""The settings of a generation run, validated once.

`RunOptions` is the user's vocabulary: one flat model whose fields are the
options of `trajforge generate` and the keys of a `--run` file, so a bad value
is reported under the option's own name. `RunOptions.settings()` turns it into
the runner's `GenerateSettings` (model client, sandbox, episode budgets).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from trajforge.policy import ModelConfig
from trajforge.policy.chat_template import ChatTemplate, load_chat_template
from trajforge.sandbox import SandboxConfig
from trajforge.tools import parse_toolsets

CONFIG_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")
REASONING_FIELDS = ("reasoning", "reasoning_content")


class _Strict(BaseModel):
    # Empty lists and dicts are plain defaults: pydantic copies them for each model, and `default_factory=list`
    # cost start-up time (pydantic reads the builtin's signature by tokenizing its text, for every field).
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class EpisodeOverrides(_Strict):
    """Budgets and tools that replace each task's own, when set."""

    max_turns: int | None = Field(None, ge=1)
    """Most assistant turns per episode."""
    wall_seconds: float | None = Field(None, gt=0)
    """Wall-clock limit of each episode."""
    toolsets: tuple[str, ...] | None = None
    """Toolsets offered instead of the task's own."""
    max_context_tokens: Annotated[int | None, Field(ge=1)] = None
    """The model's context window; a call whose prompt would exceed it is not sent (see `on_context`)."""
    on_context: Literal["end", "compress"] = "end"
    """End the episode with `context_length`, or replace middle turns by a summary and go on."""
    max_tool_result_tokens: Annotated[int | None, Field(ge=1)] = None
    """A longer tool result is cut in the middle, with a marker."""
    tokenizer: str | None = None
    """Counts prompt tokens the server has not reported (default: four characters a token)."""


class GenerateSettings(_Strict):
    """Where and how a generation run goes (what the runner needs; built by `RunOptions.settings`)."""

    out: Path
    config: str
    sandbox: SandboxConfig = Field(default_factory=SandboxConfig)
    model: ModelConfig | None = None
    """The served model; None plays each task's oracle."""
    episode: EpisodeOverrides = Field(default_factory=lambda: EpisodeOverrides(max_turns=None, wall_seconds=None))
    repeat: int = Field(1, ge=1)
    concurrency: int = Field(1, ge=1)
    max_episodes: int | None = Field(None, ge=1)
    """Stop after this many new episodes."""
    seed: int | None = None
    """Shuffle the task order with this seed (None keeps the given order)."""
    retry_failed: bool = False
    """Also run again the episodes whose recorded finish is final but not `stop`."""
    fail_fast: bool = False
    """Stop the run at the first episode that ends in a harness error."""
    vision_endpoint: str | None = None
    """Where browser_vision sends screenshots (an OpenAI-compatible base URL); default: the run's endpoint."""
    vision_model: str | None = None
    """The vision model browser_vision asks; default: the run's model."""
    user_endpoint: str | None = None
    """Where a task's simulated user (`user.simulate`) is played (an OpenAI-compatible base URL); default:
    the run's endpoint."""
    user_model: str | None = None
    """The model that plays a simulated user; default: the run's model."""

    @field_validator("config")
    @classmethod
    def _config_name(cls, value: str) -> str:
        return check_config_name(value)


def check_config_name(value: str) -> str:
    """`value` when it is a valid config name (a folder name under runs/ and rows/), else ValueError."""
    if not CONFIG_NAME.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a config name: use letters, digits, '.', '_' and '-', not starting with '.'"
        )
    return value


class RunOptions(_Strict):
    """The options of `trajforge generate`, as flags or as keys of a `--run` file."""

    out: Path | None = None
    tasks: list[str] = Field(default_factory=lambda: ["builtin"])
    category: list[str] = []
    policy: Literal["oracle", "model"] = "model"
    endpoint: list[str] = []
    model: str = ""
    api_key: str = Field("", repr=False)
    config: str = ""
    repeat: int = Field(1, ge=1)
    concurrency: int = Field(0, ge=0)
    max_episodes: int | None = Field(None, ge=1)
    resume: bool = True
    retry_failed: bool = False
    fail_fast: bool = False
    seed: int | None = None
    sandbox: Literal["auto", "local", "bwrap"] = "auto"
    keep_workspace: bool = False
    temperature: float | None = Field(None, ge=0)
    top_p: float | None = Field(None, gt=0, le=1)
    max_tokens: int | None = Field(None, ge=1)
    max_turns: int | None = Field(None, ge=1)
    wall_seconds: float | None = Field(None, gt=0)
    toolsets: str | None = None
    extra_body: dict[str, Any] = {}
    request_timeout: float = Field(600.0, gt=0)
    reasoning_field: list[str] = Field(default_factory=lambda: list(REASONING_FIELDS))
    max_context_tokens: int | None = Field(None, ge=1)
    on_context: Literal["end", "compress"] = "end"
    max_tool_result_tokens: int | None = Field(None, ge=1)
    tokenizer: str | None = None
    vision_endpoint: str | None = None
    vision_model: str | None = None
    user_endpoint: str | None = None
    user_model: str | None = None
    quiet: bool = False
    log_every: float = Field(60.0, gt=0)
    runner: Literal["local", "ray"] = "local"
    ray_address: str | None = None
    ray_workers: int = Field(2, ge=1)
    tool_format: str | None = None
    api: Literal["chat", "completions"] = "chat"
    chat_template: str | None = None
    reasoning_parser: str | None = None

    @field_validator("tasks", "category", "endpoint", "reasoning_field", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("extra_body", mode="before")
    @classmethod
    def _json_object(cls, value: Any) -> Any:
        if isinstance(value, str):
            if not value.strip():
                return {}
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                raise ValueError(f"not JSON: {exc}") from None
        if not isinstance(value, dict):
            raise ValueError('must be a JSON object, e.g. \'{"chat_template_kwargs": {"enable_thinking": true}}\'')
        return value

    @field_validator("endpoint")
    @classmethod
    def _urls(cls, value: list[str]) -> list[str]:
        for url in value:
            if not re.match(r"https?://[^/\s]+", url):
                raise ValueError(f"{url!r} is not an http(s) URL (e.g. http://localhost:8000/v1)")
        return value

    @field_validator("toolsets")
    @classmethod
    def _toolsets(cls, value: str | None) -> str | None:
        if value is not None:
            parse_toolsets(value)  # UnknownToolset is a ValueError: reported under --toolsets
        return value

    @field_validator("tool_format")
    @classmethod
    def _tool_format(cls, value: str | None) -> str | None:
        if value is None:
            return value
        from trajforge.trace import textformats  # the model formats: imported by runs that name one

        if value not in textformats.formats():
            raise ValueError(f"unknown tool format {value!r}; known: {', '.join(textformats.formats())}")
        return value

    @field_validator("reasoning_parser")
    @classmethod
    def _reasoning_parser(cls, value: str | None) -> str | None:
        if value is None:
            return value
        from trajforge.policy.native import NO_REASONING
        from trajforge.trace import textformats

        known = (*textformats.REASONING_STYLES, NO_REASONING)
        if value not in known:
            raise ValueError(f"unknown reasoning parser {value!r}; known: {', '.join(known)}")
        return value

    @field_validator("chat_template")
    @classmethod
    def _chat_template(cls, value: str | None) -> str | None:
        if value is not None:
            load_chat_template(value)  # ChatTemplateError is a ValueError: reported under --chat-template
        return value

    @field_validator("config")
    @classmethod
    def _config(cls, value: str) -> str:
        return check_config_name(value) if value else value

    @field_validator("out")
    @classmethod
    def _out_folder(cls, value: Path | None) -> Path | None:
        if value is not None and value.exists() and not value.is_dir():
            raise ValueError(f"{value} is a file, not a run folder")
        return value

    @model_validator(mode="after")
    def _complete(self) -> RunOptions:
        if self.out is None:
            raise ValueError("--out is required (or `out:` in the run file)")
        if self.policy == "model" and not (self.endpoint and self.model):
            raise ValueError(
                "--policy model needs --endpoint (or TRAJFORGE_ENDPOINT / OPENAI_BASE_URL) and --model "
                "(`generate --policy oracle` plays the tasks' reference solutions instead)"
            )
        if self.api == "completions":
            if self.tool_format is None:
                raise ValueError("--api completions needs --tool-format NAME (how to read the model's tool calls)")
            self._template()
        elif self.chat_template is not None:
            raise ValueError("--chat-template is used with --api completions only (chat servers apply their own)")
        return self

    def _template(self) -> ChatTemplate | None:
        """The chat template of --api completions: --chat-template, else the --tokenizer folder's."""
        if self.api != "completions":
            return None
        source = self.chat_template or self.tokenizer
        if source is None or not Path(source).exists():
            raise ValueError(
                "--api completions needs --chat-template PATH (a .jinja file, a tokenizer_config.json or a model "
                "folder), or a local --tokenizer folder that holds the chat template"
            )
        return load_chat_template(source)

    def config_name(self) -> str:
        """The dataset config: --config, else `oracle`, else the model name's last path part."""
        if self.config:
            return self.config
        if self.policy == "oracle":
            return "oracle"
        name = re.sub(r"[^A-Za-z0-9._-]", "-", self.model.rstrip("/").split("/")[-1]).lstrip(".")
        return check_config_name(name or "model")

    def client_config(self) -> ModelConfig | None:
        """The model client's settings (None for the oracle)."""
        if self.policy == "oracle":
            return None
        return ModelConfig(
            self.endpoint[0],
            self.model,
            more_endpoints=tuple(self.endpoint[1:]),
            api_key=self.api_key,
            temperature=self.temperature,
            top_p=self.top_p,
            max_tokens=self.max_tokens,
            extra_body=self.extra_body,
            reasoning_fields=tuple(self.reasoning_field),
            timeout=self.request_timeout,
            tool_format=self.tool_format,
            api=self.api,
            chat_template=self._template(),
            reasoning_parser=self.reasoning_parser,
        )

    def settings(self) -> GenerateSettings:
        """The runner's settings; the default concurrency is 8 episodes per core."""
        assert self.out is not None  # _complete refuses a missing --out
        toolsets = tuple(t.strip() for t in self.toolsets.split(",") if t.strip()) if self.toolsets else None
        return GenerateSettings(
            out=self.out,
            config=self.config_name(),
            sandbox=SandboxConfig(backend=self.sandbox, keep_workspace=self.keep_workspace),
            model=self.client_config(),
            episode=EpisodeOverrides(
                max_turns=self.max_turns,
                wall_seconds=self.wall_seconds,
                toolsets=toolsets,
                max_context_tokens=self.max_context_tokens,
                on_context=self.on_context,
                max_tool_result_tokens=self.max_tool_result_tokens,
                tokenizer=self.tokenizer,
            ),
            repeat=self.repeat,
            concurrency=self.concurrency or 8 * len(os.sched_getaffinity(0)),
            max_episodes=self.max_episodes,
            seed=self.seed,
            retry_failed=self.retry_failed,
            fail_fast=self.fail_fast,
            vision_endpoint=self.vision_endpoint,
            vision_model=self.vision_model,
            user_endpoint=self.user_endpoint,
            user_model=self.user_model,
        )

    def manifest(self) -> dict[str, Any]:
        """The options as the run's manifest records them: JSON values, never the API key."""
        data = self.model_dump(mode="json", exclude={"api_key"})
        data["config"] = self.config_name()
        return data


def option_errors(error: ValidationError, source: str = "") -> list[str]:
    """One line per problem, named as the user wrote it: `--extra-body: not JSON: ...`."""
    lines = []
    for problem in error.errors():
        where = "--" + str(problem["loc"][0]).replace("_", "-") if problem["loc"] else source or "options"
        if problem["type"] == "extra_forbidden":
            lines.append(f"{source or where}: unknown option {str(problem['loc'][0])!r}")
            continue
        message = str(problem["msg"]).removeprefix("Value error, ")
        lines.append(f"{where}: {message}")
    return lines
