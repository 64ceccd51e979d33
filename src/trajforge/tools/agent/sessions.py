"""The `session_search` tool: recall of earlier sessions in the home (hermes-agent's session_search_tool).

With a query: full-text search (FTS5), one hit per session with the messages around it. With a
session_id: that session (or a window around one of its messages). With neither: recent sessions.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from trajforge.tools.agent.home import AgentHome
from trajforge.tools.agent.sessions_db import SessionStore, fts_query
from trajforge.tools.ordering import CallOrder
from trajforge.tools.registry import ToolContext, ToolError, tool
from trajforge.trace.turns import dumps

MESSAGE_CHARS = 2000
"""A message's text is cut to this in results, so one long tool output cannot flood the context."""
MAX_LIMIT = 20
MAX_WINDOW = 20
BROWSE_LIMIT = 10


def _message(row: dict[str, Any]) -> dict[str, Any]:
    text = row["content"]
    cut = text[:MESSAGE_CHARS] + (f" …[{len(text) - MESSAGE_CHARS} more chars]" if len(text) > MESSAGE_CHARS else "")
    shown: dict[str, Any] = {"id": row["id"], "role": row["role"], "content": cut}
    if row.get("tool_name"):
        shown["tool_name"] = row["tool_name"]
    return shown


def _session(row: dict[str, Any]) -> dict[str, Any]:
    return {key: row[key] for key in ("id", "title", "source", "started_at", "message_count")}


def _search(store: SessionStore, query: str, limit: int, window: int, role: str | None, sort: str) -> dict[str, Any]:
    every_word = fts_query(query)
    if every_word is None:
        raise ToolError("the query has no words to search for", success=False)
    # Sessions holding every word first; when none does, sessions holding any of them.
    hits = store.best_hits(every_word, limit, role, sort) or store.best_hits(
        fts_query(query, True) or "", limit, role, sort
    )
    results = []
    for hit in hits:
        around = store.messages(hit["id"], around=hit["message_id"], window=window)
        results.append(
            {
                "session": _session(hit),
                "match": {"message_id": hit["message_id"], "role": hit["role"], "snippet": hit["snippet"]},
                "messages": [_message(m) for m in around],
            }
        )
    payload: dict[str, Any] = {"success": True, "mode": "search", "query": query, "count": len(results)}
    payload["results"] = results
    if not results:
        payload["message"] = f"No earlier session mentions {query!r}."
    return payload


def _read(store: SessionStore, session_id: str, around: int | None, window: int, role: str | None) -> dict[str, Any]:
    found = store.session(session_id)
    if found is None:
        recent = [s["id"] for s in store.recent(BROWSE_LIMIT)]
        raise ToolError(f"No session '{session_id}'.", success=False, recent_sessions=recent)
    rows = store.messages(session_id, around=around, window=window, role=role)
    if around is not None and not rows:
        raise ToolError(f"Session '{session_id}' has no message {around}.", success=False)
    mode = "scroll" if around is not None else "read"
    return {"success": True, "mode": mode, "session": _session(found), "messages": [_message(m) for m in rows]}


def _run(
    store: SessionStore,
    query: str,
    limit: int | None,
    session_id: str,
    around: int | None,
    window: int,
    role: str | None,
    sort: str,
) -> dict[str, Any]:
    window = max(0, min(window, MAX_WINDOW))
    if session_id:
        return _read(store, session_id, around, window, role)
    if around is not None:
        raise ToolError("around_message_id needs session_id", success=False)
    if query.strip():
        return _search(store, query, max(1, min(limit or 3, MAX_LIMIT)), window, role, sort)
    sessions = store.recent(max(1, min(limit or BROWSE_LIMIT, MAX_LIMIT)), newest_first=sort != "oldest")
    return {"success": True, "mode": "browse", "count": len(sessions), "sessions": [_session(s) for s in sessions]}


@tool("sessions", order=CallOrder.READ_ONLY)
async def session_search(
    ctx: ToolContext,
    query: str = "",
    limit: int | None = None,
    session_id: str = "",
    around_message_id: int | None = None,
    window: int = 3,
    role_filter: Literal["user", "assistant", "tool"] | None = None,
    sort: Literal["relevance", "newest", "oldest"] = "relevance",
) -> str:
    """Search and read your earlier sessions with the user (long-term conversation recall).

    With query: full-text search, one best hit per session with the messages around it. With
    session_id: read that session, or with around_message_id a window of messages around one
    message. With no arguments: list recent sessions.

    Args:
        query: Words to search for in earlier sessions' messages.
        limit: Most sessions to return (default 3 for a search, 10 for a listing).
        session_id: A session to read (an id from a search or listing).
        around_message_id: With session_id: the message to center a window on.
        window: Messages shown on each side of a hit or anchor.
        role_filter: Only messages of this role.
        sort: Order of search hits: best match first, or by the session's date.
    """
    store = await ctx.service(AgentHome).sessions()
    result = await asyncio.to_thread(
        _run, store, query, limit, session_id, around_message_id, window, role_filter, sort
    )
    return dumps(result)
