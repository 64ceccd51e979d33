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

Pieces hold no special tokens, so for a plain byte-level BPE tokenizer they are
counted by `bpe_fast` (tiktoken on the tokenizer's own vocabulary), checked
against the tokenizer on the first texts and on one batch in `FAST_SAMPLE_EVERY`
after: one difference drops it for the counter's life.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from trajforge.trace.bpe_fast import FastBPE, fast_bpe

CACHE_CHARS = 64 << 20
"""Characters of cached pieces kept at most; the cache is emptied when it grows past this."""
VERIFY_TEXTS = 16
"""Texts holding special tokens counted both ways before the rule is trusted."""
FAST_VERIFY_TEXTS = 256
"""Pieces counted both by the fast counter and by the tokenizer before the fast counter is trusted."""
FAST_SAMPLE_EVERY = 64
"""After that, one batch in this many is still counted both ways."""


@dataclass
class PieceCounter:
    """Counts texts through a tokenizer, piece by piece, with a bounded cache of piece counts."""

    tokenizer: Any
    cache_chars: int = CACHE_CHARS
    _pattern: re.Pattern[str] | None = None
    _plain: bool = False
    """The tokenizer has no added tokens: a whole text holds no special token either."""
    _cache: dict[str, int] = field(default_factory=dict)
    _cached_chars: int = 0
    _verified: int = 0
    additive: bool = True
    """Whether counts are summed over pieces (False once a check found the tokenizer is not additive)."""
    fast: bool = True
    """Whether pieces are counted by `bpe_fast` (False when it does not apply, or once it differed)."""
    fast_reason: str = ""
    """Why the fast counter is not used (empty while it is)."""
    fast_checked: int = 0
    """Pieces the fast counter counted that the tokenizer counted too (all agreed while `fast` holds)."""
    _fast: FastBPE | None = None
    _batches: int = 0

    def __post_init__(self) -> None:
        self._pattern, self._plain = _special_pattern(self.tokenizer)
        if self._pattern is None:
            self.additive = False
        if self._pattern is None and not self._plain:
            self.fast, self.fast_reason = False, "texts are counted whole (added tokens that change their neighbours)"
        elif self.fast:
            self._fast, self.fast_reason = fast_bpe(self.tokenizer)
            self.fast = self._fast is not None

    def count(self, texts: Sequence[str]) -> list[int]:
        """Tokens of each text (no special tokens added), as `encode` would count the whole text."""
        if not self.additive or self._pattern is None:
            return self._counted(list(texts), pieces=self._plain)
        split = [_split(self._pattern, text) for text in texts]
        unverified = [i for i, (_, specials) in enumerate(split) if specials] if self._verified < VERIFY_TEXTS else []
        counts = self._counted([piece for pieces, _ in split for piece in pieces], pieces=True)
        totals = _sums(split, counts)
        if unverified:
            whole = self._encode([texts[i] for i in unverified])
            if any(totals[i] != w for i, w in zip(unverified, whole, strict=True)):
                if self.fast:  # the fast counter may be what differs: count the pieces exactly before judging
                    self._drop_fast("differed from the tokenizer on a text's pieces")
                    return self.count(texts)
                self.additive = False  # this tokenizer does not count by pieces: whole texts from now on
                self.fast_reason = self.fast_reason or "texts are counted whole (not additive over pieces)"
                return self._counted(list(texts))
            self._verified += len(unverified)
        return totals

    def confirm(self, texts: Sequence[str], total: int) -> int:
        """The tokenizer's own count of `texts` (whole, special tokens included), checked against `total`;
        when they differ and the fast counter is in use, the fast counter is dropped, its counts with it."""
        exact = sum(self._encode(list(texts)))
        if exact != total and self.fast:
            self._drop_fast(f"differed from the tokenizer on a whole text ({total} vs {exact} tokens)")
        return exact

    def _counted(self, texts: list[str], *, pieces: bool = False) -> list[int]:
        """Counts of `texts`, each distinct text not in the cache encoded once (in one batch).

        `pieces`: the texts hold no special tokens, so the fast counter may count them.
        """
        cache = self._cache
        if self._cached_chars > self.cache_chars:  # emptied between calls, so this call's hits stay
            cache.clear()
            self._cached_chars = 0
        missing = list(dict.fromkeys(text for text in texts if text not in cache))
        if missing:
            values = self._encode_pieces(missing) if pieces and self.fast else self._encode(missing)
            for text, value in zip(missing, values, strict=True):
                cache[text] = value
                self._cached_chars += len(text)
        return [cache[text] for text in texts]

    def _encode_pieces(self, texts: list[str]) -> list[int]:
        """Counts by the fast counter, compared with the tokenizer's on the first pieces and a sample after."""
        assert self._fast is not None
        counts = self._fast.count(texts)
        self._batches += 1
        if self.fast_checked < FAST_VERIFY_TEXTS or self._batches % FAST_SAMPLE_EVERY == 0:
            exact = self._encode(texts)
            if exact != counts:
                wrong = next(i for i, (a, b) in enumerate(zip(exact, counts, strict=True)) if a != b)
                self._drop_fast(f"differed from the tokenizer ({counts[wrong]} vs {exact[wrong]} tokens)")
                return exact
            self.fast_checked += len(texts)
        return counts

    def _drop_fast(self, reason: str) -> None:
        """No fast counts from now on, and none kept: every cached count is made again by the tokenizer."""
        self.fast, self._fast, self.fast_reason = False, None, reason
        self._cache.clear()
        self._cached_chars = 0

    def _encode(self, texts: list[str]) -> list[int]:
        if not texts:
            return []
        return [len(e) for e in self.tokenizer.encode_batch_fast(texts, add_special_tokens=False)]


def _sums(split: list[tuple[list[str], int]], counts: list[int]) -> list[int]:
    """Each text's count: its pieces' counts, plus one per special token."""
    totals, at = [], 0
    for pieces, specials in split:
        totals.append(sum(counts[at : at + len(pieces)]) + specials)
        at += len(pieces)
    return totals


def _special_pattern(tokenizer: Any) -> tuple[re.Pattern[str] | None, bool]:
    """A pattern matching the tokenizer's added tokens as it extracts them (None when pieces cannot be
    used), and whether the tokenizer has no added tokens at all."""
    try:
        added = list(tokenizer.get_added_tokens_decoder().values())
    except AttributeError:
        return None, False
    if not added:
        return None, True
    normalizes = getattr(tokenizer, "normalizer", None) is not None  # `normalized` means nothing without one
    if any(t.lstrip or t.rstrip or t.single_word or (t.normalized and normalizes) for t in added):
        return None, False  # tokens that absorb or need their neighbours: a piece's count would depend on them
    contents = sorted({t.content for t in added if t.content}, key=len, reverse=True)  # longest match first
    return (re.compile("|".join(map(re.escape, contents))) if contents else None), not contents


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
