"""Field types of task specs that set-up would otherwise trip over: paths, text, commands, git names.

Each check here is one a spec can fail without running anything, so the
loader (and `tasks validate`) refuses the task with the field named instead of
the episode failing at set-up time, or laying a file outside the workspace.
"""

from __future__ import annotations

import posixpath
import re
from typing import Annotated

from pydantic import AfterValidator

# A name git accepts for a branch (a safe subset of `git check-ref-format`); the environment
# puts it on a shell command line, so nothing that a shell would read as syntax either.
_GIT_REF = re.compile(r"^(?![-/.])(?!.*(?:\.\.|//|@\{|/\.))[A-Za-z0-9._/+-]+(?<![/.])$")


def relative_path_problem(path: str, *, what: str) -> str | None:
    """Why `path` cannot be a path relative to a root that it must stay in (None when it can)."""
    if "\0" in path:
        return f"{what} {path!r} contains a NUL character"
    if path.startswith(("/", "\\")):
        return f"{what} {path!r} is absolute; give it relative to the workspace"
    normal = posixpath.normpath(path) if path else "."
    if normal == ".." or normal.startswith("../"):
        return f"{what} {path!r} leads outside the workspace"
    return None


def _workspace_dir(path: str) -> str:
    problem = relative_path_problem(path, what="path")
    if problem:
        raise ValueError(problem)
    return path


def _workspace_file(path: str) -> str:
    _workspace_dir(path)
    if posixpath.normpath(path or ".") == "." or path.endswith("/"):
        raise ValueError(f"file path {path!r} names a folder, not a file")
    return path


def _fixture_name(name: str) -> str:
    problem = relative_path_problem(name, what="fixture folder")
    if problem:
        raise ValueError(problem.replace("the workspace", "the fixtures folder"))
    if posixpath.normpath(name or ".") == ".":
        raise ValueError(f"fixture folder {name!r} names the fixtures folder itself; name a folder in it")
    return name


def _utf8_text(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"text cannot be written as UTF-8: {text[exc.start]!r} at character {exc.start} is a lone surrogate"
        ) from None
    return text


def _command(text: str) -> str:
    _utf8_text(text)
    if "\0" in text:
        raise ValueError("command contains a NUL character, which no shell command line can hold")
    return text


def _git_ref(name: str) -> str:
    if not _GIT_REF.match(name) or name.endswith(".lock"):
        raise ValueError(f"{name!r} is not a usable git branch name (letters, digits and . _ / + -)")
    return name


WorkspaceDir = Annotated[str, AfterValidator(_workspace_dir)]
"""A folder relative to the workspace ("." is the workspace itself); never absolute, never leaving it."""
WorkspaceFile = Annotated[str, AfterValidator(_workspace_file)]
"""A file relative to the workspace (or to a fixture repository); never absolute, never leaving it."""
FixtureName = Annotated[str, AfterValidator(_fixture_name)]
"""A folder inside the `fixtures/` folder next to the spec file."""
Text = Annotated[str, AfterValidator(_utf8_text)]
"""Text that is written to a file or sent to the model: it must encode as UTF-8."""
Command = Annotated[str, AfterValidator(_command)]
"""A shell command: UTF-8 and no NUL character."""
GitRef = Annotated[str, AfterValidator(_git_ref)]
"""A git branch name that git and the shell both take as it is."""
