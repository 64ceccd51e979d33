"""The `todo` tool: the agent's task list for multi-step work (hermes-agent's todo_tool)."""

from __future__ import annotations

import json
from typing import Any

from trajforge.tools.agent.home import AgentHome
from trajforge.tools.ordering import CallOrder
from trajforge.tools.registry import ToolContext, ToolError, tool
from trajforge.trace.turns import dumps

STATUSES = ("pending", "in_progress", "completed", "cancelled")
MAX_ITEMS = 256
MAX_CONTENT_CHARS = 4000


async def read_list(home: AgentHome) -> list[dict[str, str]]:
    """The current list, in order."""
    text = await home.read_text(home.todo_file)
    if not text:
        return []
    try:
        items = json.loads(text)["todos"]
        return [{key: str(item[key]) for key in ("id", "content", "status")} for item in items]
    except (ValueError, KeyError, TypeError) as exc:
        # Only a hand edit (the terminal) can leave it so; the tool says so instead of guessing.
        raise ToolError(f"~/.agent/{home.todo_file} is damaged ({type(exc).__name__}); write the list again") from None


async def write_list(home: AgentHome, items: list[dict[str, str]]) -> None:
    """Store the list."""
    await home.write_text(home.todo_file, dumps({"todos": items}) + "\n")


def _item(raw: Any, position: int) -> dict[str, str]:
    """A full item from the model's input; a ToolError naming the item when it is not one."""
    if not isinstance(raw, dict):
        raise ToolError(f"todos[{position}] should be an object {{id, content, status}}, not {type(raw).__name__}")
    item_id = str(raw.get("id", "")).strip()
    content = str(raw.get("content", "")).strip()
    status = str(raw.get("status", "pending")).strip().lower()
    if not item_id:
        raise ToolError(f"todos[{position}] has no id")
    if not content:
        raise ToolError(f"todos[{position}] ({item_id}) has no content")
    _check_status(status, position)
    return {"id": item_id, "content": content[:MAX_CONTENT_CHARS], "status": status}


def _check_status(status: str, position: int) -> None:
    if status not in STATUSES:
        raise ToolError(f"todos[{position}] has status {status!r}; use one of {', '.join(STATUSES)}")


def _merged(items: list[dict[str, str]], todos: list[Any]) -> list[dict[str, str]]:
    """`items` with the given ids updated field by field and new ids appended."""
    by_id = {item["id"]: item for item in items}
    for position, raw in enumerate(todos):
        item_id = str(raw.get("id", "")).strip() if isinstance(raw, dict) else ""
        if item_id in by_id:
            current = by_id[item_id]
            if str(raw.get("content") or "").strip():
                current["content"] = str(raw["content"]).strip()[:MAX_CONTENT_CHARS]
            if raw.get("status"):
                status = str(raw["status"]).strip().lower()
                _check_status(status, position)
                current["status"] = status
        else:
            new = _item(raw, position)
            by_id[new["id"]] = new
            items.append(new)
    return items


def _replaced(todos: list[Any]) -> list[dict[str, str]]:
    items = [_item(raw, position) for position, raw in enumerate(todos)]
    ids = [item["id"] for item in items]
    duplicate = next((i for i in ids if ids.count(i) > 1), None)
    if duplicate is not None:
        raise ToolError(f"id {duplicate!r} appears more than once")
    return items


def summary(items: list[dict[str, str]]) -> dict[str, int]:
    """Counts by status, and the total."""
    return {"total": len(items), **{status: sum(1 for i in items if i["status"] == status) for status in STATUSES}}


@tool("todo", order=CallOrder.BARRIER)
async def todo(ctx: ToolContext, todos: list[dict[str, Any]] | None = None, merge: bool = False) -> str:
    """Manage your task list for multi-step work: call with no arguments to read it.

    Give todos to write: with merge=false (the default) they replace the whole list; with
    merge=true the items whose id exists are updated field by field and new ids are appended.
    Each item is {id, content, status} with status pending, in_progress, completed or cancelled.
    Keep one item in_progress at a time and mark items completed only once they are done.

    Args:
        todos: Items {id, content, status}; leave out to read the list.
        merge: Update items by id and append new ones, instead of replacing the list.
    """
    home = ctx.service(AgentHome)
    if todos is not None and not merge:
        items = _replaced(todos)  # the old list is not read: writing a new one also repairs a damaged file
    else:
        items = await read_list(home)
    if todos is not None:
        items = _merged(items, todos) if merge else items
        if len(items) > MAX_ITEMS:
            raise ToolError(f"the list would hold {len(items)} items; at most {MAX_ITEMS}")
        await write_list(home, items)
    return dumps({"todos": items, "summary": summary(items)})
