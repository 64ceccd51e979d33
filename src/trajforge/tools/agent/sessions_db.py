"""The home's sessions database: earlier conversations, searchable with SQLite FTS5."""

from __future__ import annotations

import re
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, source TEXT NOT NULL DEFAULT 'cli',
    started_at TEXT NOT NULL, message_count INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL REFERENCES sessions(id),
    role TEXT NOT NULL, content TEXT NOT NULL, tool_name TEXT);
CREATE INDEX IF NOT EXISTS messages_by_session ON messages(session_id, id);
CREATE VIRTUAL TABLE IF NOT EXISTS messages_fts USING fts5(content, content='messages', content_rowid='id');
CREATE TRIGGER IF NOT EXISTS messages_ai AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content); END;
"""
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class StoredMessage:
    """One message of a session to store."""

    role: str
    content: str
    tool_name: str | None = None


def fts_query(text: str, any_word: bool = False) -> str | None:
    """A user's search words as an FTS5 query: every word quoted (so no word is taken as syntax), all of
    them required, or any of them with `any_word`; None when there are no words."""
    words = _WORD.findall(text)
    return (" OR " if any_word else " ").join(f'"{word}"' for word in words) if words else None


class SessionStore:
    """Sessions and their messages in one SQLite file; safe to use from worker threads, one at a time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.Lock()
        with self._lock:
            self._db.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    def add_session(
        self, session_id: str, title: str, started_at: str, messages: list[StoredMessage], source: str = "cli"
    ) -> None:
        """Store one whole session (a session of that id already stored is replaced)."""
        with self._lock:
            db = self._db
            db.execute("BEGIN")
            try:
                old = [row[0] for row in db.execute("SELECT id FROM messages WHERE session_id = ?", (session_id,))]
                for rowid in old:
                    content = db.execute("SELECT content FROM messages WHERE id = ?", (rowid,)).fetchone()[0]
                    db.execute(
                        "INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', ?, ?)",
                        (rowid, content),
                    )
                db.execute("DELETE FROM messages WHERE session_id = ?", (session_id,))
                db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
                db.execute(
                    "INSERT INTO sessions(id, title, source, started_at, message_count) VALUES (?, ?, ?, ?, ?)",
                    (session_id, title, source, started_at, len(messages)),
                )
                db.executemany(
                    "INSERT INTO messages(session_id, role, content, tool_name) VALUES (?, ?, ?, ?)",
                    [(session_id, m.role, m.content, m.tool_name) for m in messages],
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def session(self, session_id: str) -> dict[str, Any] | None:
        """A session's row, or None."""
        with self._lock:
            row = self._db.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
        return dict(row) if row else None

    def recent(self, limit: int, newest_first: bool = True) -> list[dict[str, Any]]:
        """Sessions by start time."""
        order = "DESC" if newest_first else "ASC"
        with self._lock:
            rows = self._db.execute(
                f"SELECT * FROM sessions ORDER BY started_at {order}, rowid {order} LIMIT ?", (limit,)
            ).fetchall()
        return [dict(row) for row in rows]

    def best_hits(self, query: str, limit: int, role: str | None, sort: str) -> list[dict[str, Any]]:
        """The best-matching message of each of the `limit` best sessions for an FTS5 `query`.

        Ranks first and makes snippets only for the hits kept: a snippet for every matching
        message would cost more than the search itself on a large home.
        """
        role_clause = "AND m.role = ?" if role else ""
        order = {"newest": "s.started_at DESC", "oldest": "s.started_at ASC"}.get(sort, "best")
        sql = f"""
            WITH hits AS (
                SELECT m.id, m.session_id, m.role, bm25(messages_fts) AS score
                FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid
                WHERE messages_fts MATCH ? {role_clause}),
            ranked AS (
                SELECT hits.*, ROW_NUMBER() OVER (PARTITION BY session_id ORDER BY score, id) AS n FROM hits)
            SELECT ranked.id AS message_id, ranked.role, ranked.score AS best, s.*
            FROM ranked JOIN sessions s ON s.id = ranked.session_id
            WHERE n = 1 ORDER BY {order}, s.started_at DESC LIMIT ?"""
        params: list[Any] = [query, *([role] if role else []), limit]
        with self._lock:
            hits = [dict(row) for row in self._db.execute(sql, params).fetchall()]
            if hits:
                marks = ", ".join("?" for _ in hits)
                snippets = dict(
                    self._db.execute(
                        f"SELECT rowid, snippet(messages_fts, 0, '>>>', '<<<', '…', 16) FROM messages_fts "
                        f"WHERE messages_fts MATCH ? AND rowid IN ({marks})",
                        [query, *(hit["message_id"] for hit in hits)],
                    ).fetchall()
                )
                for hit in hits:
                    hit["snippet"] = snippets.get(hit["message_id"], "")
        return hits

    def messages(
        self, session_id: str, around: int | None = None, window: int = 0, role: str | None = None
    ) -> list[dict[str, Any]]:
        """A session's messages in order: all, or `window` on each side of message `around`."""
        role_clause = "AND role = ?" if role else ""
        params: list[Any] = [session_id, *([role] if role else [])]
        with self._lock:
            rows = self._db.execute(
                f"SELECT id, role, content, tool_name FROM messages WHERE session_id = ? {role_clause} ORDER BY id",
                params,
            ).fetchall()
        found = [dict(row) for row in rows]
        if around is None:
            return found
        index = next((i for i, row in enumerate(found) if row["id"] == around), None)
        if index is None:
            return []
        return found[max(0, index - window) : index + window + 1]

    def count(self) -> int:
        """How many sessions are stored."""
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0])
