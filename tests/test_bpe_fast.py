"""The fast byte-level BPE counter (tiktoken on the tokenizer's vocabulary) counts as the tokenizer does,
or stands down."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.tokenizer_files import WORDS, write_tokenizer
from trajforge.dataset.compression import pipeline
from trajforge.trace import token_pieces
from trajforge.trace.bpe_fast import FastBPE, fast_bpe
from trajforge.trace.token_pieces import FAST_VERIFY_TEXTS, PieceCounter
from trajforge.trace.tokens import ChatMessage, TokenCounter

tokenizers = pytest.importorskip("tokenizers")

QWEN_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
"""The regex of Qwen2/2.5/3's tokenizers (a Split before a ByteLevel without its own regex)."""

_SAMPLES = [
    " ".join(WORDS),
    "def f(x):\n    return x ** 2  # square\r\n\tprint('ok')\n\n\n",
    '{"name": "terminal", "arguments": {"command": "ls -la /workspace && cat a.txt"}}',
    "Ünïcödé naïve café — “quotes” \u2018single\u2019 日本語のテキスト 中文 한국어 ①②③ ٣٤٥ emoji 🚀🎉👍🏽 e\u0301",
    "   leading spaces, trailing spaces   \u00a0nbsp\u2028line sep\u3000ideographic space\x85nel",
    "numbers 1234567890 3.14159 -42 1e10 0x1F version v2.1.0-rc.3",
    "It's they're we've I'm you'll he'd IT'S THEY'RE",
    "",
]


def _qwen_like(folder: Path) -> Any:
    """A tokenizer laid out as Qwen's: NFC normalizer, one regex Split, ByteLevel without regex."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.normalizer = normalizers.NFC()
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(QWEN_PATTERN), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=900, special_tokens=["<|im_start|>", "<|im_end|>"], show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )  # fmt: skip
    tokenizer.train_from_iterator(_SAMPLES * 30, trainer=trainer)
    return tokenizer


def _exact(tokenizer: Any, texts: list[str]) -> list[int]:
    return [len(e.ids) for e in tokenizer.encode_batch(texts, add_special_tokens=False)]


@pytest.fixture(scope="module")
def gpt2_like(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = write_tokenizer(tmp_path_factory.mktemp("gpt2"), vocab_size=900)
    return tokenizers.Tokenizer.from_file(str(folder / "tokenizer.json"))


@pytest.fixture(scope="module")
def qwen_like(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return _qwen_like(tmp_path_factory.mktemp("qwen"))


@pytest.mark.parametrize("which", ["gpt2_like", "qwen_like"])
def test_counts_equal_the_tokenizer_on_hard_texts(which: str, request: pytest.FixtureRequest) -> None:
    tokenizer = request.getfixturevalue(which)
    fast, reason = fast_bpe(tokenizer)
    assert fast is not None, reason
    assert fast.nfc == (which == "qwen_like")
    assert fast.count(_SAMPLES) == _exact(tokenizer, _SAMPLES)


_PART = st.one_of(
    st.text(st.characters(codec="utf-8"), max_size=12),
    st.sampled_from([" ", "  ", "\n", "\r\n", "\t", "'s", "'LL", "e\u0301", "🚀", "\u00a0", "12345", *WORDS]),
)
_TEXT = st.lists(_PART, max_size=30).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(_TEXT, min_size=1, max_size=8))
def test_counts_equal_the_tokenizer_on_any_text(texts: list[str], gpt2_like: Any, qwen_like: Any) -> None:
    for tokenizer in (gpt2_like, qwen_like):
        fast, _ = fast_bpe(tokenizer)
        assert fast is not None
        assert fast.count(texts) == _exact(tokenizer, texts)


def test_tokenizers_it_does_not_reproduce_are_left_to_the_tokenizer() -> None:
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

    metaspace = Tokenizer(models.BPE(unk_token="<unk>"))
    metaspace.pre_tokenizer = pre_tokenizers.Metaspace()
    metaspace.train_from_iterator(
        _SAMPLES * 5, trainers.BpeTrainer(vocab_size=300, special_tokens=["<unk>"], show_progress=False)
    )
    lowercase = Tokenizer(models.BPE())
    lowercase.normalizer = normalizers.Lowercase()
    lowercase.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    lowercase.train_from_iterator(
        _SAMPLES * 5,
        trainers.BpeTrainer(vocab_size=400, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False),
    )
    wordpiece = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    wordpiece.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    wordpiece.train_from_iterator(
        _SAMPLES * 5, trainers.WordPieceTrainer(vocab_size=300, special_tokens=["[UNK]"], show_progress=False)
    )
    for tokenizer, why in ((metaspace, "pre-tokenizer"), (lowercase, "normalizer"), (wordpiece, "model")):
        fast, reason = fast_bpe(tokenizer)
        assert fast is None and why in reason, reason
        pieces = PieceCounter(tokenizer)
        assert not pieces.fast
        assert pieces.count(_SAMPLES) == _exact(tokenizer, _SAMPLES)


class _OffByOne:
    """An encoding that counts one token too many on texts longer than `after` characters."""

    def __init__(self, real: Any, after: int) -> None:
        self.real, self.after = real, after

    def encode_ordinary(self, text: str) -> list[int]:
        tokens: list[int] = self.real.encode_ordinary(text)
        return [*tokens, 0] if len(text) > self.after else tokens


def test_a_difference_on_the_first_texts_turns_it_off_and_the_counts_stay_exact(gpt2_like: Any) -> None:
    counter = PieceCounter(gpt2_like)
    assert counter.fast and counter._fast is not None
    counter._fast = FastBPE(_OffByOne(counter._fast.encoding, after=10), nfc=False)
    texts = [f"{random.Random(i).choice(WORDS)} {i}" * (i % 5 + 1) for i in range(20)]
    assert counter.count(texts) == _exact(gpt2_like, texts)
    assert not counter.fast and "differed" in counter.fast_reason
    assert counter.count(texts[:3]) == _exact(gpt2_like, texts[:3])


def test_a_difference_later_is_caught_by_the_sample(gpt2_like: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(token_pieces, "FAST_SAMPLE_EVERY", 3)
    counter = PieceCounter(gpt2_like)
    assert counter._fast is not None
    short = [f"w{i}" for i in range(FAST_VERIFY_TEXTS)]  # the first texts are short: the wrong counter agrees
    counter._fast = FastBPE(_OffByOne(counter._fast.encoding, after=10), nfc=False)
    assert counter.count(short) == _exact(gpt2_like, short)
    assert counter.fast and counter.fast_checked == FAST_VERIFY_TEXTS
    caught = None
    for batch in range(6):
        texts = [f"a longer text number {batch} {i}" for i in range(4)]
        counts = counter.count(texts)
        if not counter.fast:
            caught = batch
            assert counts == _exact(gpt2_like, texts)  # the batch that showed it is counted exactly
            break
    assert caught is not None and caught < 3


def _diverging() -> Any:
    """A byte-level BPE tokenizer on which tiktoken's rule and the merges' disagree: merges (b c), (a b),
    (ab c). The tokenizer makes `a bc` of "abc" (no merge joins them); tiktoken joins them, as `abc` is a
    token. Real vocabularies hold such tokens too, rarely."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = {char: i for i, char in enumerate(sorted(pre_tokenizers.ByteLevel.alphabet()))}
    vocab |= {token: len(vocab) + i for i, token in enumerate(("bc", "ab", "abc"))}
    tokenizer = Tokenizer(models.BPE(vocab, [("b", "c"), ("a", "b"), ("ab", "c")]))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.add_special_tokens(["<|im_start|>"])
    return tokenizer


def test_a_vocabulary_where_the_rules_differ_is_caught_and_nothing_wrong_is_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tokenizer = _diverging()
    fast, _ = fast_bpe(tokenizer)
    assert fast is not None and fast.count(["abc"]) == [1] != _exact(tokenizer, ["abc"]) == [2]
    monkeypatch.setattr(token_pieces, "FAST_SAMPLE_EVERY", 4)
    counter = PieceCounter(tokenizer)
    counter.count([f"w{i}" for i in range(FAST_VERIFY_TEXTS)])  # past the first texts: sampled from now on
    seen = ["x abc 0", "y abc 1"]
    first = counter.count(seen)  # not sampled: the fast counter's wrong counts
    assert counter.fast and first != _exact(tokenizer, seen)
    for batch in range(8):
        counter.count([f"abc {batch}"])
    assert not counter.fast and "differed" in counter.fast_reason
    assert counter.count(seen) == _exact(tokenizer, seen)  # the wrong counts went with the fast counter


def test_rows_near_the_budget_are_counted_again_by_the_tokenizer() -> None:
    tokenizer = _diverging()
    counter = TokenCounter(name="diverging", _tokenizer=tokenizer)
    counter.count([f"w{i}" for i in range(FAST_VERIFY_TEXTS)])
    text = " ".join(["abc"] * 50)
    row = {"conversations": [{"from": "human", "value": text}]}
    fast_count, [exact] = counter.count_conversation([ChatMessage("human", text)]), _exact(tokenizer, [text])
    assert counter.fast and fast_count < exact  # the fast counter's count, wrong
    assert pipeline._confirmed(counter, row, fast_count, budget=10 * exact) == fast_count  # far from the budget
    assert counter.fast
    assert pipeline._confirmed(counter, row, fast_count, budget=fast_count) == exact  # at the budget
    assert not counter.fast
    assert counter.count_conversation([ChatMessage("human", text)]) == exact


def test_merges_written_as_strings_and_tokenizers_without_added_tokens(gpt2_like: Any) -> None:
    import json

    from tokenizers import Tokenizer

    spec = json.loads(gpt2_like.to_str())
    spec["model"]["merges"] = [" ".join(m) if isinstance(m, list) else m for m in spec["model"]["merges"]]
    spec["added_tokens"] = []
    plain = Tokenizer.from_str(json.dumps(spec))
    counter = PieceCounter(plain)
    assert counter.fast, counter.fast_reason  # no added tokens: whole texts are plain text to tiktoken
    assert counter.count(_SAMPLES) == _exact(plain, _SAMPLES) == _exact(gpt2_like, _SAMPLES)
    assert counter.fast_checked > 0
