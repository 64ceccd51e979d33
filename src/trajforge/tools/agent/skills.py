"""Skills: folders of procedural knowledge in the home (hermes-agent's skills_tool and skill_manager_tool).

A skill is `skills/[CATEGORY/]NAME/SKILL.md` (YAML front matter with name and description, then
instructions) with supporting files only under references/, templates/, scripts/ and assets/.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import Any, Literal

from trajforge.tools.agent import home_helper as layout
from trajforge.tools.agent.home import AgentHome
from trajforge.tools.ordering import CallOrder
from trajforge.tools.registry import ToolContext, ToolError, tool
from trajforge.trace.turns import dumps

NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
MAX_NAME = 64
MAX_DESCRIPTION = 1024
MAX_SKILL_CHARS = 100_000


@dataclass(frozen=True)
class _Skill:
    folder: str
    """Relative to the home: skills/[category/]name."""
    files: list[str]
    """Supporting files, relative to the folder."""
    stamp: tuple[float, int]
    """SKILL.md's mtime and size."""


async def _index(home: AgentHome) -> dict[str, _Skill]:
    """Every skill by name, from one listing of the skills folder (a skill is a folder holding SKILL.md,
    at most one category deep)."""
    entries = await home.list_entries(layout.SKILLS_DIR)
    found: dict[str, _Skill] = {}
    for path, mtime, size in entries:
        parts = path.split("/")
        if parts[-1] == "SKILL.md" and len(parts) in (2, 3) and parts[-2] not in found:
            folder = posixpath.join(layout.SKILLS_DIR, *parts[:-1])
            inside = "/".join(parts[:-1]) + "/"
            files = [p[len(inside) :] for p, _, _ in entries if p.startswith(inside) and p != inside + "SKILL.md"]
            found[parts[-2]] = _Skill(folder, files, (mtime, size))
    return found


async def _folder(home: AgentHome, name: str) -> _Skill:
    found = (await _index(home)).get(name)
    if found is None:
        raise ToolError(f"Skill '{name}' not found. Use skills_list() to see available skills.", success=False)
    return found


async def _front_matter(home: AgentHome, skill: _Skill) -> dict[str, str]:
    """A skill's front matter, read again only when SKILL.md changed since the last read."""
    path = f"{skill.folder}/SKILL.md"
    cached = home.skill_meta.get(path)
    if cached is not None and cached[:2] == skill.stamp:
        return cached[2]
    meta = layout.front_matter(await home.read_text(path) or "")
    home.skill_meta[path] = (*skill.stamp, meta)
    return meta


def check_name(name: str, what: str = "skill name") -> None:
    """A ToolError unless `name` is a usable skill or category name."""
    if not name:
        raise ToolError(f"A {what} is required.", success=False)
    if len(name) > MAX_NAME:
        raise ToolError(f"The {what} exceeds {MAX_NAME} characters.", success=False)
    if not NAME.match(name):
        raise ToolError(
            f"Invalid {what} '{name}'. Use lowercase letters, numbers, hyphens, dots and underscores, "
            "starting with a letter or digit.",
            success=False,
        )


def check_skill_md(content: str) -> dict[str, Any]:
    """The front matter of a SKILL.md text; a ToolError saying what is wrong with it."""
    if not content.strip():
        raise ToolError("Content cannot be empty.", success=False)
    if len(content) > MAX_SKILL_CHARS:
        raise ToolError(f"SKILL.md is {len(content):,} characters; at most {MAX_SKILL_CHARS:,}.", success=False)
    text = content.lstrip("\ufeff")
    if not text.startswith("---"):
        raise ToolError("SKILL.md must start with YAML front matter (---).", success=False)
    end = re.search(r"\n---\s*(\n|$)", text[3:])
    if end is None:
        raise ToolError("SKILL.md front matter is not closed: add a closing '---' line.", success=False)
    import yaml  # imported by the episodes that write a skill, not by every start-up

    try:
        meta = yaml.safe_load(text[3 : end.start() + 3])
    except yaml.YAMLError as exc:
        raise ToolError(f"YAML front matter parse error: {exc}", success=False) from None
    if not isinstance(meta, dict):
        raise ToolError("Front matter must be a YAML mapping (key: value pairs).", success=False)
    for key in ("name", "description"):
        if key not in meta:
            raise ToolError(f"Front matter must include '{key}'.", success=False)
    if len(str(meta["description"])) > MAX_DESCRIPTION:
        raise ToolError(f"The description exceeds {MAX_DESCRIPTION} characters.", success=False)
    if not text[end.end() + 3 :].strip():
        raise ToolError("SKILL.md must have instructions after the front matter.", success=False)
    return meta


def check_file_path(file_path: str) -> str:
    """A supporting file's path, normalised; a ToolError unless it stays under an allowed folder."""
    if not file_path:
        raise ToolError("file_path is required.", success=False)
    normal = posixpath.normpath(file_path)
    parts = normal.split("/")
    if file_path.startswith("/") or ".." in parts:
        raise ToolError("Path traversal ('..' or an absolute path) is not allowed.", success=False)
    if parts[0] not in layout.SKILL_SUBDIRS or len(parts) < 2:
        raise ToolError(
            f"File must be under one of: {', '.join(layout.SKILL_SUBDIRS)} (for example references/notes.md). "
            f"Got: '{file_path}'",
            success=False,
        )
    return normal


@tool("skills", order=CallOrder.READ_ONLY)
async def skills_list(ctx: ToolContext, category: str = "") -> str:
    """List your skills (name, description, category): reusable procedures saved in earlier sessions.

    Args:
        category: Only skills of this category.
    """
    home = ctx.service(AgentHome)
    listed = []
    for name, skill in sorted((await _index(home)).items()):
        meta = await _front_matter(home, skill)
        parts = skill.folder.split("/")
        skill_category = parts[1] if len(parts) == 3 else None
        if category and skill_category != category:
            continue
        listed.append({"name": name, "description": meta.get("description", ""), "category": skill_category})
    categories = sorted({s["category"] for s in listed if s["category"]})
    result: dict[str, Any] = {"success": True, "skills": listed, "categories": categories, "count": len(listed)}
    if not listed:
        result["message"] = "No skills found." if not category else f"No skills in category '{category}'."
    return dumps(result)


@tool("skills", order=CallOrder.READ_ONLY)
async def skill_view(ctx: ToolContext, name: str, file_path: str = "") -> str:
    """Read a skill's SKILL.md, or one of its supporting files.

    Args:
        name: The skill's name (from skills_list).
        file_path: A supporting file of the skill, such as references/api.md; leave out for SKILL.md.
    """
    home = ctx.service(AgentHome)
    skill = await _folder(home, name)
    folder, files = skill.folder, skill.files
    if file_path and posixpath.normpath(file_path) != "SKILL.md":
        relative = check_file_path(file_path)
        text = await home.read_text(f"{folder}/{relative}")
        if text is None:
            raise ToolError(f"Skill '{name}' has no file '{file_path}'.", success=False, available_files=files)
        return dumps({"success": True, "name": name, "file": relative, "content": text})
    text = await home.read_text(f"{folder}/SKILL.md") or ""
    meta = layout.front_matter(text)
    return dumps(
        {
            "success": True,
            "name": name,
            "description": meta.get("description", ""),
            "content": text,
            "linked_files": files,
            "path": f"{home.visible_root}/{folder}",
        }
    )


@tool("skills", order=CallOrder.BARRIER)
async def skill_manage(
    ctx: ToolContext,
    action: Literal["create", "patch", "edit", "delete", "write_file", "remove_file"],
    name: str,
    content: str = "",
    old_string: str = "",
    new_string: str = "",
    replace_all: bool = False,
    category: str = "",
    file_path: str = "",
    file_content: str = "",
) -> str:
    """Create, change and delete skills: save a procedure that worked so later sessions can reuse it.

    create makes skills/[category/]name/SKILL.md from content (YAML front matter with name and
    description, then the instructions); edit rewrites SKILL.md; patch replaces old_string with
    new_string in SKILL.md or in file_path; delete removes the skill; write_file and remove_file
    add or remove supporting files under references/, templates/, scripts/ or assets/.

    Args:
        action: What to do.
        name: The skill's name: lowercase letters, digits, '.', '_' and '-'.
        content: The whole SKILL.md text (create, edit).
        old_string: The exact text to replace (patch); it must occur once unless replace_all.
        new_string: The text to put in its place (patch).
        replace_all: Replace every occurrence of old_string (patch).
        category: A category folder for a new skill (create).
        file_path: A supporting file (write_file, remove_file), or the file to patch instead of SKILL.md.
        file_content: The supporting file's text (write_file).
    """
    home = ctx.service(AgentHome)
    check_name(name)
    if action == "create":
        return await _create(home, name, content, category)
    skill = await _folder(home, name)
    folder = skill.folder
    if action == "edit":
        check_skill_md(content)
        await home.write_text(f"{folder}/SKILL.md", content)
        return _ok(f"Skill '{name}' updated.", name, home, folder)
    if action == "patch":
        return await _patch(home, name, folder, file_path, old_string, new_string, replace_all)
    if action == "delete":
        await home.remove(folder)
        return dumps({"success": True, "message": f"Skill '{name}' deleted."})
    relative = check_file_path(file_path)
    if action == "write_file":
        await home.write_text(f"{folder}/{relative}", file_content)
        return _ok(f"File '{relative}' written to skill '{name}'.", name, home, folder)
    if not await home.remove(f"{folder}/{relative}"):
        raise ToolError(f"File '{relative}' not found in skill '{name}'.", success=False, available_files=skill.files)
    return _ok(f"File '{relative}' removed from skill '{name}'.", name, home, folder)


def _ok(message: str, name: str, home: AgentHome, folder: str) -> str:
    return dumps({"success": True, "message": message, "name": name, "path": f"{home.visible_root}/{folder}"})


async def _create(home: AgentHome, name: str, content: str, category: str) -> str:
    if category:
        check_name(category, "category")
    meta = check_skill_md(content)
    if str(meta.get("name")) != name:
        raise ToolError(f"The front matter's name '{meta.get('name')}' differs from name '{name}'.", success=False)
    existing = (await _index(home)).get(name)
    if existing:
        raise ToolError(
            f"A skill named '{name}' already exists at {home.visible_root}/{existing.folder}.", success=False
        )
    folder = posixpath.join(layout.SKILLS_DIR, *([category] if category else []), name)
    await home.write_text(f"{folder}/SKILL.md", content)
    return _ok(f"Skill '{name}' created.", name, home, folder)


async def _patch(home: AgentHome, name: str, folder: str, file_path: str, old: str, new: str, replace_all: bool) -> str:
    relative = (
        "SKILL.md" if not file_path or posixpath.normpath(file_path) == "SKILL.md" else check_file_path(file_path)
    )
    if not old:
        raise ToolError("old_string is required for 'patch'.", success=False)
    text = await home.read_text(f"{folder}/{relative}")
    if text is None:
        raise ToolError(f"File '{relative}' not found in skill '{name}'.", success=False)
    count = text.count(old)
    if count == 0:
        raise ToolError(f"old_string was not found in {relative}.", success=False)
    if count > 1 and not replace_all:
        raise ToolError(
            f"old_string occurs {count} times in {relative}; add context to make it unique or set replace_all.",
            success=False,
        )
    patched = text.replace(old, new) if replace_all else text.replace(old, new, 1)
    if relative == "SKILL.md":
        check_skill_md(patched)
    await home.write_text(f"{folder}/{relative}", patched)
    return dumps({"success": True, "message": f"Patched {relative} of skill '{name}' ({count if replace_all else 1} "
                                              "replacement(s)).", "name": name})  # fmt: skip
