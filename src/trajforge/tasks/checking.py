"""What a task's set-up commands and check see besides the workspace: the seed, the answer, the helpers.

Set-up commands and checks run in the sandbox with these variables exported:

- `TRAJFORGE_SEED`: the episode's seed, an integer derived from its id (`episode_seed`), so each
  repeat of a seeded task draws other data and its check can recompute the expected values;
- `TRAJFORGE_ANSWER` (checks only): the path of a file holding the agent's final answer (empty when
  the episode ended without one), outside the workspace, written after the episode;
- `TRAJFORGE_FIXTURE` (checks only): the path of a JSON file mapping every workspace file as set-up
  left it (relative path) to its SHA-256, for "moved, untouched, protected" checks;
- `PYTHONPATH` and `PATH` giving the check helpers: `import trajforge_check` in Python, or the
  `trajforge-check` command in a shell (see `checklib/trajforge_check.py`).

The files are written from the host just before the check, so nothing the agent left in HOME
replaces them.
"""

from __future__ import annotations

import hashlib
import os
import shlex
from pathlib import Path

CHECKLIB = Path(__file__).parent / "checklib" / "trajforge_check.py"
"""The helper module checks import (standard library only: it runs on the sandbox's own Python); its
sibling `trajforge_data.py` draws seeded fixture data for set-up commands and checks."""
HELPER_MODULE = "trajforge_check.py"
HELPER_COMMAND = "trajforge-check"
ANSWER_FILE = "answer.txt"
FIXTURE_FILE = "fixture.json"


def episode_seed(episode_id: str) -> int:
    """The seed of an episode: 32 bits of SHA-256 of its id (the same id always draws the same data)."""
    return int.from_bytes(hashlib.sha256(episode_id.encode("utf-8")).digest()[:4], "big")


def helper_files() -> dict[str, str]:
    """Relative path (under the sandbox's private folder) -> text, for the check helpers."""
    modules = {f"lib/{p.name}": p.read_text(encoding="utf-8") for p in CHECKLIB.parent.glob("trajforge_*.py")}
    command = f'#!/bin/sh\nexec python3 -P "$(dirname "$0")/../lib/{HELPER_MODULE}" "$@"\n'
    return {**modules, f"bin/{HELPER_COMMAND}": command}


def fixture_manifest(workspace: Path) -> dict[str, str]:
    """Relative path -> SHA-256 of every regular file under `workspace` (`.git` internals left out)."""
    manifest: dict[str, str] = {}
    for folder, dirs, files in os.walk(workspace):
        dirs[:] = sorted(d for d in dirs if d != ".git")
        for name in sorted(files):
            path = Path(folder) / name
            if path.is_file() and not path.is_symlink():
                manifest[path.relative_to(workspace).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return manifest


def exports(variables: dict[str, str], private: str) -> str:
    """Shell lines exporting `variables` and putting the helpers (under `private`, as seen inside) on the paths."""
    lines = [f"export {name}={shlex.quote(value)}" for name, value in variables.items()]
    lib, bin_ = shlex.quote(f"{private}/lib"), shlex.quote(f"{private}/bin")
    lines.append(f'export PYTHONPATH={lib}"${{PYTHONPATH:+:$PYTHONPATH}}" PATH={bin_}:"$PATH"')
    # A temporary folder of the check's own: under the local backend /tmp is shared between sandboxes
    # (pytest's /tmp/pytest-of-<user> then belongs to another sandbox's uid).
    tmp = shlex.quote(f"{private}/tmp")
    lines.append(f"mkdir -p {tmp} && export TMPDIR={tmp}")
    return "\n".join(lines) + "\n"
