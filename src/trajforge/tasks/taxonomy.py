"""The nine-category task taxonomy of FORMAT.md section 4: the whole of it."""

from __future__ import annotations

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
