"""The model's chat template, for `--api completions`: the prompt a server would have built, built here.

The template comes from a file the user names: a Jinja file, a `tokenizer_config.json`
(its `chat_template`, `bos_token` and `eos_token`), or a model folder holding one (or a
`chat_template.jinja`). It is rendered as transformers renders it (sandboxed Jinja, the
same globals, see trace.tokens), with the conversation as OpenAI messages whose tool
call arguments are objects and whose reasoning is in `reasoning_content` (what Qwen3,
GLM and Kimi templates read).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trajforge.trace import Message
from trajforge.trace.tokens import TokenizerError, compile_chat_template, config_chat_template


class ChatTemplateError(ValueError):
    """The chat template cannot be loaded or rendered; the message names the file and the reason, in one line."""


@dataclass(frozen=True)
class ChatTemplate:
    """A chat template's text and the special tokens it is rendered with."""

    source: str
    """Where it was read from (for messages)."""
    text: str = field(repr=False)
    bos_token: str = ""
    eos_token: str = ""
    _compiled: Any = field(default=None, repr=False, compare=False)

    def _template(self) -> Any:
        if self._compiled is None:  # compiled once per template (frozen: set through object.__setattr__)
            object.__setattr__(self, "_compiled", compile_chat_template(self.text))
        return self._compiled

    def render(self, messages: list[Message], tools: list[dict[str, Any]], kwargs: dict[str, Any]) -> str:
        """The prompt for the next assistant turn; raises ChatTemplateError when the template refuses."""
        try:
            template = self._template()
            return str(
                template.render(
                    messages=[template_message(m) for m in messages],
                    tools=tools or None,
                    add_generation_prompt=True,
                    bos_token=self.bos_token,
                    eos_token=self.eos_token,
                    **kwargs,
                )
            )
        except TokenizerError as exc:
            raise ChatTemplateError(f"{self.source}: {exc}") from None
        except Exception as exc:  # templates raise anything (raise_exception, TypeError on odd input...)
            raise ChatTemplateError(f"{self.source}: the chat template failed: {type(exc).__name__}: {exc}") from None


def template_message(message: Message) -> dict[str, Any]:
    """One message as chat templates read it (arguments as objects, reasoning as `reasoning_content`)."""
    item: dict[str, Any] = {"role": message.role, "content": message.content or ""}
    if message.role == "assistant":
        if message.reasoning:
            item["reasoning_content"] = item["reasoning"] = message.reasoning
        if message.tool_calls:
            item["tool_calls"] = [
                {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                for c in message.tool_calls
            ]
    elif message.role == "tool":
        item.update(tool_call_id=message.tool_call_id, name=message.name)
    return item


def load_chat_template(path: str | Path) -> ChatTemplate:
    """The template at `path`: a Jinja file, a tokenizer_config.json, or a folder with one (else ChatTemplateError)."""
    where = Path(path)
    if where.is_dir():
        jinja, config = where / "chat_template.jinja", where / "tokenizer_config.json"
        if jinja.is_file():
            found = load_chat_template(jinja)
            return _with_tokens(found, config) if config.is_file() else found
        if config.is_file():
            return load_chat_template(config)
        raise ChatTemplateError(f"{where}: no chat_template.jinja or tokenizer_config.json in this folder")
    if not where.is_file():
        raise ChatTemplateError(f"{where}: no such file")
    if where.suffix == ".json":
        try:
            text = config_chat_template(where)
        except TokenizerError as exc:
            raise ChatTemplateError(str(exc)) from None
        if not text:
            raise ChatTemplateError(f"{where}: no chat_template in this file")
        template = _with_tokens(ChatTemplate(str(where), text), where)
        template.render([Message("user", "x")], [], {})  # a template that does not compile fails here, once
        return template
    try:
        text = where.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ChatTemplateError(f"{where}: cannot read the chat template: {exc}") from None
    template = ChatTemplate(str(where), text)
    template.render([Message("user", "x")], [], {})  # a template that does not compile fails here, once
    return template


def _with_tokens(template: ChatTemplate, config_path: Path) -> ChatTemplate:
    """The template with the BOS/EOS tokens a tokenizer_config.json names (strings or {"content": ...})."""
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return template
    tokens = {name: _token(config.get(name)) for name in ("bos_token", "eos_token")} if isinstance(config, dict) else {}
    return ChatTemplate(template.source, template.text, tokens.get("bos_token", ""), tokens.get("eos_token", ""))


def _token(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("content")
    return value if isinstance(value, str) else ""
