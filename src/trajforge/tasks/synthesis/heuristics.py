"""Named heuristics for prompts not worth a trajectory: too short, or answerable without any tool.

Each heuristic has a name (the report's detail) and a test; the first that
fires rejects the task. They are deliberately few and plain, so that a user
can tell from the name why a task went.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from trajforge.tasks.spec import TaskSpec
from trajforge.tasks.synthesis.outcomes import Reason, Rejected

MIN_WORDS = 6
MIN_CHARS = 30
# A path, a file name with an extension, a URL, a command or an environment placeholder in the prompt.
_ENVIRONMENT_WORD = re.compile(
    r"(\{site_url|https?://|[\w.-]+/[\w./-]*|\b[\w-]+\.(?:py|sh|md|txt|csv|json|ya?ml|ini|log|html|toml|cfg|sql|js|ts)"
    r"\b|`[^`]+`|\b(?:workspace|folder|directory|file|repository|repo|script|server|cron|crontab|memory|todo|skill|"
    r"session|browser|page|site|installed|running|process|disk|port|environment)s?\b)",
    re.I,
)
_WORKSPACE_TOOLSETS = frozenset({"terminal", "file", "code", "browser"})
"""Toolsets that act on the workspace or a site; the others act on the agent's own state (memory, jobs...)."""
_KNOWLEDGE_OPENING = re.compile(r"^\s*(what|why|who|when|explain|describe|define|how does|how do|compare)\b", re.I)


def _too_short(spec: TaskSpec) -> str | None:
    words = len(spec.prompt.split())
    if words < MIN_WORDS or len(spec.prompt.strip()) < MIN_CHARS:
        return f"prompt_too_short ({words} words; at least {MIN_WORDS} words and {MIN_CHARS} characters)"
    return None


def _no_tools(spec: TaskSpec) -> str | None:
    if not spec.toolsets and spec.category == "Conversational":
        return None  # a question answered from knowledge is what the category asks for
    if not spec.toolsets:
        return "no_toolsets (the task offers no tool, outside Conversational)"
    if set(spec.toolsets) - _WORKSPACE_TOOLSETS:
        return None  # memory, todo, cron...: the agent's own state is what the task acts on
    fixtures = spec.fixtures
    has_environment = bool(fixtures.files or fixtures.folders or fixtures.git or fixtures.sites or fixtures.setup)
    mentions = bool(_ENVIRONMENT_WORD.search(spec.prompt))
    if not has_environment and not spec.has_check and not mentions:
        return "nothing_to_act_on (no fixtures, no check, and the prompt names no file, path, URL or command)"
    if _KNOWLEDGE_OPENING.match(spec.prompt) and not mentions and not spec.has_check:
        return "knowledge_question (opens like a general question and names nothing in the environment)"
    return None


HEURISTICS: tuple[tuple[Reason, Callable[[TaskSpec], str | None]], ...] = (
    (Reason.PROMPT_TOO_SHORT, _too_short),
    (Reason.NO_TOOLS_NEEDED, _no_tools),
)


def screen(spec: TaskSpec) -> None:
    """Raise Rejected naming the first heuristic `spec` trips; return when none does."""
    for reason, test in HEURISTICS:
        detail = test(spec)
        if detail:
            raise Rejected(reason, detail, spec.id)
