"""Applying a unified diff to files, hunk by hunk, refusing hunks whose lines do not match."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from trajforge.tools.registry import ToolError

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


@dataclass
class _FilePatch:
    old: str
    new: str
    hunks: list[tuple[int, list[str], list[str]]] = field(default_factory=list)  # (old start, old lines, new lines)


def _strip_prefix(name: str) -> str:
    name = name.split("\t", 1)[0].strip()
    return name[2:] if name[:2] in ("a/", "b/") else name


def parse_unified_diff(diff: str) -> list[_FilePatch]:
    """The files and hunks of a unified diff; raises ToolError on a malformed one."""
    patches: list[_FilePatch] = []
    lines = diff.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "):
            patches.append(_FilePatch(_strip_prefix(lines[i][4:]), _strip_prefix(lines[i + 1][4:])))
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


def apply_unified_diff(diff: str, resolve: Callable[[str], Path]) -> list[Path]:
    """Apply every file of `diff` (paths through `resolve`); all hunks are checked before any write."""
    results: list[tuple[Path, list[str] | None]] = []
    for file_patch in parse_unified_diff(diff):
        if file_patch.new == "/dev/null":
            results.append((resolve(file_patch.old), None))
            continue
        target = resolve(file_patch.new)
        creating = file_patch.old == "/dev/null"
        if not creating and not target.exists():
            raise ToolError(f"{file_patch.new}: no such file to patch")
        lines = [] if creating else target.read_text(encoding="utf-8").splitlines()
        for number, (start, old, new) in enumerate(file_patch.hunks, 1):
            at = _locate(lines, old, start - 1)
            if at is None:
                raise ToolError(f"{file_patch.new}: hunk {number} (at line {start}) does not match the file")
            lines[at : at + len(old)] = new
        results.append((target, lines))
    for target, new_lines in results:
        if new_lines is None:
            target.unlink(missing_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("\n".join(new_lines) + "\n" if new_lines else "", encoding="utf-8")
    return [target for target, _ in results]


def _locate(lines: list[str], block: list[str], hint: int) -> int | None:
    """Where `block` occurs in `lines`, the occurrence nearest `hint` first."""
    if not block:
        return min(max(hint, 0), len(lines))
    starts = [i for i in range(len(lines) - len(block) + 1) if lines[i : i + len(block)] == block]
    return min(starts, key=lambda i: abs(i - hint)) if starts else None
