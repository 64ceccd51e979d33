"""Unit tests of the agent tools: each action and error of memory, todo, skills, session_search, cronjob."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys

import pytest
from croniter import croniter

from trajforge.tools.agent import home_helper
from trajforge.tools.agent.memory import LIMITS, snapshot
from trajforge.tools.agent.schedules import ScheduleError, parse_schedule
from trajforge.tools.agent.sessions_db import StoredMessage, fts_query

from .agent_tools_kit import CLOCK, kit


def test_memory_add_replace_remove_and_usage() -> None:
    with kit() as k:
        added = k.call("memory", action="add", content="Staging listens on port 8443")
        assert added["success"] and added["entry_count"] == 1 and added["target"] == "memory"
        assert added["usage"] == f"1% — 28/{LIMITS['memory']:,} chars"
        k.call("memory", action="add", content="Prod listens on port 443")
        assert k.call("memory", action="add", content="Prod listens on port 443")["entry_count"] == 2  # no duplicate
        replaced = k.call("memory", action="replace", old_text="Staging", content="Staging listens on 9443")
        assert replaced["entries"] == ["Staging listens on 9443", "Prod listens on port 443"]
        removed = k.call("memory", action="remove", old_text="Prod")
        assert removed["entries"] == ["Staging listens on 9443"]
        k.call("memory", action="add", target="user", content="Name: Ana")
        assert home_helper.memory_entries("user", k.home.root) == ["Name: Ana"]
        assert home_helper.memory_entries("memory", k.home.root) == ["Staging listens on 9443"]


def test_memory_errors_are_results_listing_the_entries() -> None:
    with kit() as k:
        k.call("memory", action="add", content="port 8443 for staging")
        k.call("memory", action="add", content="port 443 for prod")
        ambiguous = k.error("memory", action="remove", old_text="port")
        assert "Multiple entries" in ambiguous["error"] and len(ambiguous["matches"]) == 2
        missing = k.error("memory", action="replace", old_text="nothing like it", content="x")
        assert missing["current_entries"] == ["port 8443 for staging", "port 443 for prod"]
        assert "old_text is required" in k.error("memory", action="remove")["error"]
        assert "Content is required" in k.error("memory", action="add", content="  ")["error"]
        full = k.error("memory", action="add", target="user", content="x" * (LIMITS["user"] + 1))
        assert "would put user at" in full["error"]
        assert "should be one of" in k.error("memory", action="add", target="team", content="x")["error"]


def test_memory_snapshot_is_frozen_at_the_start_of_the_episode() -> None:
    with kit() as k:
        assert k.runner.run(snapshot(k.home)) is None
        k.call("memory", action="add", content="Uses pnpm")
        frozen = k.runner.run(snapshot(k.home))
        assert frozen is not None and "MEMORY (your personal notes)" in frozen and "Uses pnpm" in frozen


def test_todo_read_replace_merge_and_errors() -> None:
    with kit() as k:
        assert k.call("todo") == {"todos": [], "summary": dict.fromkeys(
            ["total", "pending", "in_progress", "completed", "cancelled"], 0)}  # fmt: skip
        written = k.call("todo", todos=[{"id": "1", "content": "Outline", "status": "in_progress"},
                                        {"id": "2", "content": "Draft"}])  # fmt: skip
        assert written["summary"]["total"] == 2 and written["todos"][1]["status"] == "pending"
        merged = k.call("todo", merge=True, todos=[{"id": "1", "status": "completed"}, {"id": "3", "content": "Ship"}])
        assert [(t["id"], t["status"]) for t in merged["todos"]] == [("1", "completed"), ("2", "pending"),
                                                                     ("3", "pending")]  # fmt: skip
        assert merged["todos"][0]["content"] == "Outline"  # fields not given are kept
        assert merged["summary"]["completed"] == 1
        assert k.call("todo", todos=[{"id": "9", "content": "Only"}])["summary"]["total"] == 1  # replace
        assert "status 'done'" in k.error("todo", todos=[{"id": "1", "content": "x", "status": "done"}])["error"]
        assert "has no id" in k.error("todo", todos=[{"content": "x"}])["error"]
        assert (
            "more than once"
            in k.error("todo", todos=[{"id": "1", "content": "a"}, {"id": "1", "content": "b"}])["error"]
        )
        assert home_helper.todos(k.home.root) == [{"id": "9", "content": "Only", "status": "pending"}]


SKILL = "---\nname: deploy-docs\ndescription: Publish the docs site\n---\n\n1. Run make docs\n2. Upload site/\n"


def test_skills_create_view_patch_edit_files_delete() -> None:
    with kit() as k:
        assert k.call("skills_list")["count"] == 0
        created = k.call("skill_manage", action="create", name="deploy-docs", content=SKILL, category="devops")
        assert created["path"].endswith("/.agent/skills/devops/deploy-docs")
        listed = k.call("skills_list")
        assert listed["skills"] == [
            {"name": "deploy-docs", "description": "Publish the docs site", "category": "devops"}
        ]
        assert k.call("skills_list", category="other")["count"] == 0
        k.call("skill_manage", action="write_file", name="deploy-docs", file_path="references/hosts.md",
               file_content="docs.example.com\n")  # fmt: skip
        viewed = k.call("skill_view", name="deploy-docs")
        assert viewed["content"] == SKILL and viewed["linked_files"] == ["references/hosts.md"]
        assert (
            k.call("skill_view", name="deploy-docs", file_path="references/hosts.md")["content"] == "docs.example.com\n"
        )
        k.call("skill_manage", action="patch", name="deploy-docs", old_string="make docs", new_string="make site")
        assert "make site" in k.call("skill_view", name="deploy-docs")["content"]
        k.call("skill_manage", action="edit", name="deploy-docs", content=SKILL.replace("Upload", "Push"))
        assert "Push site/" in (home_helper.skill_text("deploy-docs", root=k.home.root) or "")
        k.call("skill_manage", action="remove_file", name="deploy-docs", file_path="references/hosts.md")
        assert k.call("skill_view", name="deploy-docs")["linked_files"] == []
        k.call("skill_manage", action="delete", name="deploy-docs")
        assert home_helper.skills(k.home.root) == []


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"action": "create", "name": "Bad Name", "content": SKILL}, "Invalid skill name"),
        ({"action": "create", "name": "deploy-docs", "content": "no front matter"}, "must start with YAML"),
        ({"action": "create", "name": "deploy-docs", "content": "---\nname: deploy-docs\n---\nbody"}, "'description'"),
        ({"action": "create", "name": "other", "content": SKILL}, "differs from name"),
        ({"action": "create", "name": "deploy-docs", "content": SKILL}, "already exists"),
        ({"action": "write_file", "name": "deploy-docs", "file_path": "../../x", "file_content": "x"}, "traversal"),
        (
            {"action": "write_file", "name": "deploy-docs", "file_path": "notes.md", "file_content": "x"},
            "must be under",
        ),
        ({"action": "patch", "name": "deploy-docs", "old_string": "absent", "new_string": "x"}, "not found"),
        (
            {"action": "patch", "name": "deploy-docs", "old_string": "---", "new_string": "x", "replace_all": True},
            "YAML",
        ),
        ({"action": "delete", "name": "nope"}, "not found"),
        ({"action": "remove_file", "name": "deploy-docs", "file_path": "assets/none.png"}, "not found"),
    ],
)
def test_skill_errors(arguments: dict[str, object], message: str) -> None:
    with kit() as k:
        k.call("skill_manage", action="create", name="deploy-docs", content=SKILL)
        assert message in k.error("skill_manage", **arguments)["error"]
        assert home_helper.skill_text("deploy-docs", root=k.home.root) == SKILL  # nothing changed
        assert not list(k.home.root.parent.parent.glob("x"))


def test_skill_view_errors() -> None:
    with kit() as k:
        assert "not found" in k.error("skill_view", name="ghost")["error"]
        k.call("skill_manage", action="create", name="deploy-docs", content=SKILL)
        assert "has no file" in k.error("skill_view", name="deploy-docs", file_path="references/x.md")["error"]


def _sessions(k: object, count: int = 3) -> None:
    store = k.runner.run(k.home.sessions())  # type: ignore[attr-defined]
    topics = ["flaky CI on the build runner", "postgres upgrade to version 16", "renaming the lighthouse project"]
    for n in range(count):
        topic = topics[n % len(topics)]
        store.add_session(
            f"s-{n}", f"Talk {n}: {topic}", f"2026-02-{n % 27 + 1:02d}T10:00:00Z",
            [StoredMessage("user", f"Help with {topic}"), StoredMessage("assistant", f"We decided on {topic} fix {n}"),
             StoredMessage("tool", "output", "terminal")],
        )  # fmt: skip


def test_session_search_modes() -> None:
    with kit() as k:
        _sessions(k)
        found = k.call("session_search", query="postgres upgrade")
        assert found["mode"] == "search" and found["count"] == 1
        hit = found["results"][0]
        assert hit["session"]["id"] == "s-1" and ">>>postgres<<<" in hit["match"]["snippet"]
        assert [m["role"] for m in hit["messages"]] == ["user", "assistant", "tool"]
        assert k.call("session_search", query="fix", limit=2)["count"] == 2
        newest = k.call("session_search", query="fix", sort="newest")["results"]
        assert [r["session"]["id"] for r in newest] == ["s-2", "s-1", "s-0"][:3]
        only = k.call("session_search", query="postgres", role_filter="assistant")["results"][0]
        assert only["match"]["role"] == "assistant"
        read = k.call("session_search", session_id="s-0")
        assert read["mode"] == "read" and len(read["messages"]) == 3 and read["messages"][2]["tool_name"] == "terminal"
        anchor = read["messages"][1]["id"]
        window = k.call("session_search", session_id="s-0", around_message_id=anchor, window=0)
        assert [m["id"] for m in window["messages"]] == [anchor]
        browse = k.call("session_search")
        assert browse["mode"] == "browse" and [s["id"] for s in browse["sessions"]] == ["s-2", "s-1", "s-0"]
        assert k.call("session_search", query="kubernetes")["count"] == 0
        assert k.call("session_search", query='"; DROP TABLE sessions; --')["count"] == 0  # never FTS syntax


def test_session_search_errors() -> None:
    with kit() as k:
        _sessions(k)
        assert "No session" in k.error("session_search", session_id="s-99")["error"]
        assert "no message" in k.error("session_search", session_id="s-0", around_message_id=999)["error"]
        assert "needs session_id" in k.error("session_search", around_message_id=1)["error"]
        assert "no words" in k.error("session_search", query="!!! ???")["error"]
    assert fts_query("a-b c") == '"a" "b" "c"' and fts_query("a-b c", any_word=True) == '"a" OR "b" OR "c"'


def test_clarify_without_a_user_says_none_is_available() -> None:
    with kit() as k:
        result = k.call("clarify", question="Which unit?", choices=["C", "F"])
        assert result["user_response"] is None and "No user is available" in result["error"]
        assert "at most 4 choices" in k.error("clarify", question="?", choices=list("abcde"))["error"]


@pytest.mark.parametrize(
    "expression", ["0 9 * * *", "*/15 * * * *", "30 2 * * 1-5", "0 0 1 * *", "5 4 * * sun", "0 9 * * 1 "]
)
def test_cron_next_run_equals_croniter_for_the_recorded_clock(expression: str) -> None:
    with kit() as k:
        job = k.call("cronjob", action="create", schedule=expression, prompt="Report the disk usage")["job"]
        expected = croniter(expression.strip(), CLOCK).get_next(dt.datetime)
        assert job["next_run_at"] == expected.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert job["created_at"] == "2026-03-02T09:00:00Z"


def test_schedules_of_every_form() -> None:
    assert parse_schedule("30m", CLOCK).next_after(CLOCK) == "2026-03-02T09:30:00Z"
    every = parse_schedule("every 2h", CLOCK)
    assert every.kind == "interval" and every.next_after(CLOCK) == "2026-03-02T11:00:00Z"
    once = parse_schedule("in 45 minutes", CLOCK)
    assert once.kind == "once" and once.next_after(CLOCK) == "2026-03-02T09:45:00Z"
    assert parse_schedule("2026-03-05T08:00:00Z", CLOCK).next_after(CLOCK) == "2026-03-05T08:00:00Z"
    assert parse_schedule("@daily", CLOCK).next_after(CLOCK) == "2026-03-03T00:00:00Z"
    bad_ones = ("whenever", "every blue moon", "61 * * * *", "2020-01-01T00:00:00Z", "in 0m", "0 0 30 2 *",
                "in 99999999999999m", "every 99999999999999999h", "every 11000 days")  # fmt: skip
    for bad in bad_ones:
        with pytest.raises(ScheduleError):
            parse_schedule(bad, CLOCK)


def test_cronjob_lifecycle_and_script_runs() -> None:
    with kit() as k:
        made = k.call("cronjob", action="create", name="count", schedule="every 1h", script="ls | wc -l", repeat=2)
        job_id = made["job"]["id"]
        assert made["job"]["next_run_at"] == "2026-03-02T10:00:00Z"
        assert k.call("cronjob", action="list")["count"] == 1
        paused = k.call("cronjob", action="pause", job_id=job_id)["job"]
        assert paused["state"] == "paused" and paused["next_run_at"] is None
        assert k.call("cronjob", action="resume", job_id=job_id)["job"]["next_run_at"] == "2026-03-02T10:00:00Z"
        updated = k.call("cronjob", action="update", job_id=job_id, schedule="0 6 * * *", name="morning count")["job"]
        assert updated["next_run_at"] == "2026-03-03T06:00:00Z" and updated["name"] == "morning count"
        run = k.call("cronjob", action="run", job_id=job_id)
        assert run["run"]["status"] == "ok" and run["run"]["ran_at"] == "2026-03-02T09:00:00Z"
        second = k.call("cronjob", action="run", job_id=job_id)["job"]
        assert second["state"] == "completed" and second["runs_completed"] == 2 and len(second["history"]) == 2
        failing = k.call("cronjob", action="create", schedule="in 5m", script="exit 3")["job"]
        assert failing["repeat"] == 1
        assert k.call("cronjob", action="run", job_id=failing["id"])["run"]["status"] == "failed"
        k.call("cronjob", action="remove", job_id=job_id)
        assert [j["id"] for j in home_helper.jobs(k.home.root)] == [failing["id"]]
        k.call("cronjob", action="remove", job_id=failing["id"])
        again = k.call("cronjob", action="create", schedule="30m", prompt="x")["job"]
        assert again["id"] == "job-3"  # an id is never given twice, even after removals


def test_cronjob_errors() -> None:
    with kit() as k:
        assert "schedule is required" in k.error("cronjob", action="create", prompt="x")["error"]
        assert "cannot read schedule" in k.error("cronjob", action="create", prompt="x", schedule="someday")["error"]
        assert "needs a prompt" in k.error("cronjob", action="create", schedule="30m")["error"]
        assert "job_id is required" in k.error("cronjob", action="pause")["error"]
        assert "No job" in k.error("cronjob", action="run", job_id="job-7")["error"]
        assert "repeat" in k.error("cronjob", action="create", schedule="30m", prompt="x", repeat=0)["error"]
        # a prompt job runs as a child episode: without a child runner that is a clear error result
        made = k.call("cronjob", action="create", schedule="30m", prompt="Summarise the logs")["job"]
        assert "not available" in k.error("cronjob", action="run", job_id=made["id"])["error"]


def test_the_home_helper_command_reads_the_home_as_a_check_does() -> None:
    with kit() as k:
        k.call("memory", action="add", target="user", content="Editor: vim")
        k.call("todo", todos=[{"id": "1", "content": "x", "status": "completed"}])
        k.call("skill_manage", action="create", name="deploy-docs", content=SKILL)
        k.call("cronjob", action="create", schedule="0 9 * * *", prompt="standup")
        _sessions(k, 1)

        def helper(*args: str) -> subprocess.CompletedProcess[str]:
            env = {"AGENT_HOME": str(k.home.root), "PATH": "/usr/bin:/bin"}
            return subprocess.run([sys.executable, home_helper.__file__, *args], capture_output=True, text=True,
                                  env=env, check=False)  # fmt: skip

        assert json.loads(helper("memory", "list", "--target", "user").stdout) == ["Editor: vim"]
        assert json.loads(helper("todo").stdout)[0]["status"] == "completed"
        assert json.loads(helper("skills", "list").stdout)[0]["name"] == "deploy-docs"
        assert json.loads(helper("jobs").stdout)[0]["next_run_at"] == "2026-03-03T09:00:00Z"
        assert json.loads(helper("sessions").stdout)[0]["messages"][0]["role"] == "user"
        assert helper("skill", "deploy-docs").stdout == SKILL
        assert helper("skill", "ghost").returncode == 1
        assert helper("memory", "--target", "team").returncode == 2
        assert helper("bogus").returncode == 2


def test_delegate_task_arguments() -> None:
    from trajforge.tools import ToolError
    from trajforge.tools.agent.delegate import ChildTask, child_tasks

    assert child_tasks(" Count ", " in logs ", None) == [ChildTask("Count", "in logs")]
    assert child_tasks("", "", [{"goal": "a"}, {"goal": "b", "context": "c"}]) == [ChildTask("a"), ChildTask("b", "c")]
    for goal, tasks, message in [
        ("", None, "give a goal"),
        ("", [{"context": "x"}], "tasks[0] needs a goal"),
        ("", [{"goal": "a", "priority": 1}], "unknown field(s) priority"),
        ("", ["just a string"], "tasks[0] needs a goal"),
        ("", [{"goal": str(n)} for n in range(4)], "at most 3"),
    ]:
        with pytest.raises(ToolError, match=re.escape(message)):
            child_tasks(goal, "", tasks)  # type: ignore[arg-type]
    with kit(("delegation",)) as k:  # no child runner in this episode: a clear error result
        assert "not available" in k.error("delegate_task", goal="x")["error"]


def test_home_files_damaged_by_hand_are_error_results() -> None:
    with kit() as k:
        (k.home.root / "cron").mkdir(parents=True)
        (k.home.root / "todo.json").write_text("{garbage")
        (k.home.root / "cron" / "jobs.json").write_text('{"jobs": [{"id": 1}]}')
        assert "todo.json is damaged" in k.error("todo")["error"]
        assert "jobs.json is damaged" in k.error("cronjob", action="list")["error"]
        k.call("todo", todos=[{"id": "1", "content": "fresh"}])  # writing the list again repairs it
