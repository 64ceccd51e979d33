"""Where the model is served and how it is sampled (no import of the HTTP client: the CLI starts fast)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from trajforge.policy.chat_template import ChatTemplate


@dataclass(frozen=True)
class ModelConfig:
    """Where the model is served and how it is sampled."""

    endpoint: str
    """Base URL of the OpenAI-compatible API, e.g. http://localhost:8000/v1."""
    model: str
    more_endpoints: tuple[str, ...] = ()
    """Other base URLs serving the same model; requests go to the least-loaded healthy one."""
    api_key: str = field(default="", repr=False)
    """Never logged, recorded or passed to tools."""
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    extra_body: dict[str, Any] = field(default_factory=dict)
    """Sent as is, e.g. {"chat_template_kwargs": {"enable_thinking": true}}."""
    reasoning_fields: tuple[str, ...] = ("reasoning", "reasoning_content")
    """Fields earlier reasoning is sent back in (servers differ; vLLM renamed the field)."""
    timeout: float = 600.0
    """Seconds one request may take before it is retried."""
    max_retries: int = 6
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    rest_seconds: float = 30.0
    """How long an endpoint that failed three requests in a row is left alone."""
    breaker_failures: int = 8
    """The breaker opens when every endpoint has failed this many requests in a row (0: never)."""
    preflight_timeout: float = 10.0
    """Seconds the preflight waits for each endpoint's model list."""
    tool_format: str | None = None
    """A model-native text format (vLLM's parser names, trace.textformats): tool calls the
    server leaves in `content` are read from it, and `api="completions"` generations parse with it."""
    api: Literal["chat", "completions"] = "chat"
    """`completions`: the prompt is built here with `chat_template` and sent to /v1/completions."""
    chat_template: ChatTemplate | None = None
    reasoning_parser: str | None = None
    """The reasoning style raw generations split with (None: the tool format's usual one; "none": no split)."""

    @property
    def endpoints(self) -> list[str]:
        """Every base URL, the first one first."""
        return [self.endpoint, *self.more_endpoints]

    def sampling(self) -> dict[str, Any]:
        """The sampling parameters that are set (what the record keeps)."""
        values = {"temperature": self.temperature, "top_p": self.top_p, "max_tokens": self.max_tokens}
        chosen: dict[str, Any] = {k: v for k, v in values.items() if v is not None}
        if self.extra_body:
            chosen["extra_body"] = self.extra_body
        return chosen
