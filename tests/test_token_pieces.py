"""Counting by pieces (texts cut at special tokens) gives the tokenizer's own counts, or turns itself off."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from tests.tokenizer_files import WORDS, write_tokenizer
from trajforge.trace.token_pieces import VERIFY_TEXTS, PieceCounter
from trajforge.trace.tokens import ChatMessage, load_counter

tokenizers = pytest.importorskip("tokenizers")


def _whole(tokenizer: Any, texts: list[str]) -> list[int]:
    return [len(e.ids) for e in tokenizer.encode_batch_fast(texts, add_special_tokens=False)]


def _conversation(rng: random.Random) -> list[ChatMessage]:
    def text() -> str:
        words = [rng.choice([*WORDS, "<|im_start|>", "<|im_end|>", " ", "\n", "é", "  x", "日本"]) for _ in range(30)]
        return "".join(w + rng.choice(["", " ", "\n"]) for w in words)

    roles = ["system", "human", "gpt", "tool", "gpt"]
    return [ChatMessage(rng.choice(roles), text() if rng.random() > 0.1 else "") for _ in range(rng.randint(1, 9))]


def test_conversation_counts_match_whole_texts(tmp_path: Path) -> None:
    counter = load_counter(str(write_tokenizer(tmp_path / "tok")))
    rng = random.Random(7)
    conversations = [_conversation(rng) for _ in range(3 * VERIFY_TEXTS)]
    counts = counter.count_conversations(conversations)
    rendered = [counter.render(c) or "" for c in conversations]
    assert counts == _whole(counter._tokenizer, rendered)
    assert counter._pieces is not None and counter._pieces.additive  # the rule held and is in use
    again = counter.count_conversations([*conversations[:5], [ChatMessage("human", "a new turn")]])
    assert again[:5] == counts[:5]


def _metaspace_first(folder: Path) -> Any:
    """A tokenizer whose pre-tokenizer marks only the start of the input: counting by pieces is wrong for it."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(prepend_scheme="first")
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=["<unk>", "<s>", "</s>"], show_progress=False)
    tokenizer.train_from_iterator([" ".join(WORDS)] * 10, trainer=trainer)
    return tokenizer


def test_a_tokenizer_that_is_not_additive_is_counted_whole(tmp_path: Path) -> None:
    tokenizer = _metaspace_first(tmp_path)
    texts = [f"<s>{' '.join(random.Random(i).sample(WORDS, 8))}</s>" for i in range(40)]
    pieces = PieceCounter(tokenizer)
    assert pieces.count(texts) == _whole(tokenizer, texts)
    assert not pieces.additive
    assert pieces.count(texts[:3]) == _whole(tokenizer, texts[:3])


def test_stripping_added_tokens_turn_pieces_off(tmp_path: Path) -> None:
    from tokenizers import AddedToken, Tokenizer

    tokenizer = Tokenizer.from_file(str(write_tokenizer(tmp_path / "tok") / "tokenizer.json"))
    tokenizer.add_special_tokens([AddedToken("<|x|>", lstrip=True, rstrip=True)])
    texts = ["run the tests <|x|>  check output", "<|im_start|>user\nread <|x|> file<|im_end|>"]
    pieces = PieceCounter(tokenizer)
    assert not pieces.additive
    assert pieces.count(texts) == _whole(tokenizer, texts)


def test_the_cache_stays_bounded_and_counts_stay_right(tmp_path: Path) -> None:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(write_tokenizer(tmp_path / "tok") / "tokenizer.json"))
    pieces = PieceCounter(tokenizer, cache_chars=200)
    rng = random.Random(3)
    texts = [f"<|im_start|>{' '.join(rng.sample(WORDS, 20))}<|im_end|>\n" for _ in range(50)]
    for start in range(0, 50, 5):
        assert pieces.count(texts[start : start + 5]) == _whole(tokenizer, texts[start : start + 5])
    assert pieces._cached_chars <= 200 + max(map(len, texts)) * 10
