"""Replace values that look like secrets before a tool result reaches the model or the record."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

REPLACEMENT = "[REDACTED]"

# Shapes of common credentials; each is specific enough not to eat ordinary text.
PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p)
    for p in (
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----",
        r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}",  # OpenAI / Anthropic style
        r"\bgh[pousr]_[A-Za-z0-9]{36,}",  # GitHub tokens
        r"\bgithub_pat_[A-Za-z0-9_]{22,}",
        r"\bhf_[A-Za-z0-9]{30,}",  # Hugging Face
        r"\bxox[abposr]-[A-Za-z0-9-]{10,}",  # Slack
        r"\bAKIA[0-9A-Z]{16}\b",  # AWS access key id
        r"\bAIza[0-9A-Za-z_-]{35}\b",  # Google API key
        r"(?i)\bbearer\s+[A-Za-z0-9._~+/-]{20,}=*",
        r"(?i)\b(?:api[_-]?key|secret|token|password)\s*[=:]\s*['\"]?[A-Za-z0-9._~+/-]{16,}",
    )
)


class Redactor:
    """Replaces known secret values (such as the endpoint's API key) and secret-shaped strings."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Short values would redact ordinary words: only values of some length are taken literally.
        self._literals = sorted({s for s in secrets if s and len(s) >= 8}, key=len, reverse=True)

    def redact(self, text: str) -> tuple[str, int]:
        """`text` with secrets replaced, and how many replacements were made."""
        count = 0
        for literal in self._literals:
            if literal in text:
                count += text.count(literal)
                text = text.replace(literal, REPLACEMENT)
        for pattern in PATTERNS:
            text, n = pattern.subn(REPLACEMENT, text)
            count += n
        return text, count

    def redact_result(self, content: str) -> tuple[str, int]:
        """Like `redact`, but a JSON result is redacted string by string and re-encoded.

        Inside JSON text an escape such as `\\n` runs into the next word and hides
        it from the patterns' word boundaries; the decoded strings do not.
        """
        if content[:1] not in ("{", "["):
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

    def _walk(self, value: Any, counter: list[int]) -> Any:
        if isinstance(value, str):
            text, count = self.redact(value)
            counter[0] += count
            return text
        if isinstance(value, list):
            return [self._walk(item, counter) for item in value]
        if isinstance(value, dict):
            return {key: self._walk(item, counter) for key, item in value.items()}
        return value
