"""The agent home's layout and a reader of it that checks call: `trajforge-home WHAT [list]`.

This file runs in two places: imported by trajforge's agent tools (the layout and the parsers
below are theirs), and copied as it is into the sandbox for a task's check, where only the
standard library exists. So it imports nothing of trajforge.

The home (`~/.agent` in the sandbox, beside the workspace) holds plain files:

    memories/MEMORY.md   the agent's notes, entries separated by a line holding only "§"
    memories/USER.md     what the agent knows of the user, same format
    todo.json            {"todos": [{"id", "content", "status"}]}
    skills/[CATEGORY/]NAME/SKILL.md  (+ references/ templates/ scripts/ assets/)
    cron/jobs.json       {"jobs": [{"id", "name", "schedule", "next_run_at", "history", ...}]}
    sessions.db          SQLite: sessions(id, title, source, started_at, message_count) and
                         messages(id, session_id, role, content, tool_name), FTS5 over content

A check reads them with `trajforge-home memory list [--target user]`, `todo list`,
`skills list`, `skill NAME`, `jobs list`, `sessions list` (each prints JSON), or in Python:
`import agent_home; agent_home.memory_entries("memory")`.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

HOME_DIR = ".agent"
ENTRY_DELIMITER = "\n§\n"
MEMORY_FILES = {"memory": "memories/MEMORY.md", "user": "memories/USER.md"}
TODO_FILE = "todo.json"
JOBS_FILE = "cron/jobs.json"
SKILLS_DIR = "skills"
SESSIONS_DB = "sessions.db"
SKILL_SUBDIRS = ("references", "templates", "scripts", "assets")


def default_root() -> Path:
    """The home of the sandbox this runs in: $AGENT_HOME, else ~/.agent."""
    return Path(os.environ.get("AGENT_HOME") or Path.home() / HOME_DIR)


def parse_entries(text: str) -> list[str]:
    """A memory file's entries, in order, blank ones dropped."""
    return [entry.strip() for entry in text.split(ENTRY_DELIMITER) if entry.strip()]


def _read(root: Path, relative: str) -> str | None:
    path = root / relative
    return path.read_text(encoding="utf-8") if path.is_file() else None


def memory_entries(target: str = "memory", root: Path | None = None) -> list[str]:
    """The entries of the `memory` or `user` store."""
    text = _read(root or default_root(), MEMORY_FILES[target])
    return parse_entries(text) if text else []


def todos(root: Path | None = None) -> list[dict[str, Any]]:
    """The todo list, in order."""
    text = _read(root or default_root(), TODO_FILE)
    return list(json.loads(text).get("todos", [])) if text else []


def jobs(root: Path | None = None) -> list[dict[str, Any]]:
    """The scheduled jobs."""
    text = _read(root or default_root(), JOBS_FILE)
    return list(json.loads(text).get("jobs", [])) if text else []


def front_matter(text: str) -> dict[str, str]:
    """The simple `key: value` lines of a SKILL.md's YAML front matter (name, description...)."""
    if not text.lstrip("\ufeff").startswith("---"):
        return {}
    head = text.lstrip("\ufeff")[3:]
    end = head.find("\n---")
    if end < 0:
        return {}
    found: dict[str, str] = {}
    for line in head[:end].splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() and not line.startswith((" ", "\t")):
            found[key.strip()] = value.strip().strip("\"'")
    return found


def skill_dirs(root: Path | None = None) -> dict[str, Path]:
    """Skill name -> its folder (a folder holding SKILL.md, at most one category deep)."""
    base = (root or default_root()) / SKILLS_DIR
    found: dict[str, Path] = {}
    if not base.is_dir():
        return found
    for skill_md in sorted(base.glob("SKILL.md")) + sorted(base.glob("*/SKILL.md")) + sorted(base.glob("*/*/SKILL.md")):
        found.setdefault(skill_md.parent.name, skill_md.parent)
    return found


def skills(root: Path | None = None) -> list[dict[str, Any]]:
    """Every skill: name, category, description, and its supporting files."""
    base = (root or default_root()) / SKILLS_DIR
    listed = []
    for name, folder in skill_dirs(root).items():
        meta = front_matter((folder / "SKILL.md").read_text(encoding="utf-8", errors="replace"))
        files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and p.name != "SKILL.md")
        category = folder.parent.name if folder.parent != base else None
        listed.append({"name": name, "category": category, "description": meta.get("description", ""), "files": files})
    return listed


def skill_text(name: str, relative: str = "SKILL.md", root: Path | None = None) -> str | None:
    """A skill's SKILL.md (or one of its files), or None."""
    folder = skill_dirs(root).get(name)
    return _read(folder, relative) if folder else None


def sessions(root: Path | None = None) -> list[dict[str, Any]]:
    """Every stored session with its messages, oldest first."""
    path = (root or default_root()) / SESSIONS_DB
    if not path.is_file():
        return []
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        db.row_factory = sqlite3.Row
        found = [dict(row) for row in db.execute("SELECT * FROM sessions ORDER BY started_at, rowid")]
        for session in found:
            rows = db.execute("SELECT role, content FROM messages WHERE session_id = ? ORDER BY id", (session["id"],))
            session["messages"] = [dict(row) for row in rows]
    return found


def helper_files() -> dict[str, str]:
    """Relative path (under the sandbox's private folder, beside the check helpers) -> text: this module
    as `lib/agent_home.py` and the `bin/trajforge-home` command that runs it."""
    source = Path(__file__).read_text(encoding="utf-8")
    command = '#!/bin/sh\nexec python3 -P "$(dirname "$0")/../lib/agent_home.py" "$@"\n'
    return {"lib/agent_home.py": source, "bin/trajforge-home": command}


_READERS: dict[str, Callable[[dict[str, str]], Any]] = {
    "memory": lambda args: memory_entries(args.get("--target", "memory")),
    "todo": lambda args: todos(),
    "skills": lambda args: skills(),
    "jobs": lambda args: jobs(),
    "sessions": lambda args: sessions(),
}


def main(argv: list[str]) -> int:
    """`trajforge-home memory|todo|skills|jobs|sessions [list] [--target user]`, `trajforge-home skill NAME [FILE]`."""
    words: list[str] = []
    options: dict[str, str] = {}
    rest = iter(argv)
    for word in rest:
        if word.startswith("--"):
            options[word] = next(rest, "")
        else:
            words.append(word)
    if len(words) >= 2 and words[0] == "skill":
        text = skill_text(words[1], words[2] if len(words) > 2 else "SKILL.md")
        if text is None:
            print(f"trajforge-home: no skill {words[1]!r}", file=sys.stderr)
            return 1
        sys.stdout.write(text)
        return 0
    usable = words and words[0] in _READERS and words[1:] in ([], ["list"])
    if not usable or options.get("--target", "memory") not in MEMORY_FILES or set(options) - {"--target"}:
        print("usage: trajforge-home memory|todo|skills|jobs|sessions [list] [--target memory|user]", file=sys.stderr)
        print("       trajforge-home skill NAME [FILE]", file=sys.stderr)
        return 2
    print(json.dumps(_READERS[words[0]](options), ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
