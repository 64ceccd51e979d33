"""The agent's home: its memory, todo list, skills, sessions and jobs, one per episode.

It lives in the sandbox's HOME (`~/.agent`), beside the workspace, so `find .` or `git status` in
the workspace never meet it, and nothing of it is shared between episodes: each sandbox has its
own HOME. Its layout is `home_helper`'s (which checks read too).

All file access goes through `read_text`/`write_text`/`remove`/`list_files`, on the sandbox's file
API (agent paths under `~/.agent`); the sessions database is SQLite on the home's host path.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from trajforge.sandbox import ListRequest, ReadRequest, RemoveRequest, Sandbox, WriteRequest
from trajforge.tools.agent import home_helper as layout
from trajforge.tools.agent.sessions_db import SessionStore
from trajforge.tools.registry import ToolError

MAX_HOME_FILE_BYTES = 1 << 20
"""Largest file a tool writes into the home (a skill's supporting file, the todo list)."""


def utc(text: str) -> dt.datetime:
    """An ISO 8601 time as an aware UTC datetime (a naive one is taken as UTC)."""
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def iso(value: dt.datetime) -> str:
    """`value` as 2026-03-02T09:00:00Z."""
    return value.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass
class AgentHome:
    """One episode's home in its sandbox, and the episode's clock (fixed at its start)."""

    sandbox: Sandbox
    clock: dt.datetime
    todo_file: str = layout.TODO_FILE
    """Delegated children keep a todo list of their own beside the parent's."""
    _sessions: SessionStore | None = field(default=None, repr=False)
    skill_meta: dict[str, tuple[float, int, dict[str, str]]] = field(default_factory=dict, repr=False)
    """SKILL.md path -> (mtime, size, front matter) last read, so listing skills rereads only changed files."""

    @property
    def root(self) -> Path:
        """The home on the host."""
        return self.sandbox.info.home / layout.HOME_DIR

    @property
    def visible_root(self) -> PurePosixPath:
        """The home as commands in the sandbox see it."""
        return self.sandbox.info.visible_home / layout.HOME_DIR

    def now(self) -> dt.datetime:
        """The episode's clock: fixed at the episode's start, so a trace is the same in every repeat."""
        return self.clock

    def child(self, number: int) -> AgentHome:
        """The home as delegated child `number` sees it: shared, with a todo list of its own."""
        return AgentHome(self.sandbox, self.clock, f"todo-child-{number}.json", self._sessions)

    # The file seam: every read and write of the home's files goes through these, on the sandbox's file API.

    def _path(self, relative: str) -> str:
        parts = PurePosixPath(relative).parts
        if PurePosixPath(relative).is_absolute() or ".." in parts:
            raise ToolError(f"{relative}: outside the agent home")
        return f"~/{layout.HOME_DIR}/{relative}".rstrip("/")

    async def read_text(self, relative: str) -> str | None:
        """A home file's text, or None when it does not exist."""
        try:
            content = await self.sandbox.read_file(ReadRequest(self._path(relative), max_bytes=MAX_HOME_FILE_BYTES * 4))
        except FileNotFoundError:
            return None
        if content.truncated:
            raise ToolError(f"{relative} is larger than {MAX_HOME_FILE_BYTES * 4} bytes")
        return content.text()

    async def write_text(self, relative: str, text: str) -> None:
        """Write a home file whole (folders made as needed), owned by the sandbox's user."""
        data = text.encode("utf-8")
        if len(data) > MAX_HOME_FILE_BYTES:
            raise ToolError(f"{relative}: {len(data)} bytes is over the {MAX_HOME_FILE_BYTES}-byte limit")
        await self.sandbox.write_file(WriteRequest(self._path(relative), data))

    async def remove(self, relative: str) -> bool:
        """Remove a home file or folder (with what it holds); whether there was one."""
        path = self._path(relative)
        if not await self.sandbox.exists(path):
            return False
        await self.sandbox.remove(RemoveRequest(path, recursive=True, missing_ok=True))
        return True

    async def list_files(self, relative: str) -> list[str]:
        """Regular files under a home folder, relative to it, in path order (links not followed)."""
        return [entry[0] for entry in await self.list_entries(relative)]

    async def list_entries(self, relative: str) -> list[tuple[str, float, int]]:
        """(path relative to the folder, mtime, size) of the regular files under a home folder."""
        path = self._path(relative)
        if not await self.sandbox.exists(path):
            return []
        listing = await self.sandbox.list_files(ListRequest(path, recursive=True))
        base = PurePosixPath(listing.path)
        return [
            (str(PurePosixPath(e.path).relative_to(base)), e.mtime, e.size) for e in listing.entries if e.kind == "file"
        ]

    async def sessions(self) -> SessionStore:
        """The sessions database (made on first use; SQLite works on the home's host path)."""
        if self._sessions is None:
            await self.sandbox.make_dirs(f"~/{layout.HOME_DIR}")
            path = self.root / layout.SESSIONS_DB
            self._sessions = SessionStore(path)
            self.sandbox.adopt(path)
        return self._sessions

    def close(self) -> None:
        """Close the sessions database."""
        if self._sessions is not None:
            self._sessions.close()
            self._sessions = None
