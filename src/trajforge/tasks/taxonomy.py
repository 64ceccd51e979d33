"""The nine-category task taxonomy of FORMAT.md section 4: the whole of it."""

from __future__ import annotations

import difflib
import re
from types import MappingProxyType

TAXONOMY: MappingProxyType[str, tuple[str, ...]] = MappingProxyType(
    {
        "Terminal & Coding": (
            "script_writing",
            "debugging",
            "environment_setup",
            "data_processing",
            "testing",
            "documentation",
        ),
        "Agent Tools": (
            "memory_persistence",
            "task_delegation",
            "skill_management",
            "todo_planning",
            "code_execution",
            "session_recall",
        ),
        "Repository Tasks": ("bug_fix", "feature_implementation", "test_writing", "code_review", "refactoring"),
        "Browser Automation": ("navigation", "scraping", "form_filling", "screenshot_analysis"),
        "Multi-Tool": ("research_and_report", "build_and_verify", "data_pipeline"),
        "File Operations": ("organizing", "searching", "transforming", "archiving"),
        "Scheduling": ("recurring_jobs", "reminders", "time_based_automation"),
        "Planning & Organization": ("project_planning", "task_breakdown", "checklists"),
        "Conversational": ("question_answering", "single_lookup"),
    }
)
CATEGORIES: tuple[str, ...] = tuple(TAXONOMY)


def taxonomy_problem(category: str, subcategory: str) -> str | None:
    """Why (category, subcategory) is not in the taxonomy, or None when it is."""
    if category not in TAXONOMY:
        return f"category {category!r} is not in the taxonomy"
    if subcategory not in TAXONOMY[category]:
        return f"subcategory {subcategory!r} is not in category {category!r}"
    return None


class UnknownCategory(ValueError):
    """A category name that is not in the taxonomy; the message suggests the nearest one."""


def _key(name: str) -> str:
    """The spelling-free form of a category name: "File Operations", "file_operations", "file-operations"
    all give "file operations"; "&" and "and" are left out ("terminal_coding" is "Terminal & Coding")."""
    return " ".join(word for word in re.split(r"[^0-9a-z]+", name.casefold()) if word and word != "and")


_BY_KEY = {_key(name): name for name in CATEGORIES}
_SUBCATEGORY_OF = {_key(sub): name for name, subs in TAXONOMY.items() for sub in subs}


def nearest_category(name: str) -> str | None:
    """The category `name` means or most resembles (the category of a subcategory named); None when none is close."""
    key = _key(name)
    if key in _BY_KEY:
        return _BY_KEY[key]
    if key in _SUBCATEGORY_OF:
        return _SUBCATEGORY_OF[key]
    close = difflib.get_close_matches(key, list(_BY_KEY), n=1, cutoff=0.5)
    return _BY_KEY[close[0]] if close else None


def resolve_category(name: str) -> str:
    """The canonical category `name` means, whatever its case and separators; UnknownCategory otherwise."""
    found = _BY_KEY.get(_key(name))
    if found is not None:
        return found
    if _key(name) in _SUBCATEGORY_OF:
        hint = f"; {name!r} is a subcategory of {_SUBCATEGORY_OF[_key(name)]!r}"
    else:
        nearest = nearest_category(name)
        hint = f"; did you mean {nearest!r}?" if nearest else f"; categories: {', '.join(CATEGORIES)}"
    raise UnknownCategory(f"unknown category {name!r}{hint}")
