"""The formats by vLLM parser name: how each reads and writes calls, its tags and its reasoning style."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from trajforge.trace.textformats import glm, hermes, llama3_json, mistral, pythonic, qwen3_coder, sections
from trajforge.trace.textformats.model import Extracted, TextCall
from trajforge.trace.textformats.values import Tools


@dataclass(frozen=True)
class Format:
    """One model-native format."""

    name: str
    extract: Callable[[str, Tools], Extracted]
    render: Callable[[list[TextCall], Tools], str]
    tags: tuple[str, ...]
    """Markers that content and argument text may not hold (they would read as calls)."""
    reasoning: str | None
    """The reasoning style used when the caller names none (vLLM's usual pairing)."""
    joiner: str = "\n"
    """What separates the content from the calls when rendering."""


Reader = Callable[[str, Tools], Extracted]
Writer = Callable[[list[TextCall], Tools], str]


def _section(fmt: sections.SectionFormat) -> tuple[Reader, Writer]:
    return partial(sections.extract, fmt), lambda calls, tools: sections.render_calls(fmt, calls)


_KIMI, _V3, _V31 = _section(sections.KIMI_K2), _section(sections.DEEPSEEK_V3), _section(sections.DEEPSEEK_V31)

FORMATS: dict[str, Format] = {
    "hermes": Format("hermes", hermes.extract, hermes.render_calls, hermes.TAGS, "think"),
    "kimi_k2": Format("kimi_k2", *_KIMI, sections.KIMI_K2.tags, "kimi_k2", joiner=""),
    "glm45": Format(
        "glm45",
        partial(glm.extract, newline_after_name=True),
        partial(glm.render_calls, newline_after_name=True),
        glm.TAGS,
        "glm45",
    ),
    "glm47": Format(
        "glm47",
        partial(glm.extract, newline_after_name=False),
        partial(glm.render_calls, newline_after_name=False),
        glm.TAGS,
        "glm45",
    ),
    "qwen3_coder": Format("qwen3_coder", qwen3_coder.extract, qwen3_coder.render_calls, qwen3_coder.TAGS, "think"),
    "deepseek_v3": Format("deepseek_v3", *_V3, (*sections.DEEPSEEK_V3.tags, sections.EOS), "think", joiner=""),
    "deepseek_v31": Format("deepseek_v31", *_V31, (*sections.DEEPSEEK_V31.tags, sections.EOS), "think", joiner=""),
    "llama3_json": Format("llama3_json", llama3_json.extract, llama3_json.render_calls, llama3_json.TAGS, "think"),
    "mistral": Format("mistral", mistral.extract, mistral.render_calls, mistral.TAGS, "mistral", joiner=""),
    "pythonic": Format("pythonic", pythonic.extract, pythonic.render_calls, pythonic.TAGS, "think"),
}
