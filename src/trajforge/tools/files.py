"""File tools: read_file, write_file, patch, search_files. Paths stay inside the workspace."""

from __future__ import annotations

import fnmatch
import os
import re
from pathlib import Path
from typing import Any, Literal

from trajforge.sandbox import PathOutsideWorkspace
from trajforge.tools.ordering import CallOrder, PathAccess
from trajforge.tools.patching import apply_unified_diff
from trajforge.tools.registry import ToolContext, ToolError, tool
from trajforge.trace.turns import dumps

MAX_LINE_CHARS = 2000
SKIPPED_DIRS = {".git", "node_modules", "__pycache__", ".venv"}
MAX_SEARCH_FILE_BYTES = 5 << 20


def _inside(ctx: ToolContext, path: str) -> Path:
    try:
        return ctx.sandbox.resolve(path)
    except PathOutsideWorkspace as exc:
        raise ToolError(f"{exc}; file tools only reach files inside the workspace") from None


def _relative(ctx: ToolContext, path: Path) -> str:
    return str(path.relative_to(ctx.sandbox.workspace.resolve())) or "."


def _reads(arguments: dict[str, Any]) -> PathAccess:
    return PathAccess((str(arguments.get("path", ".")),), writes=False)


def _writes(arguments: dict[str, Any]) -> PathAccess | None:
    if arguments.get("diff"):
        return None  # a diff names its files inside: run it alone
    return PathAccess((str(arguments.get("path", "")),), writes=True)


@tool("file", order=CallOrder.PATH_SCOPED, paths=_reads)
async def read_file(ctx: ToolContext, path: str, offset: int = 1, limit: int = 500) -> str:
    """Read a text file, with line numbers.

    Args:
        path: File path, relative to the workspace.
        offset: First line to show (1-based).
        limit: Number of lines to show.
    """
    target = _inside(ctx, path)
    if target.is_dir():
        raise ToolError(f"{path} is a directory; list it with the terminal tool")
    lines = target.read_text(encoding="utf-8", errors="replace").splitlines()
    start = max(offset, 1)
    shown = lines[start - 1 : start - 1 + max(limit, 0)]
    body = "\n".join(
        f"{n:6}\t{line[:MAX_LINE_CHARS]}{' [line truncated]' if len(line) > MAX_LINE_CHARS else ''}"
        for n, line in enumerate(shown, start)
    )
    if start - 1 + len(shown) < len(lines) or start > 1:
        body += f"\n[lines {start}-{start + len(shown) - 1} of {len(lines)}]"
    return body


@tool("file", order=CallOrder.PATH_SCOPED, paths=_writes)
async def write_file(ctx: ToolContext, path: str, content: str) -> str:
    """Write a text file (created with its folders, or replaced).

    Args:
        path: File path, relative to the workspace.
        content: The complete new content.
    """
    target = _inside(ctx, path)
    if target.is_dir():
        raise ToolError(f"{path} is a directory")
    ctx.sandbox.write_text(target, content)
    return dumps({"path": _relative(ctx, target), "bytes": len(content.encode("utf-8"))})


@tool("file", order=CallOrder.PATH_SCOPED, paths=_writes)
async def patch(
    ctx: ToolContext,
    path: str = "",
    old_string: str = "",
    new_string: str = "",
    replace_all: bool = False,
    diff: str = "",
) -> str:
    """Edit files: replace an exact text in one file, or apply a unified diff.

    Args:
        path: The file to edit (replace mode).
        old_string: The exact text to replace; it must occur exactly once unless replace_all is true.
        new_string: The text to put in its place.
        replace_all: Replace every occurrence of old_string.
        diff: A unified diff (--- / +++ headers, @@ hunks) to apply instead; it may touch several files.
    """
    if diff:
        changed = apply_unified_diff(diff, lambda p: _inside(ctx, p))
        for file in changed:
            if file.exists():
                ctx.sandbox.adopt(file)
        return dumps({"patched": [_relative(ctx, f) for f in changed]})
    if not path or not old_string:
        raise ToolError("give path and old_string (and new_string), or a unified diff")
    target = _inside(ctx, path)
    text = target.read_text(encoding="utf-8")
    count = text.count(old_string)
    if count == 0:
        raise ToolError(f"old_string was not found in {path}")
    if count > 1 and not replace_all:
        raise ToolError(f"old_string occurs {count} times in {path}; add context to make it unique or set replace_all")
    target.write_text(text.replace(old_string, new_string), encoding="utf-8")
    return dumps({"path": _relative(ctx, target), "replaced": count})


@tool("file", order=CallOrder.PATH_SCOPED, paths=_reads)
async def search_files(
    ctx: ToolContext,
    pattern: str,
    path: str = ".",
    mode: Literal["content", "files"] = "content",
    glob: str = "",
    ignore_case: bool = False,
    limit: int = 50,
) -> str:
    """Search the workspace: lines matching a regular expression, or files whose name matches a glob.

    Args:
        pattern: A regular expression (content mode) or a file-name glob such as *.py (files mode).
        path: Folder to search, relative to the workspace.
        mode: content to search inside files, files to find files by name.
        glob: In content mode, only search files whose name matches this glob.
        ignore_case: Match without regard to case.
        limit: Most results to return.
    """
    root = _inside(ctx, path)
    found: list[str] = []
    if mode == "files":
        for file in _walk(ctx, root):
            if fnmatch.fnmatch(file.name, pattern) or fnmatch.fnmatch(_relative(ctx, file), pattern):
                found.append(_relative(ctx, file))
                if len(found) >= limit:
                    break
    else:
        try:
            regex = re.compile(pattern, re.IGNORECASE if ignore_case else 0)
        except re.error as exc:
            raise ToolError(f"bad regular expression: {exc}") from None
        found = _grep(ctx, root, regex, glob, limit)
    more = f"\n[stopped at {limit} results]" if len(found) >= limit else ""
    return ("\n".join(found) or "no matches") + more


def _grep(ctx: ToolContext, root: Path, regex: re.Pattern[str], glob: str, limit: int) -> list[str]:
    found: list[str] = []
    for file in _walk(ctx, root):
        if glob and not fnmatch.fnmatch(file.name, glob):
            continue
        if file.stat().st_size > MAX_SEARCH_FILE_BYTES:
            continue
        data = file.read_bytes()
        if b"\0" in data[:8192]:
            continue  # binary
        for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
            if regex.search(line):
                found.append(f"{_relative(ctx, file)}:{number}: {line[:MAX_LINE_CHARS]}")
                if len(found) >= limit:
                    return found
    return found


def _walk(ctx: ToolContext, root: Path) -> list[Path]:
    """Regular files under `root` in name order, never following links out of the workspace."""
    if root.is_file():
        return [root]
    files = []
    for folder, dirs, names in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
        for name in sorted(names):
            file = Path(folder) / name
            try:
                real = ctx.sandbox.resolve(str(file))
            except PathOutsideWorkspace:
                continue
            if real.is_file():
                files.append(file)
    return files
