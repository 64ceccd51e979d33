"""The task spec: what the user says, the environment the agent works in, how success is checked.

Models refuse unknown keys, so a typo in a YAML file is an error that names
the field rather than a setting silently ignored.
"""

from __future__ import annotations

import posixpath
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from trajforge.tasks.agent_spec import AgentHomeSpec, UserSpec
from trajforge.tasks.fields import Command, FixtureName, GitRef, Text, WorkspaceDir, WorkspaceFile
from trajforge.tasks.sites import SITE_APPS
from trajforge.tasks.taxonomy import taxonomy_problem
from trajforge.trace.toolsets import ALL_TOOLSETS, DEFAULT_TOOLSETS


class _Strict(BaseModel):
    # Empty lists and dicts are plain defaults: pydantic copies them for each model, and `default_factory=list`
    # cost start-up time (pydantic reads the builtin's signature by tokenizing its text, for every field).
    model_config = ConfigDict(extra="forbid", frozen=True)


class GitCommit(_Strict):
    """One scripted commit of a fixture repository."""

    message: Text
    files: dict[WorkspaceFile, Text | None] = {}
    """Files to write (path -> text) or delete (path -> null) before committing; paths relative to the repository."""
    branch: GitRef | None = None
    """Commit on this branch (created from the current one when new)."""


class GitFixture(_Strict):
    """A git repository in the workspace, built from a folder and a scripted history, or cloned."""

    path: WorkspaceDir = "."
    """Where the repository goes, relative to the workspace."""
    folder: FixtureName | None = None
    """A fixture folder (next to the spec file) committed first, as "Initial commit"."""
    commits: list[GitCommit] = []
    checkout: GitRef | None = None
    """The branch to leave checked out (default: the last one committed on)."""
    url: str | None = None
    """Clone this instead (needs network, or a file:// URL)."""
    ref: GitRef | None = None

    @model_validator(mode="after")
    def _one_source(self) -> GitFixture:
        if self.url and (self.folder or self.commits):
            raise ValueError("give either url (and ref) or folder/commits, not both")
        return self


class SiteFixture(_Strict):
    """A web site the episode's browser reaches at `http://NAME.test/` (the prompt may say {site_url},
    or {site_url:NAME}): a built-in site with fresh state per episode (`app`, tasks/sites/), or a
    fixture folder served as files. A built-in site's state after the episode is in
    `~/.trajforge/sites/NAME.json` for the check. Only the browser reaches sites (not commands)."""

    app: str | None = None
    """A built-in site: shop, forms, news, dashboard or portal."""
    folder: FixtureName | None = None
    name: str = Field("site", pattern=r"^[a-z0-9]([a-z0-9-]{0,40}[a-z0-9])?$")
    """The site's host name without `.test` (default: the app's name, else `site`)."""

    @model_validator(mode="before")
    @classmethod
    def _name_from_app(cls, data: Any) -> Any:
        if isinstance(data, dict) and "name" not in data and isinstance(data.get("app"), str):
            return {**data, "name": data["app"]}
        return data

    @model_validator(mode="after")
    def _one_source(self) -> SiteFixture:
        if (self.app is None) == (self.folder is None):
            raise ValueError("a site gives either app (a built-in site) or folder, not both or neither")
        if self.app is not None and self.app not in SITE_APPS:
            raise ValueError(f"no built-in site {self.app!r}; known: {', '.join(SITE_APPS)}")
        return self


class Mutation(_Strict):
    """A documented bug injected into released code: `old` (which must occur exactly once) becomes `new`."""

    file: WorkspaceFile
    """The file, relative to the unpacked source."""
    old: Text = Field(min_length=1)
    new: Text
    message: Text | None = None
    """Commit the mutation on its own with this message (so `git log` shows it); without one it is part of the
    import commit."""


class SdistFixture(_Strict):
    """A released source distribution from PyPI, unpacked (without its top folder) as a git repository.

    Fetched once into the user's cache (`tasks.sdist.cache_dir()`) and used offline afterwards; never
    vendored. Its own tests plus the task's hidden ones make the check.
    """

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    version: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9.+!_-]*$")
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    """The archive's pinned digest; a different archive is refused."""
    path: WorkspaceDir = "."
    remove: list[WorkspaceFile] = []
    """Files dropped after unpacking (relative to the source)."""
    mutations: list[Mutation] = []


class Fixtures(_Strict):
    """The episode's starting environment."""

    files: dict[WorkspaceFile, Text] = {}
    """Inline files: path (relative to the workspace) -> text."""
    folders: dict[FixtureName, WorkspaceDir] = {}
    """Fixture folder (in `fixtures/` next to the spec file) -> where its contents go ("." is the workspace)."""
    git: list[GitFixture] = []
    sites: list[SiteFixture] = []
    browser_hosts: list[str] = []
    """Hosts beyond the sites the browser may reach over the real network; it reaches nothing else."""
    sdists: list[SdistFixture] = []
    """Released source distributions laid out as repositories (after `git`, before `setup`)."""
    setup: list[Command] = []
    """Shell commands run in the sandbox, in order, before the agent starts."""

    @field_validator("sites")
    @classmethod
    def _distinct_site_names(cls, value: list[SiteFixture]) -> list[SiteFixture]:
        names = [site.name for site in value]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"two sites are named {', '.join(twice)}: give each its own name")
        return value

    @field_validator("files")
    @classmethod
    def _no_file_under_a_file(cls, value: dict[str, str]) -> dict[str, str]:
        # "a" and "a/b" cannot both be files: set-up would fail writing the second.
        normal = {posixpath.normpath(path): path for path in value}
        for path in normal:
            parent = posixpath.dirname(path)
            while parent:
                if parent in normal:
                    raise ValueError(f"{normal[path]!r} would be inside {normal[parent]!r}, which is a file")
                parent = posixpath.dirname(parent)
        return value


class OracleCall(_Strict):
    """One tool call of a reference step."""

    tool: str
    args: dict[str, Any] = {}


class OracleStep(_Strict):
    """One assistant turn of the reference solution: a short reasoning note and its calls."""

    reasoning: Text = ""
    calls: list[OracleCall] = []
    tool: str | None = None
    """Shorthand for a step with one call: `tool` and `args`."""
    args: dict[str, Any] = {}

    @model_validator(mode="after")
    def _has_calls(self) -> OracleStep:
        if self.tool and self.calls:
            raise ValueError("give either tool/args or calls, not both")
        if not self.tool and not self.calls:
            raise ValueError("a step needs a tool call (tool/args or calls)")
        return self

    def all_calls(self) -> list[OracleCall]:
        """The step's calls, whichever form they were written in."""
        return [OracleCall(tool=self.tool, args=self.args)] if self.tool else list(self.calls)


class SolutionPart(_Strict):
    """A later part of a scripted solution: the steps and answer for one follow-up or one delegated child."""

    steps: list[OracleStep] = []
    answer: Text
    answer_reasoning: Text = "The task is done; I can report the result."


class Solution(_Strict):
    """A scripted solution: steps played through the agent loop, then a final answer.

    The answer may quote what a call returned: `{{result N}}` is replaced by the
    stripped output of the N-th tool call of its part (1-based, counted over the
    solution's steps; a follow-up's answer counts its own steps from 1 again; a
    terminal call's `output`, a file read's `content`, otherwise the result's
    text). A seeded task's answer can so state the values its own tool results
    show, whatever the seed drew.
    """

    name: str = ""
    """A short label for reports (`negatives[0]` when empty)."""
    steps: list[OracleStep] = []
    answer: Text
    answer_reasoning: Text = "The task is done; I can report the result."
    follow_ups: list[SolutionPart] = []
    """What to do after each of the user's follow-up messages (`user.follow_ups`), in order."""
    children: list[SolutionPart] = []
    """What each delegated child (delegate_task, a cron job's prompt run) does, in the order they start."""


class Oracle(Solution):
    """The reference solution."""


class Calibration(_Strict):
    """How often a policy solved the task when it was synthesized (`tasks synthesize --calibrate`)."""

    episodes: int = Field(ge=1)
    passed: int = Field(ge=0)
    pass_rate: float = Field(ge=0, le=1)
    model: str = ""
    """The model the episodes ran with."""


class TaskLimits(_Strict):
    """Budgets of an episode of this task."""

    max_turns: int = Field(default=30, ge=1)
    wall_seconds: float = Field(default=900.0, gt=0)


class TaskSpec(_Strict):
    """One task of the catalog (or of a user's YAML file)."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    category: str
    subcategory: str
    prompt: Text = Field(min_length=1)
    toolsets: list[str] = Field(default_factory=lambda: list(DEFAULT_TOOLSETS))
    limits: TaskLimits = Field(default_factory=TaskLimits)
    fixtures: Fixtures = Field(default_factory=Fixtures)
    check: Command | None = None
    """A shell command run in the sandbox after the episode, in the workspace; exit 0 means passed.

    It sees `TRAJFORGE_ANSWER` (the path of a file holding the agent's final answer, empty when there
    was none; outside the workspace), `TRAJFORGE_SEED` (the episode's seed, an integer) and the check
    helpers on PYTHONPATH (`python3 -m trajforge_check ...`, or `import trajforge_check`)."""
    check_python: Text | None = None
    """A Python program run in the sandbox after the episode (as `check` is, with the same environment);
    exit 0 means passed."""
    oracle: Oracle | None = None
    calibration: Calibration | None = None
    """Set by synthesis: the pass rate a policy reached on the task before it was kept."""
    negatives: list[Solution] = []
    """Wrong or lazy solutions (the oracle's step form) that the check must fail: at least one that does
    nothing but answer, and one plausible wrong one. `tasks validate --run-oracles` plays them."""
    alternates: list[Solution] = []
    """Correct solutions by another route than the oracle's, that the check must pass."""
    home: AgentHomeSpec | None = None
    """The agent home's starting state: memories, user profile, skills, earlier sessions, todos, jobs, clock."""
    user: UserSpec | None = None
    """The user: scripted replies to clarify and follow-up messages, or a simulated user."""
    seeded: bool = False
    """The fixtures draw their data from `TRAJFORGE_SEED` (set for set-up commands and the check; derived
    from the episode's id), so every repeat sees other data; the check computes the expected values from
    the same seed."""

    @field_validator("toolsets")
    @classmethod
    def _known_toolsets(cls, value: list[str]) -> list[str]:
        unknown = [name for name in value if name not in ALL_TOOLSETS]
        if unknown:
            raise ValueError(f"unknown toolset(s) {', '.join(unknown)}; known: {', '.join(ALL_TOOLSETS)}")
        return value

    @model_validator(mode="after")
    def _in_taxonomy(self) -> TaskSpec:
        problem = taxonomy_problem(self.category, self.subcategory)
        if problem:
            raise ValueError(problem)
        if self.check and self.check_python:
            raise ValueError("give either check or check_python, not both")
        if (self.negatives or self.alternates) and not self.has_check:
            raise ValueError("negatives and alternates are judged by the check: give check or check_python")
        return self

    @property
    def has_check(self) -> bool:
        """Whether the task says how to tell success."""
        return bool(self.check or self.check_python)

    def missing_toolsets(self, available: tuple[str, ...] | list[str]) -> list[str]:
        """Toolsets the task needs that are not built yet."""
        return [name for name in self.toolsets if name not in available]
