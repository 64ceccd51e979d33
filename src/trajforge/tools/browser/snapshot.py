"""Page snapshots as the model reads them: Playwright's accessibility tree with `[ref=eN]` refs,
compact (interactive elements and headings) or full, cut at a documented size."""

from __future__ import annotations

import re
from dataclasses import dataclass

SNAPSHOT_LIMIT = 8000
"""Characters of snapshot text a result carries; longer snapshots are cut at a line and say so."""
INTERACTIVE = frozenset({
    "button", "checkbox", "combobox", "link", "listbox", "menuitem", "menuitemcheckbox", "menuitemradio",
    "option", "radio", "searchbox", "slider", "spinbutton", "switch", "tab", "textbox", "treeitem",
})  # fmt: skip
KEPT_IN_COMPACT = INTERACTIVE | {"heading", "alert", "status", "dialog"}
_LINE = re.compile(r"^(?P<indent> *)- (?P<role>/?[\w-]+)")
_REF = re.compile(r"\[ref=(e\d+)\]")
_PLAYWRIGHT_REF = re.compile(r"\[ref=([a-z0-9]+)\]")
_NOISE = re.compile(r" \[cursor=pointer\]")
REF_ARGUMENT = re.compile(r"^@?(e\d+)$")


@dataclass(frozen=True)
class Snapshot:
    """A snapshot as shown: its text, the refs in it, and how many lines were cut."""

    text: str
    refs: tuple[str, ...]
    cut_lines: int = 0


def clean(raw: str) -> str:
    """Playwright's AI-mode snapshot without its pointer-cursor hints (noise for the model)."""
    return _NOISE.sub("", raw)


def renumber(raw: str, mine: dict[str, str]) -> str:
    """Playwright's refs (`f2e19` after a navigation) as this page's own `eN`, numbered in order of
    first sight and kept in `mine` (Playwright ref -> ours), so a page's refs read e1, e2, ... and an
    element keeps its ref while the page stays."""

    def ours(match: re.Match[str]) -> str:
        found = mine.setdefault(match.group(1), f"e{len(mine) + 1}")
        return f"[ref={found}]"

    return _PLAYWRIGHT_REF.sub(ours, raw)


def refs_in(text: str) -> tuple[str, ...]:
    """The refs a snapshot text names, in order."""
    return tuple(_REF.findall(text))


def compact(full: str) -> str:
    """Interactive elements and headings (with link targets and select options), re-indented."""
    kept: list[str] = []
    stack: list[tuple[int, bool]] = []  # (indent, kept) of the open ancestors
    for line in full.splitlines():
        match = _LINE.match(line)
        if match is None:
            continue
        indent, role = len(match["indent"]), match["role"]
        while stack and stack[-1][0] >= indent:
            stack.pop()
        parent_kept = bool(stack) and stack[-1][1]
        keep = role in KEPT_IN_COMPACT or (parent_kept and (role.startswith("/") or role == "option"))
        if keep:
            depth = sum(1 for _, was_kept in stack if was_kept)
            kept.append("  " * depth + line[indent:])
        stack.append((indent, keep))
    return "\n".join(kept)


def shown(text: str, limit: int = SNAPSHOT_LIMIT) -> Snapshot:
    """`text` cut at a line boundary to at most `limit` characters, with a closing note when cut."""
    if len(text) <= limit:
        return Snapshot(text, refs_in(text))
    lines = text.splitlines()
    kept: list[str] = []
    size = 0
    for line in lines:
        if size + len(line) + 1 > limit:
            break
        kept.append(line)
        size += len(line) + 1
    cut = len(lines) - len(kept)
    body = "\n".join(kept)
    note = (
        f"\n[... {cut} more lines cut: a snapshot shows at most {limit} characters. Scroll, or read parts of "
        "the page with browser_console(expression=...)]"
    )
    return Snapshot(body + note, refs_in(body), cut)


def ref_of(argument: str) -> str | None:
    """The ref an argument names (`@e12`, `e12`, `[ref=e12]`), or None."""
    text = argument.strip()
    bracketed = _REF.fullmatch(text)
    if bracketed:
        return bracketed.group(1)
    match = REF_ARGUMENT.match(text)
    return match.group(1) if match else None
