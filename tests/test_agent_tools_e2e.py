"""The agent tools end to end: a model (the scripted server) calls them in a task episode with a home."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import yaml

from trajforge.policy import ModelConfig, OpenAIPolicy
from trajforge.runner.task_episode import run_task_episode
from trajforge.sandbox import SandboxConfig, SandboxFactory
from trajforge.tasks import LoadedTask, TaskSpec
from trajforge.trace import Episode, ModelInfo, Outcome, render

from .scripted_server import Reply, ScriptedServer, call, reply

HOME = {
    "clock": "2026-03-02T09:00:00Z",
    "memory": ["Staging listens on port 8443"],
    "user": ["Name: Ana"],
    "skills": [{"name": "deploy-docs", "description": "Publish the docs", "body": "Run make docs"}],
    "sessions": [{"id": "s-a", "title": "Ports", "started_at": "2026-02-01T10:00:00Z",
                  "messages": [{"role": "user", "content": "Which port does staging use?"},
                               {"role": "assistant", "content": "Staging uses 8443."}]}],
    "todos": [{"id": "1", "content": "Check ports", "status": "pending"}],
    "jobs": [{"name": "backup", "schedule": "0 2 * * *", "script": "true"}],
}  # fmt: skip
ALL = ["memory", "todo", "skills", "sessions", "cronjob", "clarify", "delegation", "terminal", "file"]


def task(tmp: Path, **fields: Any) -> LoadedTask:
    """A task of its own spec file in `tmp`."""
    spec = {"id": "t", "category": "Agent Tools", "subcategory": "memory_persistence", "prompt": "Do it.",
            "toolsets": ALL, "home": HOME, **fields}  # fmt: skip
    source = tmp / "tasks.yaml"
    source.write_text(yaml.safe_dump({"tasks": [spec]}), encoding="utf-8")
    return LoadedTask(TaskSpec.model_validate(spec), source)


async def _episode(loaded: LoadedTask, server: ScriptedServer, episode_id: str | None = None) -> Episode:
    policy = OpenAIPolicy(ModelConfig(server.url, "scripted", timeout=30, backoff_base=0.01))
    try:
        factory = SandboxFactory(SandboxConfig(backend="local"))
        done = await run_task_episode(loaded, factory, policy, config="t", model=ModelInfo(), episode_id=episode_id)
        return done.episode
    finally:
        await policy.close()


def play(loaded: LoadedTask, script: list[Reply]) -> tuple[Episode, ScriptedServer]:
    """One task episode against a scripted model."""
    with ScriptedServer(script) as server:
        return asyncio.run(_episode(loaded, server)), server


def results(episode: Episode) -> list[Any]:
    """The tool results of the episode, JSON decoded."""
    return [json.loads(m.content or "") for m in episode.messages if m.role == "tool"]


def test_every_agent_tool_through_a_model_against_a_preloaded_home(tmp_path: Path) -> None:
    check = (
        "trajforge-home memory list | grep -q 9443 && trajforge-home todo | grep -q completed && "
        "trajforge-home skills | grep -q release-notes && trajforge-home jobs | grep -q '2026-03-02T09:30:00Z'"
    )
    script = [
        reply(calls=[call("session_search", {"query": "staging port"}), call("skills_list", {}),
                     call("skill_view", {"name": "deploy-docs"}), call("todo", {})]),
        reply(calls=[call("memory", {"action": "replace", "old_text": "8443", "content": "Staging listens on 9443"}),
                     call("todo", {"todos": [{"id": "1", "status": "completed"}], "merge": True}),
                     call("skill_manage", {"action": "create", "name": "release-notes", "content":
                          "---\nname: release-notes\ndescription: Write notes\n---\nList merged PRs.\n"}),
                     call("cronjob", {"action": "create", "schedule": "every 30m", "prompt": "Check staging"})]),
        reply(calls=[call("cronjob", {"action": "list"})]),
        reply("Staging now listens on 9443."),
    ]  # fmt: skip
    episode, server = play(task(tmp_path, check=check), script)
    assert episode.outcome is Outcome.PASSED, episode.check_output
    search, listed, viewed, todos, replaced, merged, created, job, jobs = results(episode)
    assert search["results"][0]["session"]["id"] == "s-a"
    assert listed["skills"][0]["name"] == "deploy-docs" and viewed["content"].endswith("Run make docs\n")
    assert todos["todos"] == [{"id": "1", "content": "Check ports", "status": "pending"}]
    assert replaced["entries"] == ["Staging listens on 9443"] and merged["summary"]["completed"] == 1
    assert created["success"] and job["job"]["next_run_at"] == "2026-03-02T09:30:00Z"
    assert [j["name"] for j in jobs["jobs"]] == ["backup", "Check staging"]
    assert jobs["jobs"][0]["next_run_at"] == "2026-03-03T02:00:00Z"
    # The system prompt shows the memory frozen at the start (8443), never the live store (9443).
    system = server.requests[-1]["messages"][0]["content"]
    assert "Staging listens on port 8443" in system and "Name: Ana" in system and "9443" not in system
    assert episode.run["clock"] == "2026-03-02T09:00:00Z"


def test_the_finished_episode_is_stored_as_a_session_of_its_home(tmp_path: Path) -> None:
    # A task whose check reads the sessions database: the finished episode must be in it.
    check = "trajforge-home sessions | grep -q 'Ports'"
    episode, _ = play(task(tmp_path, check=check), [reply("Nothing to do.")])
    assert episode.outcome is Outcome.PASSED


def test_two_concurrent_episodes_never_see_each_others_state(tmp_path: Path) -> None:
    """Each writes its own secret everywhere, then lists everything: only its own appears."""

    def script(body: dict[str, Any]) -> Reply:
        tag = "RED" if "RED" in json.dumps(body["messages"][1]) else "BLUE"
        turn = sum(1 for m in body["messages"] if m["role"] == "assistant")
        name = f"s-{tag.lower()}"
        skill = f"---\nname: {name}\ndescription: {tag}\n---\n{tag}\n"
        if turn == 0:
            return reply(calls=[call("memory", {"action": "add", "content": f"secret {tag}"}),
                                call("todo", {"todos": [{"id": tag, "content": tag}]}),
                                call("skill_manage", {"action": "create", "name": name, "content": skill}),
                                call("cronjob", {"action": "create", "schedule": "30m", "prompt": tag})])  # fmt: skip
        if turn == 1:
            return reply(calls=[call("terminal", {"command": "sleep 0.2"})])
        if turn == 2:
            return reply(calls=[call("memory", {"action": "add", "content": "probe"}), call("todo", {}),
                                call("skills_list", {}), call("cronjob", {"action": "list"}),
                                call("session_search", {"query": "notes"})])  # fmt: skip
        return reply("done")

    def own(tag: str) -> dict[str, Any]:
        session = {"title": f"{tag} notes", "started_at": "2026-02-01T10:00:00Z",
                   "messages": [{"role": "user", "content": f"{tag} notes"}]}  # fmt: skip
        return {**HOME, "sessions": [session]}

    red = task(tmp_path, prompt="Task RED", home=own("RED"))
    (tmp_path / "blue").mkdir()
    blue = task(tmp_path / "blue", prompt="Task BLUE", home=own("BLUE"))

    async def both() -> list[Episode]:
        with ScriptedServer(script) as server:
            return list(await asyncio.gather(_episode(red, server), _episode(blue, server)))

    for episode, mine, other in zip(asyncio.run(both()), ("RED", "BLUE"), ("BLUE", "RED"), strict=True):
        seen = json.dumps(results(episode)[-5:])
        assert mine in seen and other not in seen, (mine, seen)


def test_delegation_runs_children_with_restricted_tools_and_keeps_them_out_of_the_row(tmp_path: Path) -> None:
    def script(body: dict[str, Any]) -> Reply:
        prompt = body["messages"][1]["content"]
        names = [t["function"]["name"] for t in body.get("tools", [])]
        turn = sum(1 for m in body["messages"] if m["role"] == "assistant")
        if prompt.startswith("Count"):  # a child
            assert "delegate_task" not in names and "clarify" not in names and "memory" not in names
            assert "cronjob" not in names and "terminal" in names and "todo" in names
            if turn == 0:
                return reply(calls=[call("terminal", {"command": "ls | wc -l"})])
            return reply(f"child saw {json.loads(body['messages'][-1]['content'])['output'].strip()} files")
        if turn == 0:
            return reply(calls=[call("write_file", {"path": "a.txt", "content": "a"})])
        if turn == 1:
            return reply(calls=[call("delegate_task", {"tasks": [{"goal": "Count the files", "context": "in ."},
                                                                  {"goal": "Count them again"}]})])  # fmt: skip
        if turn == 2:
            return reply(calls=[call("delegate_task", {"tasks": [{"goal": f"Count {n}"} for n in range(4)]})])
        return reply("Both children counted one file.")

    with ScriptedServer(script) as server:
        episode = asyncio.run(_episode(task(tmp_path, toolsets=ALL), server))
    _, delegated, too_many = results(episode)
    assert [r["summary"] for r in delegated["results"]] == ["child saw 1 files", "child saw 1 files"]
    assert all(r["status"] == "completed" and r["turns"] == 2 and r["tool_calls"] == 1 for r in delegated["results"])
    assert "at most 3" in too_many["error"]
    call_id = next(m for m in episode.messages if m.role == "assistant" and m.tool_calls and
                   m.tool_calls[0].name == "delegate_task").tool_calls[0].id  # fmt: skip
    children = episode.run["children"][call_id]  # type: ignore[index]
    assert [c["task"]["prompt"] for c in children] == ["Count the files\n\nContext:\nin .", "Count them again"]
    row = json.dumps(render(episode))
    assert "child saw" in row and "ls | wc -l" not in row  # the summary is the parent's; the child's calls are not


def test_a_prompt_job_runs_as_a_child_episode(tmp_path: Path) -> None:
    def script(body: dict[str, Any]) -> Reply:
        turn = sum(1 for m in body["messages"] if m["role"] == "assistant")
        if body["messages"][1]["content"].startswith("Say hello"):
            return reply("hello from the job")
        if turn == 0:
            return reply(calls=[call("cronjob", {"action": "create", "schedule": "0 9 * * *", "prompt": "Say hello"})])
        if turn == 1:
            return reply(calls=[call("cronjob", {"action": "run", "job_id": "job-2"})])
        return reply("The job ran.")

    with ScriptedServer(script) as server:
        episode = asyncio.run(_episode(task(tmp_path), server))
    ran = results(episode)[-1]
    assert ran["run"]["output"] == "hello from the job" and ran["job"]["history"][0]["status"] == "ok"
    assert ran["job"]["next_run_at"] == "2026-03-03T09:00:00Z"


def test_a_shared_home_carries_a_series_of_sessions_in_order(tmp_path: Path) -> None:
    """Two tasks of one series, run by two workers: the second starts from the home the first left."""
    from .test_cli import run as cli

    base = {"category": "Agent Tools", "subcategory": "session_recall", "toolsets": ["memory", "sessions"]}
    first = {**base, "id": "series-1", "prompt": "Remember that the project codename is falcon.",
             "home": {"shared": "notes", "clock": "2026-03-02T09:00:00Z", "user": ["Name: Ana"]},
             "oracle": {"steps": [{"tool": "memory", "args": {"action": "add", "content": "Codename: falcon"}}],
                        "answer": "Saved: the codename is falcon."}}  # fmt: skip
    second = {**base, "id": "series-2", "prompt": "What is the project codename? Check our last session too.",
              "home": {"shared": "notes", "clock": "2026-03-03T09:00:00Z"},
              "check": "trajforge-home memory | grep -q falcon && trajforge-home sessions | grep -q codename",
              "oracle": {"steps": [{"tool": "session_search", "args": {"query": "codename"}}],
                         "answer": "The codename is falcon."}}  # fmt: skip
    (tmp_path / "tasks.yaml").write_text(yaml.safe_dump({"tasks": [first, second]}), encoding="utf-8")
    done = cli("generate", "--policy", "oracle", "--tasks", tmp_path / "tasks.yaml", "--out", tmp_path / "out",
               "--sandbox", "local", "--concurrency", "2")  # fmt: skip
    assert done.returncode == 0, done.stderr
    records = {}
    for file in (tmp_path / "out" / "runs").glob("*/episodes-*.jsonl"):
        for line in file.read_text().splitlines():
            record = json.loads(line)
            records[record["task"]["id"]] = record
    assert records["series-2"]["outcome"] == "passed", records["series-2"]["check_output"]
    system = records["series-2"]["messages"][0]["content"]
    assert "Codename: falcon" in system and "Name: Ana" in system  # the frozen memory of the series so far
    found = json.loads(records["series-2"]["messages"][3]["content"])
    assert found["count"] == 1 and found["results"][0]["session"]["id"] == records["series-1"]["id"]
    assert (tmp_path / "out" / "homes" / "notes" / "memories" / "MEMORY.md").is_file()
