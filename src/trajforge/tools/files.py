"""File tools: read_file, write_file, patch, search_files, through the sandbox's file API only.

Paths are the agent's: relative to the workspace, or absolute inside the workspace or its home
(`~/...`); anything leading elsewhere is an error result. Host failures (no descriptors, disk full)
are raised by the sandbox as HostFailure and end the episode, never reaching the model.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import re
from collections.abc import Awaitable
from typing import Any, Literal, TypeVar

from trajforge.sandbox import (
    FileStat,
    ListRequest,
    PathOutsideWorkspace,
    ReadRequest,
    RemoveRequest,
    WriteRequest,
)
from trajforge.tools.ordering import CallOrder, PathAccess
from trajforge.tools.patching import apply_hunks, joined, parse_unified_diff
from trajforge.tools.registry import ToolContext, ToolError, tool
from trajforge.trace.turns import dumps

MAX_LINE_CHARS = 2000
SKIPPED_DIRS = frozenset({".git", "node_modules", "__pycache__", ".venv"})
MAX_SEARCH_FILE_BYTES = 5 << 20
_SCAN_IN_THREAD = 256 << 10  # a file this large is searched off the event loop
T = TypeVar("T")


async def _inside(step: Awaitable[T]) -> T:
    """A file API call, with a path that leads out as the error the model reads."""
    try:
        return await step
    except PathOutsideWorkspace as exc:
        raise ToolError(f"{exc}; file tools only reach files inside the workspace and the home (~)") from None


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
    try:
        content = await _inside(ctx.sandbox.read_file(ReadRequest(path)))
    except IsADirectoryError:
        raise ToolError(f"{path} is a directory; list it with the terminal tool") from None
    lines = content.text().splitlines()
    start = max(offset, 1)
    shown = lines[start - 1 : start - 1 + max(limit, 0)]
    body = "\n".join(
        f"{n:6}\t{line[:MAX_LINE_CHARS]}{' [line truncated]' if len(line) > MAX_LINE_CHARS else ''}"
        for n, line in enumerate(shown, start)
    )
    if start - 1 + len(shown) < len(lines) or start > 1:
        body += f"\n[lines {start}-{start + len(shown) - 1} of {len(lines)}]"
    if content.truncated:
        body += f"\n[only the first {len(content.data)} of {content.size} bytes were read]"
    return body


@tool("file", order=CallOrder.PATH_SCOPED, paths=_writes)
async def write_file(ctx: ToolContext, path: str, content: str) -> str:
    """Write a text file (created with its folders, or replaced).

    Args:
        path: File path, relative to the workspace.
        content: The complete new content.
    """
    try:
        written = await _inside(ctx.sandbox.write_file(WriteRequest(path, content)))
    except IsADirectoryError:
        raise ToolError(f"{path} is a directory") from None
    return dumps({"path": written.path, "bytes": written.bytes})


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
        return dumps({"patched": await _apply_diff(ctx, diff)})
    if not path or not old_string:
        raise ToolError("give path and old_string (and new_string), or a unified diff")
    text = await _whole_text(ctx, path)
    count = text.count(old_string)
    if count == 0:
        raise ToolError(f"old_string was not found in {path}")
    if count > 1 and not replace_all:
        raise ToolError(f"old_string occurs {count} times in {path}; add context to make it unique or set replace_all")
    written = await _inside(ctx.sandbox.write_file(WriteRequest(path, text.replace(old_string, new_string))))
    return dumps({"path": written.path, "replaced": count})


async def _whole_text(ctx: ToolContext, path: str) -> str:
    """A file's whole text (UTF-8, strict: an edit must not garble what it does not touch)."""
    content = await _inside(ctx.sandbox.read_file(ReadRequest(path)))
    if content.truncated:
        raise ToolError(f"{path} is {content.size} bytes, too large to edit with patch")
    return content.data.decode("utf-8")


async def _apply_diff(ctx: ToolContext, diff: str) -> list[str]:
    """Apply every file of `diff`: all hunks are checked against the files before anything is written."""
    planned: list[tuple[str, str | None]] = []  # (path, new text; None: delete)
    for file_patch in parse_unified_diff(diff):
        if file_patch.new == "/dev/null":
            with contextlib.suppress(FileNotFoundError):  # but a path that leads out fails now, before any write
                await _inside(ctx.sandbox.stat(file_patch.old))
            planned.append((file_patch.old, None))
            continue
        creating = file_patch.old == "/dev/null"
        if not creating and not await _inside(ctx.sandbox.exists(file_patch.new)):
            raise ToolError(f"{file_patch.new}: no such file to patch")
        old_text = None if creating else await _whole_text(ctx, file_patch.new)
        planned.append((file_patch.new, joined(apply_hunks(file_patch, old_text))))
    shown = []
    for target, text in planned:
        if text is None:
            await _inside(ctx.sandbox.remove(RemoveRequest(target, missing_ok=True)))
            shown.append(_shown(target))
        else:
            shown.append((await _inside(ctx.sandbox.write_file(WriteRequest(target, text)))).path)
    return shown


def _shown(path: str) -> str:
    """A deleted file's path as the diff named it (there is nothing left to ask the sandbox about)."""
    return path.removeprefix("./")


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
    found: list[str] = []
    if mode == "files":
        for file in await _files_under(ctx, path):
            if fnmatch.fnmatch(_name(file), pattern) or fnmatch.fnmatch(file.path, pattern):
                found.append(file.path)
                if len(found) >= limit:
                    break
    else:
        try:
            regex = re.compile(pattern, re.IGNORECASE if ignore_case else 0)
        except re.error as exc:
            raise ToolError(f"bad regular expression: {exc}") from None
        found = await _grep(ctx, path, regex, glob, limit)
    more = f"\n[stopped at {limit} results]" if len(found) >= limit else ""
    return ("\n".join(found) or "no matches") + more


def _name(file: FileStat) -> str:
    return file.path.rsplit("/", 1)[-1]


async def _grep(ctx: ToolContext, path: str, regex: re.Pattern[str], glob: str, limit: int) -> list[str]:
    found: list[str] = []
    for file in await _files_under(ctx, path):
        if (glob and not fnmatch.fnmatch(_name(file), glob)) or file.size > MAX_SEARCH_FILE_BYTES:
            continue
        try:
            data = (await ctx.sandbox.read_file(ReadRequest(file.path, max_bytes=MAX_SEARCH_FILE_BYTES))).data
        except (FileNotFoundError, PathOutsideWorkspace):
            continue  # removed or replaced by a link meanwhile
        if len(data) > _SCAN_IN_THREAD:
            found += await asyncio.to_thread(_matches, file.path, data, regex, limit - len(found))
        else:
            found += _matches(file.path, data, regex, limit - len(found))
        if len(found) >= limit:
            break
    return found


def _matches(shown: str, data: bytes, regex: re.Pattern[str], limit: int) -> list[str]:
    """Up to `limit` matching lines of one file's `data` as `path:line: text` (none for a binary file)."""
    if b"\0" in data[:8192]:
        return []
    found = []
    for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
        if regex.search(line):
            found.append(f"{shown}:{number}: {line[:MAX_LINE_CHARS]}")
            if len(found) >= limit:
                break
    return found


async def _files_under(ctx: ToolContext, path: str) -> list[FileStat]:
    """Regular files under `path` (or `path` itself) in path order; links only when they lead to a file inside."""
    top = await _inside(ctx.sandbox.stat(path))
    if top.kind == "file":
        return [top]
    listing = await _inside(ctx.sandbox.list_files(ListRequest(path, recursive=True, skip_dirs=SKIPPED_DIRS)))
    files = []
    for entry in listing.entries:
        if entry.kind == "symlink":
            try:
                target = await ctx.sandbox.stat(entry.path)
            except (OSError, PathOutsideWorkspace):
                continue
            if target.kind == "file":
                files.append(FileStat(entry.path, "file", target.size, target.mtime, target.mode))
        elif entry.kind == "file":
            files.append(entry)
    return files
