"""Task specs, the loader's errors, environments, the oracle policy, and the built-in catalog."""

from __future__ import annotations

import asyncio
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from trajforge.agent.environment import EnvironmentSetupError, TaskEnvironment
from trajforge.policy import OraclePolicy, ScriptedTurn
from trajforge.runner import oracle_policy, run_task_episode, runnable
from trajforge.sandbox import ExecRequest, SandboxConfig, SandboxFactory
from trajforge.tasks import TAXONOMY, LoadedTask, TaskSpec, load_tasks
from trajforge.tasks.sdist import SdistError, fetch_sdist
from trajforge.tools.browser import BrowserEngine, BrowserSession
from trajforge.trace import Finish, Message, ModelInfo, Outcome

CATALOG = load_tasks()


def _spec_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tasks.yaml"
    path.write_text(text)
    return path


def test_a_bad_task_names_file_task_and_field_and_the_rest_load(tmp_path: Path) -> None:
    path = _spec_file(
        tmp_path,
        """
- {id: good-one, category: Conversational, subcategory: single_lookup, prompt: hi}
- {id: bad-cat, category: Cooking, subcategory: x, prompt: hi}
- {id: bad-field, category: Conversational, subcategory: single_lookup, prompt: hi, toolset: [terminal]}
- {id: bad-tools, category: Conversational, subcategory: single_lookup, prompt: hi, toolsets: [teleport]}
- {id: good-one, category: Conversational, subcategory: single_lookup, prompt: again}
""",
    )
    load = load_tasks([path])
    assert [t.spec.id for t in load.tasks] == ["good-one"]
    assert load.problems == [
        f"{path}: task bad-cat: (task): Value error, category 'Cooking' is not in the taxonomy",
        f"{path}: task bad-field: toolset: Extra inputs are not permitted",
        f"{path}: task bad-tools: toolsets: Value error, unknown toolset(s) teleport; known: "
        "terminal, file, code, browser, memory, todo, skills, sessions, delegation, cronjob, clarify",
        f"{path}: task good-one: id: also defined in {path}",
    ]


def test_yaml_errors_name_the_line(tmp_path: Path) -> None:
    path = _spec_file(tmp_path, "- id: x\n  prompt: [unclosed\n")
    load = load_tasks([path])
    assert load.tasks == [] and load.problems[0].startswith(f"{path}: line 3 not YAML")


def test_the_catalog_covers_the_taxonomy() -> None:
    assert CATALOG.problems == []
    specs = [t.spec for t in CATALOG.tasks]
    assert len(specs) >= 120
    covered = {(s.category, s.subcategory) for s in specs}
    assert covered == {(c, sub) for c, subs in TAXONOMY.items() for sub in subs}
    assert sum(s.has_check for s in specs) >= 0.8 * len(specs)
    assert all(s.oracle is not None for s in specs)
    counts = Counter(s.category for s in specs)
    assert counts.most_common(2)[0][0] == "Terminal & Coding" and counts["Agent Tools"] >= 20
    assert min(counts, key=lambda c: counts[c]) == "Conversational"


RUNNABLE = [t for t in CATALOG.tasks if runnable(t.spec) and t.spec.oracle]


def test_every_runnable_oracle_passes_its_check() -> None:
    """The whole catalog's reference solutions, played for real (the tasks whose tools exist)."""

    async def play_all() -> list[str]:
        factory = SandboxFactory(SandboxConfig())
        slots = asyncio.Semaphore(4)  # episodes wait on their sandboxes' processes: four at once keep two cores busy

        async def play(task: LoadedTask) -> str | None:
            async with slots:
                episode = (await run_task_episode(task, factory, oracle_policy(task.spec), config="oracle",
                                                  model=ModelInfo(name="oracle"))).episode  # fmt: skip
            if episode.finish is not Finish.STOP or episode.outcome not in (Outcome.PASSED, Outcome.NONE):
                return f"{task.spec.id}: {episode.finish.value} {episode.outcome.value} {episode.error}"
            return None

        results = await asyncio.gather(*(play(t) for t in RUNNABLE if _sdists_available(t)))
        return [failure for failure in results if failure]

    assert len(RUNNABLE) >= 75
    assert asyncio.run(play_all()) == []


def _sdists_available(task: LoadedTask) -> bool:
    """Whether the task's released source distributions are cached or can be fetched (else it is left out:
    the package index is unreachable from here)."""
    try:
        for source in task.spec.fixtures.sdists:
            fetch_sdist(source.name, source.version, source.sha256)
    except SdistError:
        return False
    return True


def _task(tmp_path: Path, **spec: object) -> LoadedTask:
    base = {"id": "t", "category": "Repository Tasks", "subcategory": "bug_fix", "prompt": "p"}
    return LoadedTask(TaskSpec.model_validate(base | spec), tmp_path / "tasks.yaml")


async def _fetched(env: TaskEnvironment, url: str) -> str:
    """A page of the environment's sites as the browser gets it (sites are reached by the browser only)."""
    session = BrowserSession(BrowserEngine(), sites=env.sites.by_host, owns_engine=True)
    try:
        response = await (await session.page()).goto(url)
        assert response is not None
        return await response.text()
    finally:
        await session.close()


def _in_sandbox(task: LoadedTask, commands: list[str]) -> list[str]:
    async def go() -> list[str]:
        box = await SandboxFactory(SandboxConfig()).create()
        try:
            async with TaskEnvironment(task, box) as env:
                outputs = [(await box.run(ExecRequest(c, fresh=True))).output for c in commands]
                outputs.append(env.prompt)
                for url in env.site_urls.values():
                    outputs.append(await _fetched(env, url + "page.html"))
                outcome, _ = await env.check()
                outputs.append(outcome.value)
                return outputs
        finally:
            await box.close()

    return asyncio.run(go())


def test_git_fixture_builds_a_history_with_branches(tmp_path: Path) -> None:
    (tmp_path / "fixtures" / "proj").mkdir(parents=True)
    (tmp_path / "fixtures" / "proj" / "a.txt").write_text("one\n")
    task = _task(tmp_path, fixtures={"git": [{"path": "repo", "folder": "proj", "commits": [
        {"message": "Second", "files": {"a.txt": "two\n", "b.txt": "new\n"}},
        {"message": "On a branch", "branch": "topic", "files": {"a.txt": None}},
    ], "checkout": "main"}]}, check="cd repo && test \"$(git branch --show-current)\" = main")  # fmt: skip
    log, files, branch_files, *_, outcome = _in_sandbox(
        task, ["cd repo && git log --format=%s --all", "cd repo && ls", "cd repo && git ls-tree --name-only topic"]
    )
    assert log.splitlines() == ["On a branch", "Second", "Initial commit"]
    assert files.split() == ["a.txt", "b.txt"] and branch_files.split() == ["b.txt"]
    assert outcome == "passed"


def test_sites_are_served_and_named_in_the_prompt(tmp_path: Path) -> None:
    (tmp_path / "fixtures" / "site").mkdir(parents=True)
    (tmp_path / "fixtures" / "site" / "page.html").write_text("<h1>fixture page</h1>")
    task = _task(tmp_path, prompt="Open {site_url}page.html", fixtures={"sites": [{"folder": "site"}]})
    prompt, page, outcome = _in_sandbox(task, [])
    assert prompt == "Open http://site.test/page.html" and page == "<h1>fixture page</h1>"
    assert outcome == "none"


def test_failed_setup_and_missing_fixture_are_errors(tmp_path: Path) -> None:
    with pytest.raises(EnvironmentSetupError, match="setup command failed"):
        _in_sandbox(_task(tmp_path, fixtures={"setup": ["echo about to fail; exit 3"]}), [])
    with pytest.raises(EnvironmentSetupError, match="no fixture folder 'nope'"):
        _in_sandbox(_task(tmp_path, fixtures={"folders": {"nope": "."}}), [])


def test_a_url_fixture_clones(tmp_path: Path) -> None:
    origin = tmp_path / "origin"
    origin.mkdir()
    git = ["git", "-C", str(origin), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(origin)], check=True)
    (origin / "x.txt").write_text("cloned\n")
    subprocess.run([*git, "add", "x.txt"], check=True)
    subprocess.run([*git, "commit", "-qm", "x"], check=True)
    task = _task(tmp_path, fixtures={"git": [{"path": "clone", "url": f"file://{origin}", "ref": "main"}]})
    content, *_ = _in_sandbox(task, ["cat clone/x.txt && touch clone/writable"])
    assert content == "cloned\n"


def test_oracle_policy_plays_steps_then_answers() -> None:
    policy = OraclePolicy([ScriptedTurn("look", [("terminal", {"command": "ls"}), ("read_file", {"path": "a"})])],
                          "done", "finished")  # fmt: skip
    history = [Message(role="system", content="s"), Message(role="user", content="u")]
    first = asyncio.run(policy.complete(history, [])).message
    assert [(c.id, c.name) for c in first.tool_calls] == [("call_0_0", "terminal"), ("call_0_1", "read_file")]
    last = asyncio.run(policy.complete([*history, first], [])).message
    assert (last.content, last.reasoning, last.tool_calls) == ("done", "finished", [])
