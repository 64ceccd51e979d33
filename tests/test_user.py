"""The user of an episode: scripted replies and follow-ups, and a simulated user played by a model."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from trajforge.agent.user import ScriptedUser, SimulatedUser
from trajforge.dataset import RowChecker
from trajforge.policy import ModelConfig, OpenAIPolicy
from trajforge.tasks import TaskSpec
from trajforge.trace import Message, Outcome, parse, render

from .scripted_server import Reply, ScriptedServer, call, reply
from .test_agent_tools_e2e import _episode, play, results, task


def test_scripted_replies_in_order_and_by_key_word() -> None:
    ordered = ScriptedUser(["first", "second"], [])
    keyed = ScriptedUser({"unit": "Celsius", "city": "Oslo", "*": "whatever you think"}, [])

    async def answers() -> list[str | None]:
        return [
            await ordered.answer("a?", []), await ordered.answer("b?", []), await ordered.answer("c?", []),
            await keyed.answer("Which CITY?", []), await keyed.answer("Which unit?", ["C", "F"]),
            await keyed.answer("Anything else?", []),
        ]  # fmt: skip

    assert asyncio.run(answers()) == ["first", "second", None, "Oslo", "Celsius", "whatever you think"]


def test_follow_ups_make_a_row_with_several_human_turns(tmp_path: Path) -> None:
    spec = {"user": {"replies": {"unit": "Celsius"}, "follow_ups": ["Now in Fahrenheit too.", "Thanks, save it."]},
            "check": "grep -q '^21C 70F$' temp.txt", "toolsets": ["clarify", "file"]}  # fmt: skip
    script = [
        reply(calls=[call("clarify", {"question": "Which unit should I use?", "choices": ["Celsius", "Fahrenheit"]})]),
        reply(calls=[call("write_file", {"path": "temp.txt", "content": "21C\n"})]),
        reply("It is 21C."),
        reply(calls=[call("write_file", {"path": "temp.txt", "content": "21C 70F\n"})]),
        reply("21C is 70F."),
        reply("Saved in temp.txt."),
    ]
    episode, server = play(task(tmp_path, **spec), script)
    assert episode.outcome is Outcome.PASSED, episode.check_output
    assert results(episode)[0]["user_response"] == "Celsius"
    humans = [m.content for m in episode.messages if m.role == "user"]
    assert humans == ["Do it.", "Now in Fahrenheit too.", "Thanks, save it."]
    assert episode.messages[-1].role == "assistant" and episode.messages[-1].content == "Saved in temp.txt."
    row = render(episode)
    assert [t["from"] for t in row["conversations"]].count("human") == 3
    assert RowChecker().check(row, "t", 1) == []
    assert [m.role for m in parse(row).messages] == [m.role for m in episode.messages]
    assert len(server.requests) == 6


def test_a_follow_up_is_not_asked_for_when_no_turn_is_left(tmp_path: Path) -> None:
    spec = {"user": {"follow_ups": ["More?"]}, "limits": {"max_turns": 1}, "toolsets": ["clarify"]}
    episode, _ = play(task(tmp_path, **spec), [reply("Done.")])
    assert [m.role for m in episode.messages] == ["system", "user", "assistant"]
    assert episode.finish.value == "stop"


def _simulated(body: dict[str, Any]) -> Reply:
    """Plays both sides: the user simulator (its system prompt says so) and the agent."""
    messages = body["messages"]
    if "playing a human user" in messages[0]["content"]:
        asked = messages[-1]["content"]
        if "The assistant asks you" in asked:
            return reply("Metric, please.")
        return reply("[DONE]" if "ASSISTANT: 20 km" in asked else "And in kilometres?")
    turn = sum(1 for m in messages if m["role"] == "assistant")
    if turn == 0:
        return reply(calls=[call("clarify", {"question": "Metric or imperial?"})])
    last_user = [m["content"] for m in messages if m["role"] == "user"][-1]
    return reply("20 km" if "kilometres" in last_user else "About 12 miles, which is 20 km.")


def test_a_simulated_user_through_the_scripted_server(tmp_path: Path) -> None:
    spec = {"user": {"simulate": {"persona": "A runner", "goal": "Know the distance in km"}, "max_user_turns": 3},
            "toolsets": ["clarify"]}  # fmt: skip
    with ScriptedServer(_simulated) as server:
        episode = asyncio.run(_episode(task(tmp_path, **spec), server))
    assert results(episode)[0]["user_response"] == "Metric, please."
    humans = [m.content for m in episode.messages if m.role == "user"]
    assert humans == ["Do it.", "And in kilometres?"]  # then the simulator said [DONE]
    simulator_calls = [r for r in server.requests if "playing a human user" in r["messages"][0]["content"]]
    assert "USER (you): Do it." in simulator_calls[0]["messages"][-1]["content"]  # the question comes with its context
    assert len(simulator_calls) == 3 and all(not r.get("tools") for r in simulator_calls)
    assert "Persona: A runner" in simulator_calls[0]["messages"][0]["content"]


def test_a_simulated_user_stops_at_max_user_turns() -> None:
    def chatty(body: dict[str, Any]) -> Reply:
        return reply("one more thing")

    async def run() -> list[str | None]:
        with ScriptedServer(chatty) as server:
            policy = OpenAIPolicy(ModelConfig(server.url, "scripted", timeout=30))
            user = SimulatedUser(policy, "p", "g", max_turns=2)
            said = [await user.follow_up([Message(role="user", content="hi")]) for _ in range(3)]
            await policy.close()
            return said

    assert asyncio.run(run()) == ["one more thing", "one more thing", None]


@pytest.mark.parametrize(
    ("user", "message"),
    [
        ({"simulate": {"persona": "p", "goal": "g"}, "replies": ["x"]}, "not both"),
        ({"follow_ups": [" "]}, "cannot be empty"),
        ({"max_user_turns": 99}, "less than or equal to 20"),
        ({"replies": "yes"}, "valid list"),
    ],
)
def test_bad_user_sections_are_refused_with_the_field(user: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TaskSpec.model_validate({"id": "t", "category": "Conversational", "subcategory": "question_answering",
                                 "prompt": "p", "user": user})  # fmt: skip


def test_the_oracle_plays_follow_ups_and_children_from_the_spec(tmp_path: Path) -> None:
    from trajforge.runner.task_episode import run_task_episode, solution_policy
    from trajforge.sandbox import SandboxConfig, SandboxFactory
    from trajforge.trace import ModelInfo

    count = "ls a.txt | wc -l > count.txt; cat count.txt"
    loaded = task(tmp_path, toolsets=["delegation", "terminal", "file"], user={"follow_ups": ["And the count?"]},
                  check="grep -qx 1 count.txt",
                  oracle={"steps": [{"tool": "write_file", "args": {"path": "a.txt", "content": "a"}}],
                          "answer": "Wrote a.txt.",
                          "follow_ups": [{"steps": [{"tool": "delegate_task", "args": {"goal": "Count files"}}],
                                          "answer": "The child counted: {{result 1}}"}],
                          "children": [{"steps": [{"tool": "terminal", "args": {"command": count}}],
                                        "answer": "{{result 1}} files"}]})  # fmt: skip
    assert loaded.spec.oracle is not None

    async def run() -> Any:
        factory = SandboxFactory(SandboxConfig(backend="local"))
        return await run_task_episode(
            loaded, factory, solution_policy(loaded.spec.oracle), config="o", model=ModelInfo()
        )

    episode = asyncio.run(run()).episode
    assert episode.outcome is Outcome.PASSED, episode.check_output
    assert episode.messages[-1].content is not None and '"summary": "1 files"' in episode.messages[-1].content
    ids = [c.id for m in episode.messages for c in m.tool_calls]
    assert len(ids) == len(set(ids))
    assert json.dumps(episode.run["children"]).count("ls a.txt | wc -l") == 1

    # A replay plays the children's recorded turns and the scripted follow-up again: every result the same.
    from trajforge.runner.replay import replay_episode

    async def replay() -> Any:
        return await replay_episode(episode, loaded, SandboxFactory(SandboxConfig(backend="local")))

    replayed, comparisons = asyncio.run(replay())
    assert comparisons and all(c.same for c in comparisons), comparisons
    assert [m.content for m in replayed.messages if m.role == "user"] == ["Do it.", "And the count?"]


def test_generate_plays_a_simulated_user_on_the_user_endpoint(tmp_path: Path) -> None:
    """An oracle run with --user-endpoint/--user-model: the user model answers clarify and follows up once."""
    import yaml

    from .test_cli import run as cli

    spec = {"id": "sim", "category": "Conversational", "subcategory": "question_answering", "prompt": "Plan my run.",
            "toolsets": ["clarify"], "user": {"simulate": {"persona": "A runner", "goal": "A plan in km"}},
            "oracle": {"steps": [{"tool": "clarify", "args": {"question": "Metric or imperial?"}}],
                       "answer": "10 km easy.", "follow_ups": [{"answer": "Then 12 km."}]}}  # fmt: skip
    (tmp_path / "tasks.yaml").write_text(yaml.safe_dump({"tasks": [spec]}), encoding="utf-8")

    def user(body: dict[str, Any]) -> Reply:
        asked = body["messages"][-1]["content"]
        if "The assistant asks you" in asked:
            return reply("Metric, please.")
        return reply("[DONE]" if "12 km" in asked else "Can I go a bit longer?")

    with ScriptedServer(user, models=[{"id": "user-sim", "max_model_len": 4096}]) as server:
        done = cli("generate", "--policy", "oracle", "--tasks", tmp_path / "tasks.yaml", "--out", tmp_path / "out",
                   "--sandbox", "local", "--user-endpoint", server.url, "--user-model", "user-sim")  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert {r["model"] for r in server.requests} == {"user-sim"} and len(server.requests) == 3
    record = json.loads(next((tmp_path / "out" / "runs").glob("*/episodes-*.jsonl")).read_text().splitlines()[0])
    humans = [m["content"] for m in record["messages"] if m["role"] == "user"]
    assert humans == ["Plan my run.", "Can I go a bit longer?"]
    clarified = next(m for m in record["messages"] if m["role"] == "tool")
    assert json.loads(clarified["content"])["user_response"] == "Metric, please."
