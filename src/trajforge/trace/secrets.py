"""Secret-shaped strings and their replacement: tools redact results with it, curation scrubs datasets.

Pure string work, so both the tools (before a result reaches the model) and
the dataset curation (before rows are published) share one set of shapes.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from typing import Any

REPLACEMENT = "[REDACTED]"

# Names of settings that hold secrets, as keys of env files, INI, YAML, JSON, shell and code assignments
# (`aws_secret_access_key`, `DB_PASSWORD`, `github_token`, `x-api-key`...): any name holding one of these words.
_SECRET_NAME = (
    r"(?:(?<![A-Za-z0-9])|(?<=[a-z0-9])(?=[A-Z]))"  # a part of a name: after _ . - or a camelCase hump
    r"(?i:secret|passw(?:or)?d|pwd|token|api[_-]?key|apikey|auth[_-]?key|access[_-]?key|private[_-]?key"
    r"|client[_-]?key|credentials?)(?:[_.-][A-Za-z0-9_.-]*|[A-Z][A-Za-z0-9_.-]*)?"
)
"""The part of a setting's name from a secret word on: `aws_[secret_access_key]`, `DB_[PASSWORD]`,
`access[Token]`, `x-api-key`; not `tokenizer` or `max_tokens`. The match starts at the word (a name's
prefix needs no look: the scan is then a quick test of each position's first letter)."""
# A value that is a secret and not a reference to one ($VAR, ${VAR}, <placeholder>, {{ template }}, a call).
_NOT_A_REFERENCE = r"(?![$<{%]|\[REDACTED\]|(?i:none|null|true|false|undefined|str|string|int)\b)"
_ASSIGNMENT = (
    rf"{_SECRET_NAME}['\"\]]{{0,2}}[ \t]*(?::=|=>|[:=])[ \t]*"
    rf"(?:(?P<q>['\"]){_NOT_A_REFERENCE}(?P<secret>[^'\"\n]{{6,}}?)(?P=q)"
    rf"|{_NOT_A_REFERENCE}(?=[^\s'\",;(){{}}\[\]]*[A-Za-z])(?P<bare>[^\s'\",;(){{}}\[\]]{{8,}})(?![\w\[(.]))"
)
"""`name = value` in env, INI, YAML, JSON, shell and code forms: the value is replaced, the name kept."""
# Shapes of common credentials, each with the lower-case words one of which its match must
# hold: a pattern runs only on text that holds one (`in` on lowered text is ~100x faster
# than a case-insensitive regex scan, and most text holds none of them). A pattern with a
# `secret` or `bare` group replaces only that group (the setting's name stays readable).
SHAPE_SOURCES: tuple[tuple[str, tuple[str, ...]], ...] = (
    # a whole key, or the start of one whose end was cut off (head, truncated output)
    (
        r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----"
        r"(?:[\s\S]*?-----END [A-Z0-9 ]*PRIVATE KEY-----|[A-Za-z0-9+/=\s\\:-]*)",
        ("private key",),
    ),
    (r"PuTTY-User-Key-File-\d+:[\s\S]*?Private-MAC: *[0-9a-fA-F]+", ("putty-user-key-file",)),
    (r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}", ("sk-",)),  # OpenAI / Anthropic style
    (r"\bgh[pousr]_[A-Za-z0-9]{36,}", ("ghp_", "gho_", "ghu_", "ghs_", "ghr_")),  # GitHub tokens
    (r"\bgithub_pat_[A-Za-z0-9_]{22,}", ("github_pat_",)),
    (r"\bhf_[A-Za-z0-9]{30,}", ("hf_",)),  # Hugging Face
    (r"\bxox[abposr]-[A-Za-z0-9-]{10,}", ("xox",)),  # Slack
    (r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", ("akia", "asia")),  # AWS access key id
    (r"\bAIza[0-9A-Za-z_-]{35}\b", ("aiza",)),  # Google API key
    (r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}", ("eyj",)),  # JWT: header.payload.sig
    (r"(?i)\bbearer\s+[A-Za-z0-9._~+/-]{20,}=*", ("bearer",)),
    # the password of a connection string: postgres://user:PASSWORD@host
    (r"(?i)\b[a-z][a-z0-9+.-]*://[^\s:/@'\"]+:(?P<secret>[^\s@/'\"]{3,})@", ("://",)),
    (_ASSIGNMENT, ("secret", "passw", "pwd", "token", "key", "credential")),
)


@functools.cache
def shapes() -> tuple[tuple[re.Pattern[str], tuple[str, ...]], ...]:
    """`SHAPE_SOURCES` compiled, once per process and only when text is redacted (compiling costs start-up)."""
    return tuple((re.compile(pattern), words) for pattern, words in SHAPE_SOURCES)


EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")


def _replace(match: re.Match[str]) -> str:
    """The match with its secret replaced: only the `secret` (or `bare`) group when the pattern has one."""
    for group in ("secret", "bare"):
        if group in match.re.groupindex and match.group(group) is not None:
            start, end = match.span(group)
            whole = match.group(0)
            offset = match.start()
            return whole[: start - offset] + REPLACEMENT + whole[end - offset :]
    return REPLACEMENT


class Redactor:
    """Replaces known secret values (such as the endpoint's API key) and secret-shaped strings."""

    def __init__(self, secrets: Iterable[str] = (), *, emails: bool = False) -> None:
        # Short values would redact ordinary words: only values of some length are taken literally.
        self._literals = sorted({s for s in secrets if s and len(s) >= 8}, key=len, reverse=True)
        self._emails = emails

    def may_hold_secrets(self, text: str) -> bool:
        """False when no pattern or known value can match `text` (a fast pre-check)."""
        if any(literal in text for literal in self._literals) or (self._emails and "@" in text):
            return True
        lowered = text.lower()
        return any(word in lowered for _, words in SHAPE_SOURCES for word in words)

    def redact(self, text: str) -> tuple[str, int]:
        """`text` with secrets replaced, and how many replacements were made."""
        count = 0
        for literal in self._literals:
            if literal in text:
                count += text.count(literal)
                text = text.replace(literal, REPLACEMENT)
        lowered = text.lower()
        for pattern, words in shapes():
            if any(word in lowered for word in words):
                text, n = pattern.subn(_replace, text)
                count += n
        if self._emails and "@" in text:
            text, n = EMAIL.subn(REPLACEMENT, text)
            count += n
        return text, count

    def redact_result(self, content: str) -> tuple[str, int]:
        """Like `redact`, but a JSON result is redacted string by string and re-encoded.

        Inside JSON text an escape such as `\\n` runs into the next word and hides
        it from the patterns' word boundaries; the decoded strings do not.
        """
        if content[:1] not in ("{", "[") or not self.may_hold_secrets(content):
            return self.redact(content)
        try:
            value = json.loads(content)
        except json.JSONDecodeError:
            return self.redact(content)
        counter = [0]
        clean = self._walk(value, counter)
        if not counter[0]:
            return content, 0
        return json.dumps(clean, ensure_ascii=False), counter[0]

    def redact_value(self, value: Any) -> tuple[Any, int]:
        """A JSON value with every string in it redacted, and the count; unchanged values are returned as is."""
        if not self.may_hold_secrets(_strings(value)):
            return value, 0
        counter = [0]
        clean = self._walk(value, counter)
        return (clean, counter[0]) if counter[0] else (value, 0)

    def _walk(self, value: Any, counter: list[int]) -> Any:
        """`value` with every string redacted, rebuilt without recursion (values may nest deep)."""
        if not isinstance(value, list | dict):
            return self._redact_leaf(value, counter)
        root: list[Any] = [None]
        stack: list[tuple[Any, Any, Any]] = [(value, root, 0)]  # (source, parent container, key in the parent)
        while stack:
            source, parent, key = stack.pop()
            if isinstance(source, list):
                copy: Any = [None] * len(source)
                stack.extend((item, copy, index) for index, item in enumerate(source))
            elif isinstance(source, dict):
                copy = dict.fromkeys(source)
                stack.extend((item, copy, name) for name, item in source.items())
            else:
                copy = self._redact_leaf(source, counter)
            parent[key] = copy
        return root[0]

    def _redact_leaf(self, value: Any, counter: list[int]) -> Any:
        if isinstance(value, str):
            text, count = self.redact(value)
            counter[0] += count
            return text
        return value


def _strings(value: Any) -> str:
    """Every string (keys included) in a JSON value, joined: what the fast pre-check looks at (no recursion)."""
    parts: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            parts.append(item)
        elif isinstance(item, list):
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            for key, child in reversed(list(item.items())):
                stack.append(child)
                stack.append(str(key))
    return "\n".join(parts)
