"""Exact token counts by pieces: texts cut at the tokenizer's special tokens, each piece counted once.

A Hugging Face tokenizer cuts its input at added tokens before it normalizes
and pre-tokenizes the rest, so a text's count is the sum of its pieces' counts
plus one per special token. Chat templates put special tokens between messages,
so a conversation is a run of pieces, one per message; a compressed candidate
of a row, or the next prompt of an episode, shares nearly all of them with the
text counted before. Counting each distinct piece once turns those counts into
look-ups instead of a second pass of the tokenizer.

The rule holds for the tokenizers in use, but not by construction for all
(a Metaspace pre-tokenizer that prepends only at the start of the input, added
tokens that strip the spaces beside them), so it is used only for tokenizers
without stripping added tokens, and checked on the first texts against whole
counts; one mismatch turns it off for the counter's life.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

CACHE_CHARS = 64 << 20
"""Characters of cached pieces kept at most; the cache is emptied when it grows past this."""
VERIFY_TEXTS = 16
"""Texts holding special tokens counted both ways before the rule is trusted."""


@dataclass
class PieceCounter:
    """Counts texts through a tokenizer, piece by piece, with a bounded cache of piece counts."""

    tokenizer: Any
    cache_chars: int = CACHE_CHARS
    _pattern: re.Pattern[str] | None = None
    _cache: dict[str, int] = field(default_factory=dict)
    _cached_chars: int = 0
    _verified: int = 0
    additive: bool = True
    """Whether counts are summed over pieces (False once a check found the tokenizer is not additive)."""

    def __post_init__(self) -> None:
        self._pattern = _special_pattern(self.tokenizer)
        if self._pattern is None:
            self.additive = False

    def count(self, texts: Sequence[str]) -> list[int]:
        """Tokens of each text (no special tokens added), as `encode` would count the whole text."""
        if not self.additive or self._pattern is None:
            return self._counted(list(texts))
        split = [_split(self._pattern, text) for text in texts]
        unverified = [i for i, (_, specials) in enumerate(split) if specials] if self._verified < VERIFY_TEXTS else []
        counts = self._counted([piece for pieces, _ in split for piece in pieces])
        totals, at = [], 0
        for pieces, specials in split:
            totals.append(sum(counts[at : at + len(pieces)]) + specials)
            at += len(pieces)
        if unverified:
            whole = self._encode([texts[i] for i in unverified])
            if any(totals[i] != w for i, w in zip(unverified, whole, strict=True)):
                self.additive = False  # this tokenizer does not count by pieces: whole texts from now on
                return self._counted(list(texts))
            self._verified += len(unverified)
        return totals

    def _counted(self, texts: list[str]) -> list[int]:
        """Counts of `texts`, each distinct text not in the cache encoded once (in one batch)."""
        cache = self._cache
        if self._cached_chars > self.cache_chars:  # emptied between calls, so this call's hits stay
            cache.clear()
            self._cached_chars = 0
        missing = list(dict.fromkeys(text for text in texts if text not in cache))
        if missing:
            for text, value in zip(missing, self._encode(missing), strict=True):
                cache[text] = value
                self._cached_chars += len(text)
        return [cache[text] for text in texts]

    def _encode(self, texts: list[str]) -> list[int]:
        if not texts:
            return []
        return [len(e) for e in self.tokenizer.encode_batch_fast(texts, add_special_tokens=False)]


def _special_pattern(tokenizer: Any) -> re.Pattern[str] | None:
    """A pattern matching the tokenizer's added tokens as it extracts them, or None when pieces cannot be used."""
    try:
        added = list(tokenizer.get_added_tokens_decoder().values())
    except AttributeError:
        return None
    if not added or any(t.lstrip or t.rstrip or t.single_word or t.normalized for t in added):
        return None  # tokens that absorb or need their neighbours: a piece's count would depend on them
    contents = sorted({t.content for t in added if t.content}, key=len, reverse=True)  # longest match first
    return re.compile("|".join(map(re.escape, contents))) if contents else None


def _split(pattern: re.Pattern[str], text: str) -> tuple[list[str], int]:
    """The text's non-empty pieces between special tokens, and how many special tokens it holds."""
    pieces, specials, at = [], 0, 0
    for match in pattern.finditer(text):
        if match.start() > at:
            pieces.append(text[at : match.start()])
        specials += 1
        at = match.end()
    if at < len(text):
        pieces.append(text[at:])
    return pieces, specials
