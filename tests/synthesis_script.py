"""A scripted model for the synthesis tests: answers synthesis requests from a queue, and plays agent episodes.

A synthesis request is one without tools (the model writes YAML); an agent
episode (calibration, `generate`) offers tools, and is answered by `solve`:
the first turn runs the command the task's prompt maps to, the next answers.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import yaml

from .scripted_server import Reply, call, reply


def fenced(tasks: list[dict[str, Any]] | dict[str, Any], prose: str = "Here are the tasks.") -> str:
    """An answer as a model writes it: a line of prose, then the specs in a fenced yaml block."""
    return f"{prose}\n\n```yaml\n{yaml.safe_dump(tasks, sort_keys=False)}```\n"


def user_text(request: dict[str, Any]) -> str:
    """The first user message of a request."""
    return next((str(m.get("content")) for m in request.get("messages", []) if m.get("role") == "user"), "")


class ScriptedModel:
    """The server's responder: `answers` for synthesis requests in order, `commands` to solve episodes.

    `commands` maps a phrase of a task's prompt to the shell command that solves
    it; `solve_every` (phrase -> k) solves only every k-th episode of that task
    (the others run `true`), so a task's pass rate can be chosen.
    """

    def __init__(self, answers: list[str] | Callable[[dict[str, Any]], str], commands: dict[str, str] | None = None,
                 solve_every: dict[str, int] | None = None) -> None:  # fmt: skip
        self.answers = answers
        self.commands = commands or {}
        self.solve_every = solve_every or {}
        self.episodes: Counter[str] = Counter()
        self.synthesis_requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def __call__(self, request: dict[str, Any]) -> Reply:
        if not request.get("tools"):
            with self._lock:
                self.synthesis_requests.append(request)
                if callable(self.answers):
                    return reply(content=self.answers(request))
                if not self.answers:
                    return reply(content="I have no more ideas.")
                return reply(content=self.answers.pop(0))
        return self._episode(request)

    def _episode(self, request: dict[str, Any]) -> Reply:
        prompt = user_text(request)
        if any(m.get("role") == "assistant" for m in request["messages"]):
            return reply(content="Done.", reasoning="The command ran.")
        phrase = next((p for p in self.commands if p in prompt), None)
        command = "true"
        if phrase is not None:
            with self._lock:
                self.episodes[phrase] += 1
                number = self.episodes[phrase]
            if number % self.solve_every.get(phrase, 1) == 0:
                command = self.commands[phrase]
        return reply(reasoning="One command does it.", calls=[call("terminal", {"command": command})])
