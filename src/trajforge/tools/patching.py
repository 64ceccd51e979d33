"""Applying a unified diff to files, hunk by hunk, refusing hunks whose lines do not match."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from trajforge.tools.registry import ToolError

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


@dataclass
class FilePatch:
    """One file of a unified diff: its old and new names and hunks."""

    old: str
    new: str
    hunks: list[tuple[int, list[str], list[str]]] = field(default_factory=list)  # (old start, old lines, new lines)


def _strip_prefix(name: str) -> str:
    name = name.split("\t", 1)[0].strip()
    return name[2:] if name[:2] in ("a/", "b/") else name


def parse_unified_diff(diff: str) -> list[FilePatch]:
    """The files and hunks of a unified diff; raises ToolError on a malformed one."""
    patches: list[FilePatch] = []
    lines = diff.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "):
            patches.append(FilePatch(_strip_prefix(lines[i][4:]), _strip_prefix(lines[i + 1][4:])))
            i += 2
            continue
        match = _HUNK.match(lines[i])
        if match:
            if not patches:
                raise ToolError("diff hunk before any --- / +++ file header")
            old_count = int(match.group(2) or 1)
            new_count = int(match.group(4) or 1)
            old: list[str] = []
            new: list[str] = []
            i += 1
            while i < len(lines) and (len(old) < old_count or len(new) < new_count):
                line = lines[i]
                tag, text = (line[:1], line[1:]) if line else (" ", "")
                if tag == "\\":  # "\ No newline at end of file"
                    i += 1
                    continue
                if tag not in " +-":
                    raise ToolError(f"diff line {i + 1} is not part of a hunk: {line[:80]!r}")
                if tag in " -":
                    old.append(text)
                if tag in " +":
                    new.append(text)
                i += 1
            patches[-1].hunks.append((int(match.group(1)), old, new))
            continue
        i += 1
    if not patches:
        raise ToolError("no --- / +++ file headers found in the diff")
    return patches


def apply_hunks(file_patch: FilePatch, text: str | None) -> list[str]:
    """The lines of `text` (None: the file is new) after `file_patch`'s hunks; ToolError when one does not match."""
    lines = [] if text is None else text.splitlines()
    for number, (start, old, new) in enumerate(file_patch.hunks, 1):
        at = _locate(lines, old, start - 1)
        if at is None:
            raise ToolError(f"{file_patch.new}: hunk {number} (at line {start}) does not match the file")
        lines[at : at + len(old)] = new
    return lines


def joined(lines: list[str]) -> str:
    """A file's text from its lines (a final newline unless empty)."""
    return "\n".join(lines) + "\n" if lines else ""


def _locate(lines: list[str], block: list[str], hint: int) -> int | None:
    """Where `block` occurs in `lines`, the occurrence nearest `hint` first."""
    if not block:
        return min(max(hint, 0), len(lines))
    starts = [i for i in range(len(lines) - len(block) + 1) if lines[i : i + len(block)] == block]
    return min(starts, key=lambda i: abs(i - hint)) if starts else None
