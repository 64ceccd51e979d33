"""The task spec's `home:` and `user:` sections: the agent home's starting state, and who the user is.

```yaml
home:
  clock: "2026-03-02T09:00:00Z"      # the episode's clock (default: the real time at its start)
  memory: ["Project uses pnpm, not npm"]
  user: ["Name: Dana; prefers short answers"]
  skills:
    - {name: deploy-docs, category: devops, description: "How to publish the docs", body: "1. ...",
       files: {references/hosts.md: "..."}}
  sessions:
    - {id: s-0412, title: "Flaky CI", started_at: "2026-02-20T10:00:00Z",
       messages: [{role: user, content: "..."}, {role: assistant, content: "..."}]}
  todos: [{id: "1", content: "Write the outline", status: completed}]
  jobs: [{name: backup, schedule: "0 2 * * *", script: "tar czf /tmp/b.tgz data"}]
user:
  replies: ["Use Celsius"]            # answers to clarify, in order; or {word: answer}, by a word of the question
  follow_ups: ["Now also ..."]         # later human turns, sent after the agent's final answer
  simulate: {persona: "...", goal: "..."}   # or: a user played by a model
  max_user_turns: 3
```
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from trajforge.tasks.fields import Command, Text

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_SKILL_FILE = re.compile(r"^(references|templates|scripts|assets)/(?!.*(^|/)\.\.(/|$))[^/][^\0]*$")


class _Strict(BaseModel):
    # Empty lists and dicts are plain defaults: pydantic copies them for each model, and `default_factory=list`
    # cost start-up time (pydantic reads the builtin's signature by tokenizing its text, for every field).
    model_config = ConfigDict(extra="forbid", frozen=True)


def _iso_time(value: str) -> str:
    try:
        dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO 8601 time such as 2026-03-02T09:00:00Z") from None
    return value


class HomeSkill(_Strict):
    """A skill already in the home: skills/[category/]name/SKILL.md and its supporting files."""

    name: str
    description: Text = Field(min_length=1, max_length=1024)
    body: Text = Field(min_length=1)
    """The instructions after the front matter."""
    category: str | None = None
    files: dict[str, Text] = {}
    """Supporting files: path under references/, templates/, scripts/ or assets/ -> text."""

    @field_validator("name", "category")
    @classmethod
    def _usable_name(cls, value: str | None) -> str | None:
        if value is not None and not _NAME.match(value):
            raise ValueError(f"{value!r}: use lowercase letters, digits, '.', '_' and '-' (at most 64)")
        return value

    @field_validator("files")
    @classmethod
    def _confined(cls, value: dict[str, str]) -> dict[str, str]:
        for path in value:
            if not _SKILL_FILE.match(path) or ".." in path.split("/"):
                raise ValueError(f"skill file {path!r} must be under references/, templates/, scripts/ or assets/")
        return value


class HomeMessage(_Strict):
    """One message of an earlier session."""

    role: Literal["user", "assistant", "tool"]
    content: Text


class HomeSession(_Strict):
    """An earlier session the agent can recall with session_search."""

    id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,79}$")
    """Default: s-1, s-2... in order."""
    title: Text = Field(min_length=1)
    started_at: str
    source: str = "cli"
    messages: list[HomeMessage] = Field(min_length=1)

    _time = field_validator("started_at")(classmethod(lambda cls, v: _iso_time(v)))


class HomeTodo(_Strict):
    """An item of the todo list at the start."""

    id: str = Field(min_length=1)
    content: Text = Field(min_length=1)
    status: Literal["pending", "in_progress", "completed", "cancelled"] = "pending"


class HomeJob(_Strict):
    """A scheduled job at the start (its next run is computed from the episode's clock)."""

    name: Text = Field(min_length=1)
    schedule: str = Field(min_length=1)
    prompt: Text | None = None
    script: Command | None = None
    repeat: int | None = Field(default=None, ge=1)
    paused: bool = False

    @model_validator(mode="after")
    def _runs_something(self) -> HomeJob:
        if not (self.prompt or self.script):
            raise ValueError("a job needs a prompt or a script")
        return self


class AgentHomeSpec(_Strict):
    """The agent home's state at the episode's start."""

    clock: str | None = None
    """The episode's clock (ISO); default: the real time when the episode starts. Recorded either way."""
    shared: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")
    """A multi-session series: tasks naming the same shared home run one after another (in the order
    given) and each starts from the home the one before left, kept in the run folder's `homes/NAME/`.
    The first of the series lays out the preloaded state below; later ones start from what was left."""
    memory: list[Text] = []
    user: list[Text] = []
    skills: list[HomeSkill] = []
    sessions: list[HomeSession] = []
    todos: list[HomeTodo] = []
    jobs: list[HomeJob] = []

    @field_validator("clock")
    @classmethod
    def _clock(cls, value: str | None) -> str | None:
        return _iso_time(value) if value is not None else None

    @field_validator("memory", "user")
    @classmethod
    def _entries(cls, value: list[str]) -> list[str]:
        if any(not entry.strip() for entry in value):
            raise ValueError("memory entries cannot be empty")
        return value

    @model_validator(mode="after")
    def _unique(self) -> AgentHomeSpec:
        for what, names in (
            ("skill", [s.name for s in self.skills]),
            ("session id", [s.id for s in self.sessions if s.id]),
            ("todo id", [t.id for t in self.todos]),
        ):
            repeated = sorted({n for n in names if names.count(n) > 1})
            if repeated:
                raise ValueError(f"{what} {repeated[0]!r} appears more than once")
        return self


class SimulatedUser(_Strict):
    """A user played by a model (--user-endpoint/--user-model, default the episode's)."""

    persona: Text = Field(min_length=1)
    goal: Text = Field(min_length=1)


class UserSpec(_Strict):
    """Who answers clarify and whether the conversation goes on after the agent's answer."""

    replies: list[Text] | dict[str, Text] = []
    """Answers to clarify: in order (a list), or by a word of the question (a mapping; key `*` for any other)."""
    follow_ups: list[Text] = []
    """Later human turns, each sent after the agent's final answer."""
    simulate: SimulatedUser | None = None
    max_user_turns: int = Field(default=3, ge=0, le=20)
    """Most follow-up turns a simulated user sends."""

    @model_validator(mode="after")
    def _one_kind(self) -> UserSpec:
        if self.simulate is not None and (self.replies or self.follow_ups):
            raise ValueError("give scripted replies/follow_ups or simulate, not both")
        if any(not text.strip() for text in self.follow_ups):
            raise ValueError("a follow-up cannot be empty")
        return self
