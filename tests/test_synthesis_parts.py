"""The text side of synthesis, in process: answers, ids, heuristics, duplicates, the output file, the distribution."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from trajforge.tasks import TAXONOMY, load_tasks
from trajforge.tasks.synthesis import (
    INLINE,
    REFERENCE_COUNTS,
    PromptIndex,
    Quotas,
    Reason,
    Rejected,
    TaskFile,
    all_entries,
    apportion,
    apportion_by_category,
    describe,
    extract_entries,
    read_candidate,
    request_messages,
    screen,
    unique_id,
    user_environment,
    weights,
)
from trajforge.tasks.synthesis.environments import install
from trajforge.tasks.synthesis.store import NotOurFile, TaskFileError

SPEC = {
    "id": "t",
    "prompt": "Write hello.txt holding the word hello, in the workspace.",
    "check": "grep -q hello hello.txt",
}
ALL = [(c, s) for c, subs in TAXONOMY.items() for s in subs]


@pytest.mark.parametrize(
    "text",
    [
        f"Here:\n```yaml\n{yaml.safe_dump([SPEC])}```\nEnjoy.",
        f"```yml\n{yaml.safe_dump({'tasks': [SPEC]})}```",
        yaml.safe_dump([SPEC]),  # no fence
        f"```\n{yaml.safe_dump(SPEC)}```",  # a bare fence, one mapping
        f"```python\nprint('hi')\n```\n```yaml\n{yaml.safe_dump([SPEC])}",  # other blocks first; cut before its fence
    ],
)
def test_the_specs_are_found_in_every_usual_form(text: str) -> None:
    assert extract_entries(text) == [SPEC]


@pytest.mark.parametrize("text", ["", "I cannot help with that.", "```yaml\n- id: [open\n```", "```yaml\n[]\n```"])
def test_an_answer_without_specs_is_not_parseable(text: str) -> None:
    with pytest.raises(Rejected) as caught:
        extract_entries(text)
    assert caught.value.reason is Reason.NOT_PARSEABLE


def _read(entry: Any, tmp_path: Path, taken: set[str] | None = None) -> Any:
    return read_candidate(entry, category="Terminal & Coding", subcategory="script_writing",
                          taken=set() if taken is None else taken, fixture_root=tmp_path)  # fmt: skip


@pytest.mark.parametrize(
    ("entry", "reason", "words"),
    [
        ("just text", Reason.INVALID_SPEC, "a mapping"),
        ({**SPEC, "toolsets": ["terminal", "warp"]}, Reason.UNKNOWN_TOOLSET, "warp"),
        ({**SPEC, "prompt": ""}, Reason.INVALID_SPEC, "prompt"),
        ({**SPEC, "colour": "red"}, Reason.INVALID_SPEC, "colour"),
        ({**SPEC, "subcategory": "debugging"}, Reason.INVALID_SPEC, "asked for 'script_writing'"),
        ({**SPEC, "fixtures": {"files": {"../up.txt": "x"}}}, Reason.INVALID_SPEC, "outside the workspace"),
        ({**SPEC, "fixtures": {"folders": {"gone": "."}}}, Reason.FIXTURE_NOT_FOUND, "gone"),
    ],
)
def test_each_bad_spec_is_rejected_with_its_reason(entry: Any, reason: Reason, words: str, tmp_path: Path) -> None:
    with pytest.raises(Rejected) as caught:
        _read(entry, tmp_path)
    assert caught.value.reason is reason and words in str(caught.value), caught.value


def test_a_candidate_gets_the_do_nothing_and_wrong_negatives_and_no_oracle(tmp_path: Path) -> None:
    wrong = {"steps": [{"tool": "terminal", "args": {"command": "touch hello.txt"}}]}
    unusable = {"steps": [{"args": {}}]}
    entry = {**SPEC, "category": "terminal_coding", "oracle": {"answer": "x"}, "wrong_solution": [wrong, unusable]}
    candidate = _read(entry, tmp_path)
    spec = candidate.spec
    assert spec.oracle is None and spec.category == "Terminal & Coding"
    assert [(n.name, len(n.steps)) for n in spec.negatives] == [("do-nothing", 0), ("wrong-solution", 1)]
    assert any("dropped oracle" in note for note in candidate.notes)
    assert any("wrong solution unusable" in note for note in candidate.notes)
    unchecked = _read({**SPEC, "check": None, "wrong_solution": wrong}, tmp_path)
    assert unchecked.spec.negatives == []  # no check to judge them by


def test_common_slips_are_mended_and_noted(tmp_path: Path) -> None:
    entry = {**SPEC, "check": ["test -f a", "test -f b"], "toolsets": "terminal, file",
             "fixtures": {"setup": "touch z"}, "wrong_solution": "touch a"}  # fmt: skip
    candidate = _read(entry, tmp_path)
    spec = candidate.spec
    assert spec.check == "( test -f a ) && ( test -f b )" and spec.toolsets == ["terminal", "file"]
    assert spec.fixtures.setup == ["touch z"]
    assert spec.negatives[1].steps[0].args == {"command": "touch a"}
    assert len(candidate.notes) == 3


def test_ids_are_normalised_and_made_unique() -> None:
    taken = {"fo-sort"}
    assert unique_id("FO Sort!", "p", "organizing", taken) == "fo-sort-2"
    assert unique_id("fo-sort", "p", "organizing", taken) == "fo-sort-3"
    assert unique_id(None, "Sort the Downloads folder now please", "organizing", taken) == (
        "syn-organizing-sort-the-downloads-folder-now"
    )
    assert unique_id("???", "", "bug_fix", taken) == "syn-bug-fix-task"
    assert unique_id("x" * 300, "", "bug_fix", taken) == "x" * 80


def test_heuristics_are_named_and_spare_the_catalog(tmp_path: Path) -> None:
    for task in load_tasks(["builtin"]).tasks:
        screen(task.spec)  # no catalog task trips a heuristic
    cases = {
        "prompt_too_short": {**SPEC, "prompt": "Do it now."},
        "no_toolsets": {**SPEC, "toolsets": []},
        "nothing_to_act_on": {"id": "x", "prompt": "Tell me a short story about a brave little robot."},
        "knowledge_question": {"id": "y", "prompt": "What is the capital city of Australia and its population?",
                               "fixtures": {"setup": ["true"]}},
    }  # fmt: skip
    for name, entry in cases.items():
        with pytest.raises(Rejected) as caught:
            screen(_read(entry, tmp_path).spec)
        assert caught.value.detail.startswith(name), caught.value


def test_duplicates_exact_and_near() -> None:
    index = PromptIndex(0.8)
    long = "Parse the access log in logs/access.log and write the ten most frequent client addresses with counts"
    index.add("a", long)
    for prompt, reason in [(long.upper() + "!", Reason.DUPLICATE_EXACT), (long + " please", Reason.DUPLICATE_NEAR)]:
        with pytest.raises(Rejected) as caught:
            index.check(prompt)
        assert caught.value.reason is reason and "a" in caught.value.detail
    index.check("Write a script that renames every photo in pictures/ after the date it was taken on")


def test_a_cut_file_is_repaired_and_a_foreign_file_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    store = TaskFile(path)
    assert store.open() == []
    store.append({"id": "a", "prompt": "x: y\n---\n...\n"})  # markers inside text stay text
    store.append({"id": "b", "prompt": "two"})
    whole = path.read_bytes()
    path.write_bytes(whole + b"---\nid: c\nprompt: cu")
    again = TaskFile(path)
    assert [t["id"] for t in again.open()] == ["a", "b"] and again.repaired_bytes > 0
    assert path.read_bytes() == whole
    path.write_bytes(whole[:10])  # cut inside the header
    assert TaskFile(path).open() == [] and path.read_bytes().startswith(b"# Tasks written")
    (tmp_path / "mine.yaml").write_text("- id: mine\n")
    with pytest.raises(NotOurFile):
        TaskFile(tmp_path / "mine.yaml").open()
    path.write_bytes(whole.replace(b"prompt: two", b"prompt: [two"))  # edited by hand, badly
    with pytest.raises(TaskFileError, match=r"t.yaml line \d+ cannot be read"):
        TaskFile(path).open()
    assert b"[two" in path.read_bytes()  # never cut


def test_the_distribution_follows_the_reference_card() -> None:
    ref = weights("reference", ALL)
    terminal = sum(w for (c, _), w in ref.items() if c == "Terminal & Coding")
    assert terminal == REFERENCE_COUNTS["kimi"]["Terminal & Coding"] + REFERENCE_COUNTS["glm-5.1"]["Terminal & Coding"]
    counts = apportion_by_category(1000, ref)
    assert sum(counts.values()) == 1000
    by_category = {c: sum(n for (cat, _), n in counts.items() if cat == c) for c in TAXONOMY}
    assert by_category["Terminal & Coding"] == round(1000 * 4247 / 14701) and by_category["Conversational"] == 2
    assert set(apportion(len(ALL), weights("uniform", ALL)).values()) == {1}
    only_conversational = [k for k in ALL if k[0] == "Conversational"]
    assert weights("reference:glm-5.1", only_conversational) == dict.fromkeys(only_conversational, 1.0)
    quotas = Quotas.build(10, weights("uniform", ALL[:2]), 3, {ALL[0]: 3})
    assert quotas.target == {ALL[0]: 3, ALL[1]: 3} and quotas.missing(ALL[0]) == 0
    assert quotas.next_key({}) == ALL[1] and not quotas.done


def test_every_subcategory_has_words_and_a_request_shows_seeds_and_environment(tmp_path: Path) -> None:
    entries = all_entries()
    assert len(entries) == sum(len(subs) for subs in TAXONOMY.values())
    folder = tmp_path / "proj"
    (folder / "src").mkdir(parents=True)
    (folder / "src" / "app.py").write_text("def main():\n    return 42\n")
    (folder / "blob.bin").write_bytes(b"\0\1\2")
    env = user_environment(folder)
    assert env.kind == "folder" and env.name == "proj"
    shown = describe(env)
    assert "src/app.py" in shown and "return 42" in shown and "blob.bin" in shown and "\0" not in shown
    seeds = [t.spec for t in load_tasks(["builtin"]).tasks if t.spec.subcategory == "script_writing"][:2]
    messages = request_messages(entries[0], seeds, env, 3)
    assert "Write 3 new, distinct tasks" in messages[1][1] and seeds[0].prompt[:40] in messages[1][1]
    assert "oracle:" not in messages[1][1] and "wrong_solution" in messages[0][1]
    installed = install(env, tmp_path / "out" / "fixtures")
    assert installed.name == "proj" and (tmp_path / "out" / "fixtures" / "proj" / "src" / "app.py").exists()
    (folder / "src" / "app.py").write_text("changed\n")  # another folder of the same name: a new name
    assert install(env, tmp_path / "out" / "fixtures").name == "proj-2"
    assert install(INLINE, tmp_path / "out" / "fixtures") is INLINE
