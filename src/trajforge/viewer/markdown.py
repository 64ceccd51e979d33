"""Markdown of trace content rendered as HTML that cannot carry markup or script from the trace.

Raw HTML is off (a `<script>` in the text shows as text), `javascript:`,
`vbscript:`, `file:` and `data:` links are refused by markdown-it's link check,
images become plain links (nothing is fetched because a trace says so), and
links open with no referrer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.disable("image")
    md.add_render_rule("link_open", _link_open)
    return md


def _link_open(self: Any, tokens: Sequence[Token], index: int, options: Any, env: Any) -> str:
    tokens[index].attrSet("rel", "noopener noreferrer nofollow")
    rendered: str = self.renderToken(tokens, index, options, env)
    return rendered


class Markdown:
    """A renderer; one per app (markdown-it parsers are not shared between threads)."""

    def __init__(self) -> None:
        self._md = _parser()

    def __call__(self, text: str | None) -> Markup:
        """`text` as safe HTML."""
        return Markup(self._md.render(text or ""))
