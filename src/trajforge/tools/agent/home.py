"""The agent's home: its memory, todo list, skills, sessions and jobs, one per episode.

It lives in the sandbox's HOME (`~/.agent`), beside the workspace, so `find .` or `git status` in
the workspace never meet it, and nothing of it is shared between episodes: each sandbox has its
own HOME. Its layout is `home_helper`'s (which checks read too).

All file access goes through `read_text`/`write_text`/`remove`/`list_files`, one seam to move onto
the sandbox's own file API; the sessions database is SQLite on the home's host path.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from trajforge.sandbox import Sandbox
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

    # The file seam: every read and write of the home's files goes through these.

    def _host(self, relative: str) -> Path:
        path = (self.root / relative).resolve()
        root = self.root.resolve()
        if path != root and root not in path.parents:
            raise ToolError(f"{relative}: outside the agent home")
        return path

    def read_text(self, relative: str) -> str | None:
        """A home file's text, or None when it does not exist."""
        path = self._host(relative)
        if not path.is_file():
            return None
        if path.stat().st_size > MAX_HOME_FILE_BYTES * 4:
            raise ToolError(f"{relative} is larger than {MAX_HOME_FILE_BYTES * 4} bytes")
        return path.read_text(encoding="utf-8", errors="replace")

    def write_text(self, relative: str, text: str) -> None:
        """Write a home file whole (a temporary file renamed over it), owned by the sandbox's user."""
        data = text.encode("utf-8")
        if len(data) > MAX_HOME_FILE_BYTES:
            raise ToolError(f"{relative}: {len(data)} bytes is over the {MAX_HOME_FILE_BYTES}-byte limit")
        path = self._host(relative)
        self._make_parents(path)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        self.sandbox.adopt(path)

    def _make_parents(self, path: Path) -> None:
        for folder in reversed(path.parents):
            if folder == self.root.parent or self.root.parent not in folder.parents:
                continue
            if not folder.exists():
                folder.mkdir()
                self.sandbox.adopt(folder)

    def remove(self, relative: str) -> bool:
        """Remove a home file or folder (with what it holds); whether there was one."""
        path = self._host(relative)
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
            return True
        if path.exists() or path.is_symlink():
            path.unlink()
            return True
        return False

    def list_files(self, relative: str) -> list[str]:
        """Files under a home folder, relative to it, in name order (links not followed)."""
        base = self._host(relative)
        if not base.is_dir():
            return []
        found = []
        for folder, dirs, files in os.walk(base):
            dirs.sort()
            found += [str((Path(folder) / name).relative_to(base)) for name in sorted(files)]
        return found

    def exists(self, relative: str) -> bool:
        """Whether a home file or folder exists."""
        return self._host(relative).exists()

    @property
    def sessions(self) -> SessionStore:
        """The sessions database (made on first use)."""
        if self._sessions is None:
            path = self.root / layout.SESSIONS_DB
            self._make_parents(path)
            self._sessions = SessionStore(path)
            self.sandbox.adopt(path)
        return self._sessions

    def close(self) -> None:
        """Close the sessions database."""
        if self._sessions is not None:
            self._sessions.close()
            self._sessions = None
