"""Checks of a task's fixtures against the files on disk, before any sandbox is set up.

The spec's own validation refuses paths that leave the workspace; what needs
the disk is checked here: the fixture folders exist next to the spec file,
hold no symlink leading out of them, and their contents do not collide with
the inline files (set-up lays out the inline files first, then the folders).
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path

from trajforge.tasks.spec import TaskSpec

FolderCache = dict[tuple[Path, str], dict[str, bool] | str]
"""What `fixture_problems` found in each fixture folder, for one load: a file of 1,000 synthesized tasks
naming the same folder walks it once, not 1,000 times."""


def fixture_problems(spec: TaskSpec, fixture_root: Path, cache: FolderCache | None = None) -> list[tuple[str, str]]:
    """(field, reason) for every fixture of `spec` that set-up could not lay out from `fixture_root`."""
    fixtures = spec.fixtures
    sources = [(f"fixtures.folders.{name}", name) for name in fixtures.folders]
    sources += [(f"fixtures.git.{n}.folder", repo.folder) for n, repo in enumerate(fixtures.git) if repo.folder]
    sources += [(f"fixtures.sites.{n}.folder", site.folder) for n, site in enumerate(fixtures.sites) if site.folder]
    problems: list[tuple[str, str]] = []
    contents: dict[str, dict[str, bool]] = {}
    for where, name in sources:
        if cache is None:
            found = _folder_contents(fixture_root, name)
        elif (fixture_root, name) in cache:
            found = cache[(fixture_root, name)]
        else:
            found = cache[(fixture_root, name)] = _folder_contents(fixture_root, name)
        if isinstance(found, str):
            problems.append((where, found))
        else:
            contents[name] = found
    for name, destination in fixtures.folders.items():
        if name in contents:
            problems += _collisions(f"fixtures.folders.{name}", contents[name], destination, list(fixtures.files))
    return problems


def _folder_contents(root: Path, name: str) -> dict[str, bool] | str:
    """Relative path -> is a folder, for everything in fixture folder `name`; or why it cannot be used."""
    folder = (root / name).resolve()
    if not folder.is_dir() or root.resolve() not in folder.parents:
        return f"no fixture folder {name!r} in {root}"
    entries: dict[str, bool] = {}
    for current, dirs, files in os.walk(folder):
        for entry in dirs + files:
            path = Path(current) / entry
            relative = path.relative_to(folder).as_posix()
            if path.is_symlink() and folder not in path.resolve().parents and path.resolve() != folder:
                return f"{relative!r} in fixture folder {name!r} is a symlink leading outside it"
            entries[relative] = entry in dirs
    return entries


def _collisions(where: str, entries: dict[str, bool], destination: str, files: list[str]) -> list[tuple[str, str]]:
    """Inline files that the folder's copy would have to replace with a folder, or put a file under."""
    base = posixpath.normpath(destination)
    found = []
    for file in files:
        normal = posixpath.normpath(file)
        if normal == base or base.startswith(normal + "/"):
            found.append((where, f"destination {destination!r} is (or is inside) the inline file {file!r}"))
            continue
        relative = normal if base == "." else posixpath.relpath(normal, base)
        if relative.startswith(".."):
            continue
        parents = [relative]
        while (parent := posixpath.dirname(parents[-1])) != "":
            parents.append(parent)
        if entries.get(relative) or any(entries.get(p) is False for p in parents[1:]):
            found.append((where, f"inline file {file!r} collides with the folder's {relative!r} or a file above it"))
    return found
