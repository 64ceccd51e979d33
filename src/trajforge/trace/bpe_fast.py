"""Token counts of byte-level BPE tokenizers at tiktoken's speed, for the tokenizers whose rules it reproduces.

Most chat models' tokenizers (Qwen, Llama 3, GLM, GPT-2 style) are byte-level
BPE: a regex cuts the text into words, each word's UTF-8 bytes are merged pair
by pair in the order of the merges list. tiktoken runs the same algorithm
(merging the adjacent pair whose result ranks first) three to five times faster
than `tokenizers` on one core, and counting every row of a dataset is most of
`trajforge compress`'s time. So when a tokenizer is nothing more than that (BPE
model, no dropout or word affixes, every byte in the vocabulary, a single regex
or the GPT-2 one, no normalizer or NFC) its vocabulary is handed to tiktoken
with the merges' order as ranks.

The two algorithms agree by construction on almost every word, but not on all
vocabularies (a token two different merge paths reach), so `PieceCounter`
checks this counter against the tokenizer itself, on the first texts and on a
sample after, and drops it at the first difference.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from typing import Any

GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
"""The regex of `ByteLevel(use_regex=True)`: GPT-2's."""


@dataclass(frozen=True)
class FastBPE:
    """A tiktoken encoding made from a Hugging Face byte-level BPE tokenizer; counts texts without special tokens."""

    encoding: Any
    nfc: bool
    """Whether texts are NFC-normalized first (the tokenizer's normalizer)."""

    def count(self, texts: list[str]) -> list[int]:
        """Tokens of each text, as `tokenizer.encode(text, add_special_tokens=False)` would give for plain text."""
        encode = self.encoding.encode_ordinary
        if self.nfc:
            return [len(encode(unicodedata.normalize("NFC", text))) for text in texts]
        return [len(encode(text)) for text in texts]


def fast_bpe(tokenizer: Any) -> tuple[FastBPE | None, str]:
    """The fast counter for `tokenizer` (a `tokenizers.Tokenizer`), or None and why it does not apply."""
    try:
        import tiktoken
    except ImportError:  # pragma: no cover - tiktoken is a dependency
        return None, "tiktoken is not installed"
    try:
        spec = json.loads(tokenizer.to_str())
    except (AttributeError, ValueError, TypeError) as exc:
        return None, f"the tokenizer cannot be read back as JSON ({exc})"
    nfc, reason = _normalizer(spec.get("normalizer"))
    pattern, why = _pattern(spec.get("pre_tokenizer"))
    added = {t["content"] for t in spec.get("added_tokens") or [] if isinstance(t, dict) and "content" in t}
    ranks, because = _ranks(spec.get("model") or {}, added)
    if reason or why or because or pattern is None or ranks is None:
        return None, reason or why or because
    try:
        encoding = tiktoken.Encoding("trajforge-fast-bpe", pat_str=pattern, mergeable_ranks=ranks, special_tokens={})
    except Exception as exc:  # tiktoken's regex engine refuses a pattern onig accepts
        return None, f"tiktoken cannot use the tokenizer's regex ({type(exc).__name__})"
    return FastBPE(encoding, nfc), ""


def _normalizer(spec: dict[str, Any] | None) -> tuple[bool, str]:
    """(NFC first, why not usable)."""
    if spec is None:
        return False, ""
    if spec.get("type") == "NFC":
        return True, ""
    return False, f"normalizer {spec.get('type')!r}"


def _pattern(spec: dict[str, Any] | None) -> tuple[str | None, str]:
    """The one regex that cuts words: ByteLevel's own, or a Split's before a ByteLevel that uses none."""
    if spec is None:
        return None, "no pre-tokenizer"
    if spec.get("type") == "ByteLevel":
        if spec.get("add_prefix_space") or not spec.get("use_regex", True):
            return None, "ByteLevel pre-tokenizer with a prefix space or no regex"
        return GPT2_PATTERN, ""
    steps = spec.get("pretokenizers") if spec.get("type") == "Sequence" else None
    if not isinstance(steps, list) or len(steps) != 2:
        return None, f"pre-tokenizer {spec.get('type')!r}"
    split, byte_level = steps
    regex = (split.get("pattern") or {}).get("Regex") if split.get("type") == "Split" else None
    if (
        not isinstance(regex, str)
        or split.get("behavior") != "Isolated"
        or split.get("invert")
        or byte_level.get("type") != "ByteLevel"
        or byte_level.get("use_regex", True)  # the tokenizers default: a second regex after the split
        or byte_level.get("add_prefix_space")
    ):
        return None, "pre-tokenizer other than one regex split and byte-level"
    return regex, ""


def _ranks(model: dict[str, Any], added: set[str]) -> tuple[dict[bytes, int] | None, str]:
    """Each token's bytes ranked in the order the merges make it (single bytes first).

    `added`: the added tokens' texts, which may sit in the vocabulary outside the byte alphabet (they
    are cut out of the text before the model sees it).
    """
    if model.get("type") != "BPE":
        return None, f"model {model.get('type')!r}"
    if model.get("dropout") or model.get("continuing_subword_prefix") or model.get("end_of_word_suffix"):
        return None, "BPE with dropout or word affixes"
    decode = _byte_decoder()
    vocabulary = [_bytes(token, decode) for token in (model.get("vocab") or {}) if token not in added]
    if None in vocabulary:
        return None, "vocabulary outside the byte-level alphabet"
    present = set(vocabulary)
    if any(bytes([byte]) not in present for byte in range(256)):
        return None, "a byte missing from the vocabulary"
    ranks = {bytes([byte]): byte for byte in range(256)}
    for merge in model.get("merges") or []:
        pair = merge.split(" ", 1) if isinstance(merge, str) else merge
        made = _bytes("".join(pair), decode) if isinstance(pair, list) and len(pair) == 2 else None
        if made is None or made in ranks:  # a token two merges make: the two orders could differ
            return None, "a merge that is not a pair of byte-level tokens, or a token that two merges make"
        ranks[made] = len(ranks)
    if model.get("ignore_merges") and any(b not in ranks for b in present):
        return None, "whole-word tokens no merge makes"
    return ranks, ""


def _bytes(token: str, decode: dict[str, int]) -> bytes | None:
    try:
        return bytes(decode[char] for char in token)
    except KeyError:
        return None


def _byte_decoder() -> dict[str, int]:
    """GPT-2's printable stand-ins for the 256 bytes, back to the bytes."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    chars, extra = {}, 0
    for byte in range(256):
        if byte in printable:
            chars[chr(byte)] = byte
        else:
            chars[chr(256 + extra)] = byte
            extra += 1
    return chars
