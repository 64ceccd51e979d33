"""Environments a synthesized task can run in, and how they are shown to the model.

An environment is a fixture folder of the catalog (or a folder the user names)
used as a plain folder, a git repository or a served web site, one of the
built-in web sites, an agent home (memory, skills, sessions...) like a
catalog task's, or the empty workspace where the task brings its own
small inline files. The model sees it
as a file tree and the first lines of a few files; the folder is copied into
`fixtures/` next to the output file, so the synthesized file runs as it is.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml

from trajforge.tasks.loader import LoadedTask

Kind = Literal["folder", "repository", "site", "app", "home", "inline"]
SKIPPED = frozenset({".git", "__pycache__", "node_modules", ".venv", ".mypy_cache", ".pytest_cache", ".ruff_cache"})
MAX_FILES = 2000
"""An environment with more files than this is refused (the model sees its tree; set-up copies it per episode)."""
MAX_BYTES = 50 * 1024 * 1024
TREE_LINES = 60
HEAD_FILES = 6
HEAD_LINES = 15


class UnusableEnvironment(ValueError):
    """A folder that cannot be an environment (missing, empty, too big); the message names it."""


@dataclass(frozen=True)
class Environment:
    """One environment: its name in `fixtures/`, its kind and the folder it comes from (None: inline)."""

    name: str
    kind: Kind
    source: Path | None = None
    home: str = ""
    """For kind `home`: the YAML of a catalog task's `home:` section (the agent's memory, skills, sessions...)."""

    def usage(self) -> str:
        """How a spec refers to this environment, as the model is told."""
        if self.kind == "folder":
            return (f"fixtures: {{folders: {{{self.name}: .}}}}   (copies the folder into the workspace; "
                    "or give a subfolder as its destination)")  # fmt: skip
        if self.kind == "repository":
            return (f"fixtures: {{git: [{{folder: {self.name}}}]}}   (a git repository with the folder as its "
                    "first commit; add commits: to script a history)")  # fmt: skip
        if self.kind == "site":
            return (f"fixtures: {{sites: [{{folder: {self.name}}}]}}   (served on 127.0.0.1; write {{site_url}} "
                    "in the prompt for its address)")  # fmt: skip
        if self.kind == "home":
            return "home: {...}   (the agent home's starting state, as above; vary its contents for each task)"
        if self.kind == "app":
            return (f"fixtures: {{sites: [{{app: {self.name}}}]}}   (a built-in web site with fresh state per episode; "
                    "write {site_url} in the prompt; the browser reaches it)")  # fmt: skip
        return ("fixtures: {files: {path: text}}   (small inline files written into the empty workspace; "
                "none needed for pure questions)")  # fmt: skip


INLINE = Environment("empty workspace", "inline")


def catalog_environments(tasks: list[LoadedTask]) -> dict[str, list[Environment]]:
    """subcategory -> the environments its catalog tasks use (a folder used as a repository is one)."""
    found: dict[str, list[Environment]] = {}
    for task in tasks:
        fixtures, root = task.spec.fixtures, task.fixture_root
        uses: list[Environment] = [Environment(name, "folder", root / name) for name in fixtures.folders]
        folders = [repo.folder for repo in fixtures.git if repo.folder is not None]
        uses += [Environment(name, "repository", root / name) for name in folders]
        for site in fixtures.sites:
            if site.folder is not None:
                uses.append(Environment(site.folder, "site", root / site.folder))
            elif site.app is not None:
                uses.append(Environment(site.app, "app"))
        if task.spec.home is not None:
            state = task.spec.home.model_dump(mode="json", exclude_defaults=True)
            uses.append(
                Environment(f"{task.spec.id} home", "home", home=yaml.safe_dump({"home": state}, sort_keys=False))
            )
        chosen = found.setdefault(task.spec.subcategory, [])
        chosen += [env for env in uses if env not in chosen]
    return found


def user_environment(path: Path) -> Environment:
    """The user's folder as an environment: a repository when it holds .git, a site with index.html, else a folder."""
    if not path.is_dir():
        raise UnusableEnvironment(f"--environments {path}: not a folder")
    files, size = _census(path)
    if files == 0:
        raise UnusableEnvironment(f"--environments {path}: holds no files")
    if files > MAX_FILES or size > MAX_BYTES:
        raise UnusableEnvironment(
            f"--environments {path}: {files} files, {size / 1e6:.1f} MB; at most {MAX_FILES} files and "
            f"{MAX_BYTES // 2**20} MB (each episode copies it)"
        )
    kind: Kind = "repository" if (path / ".git").exists() else "site" if (path / "index.html").is_file() else "folder"
    return Environment(_slug(path.resolve().name), kind, path)


def _census(root: Path) -> tuple[int, int]:
    files = size = 0
    for current, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIPPED]
        for name in dirs + names:
            path = Path(current) / name
            if path.is_symlink() and root.resolve() not in path.resolve().parents:
                raise UnusableEnvironment(f"--environments {root}: {path.relative_to(root)} is a symlink leading out")
        for name in names:
            files += 1
            size += (Path(current) / name).lstat().st_size
            if files > MAX_FILES:
                return files, size
    return files, size


def _slug(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "_-." else "_" for c in name).strip("._-")
    return cleaned or "environment"


def describe(env: Environment) -> str:
    """The environment as the model sees it: its file tree, then the first lines of a few files."""
    if env.kind == "home":
        return f"An agent home (memory, skills, sessions, todos, jobs) as a catalog task starts with:\n{env.home}"
    if env.kind == "app":
        return f"The built-in web site {env.name!r} (the catalog's browser tasks use it), and an empty workspace."
    if env.source is None:
        return "An empty workspace: the task lays out the files it needs as small inline files."
    paths = _tree(env.source)
    lines = [f"{env.kind} {env.name!r} ({len(paths)} files):"]
    lines += [f"  {p}" for p in paths[:TREE_LINES]]
    if len(paths) > TREE_LINES:
        lines.append(f"  ... and {len(paths) - TREE_LINES} more")
    for relative in _heads_worth_showing(paths)[:HEAD_FILES]:
        head = _head(env.source / relative)
        if head is not None:
            lines += [f"--- {relative} (first lines) ---", head]
    return "\n".join(lines)


def _tree(root: Path) -> list[str]:
    found = []
    for current, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED)
        found += [(Path(current) / n).relative_to(root).as_posix() for n in sorted(names)]
    return found


def _heads_worth_showing(paths: list[str]) -> list[str]:
    """Files most telling first: READMEs, then source and data, shallow before deep."""
    rank = {".md": 0, ".py": 1, ".html": 1, ".csv": 2, ".json": 2, ".ini": 2, ".log": 3, ".txt": 3}
    return sorted(paths, key=lambda p: (rank.get(Path(p).suffix.lower(), 9), p.count("/"), p))


def _head(path: Path) -> str | None:
    try:
        data = path.read_bytes()[:4000]
    except OSError:
        return None
    if b"\0" in data:
        return None  # binary: its name in the tree says enough
    text = data.decode("utf-8", errors="replace")
    return "\n".join(text.splitlines()[:HEAD_LINES])


def digest(root: Path) -> str:
    """A digest of a folder's paths and contents (what decides whether an installed copy is the same)."""
    hasher = hashlib.blake2b(digest_size=16)
    for relative in _tree(root):
        hasher.update(relative.encode() + b"\0")
        path = root / relative
        hasher.update(os.readlink(path).encode() if path.is_symlink() else path.read_bytes())
    return hasher.hexdigest()


def install(env: Environment, fixtures_dir: Path) -> Environment:
    """Copy the environment into `fixtures_dir` (the output file's `fixtures/`) unless the same copy is there.

    A different folder of the same name already there gets the next free name
    (`name-2`, ...); the environment returned carries the name specs must use.
    """
    if env.source is None:
        return env
    wanted = digest(env.source)
    for number in range(1, 1000):
        name = env.name if number == 1 else f"{env.name}-{number}"
        target = fixtures_dir / name
        if target.is_dir():
            if digest(target) == wanted:
                return Environment(name, env.kind, env.source)
            continue
        partial = fixtures_dir / f".{name}.{os.getpid()}.partial"  # per process: two runs may share fixtures/
        shutil.rmtree(partial, ignore_errors=True)
        shutil.copytree(env.source, partial, symlinks=True, ignore=shutil.ignore_patterns(*SKIPPED))
        try:
            partial.rename(target)  # whole or not at all: a crash mid-copy leaves only the .partial folder
        except OSError:  # another run installed it first: same contents or not, the loop looks again
            shutil.rmtree(partial, ignore_errors=True)
            if target.is_dir() and digest(target) == wanted:
                return Environment(name, env.kind, env.source)
            continue
        return Environment(name, env.kind, env.source)
    raise UnusableEnvironment(f"{fixtures_dir}: no free name for environment {env.name!r}")
