"""The messages a synthesis request sends: the taxonomy entry, seed tasks, one environment, the answer's form."""

from __future__ import annotations

from typing import Any, Literal

import yaml

from trajforge.tasks.spec import TaskSpec
from trajforge.tasks.synthesis.environments import Environment, describe
from trajforge.tasks.synthesis.guide import Entry
from trajforge.trace.toolsets import ALL_TOOLSETS

Role = Literal["system", "user"]
SYSTEM = f"""\
You write tasks for training AI agents that work with tools in a sandbox (a Linux workspace, no network).
Each task is a YAML mapping with these keys:
  id: short-kebab-case-id
  category, subcategory: as asked
  prompt: what the user asks, concrete and self-contained, naming the files or pages it is about
  toolsets: a list from {", ".join(ALL_TOOLSETS)}
  fixtures: the starting environment (folders:, git:, sites:, files: {{path: text}}, setup: [shell commands])
  home: for tasks on the agent's own state, its starting memory, user, skills, sessions, todos, jobs, clock
  check: one shell command run in the workspace after the agent is done; exit 0 means the task was done
         (or check_python: a Python program, exit 0 means done). The check must FAIL on the untouched environment.
  wrong_solution: a plausible but wrong attempt, in this form, that the check must reject:
    steps:
    - tool: terminal
      args: {{command: "..."}}
    answer: what the wrong attempt claims
Tool names for steps: terminal(command), write_file(path, content), read_file(path), patch(path, old_string,
new_string), search_files(pattern), execute_code(code).
Answer with the tasks as a YAML list in one fenced ```yaml block, and nothing else."""


def _seed_yaml(seeds: list[TaskSpec]) -> str:
    shown = []
    for spec in seeds:
        data: dict[str, Any] = spec.model_dump(exclude_defaults=True, exclude={"oracle", "limits"}, mode="json")
        shown.append({k: v for k, v in data.items() if k in ("id", "prompt", "toolsets", "fixtures", "home", "check",
                                                             "check_python")})  # fmt: skip
    return yaml.safe_dump(shown, sort_keys=False, allow_unicode=True, width=120) if shown else "(none)\n"


def request_messages(entry: Entry, seeds: list[TaskSpec], env: Environment, count: int) -> list[tuple[Role, str]]:
    """(role, content) pairs asking for `count` new tasks of `entry` in `env`, shown `seeds` as examples."""
    user = f"""\
Write {count} new, distinct tasks.
Category: {entry.category}
Subcategory: {entry.subcategory}
What it means: {entry.description}
For instance: {" / ".join(entry.examples)}

Existing tasks of this kind (do not repeat them; write different ones):
```yaml
{_seed_yaml(seeds)}```

The environment to use:
{describe(env)}

Refer to it in each task as: {env.usage()}

Each task needs a check that fails before the work and passes after it, and a wrong_solution the check rejects."""
    return [("system", SYSTEM), ("user", user)]


def evolve_messages(spec: TaskSpec, env: Environment) -> list[tuple[Role, str]]:
    """(role, content) pairs asking for one harder variant of an accepted task, in the same environment."""
    shown = spec.model_dump(exclude_defaults=True, exclude={"oracle", "calibration", "negatives", "alternates"},
                            mode="json")  # fmt: skip
    task = yaml.safe_dump([shown], sort_keys=False, allow_unicode=True, width=120)
    user = f"""\
Rewrite this task into one harder variant: more steps, more files, or an added constraint.
Keep its category and subcategory and its environment; give it a new id, a new check and a new wrong_solution.
```yaml
{task}```

The environment:
{describe(env)}

Refer to it as: {env.usage()}"""
    return [("system", SYSTEM), ("user", user)]
