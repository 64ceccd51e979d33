"""The `clarify` tool: ask the user a question (hermes-agent's clarify_tool).

Who answers is the episode's `UserChannel` (agent/user.py: scripted replies or a simulated user).
Without one, the result says that no user is available, so the agent goes on by itself.
"""

from __future__ import annotations

from typing import Any, Protocol

from trajforge.tools.ordering import CallOrder
from trajforge.tools.registry import ToolContext, ToolError, tool
from trajforge.trace.turns import dumps

MAX_CHOICES = 4


class UserChannel(Protocol):
    """The user of an episode as the tools reach them."""

    async def answer(self, question: str, choices: list[str]) -> str | None:
        """The user's answer to a question (None: the user gives none)."""
        ...


@tool("clarify", order=CallOrder.NEVER_PARALLEL)
async def clarify(ctx: ToolContext, question: str, choices: list[str] | None = None) -> str:
    """Ask the user a question when the task is ambiguous or needs a decision only they can make.

    Give up to 4 choices for a multiple-choice question (the user may still answer in their own
    words), or none for an open question. Ask only what you cannot find out yourself.

    Args:
        question: The question to ask, in full.
        choices: Up to 4 answers to choose from.
    """
    question = question.strip()
    if not question:
        raise ToolError("question cannot be empty")
    offered = [str(choice).strip() for choice in choices or [] if str(choice).strip()]
    if len(offered) > MAX_CHOICES:
        raise ToolError(f"at most {MAX_CHOICES} choices; got {len(offered)}")
    user = ctx.services.get(UserChannel)
    answer = await user.answer(question, offered) if user is not None else None
    result: dict[str, Any] = {"question": question, "choices_offered": offered or None}
    if answer is None:
        result["user_response"] = None
        result["error"] = (
            "No user is available to answer; decide yourself and say what you assumed."
            if user is None
            else "The user did not answer; use your best judgement, proceed, and say what you assumed."
        )
    else:
        result["user_response"] = answer
    return dumps(result)
