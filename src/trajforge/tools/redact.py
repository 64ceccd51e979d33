"""Replace values that look like secrets before a tool result reaches the model or the record."""

from __future__ import annotations

import re
from collections.abc import Iterable

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
