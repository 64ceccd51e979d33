"""Tokenizer files the tests build (no hub here): a small BPE `tokenizer.json` and a ChatML chat template."""

from __future__ import annotations

import json
from pathlib import Path

CHATML = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

_WORD_TEXT = """the agent file files read write run test tests pass fail error output config value line lines check
build install package module function class return import path folder list count total result results exit code
status step steps data report summary command commands shell python script source change fixed found"""
WORDS = _WORD_TEXT.split()
"""Words the tokenizer learns whole: texts made of them cost about a token a word."""

_CORPUS = [
    " ".join(WORDS),
    "The agent lists the files, reads the config and runs the tests with pytest.",
    '<tool_call>\n{"name": "terminal", "arguments": {"command": "ls -la /workspace"}}\n</tool_call>',
    '<tool_response>\n{"tool_call_id": "call_1", "name": "terminal", "content": "total 8"}\n</tool_response>',
    "<think>\nI should check the output before answering.\n</think>\nDone: 3 files changed, 12 tests passed.",
]


def write_tokenizer(folder: Path, *, template: str | None = CHATML, vocab_size: int = 600) -> Path:
    """A trained byte-level BPE tokenizer in `folder` (tokenizer.json, and tokenizer_config.json with a template)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=["<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(_CORPUS * 20, trainer=trainer)
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(folder / "tokenizer.json"))
    config: dict[str, object] = {"model_max_length": 32768}
    if template is not None:
        config["chat_template"] = template
    (folder / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
    return folder
