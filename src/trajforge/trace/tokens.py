"""Token counts of conversations: a tokenizer the user names, its chat template, or an estimate.

A tokenizer is named as a `tokenizer.json` file, a folder holding one (a model
snapshot, whose `tokenizer_config.json` may carry the `chat_template`), or a hub
id (`Qwen/Qwen3-8B`), which needs the hub or the local Hugging Face cache.
Without a tokenizer, text counts as one token per four characters and the
counts say they are estimates.

This is the one place both the agent loop (prompt sizes during an episode) and
the dataset room (row lengths, compression to a training budget) count tokens,
so a row measured after generation measures as it did during it. Loading reads
the tokenizer's files: the only I/O of the `trace` room.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from trajforge.trace.token_pieces import PieceCounter

CHARS_PER_TOKEN = 4
"""The estimate's ratio when no tokenizer is named (English text and code average about four)."""


class TokenizerError(ValueError):
    """The named tokenizer (or its chat template) cannot be loaded."""


@dataclass(frozen=True)
class ChatMessage:
    """A message as a chat template sees it."""

    role: str
    content: str


@dataclass
class TokenCounter:
    """Counts tokens of texts and of conversations as a trainer would tokenize them."""

    name: str | None = None
    """The tokenizer's name as given, None for the four-characters estimate."""
    _tokenizer: Any = None
    _template: Any = None
    _overheads: dict[str, int] = field(default_factory=dict)
    _pieces: PieceCounter | None = None
    template_failures: int = 0
    """Conversations the chat template refused (they were counted as plain text)."""

    @property
    def estimated(self) -> bool:
        """Whether counts are the four-characters estimate rather than a tokenizer's."""
        return self._tokenizer is None

    @property
    def has_template(self) -> bool:
        """Whether conversations are counted through the tokenizer's chat template."""
        return self._template is not None

    def count(self, texts: Sequence[str]) -> list[int]:
        """Tokens of each text (no special tokens added)."""
        if self._tokenizer is None:
            return [-(-len(text) // CHARS_PER_TOKEN) for text in texts]
        return self._piece_counter().count(texts)

    @property
    def fast(self) -> bool:
        """Whether counts come from the fast BPE counter now (`confirm_conversation` checks one exactly)."""
        return self._pieces is not None and self._pieces.fast

    def confirm_conversation(self, messages: Sequence[ChatMessage], count: int) -> int:
        """The tokenizer's own count of the conversation, as `count_conversation` lays it out, checked against
        `count`; when they differ the fast counter is dropped and later counts are the tokenizer's."""
        if self._tokenizer is None:
            return count
        text = self.render(messages)
        return self._piece_counter().confirm([text] if text is not None else [m.content for m in messages], count)

    def counted_by(self) -> tuple[str, int]:
        """What counts texts (the estimate, the tokenizer, or tiktoken's BPE on its vocabulary), and the texts
        the fast counter counted that the tokenizer counted too, so far."""
        if self._tokenizer is None:
            return f"an estimate ({CHARS_PER_TOKEN} characters a token)", 0
        pieces = self._piece_counter()
        if pieces.fast:
            return "tiktoken's BPE on the tokenizer's vocabulary, checked against the tokenizer", pieces.fast_checked
        return f"the tokenizer ({pieces.fast_reason})", pieces.fast_checked

    def _piece_counter(self) -> PieceCounter:
        """The tokenizer's piece counter, made on first use (it reads the tokenizer's whole vocabulary)."""
        if self._pieces is None:
            self._pieces = PieceCounter(self._tokenizer)
        return self._pieces

    def count_one(self, text: str) -> int:
        """Tokens of one text."""
        return self.count([text])[0]

    def turn_costs(self, messages: Sequence[ChatMessage]) -> list[int]:
        """Tokens of each message including what the chat template wraps it in (role markers).

        The sum approximates `count_conversation`; the template's exact output
        depends on neighbours (a system default, a generation prompt), which
        `count_conversation` sees and this does not.
        """
        values = self.count([m.content for m in messages])
        return [value + self._overhead(m.role) for value, m in zip(values, messages, strict=True)]

    def count_conversation(self, messages: Sequence[ChatMessage]) -> int:
        """Tokens of a whole conversation: its chat template's text when there is one, else the sum of messages."""
        return self.count_conversations([messages])[0]

    def count_conversations(self, conversations: Sequence[Sequence[ChatMessage]]) -> list[int]:
        """`count_conversation` of each, in one batch (the tokenizer spreads a batch over the cores)."""
        texts: list[str] = []
        spans: list[tuple[int, int]] = []  # each conversation's texts: its template text, or its messages
        for messages in conversations:
            text = self.render(messages)
            start = len(texts)
            texts.extend([text] if text is not None else [m.content for m in messages])
            spans.append((start, len(texts)))
        counts = self.count(texts)
        return [sum(counts[start:stop]) for start, stop in spans]

    def share_costs(self, messages: Sequence[ChatMessage], total: int) -> list[int]:
        """Each message's share of a conversation of `total` tokens, in proportion to its characters.

        An estimate (one tokenizer pass over the whole conversation gives `total`;
        a second per message would double the cost of measuring long rows), so a
        choice made with it is checked with an exact count.
        """
        overheads = [self._overhead(m.role) for m in messages]
        text_total = max(1, total - sum(overheads))
        chars = [len(m.content) for m in messages]
        scale = text_total / max(1, sum(chars))
        return [round(c * scale) + o for c, o in zip(chars, overheads, strict=True)]

    def render(self, messages: Sequence[ChatMessage]) -> str | None:
        """The chat template's text of a conversation, or None without a template (or when it refuses)."""
        if self._template is None:
            return None
        for roles in (_ROLES, _ROLES_WITHOUT_TOOL):
            try:
                return str(
                    self._template.render(
                        messages=[{"role": roles.get(m.role, m.role), "content": m.content} for m in messages],
                        add_generation_prompt=False,
                        bos_token="",
                        eos_token="",
                    )
                )
            except Exception:  # templates raise anything (raise_exception, KeyError, TypeError...)
                continue
        self.template_failures += 1
        return None

    def _overhead(self, role: str) -> int:
        if role not in self._overheads:
            probe = "x"
            text = self.render([ChatMessage(role, probe)])
            self._overheads[role] = max(0, self.count_one(text) - self.count_one(probe)) if text is not None else 0
        return self._overheads[role]


# ShareGPT's `from` names and the OpenAI roles, to the roles chat templates know
_ROLES = {"human": "user", "gpt": "assistant", "system": "system", "tool": "tool"}
_ROLES_WITHOUT_TOOL = {**_ROLES, "tool": "user"}  # templates that know no tool role


def load_counter(name: str | None, *, template: str | None = None) -> TokenCounter:
    """A counter for the tokenizer `name` (None: the estimate); raises TokenizerError when it cannot load.

    `template` is a chat template's text that replaces the tokenizer's own;
    a folder's `tokenizer_config.json` supplies the template otherwise.
    """
    if name is None:
        return TokenCounter(_template=_compile(template) if template else None)
    try:
        from tokenizers import Tokenizer
    except ImportError:  # pragma: no cover - tokenizers is a dependency
        raise TokenizerError("token counting needs the `tokenizers` package") from None
    path = Path(name)
    folder = path if path.is_dir() else path.parent if path.is_file() else None
    file = path / "tokenizer.json" if path.is_dir() else path
    try:
        tokenizer = Tokenizer.from_file(str(file)) if file.is_file() else Tokenizer.from_pretrained(name)
    except Exception as exc:  # tokenizers raises plain Exceptions for missing files, hub errors, bad JSON
        raise TokenizerError(
            f"cannot load tokenizer {name!r}: {str(exc).splitlines()[0] if str(exc) else exc}"
        ) from None
    if template is None and folder is not None:
        template = _config_template(folder / "tokenizer_config.json")
    return TokenCounter(name=name, _tokenizer=tokenizer, _template=_compile(template) if template else None)


@functools.lru_cache(maxsize=4)
def cached_counter(name: str | None, template: str | None = None) -> TokenCounter:
    """`load_counter`, once per process for each tokenizer and template (loading parses the whole vocabulary)."""
    return load_counter(name, template=template)


def _config_template(path: Path) -> str | None:
    if not path.is_file():
        return None
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise TokenizerError(f"{path}: cannot read the chat template: {exc}") from None
    template = config.get("chat_template") if isinstance(config, dict) else None
    if isinstance(template, list):  # several named templates: the default one
        named = {t.get("name"): t.get("template") for t in template if isinstance(t, dict)}
        template = named.get("default") or next(iter(named.values()), None)
    return template if isinstance(template, str) else None


def compile_chat_template(source: str) -> Any:
    """A chat template compiled as transformers does; raises TokenizerError when it does not compile."""
    return _compile(source)


def config_chat_template(path: Path) -> str | None:
    """The chat template a `tokenizer_config.json` carries (its default one when named), None when none."""
    return _config_template(path)


def _compile(source: str) -> Any:
    """A chat template compiled as transformers does (sandboxed jinja2, loop controls, `raise_exception`)."""
    from jinja2 import TemplateError
    from jinja2.ext import loopcontrols
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message: str) -> None:
        raise TemplateError(message)

    def strftime_now(fmt: str) -> str:
        return datetime.now(UTC).strftime(fmt)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.filters["tojson"] = lambda value, indent=None: json.dumps(value, ensure_ascii=False, indent=indent)
    env.globals.update(raise_exception=raise_exception, strftime_now=strftime_now)
    try:
        return env.from_string(source)
    except TemplateError as exc:
        raise TokenizerError(f"the chat template does not compile: {exc}") from None
