"""The `memory` tool: two bounded stores the agent keeps across sessions (hermes-agent's memory_tool).

`memory` holds the agent's own notes, `user` what it knows of the user. Entries are matched by a
unique substring for replace and remove. The system prompt shows the copy frozen at the episode's
start (`snapshot`); the tool's results show the live stores.
"""

from __future__ import annotations

from typing import Any, Literal

from trajforge.tools.agent import home_helper as layout
from trajforge.tools.agent.home import AgentHome
from trajforge.tools.ordering import CallOrder
from trajforge.tools.registry import ToolContext, ToolError, tool
from trajforge.trace.turns import dumps

LIMITS = {"memory": 2200, "user": 1375}
"""Characters each store may hold, entries and separators together (hermes-agent's defaults)."""
PREVIEW_CHARS = 80


async def entries(home: AgentHome, target: str) -> list[str]:
    """The live entries of a store."""
    text = await home.read_text(layout.MEMORY_FILES[target])
    return layout.parse_entries(text) if text else []


def _size(items: list[str]) -> int:
    return len(layout.ENTRY_DELIMITER.join(items))


def usage(target: str, items: list[str]) -> str:
    """'42% — 930/2,200 chars'."""
    limit = LIMITS[target]
    current = _size(items)
    return f"{min(100, current * 100 // limit)}% — {current:,}/{limit:,} chars"


async def save(home: AgentHome, target: str, items: list[str]) -> None:
    """Write a store's entries."""
    await home.write_text(layout.MEMORY_FILES[target], layout.ENTRY_DELIMITER.join(items) + ("\n" if items else ""))


async def snapshot(home: AgentHome) -> str | None:
    """The stores as the system prompt shows them, taken once at the episode's start; None when empty."""
    blocks = []
    for target, title in (("memory", "MEMORY (your personal notes)"), ("user", "USER PROFILE (who the user is)")):
        items = await entries(home, target)
        if items:
            rule = "═" * 46
            body = layout.ENTRY_DELIMITER.join(items)
            blocks.append(f"{rule}\n{title} [{usage(target, items)}]\n{rule}\n{body}")
    return "\n\n".join(blocks) or None


def _match(items: list[str], old_text: str, target: str) -> int:
    """The index of the one entry holding `old_text`; a ToolError listing entries otherwise."""
    found = [i for i, item in enumerate(items) if old_text in item]
    if len(set(items[i] for i in found)) > 1:
        previews = [items[i][:PREVIEW_CHARS] + ("..." if len(items[i]) > PREVIEW_CHARS else "") for i in found]
        raise ToolError(f"Multiple entries matched '{old_text}'. Be more specific.", success=False, matches=previews)
    if not found:
        raise ToolError(
            f"No entry matched '{old_text}'. Retry with text from one of current_entries.",
            success=False,
            current_entries=items,
            usage=usage(target, items),
        )
    return found[0]


def _check_fits(target: str, items: list[str], what: str) -> None:
    if _size(items) > LIMITS[target]:
        raise ToolError(
            f"{what} would put {target} at {_size(items):,}/{LIMITS[target]:,} chars. Replace or remove "
            f"entries to make room, then retry.",
            success=False,
            current_entries=items[:-1] if what == "Adding this entry" else items,
        )


def _done(target: str, items: list[str], message: str) -> str:
    result: dict[str, Any] = {
        "success": True,
        "target": target,
        "entries": items,
        "usage": usage(target, items),
        "entry_count": len(items),
        "message": message,
    }
    return dumps(result)


@tool("memory", order=CallOrder.BARRIER)
async def memory(
    ctx: ToolContext,
    action: Literal["add", "replace", "remove"],
    target: Literal["memory", "user"] = "memory",
    content: str = "",
    old_text: str = "",
) -> str:
    """Save durable facts to your persistent memory, which later sessions see in their system prompt.

    Two stores: 'memory' for your own notes (environment facts, project conventions, lessons
    learned) and 'user' for what you know about the user (name, preferences, habits). Both are
    bounded (memory 2,200 chars, user 1,375): keep entries short and merge or remove stale ones.
    replace and remove find the entry by a short unique substring (old_text). What you save now
    shows in the system prompt of the next session, not this one.

    Args:
        action: add a new entry, replace one (found by old_text) with content, or remove one.
        target: 'memory' (your notes) or 'user' (the user profile).
        content: The entry's text (add, replace).
        old_text: A short substring that identifies exactly one existing entry (replace, remove).
    """
    home = ctx.service(AgentHome)
    items = await entries(home, target)
    content, old_text = content.strip(), old_text.strip()
    if action == "add":
        if not content:
            raise ToolError("Content is required for 'add' action.", success=False)
        if content in items:
            return _done(target, items, "Entry already exists (no duplicate added).")
        _check_fits(target, [*items, content], "Adding this entry")
        items.append(content)
        message = "Entry added."
    elif not old_text:
        raise ToolError(f"old_text is required for '{action}' action.", success=False, current_entries=items)
    elif action == "replace":
        if not content:
            raise ToolError("content is required for 'replace' action; use 'remove' to delete.", success=False)
        index = _match(items, old_text, target)
        trial = [*items[:index], content, *items[index + 1 :]]
        _check_fits(target, trial, "Replacement")
        items, message = trial, "Entry replaced."
    else:
        del items[_match(items, old_text, target)]
        message = "Entry removed."
    await save(home, target, items)
    return _done(target, items, message)
