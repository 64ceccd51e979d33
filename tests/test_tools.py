"""The file, terminal and code tools, and the one place calls become results."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest

from trajforge.sandbox import Sandbox, SandboxConfig, SandboxFactory
from trajforge.tools import Redactor, ToolContext, argument_problem, build_toolbox, parse_toolsets
from trajforge.tools.terminal import terminal
from trajforge.trace import Flag, ToolCall


@pytest.fixture
def box() -> Iterator[Sandbox]:
    sandbox = asyncio.run(SandboxFactory(SandboxConfig(backend="local")).create())
    yield sandbox
    asyncio.run(sandbox.close())


def call(box: Sandbox, name: str, **arguments: object) -> tuple[str, bool]:
    toolbox = build_toolbox(["terminal", "file", "code"], ToolContext(box))
    result = asyncio.run(toolbox.call(ToolCall("c", name, dict(arguments))))
    return result.content, result.is_error


def error_of(box: Sandbox, name: str, **arguments: object) -> str:
    content, is_error = call(box, name, **arguments)
    assert is_error, content
    return str(json.loads(content)["error"])


def test_schema_comes_from_the_function() -> None:
    assert terminal.definition() == {
        "type": "function",
        "function": {
            "name": "terminal",
            "description": terminal.description,
            "parameters": {
                "type": "object",
                "properties": {
                    "command": {"type": "string", "description": "The bash command to run."},
                    "timeout": {
                        "type": "integer",
                        "description": "Seconds before the command is killed (at most 600).",
                    },
                },
                "required": ["command"],
            },
        },
    }
    assert terminal.toolset == "terminal"


def test_arguments_are_checked_before_the_tool_runs(box: Sandbox) -> None:
    assert "missing required argument(s): command" in error_of(box, "terminal")
    assert "unknown argument(s): cmd" in error_of(box, "terminal", command="ls", cmd="ls")
    assert "argument 'timeout' should be integer, not str" in error_of(box, "terminal", command="ls", timeout="5")
    assert "should be one of content, files" in error_of(box, "search_files", pattern="x", mode="both")
    assert "unknown tool 'browser_click'" in error_of(box, "browser_click", ref="e1")
    schema = {"type": "object", "properties": {"flag": {"type": "boolean"}}, "required": []}
    assert argument_problem(schema, {"flag": 1}) == "argument 'flag' should be boolean, not int"


def test_read_file_numbers_lines_and_pages(box: Sandbox) -> None:
    (box.workspace / "f.txt").write_text("".join(f"line {n}\n" for n in range(1, 11)))
    content, _ = call(box, "read_file", path="f.txt", offset=4, limit=3)
    assert content == "     4\tline 4\n     5\tline 5\n     6\tline 6\n[lines 4-6 of 10]"
    full, _ = call(box, "read_file", path="f.txt")
    assert full.splitlines()[0] == "     1\tline 1" and "[lines" not in full
    assert "FileNotFoundError" in error_of(box, "read_file", path="missing.txt")


def test_write_file_makes_folders_and_the_sandbox_user_owns_them(box: Sandbox) -> None:
    content, _ = call(box, "write_file", path="a/b/c.txt", content="héllo\n")
    assert json.loads(content) == {"path": "a/b/c.txt", "bytes": 7}
    output, _ = call(box, "terminal", command="cat a/b/c.txt && echo more >> a/b/c.txt && touch a/b/new && echo ok")
    assert json.loads(output) == {"output": "héllo\nok\n", "exit_code": 0}


def test_patch_replace_mode(box: Sandbox) -> None:
    (box.workspace / "m.py").write_text("x = 1\ny = 1\n")
    assert "occurs 2 times" in error_of(box, "patch", path="m.py", old_string="= 1", new_string="= 2")
    assert "was not found" in error_of(box, "patch", path="m.py", old_string="z = 1", new_string="")
    content, _ = call(box, "patch", path="m.py", old_string="y = 1", new_string="y = 2")
    assert json.loads(content) == {"path": "m.py", "replaced": 1}
    call(box, "patch", path="m.py", old_string="= ", new_string=":= ", replace_all=True)
    assert (box.workspace / "m.py").read_text() == "x := 1\ny := 2\n"


def test_patch_unified_diff_mode(box: Sandbox) -> None:
    (box.workspace / "a.py").write_text("def f():\n    return 1\n\n\nprint(f())\n")
    (box.workspace / "old.txt").write_text("bye\n")
    diff = (
        "--- a/a.py\n+++ b/a.py\n@@ -1,2 +1,2 @@\n def f():\n-    return 1\n+    return 2\n"
        "--- /dev/null\n+++ b/new.txt\n@@ -0,0 +1,2 @@\n+hello\n+world\n"
        "--- a/old.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-bye\n"
    )
    content, is_error = call(box, "patch", diff=diff)
    assert not is_error and json.loads(content) == {"patched": ["a.py", "new.txt", "old.txt"]}
    assert (box.workspace / "a.py").read_text() == "def f():\n    return 2\n\n\nprint(f())\n"
    assert (box.workspace / "new.txt").read_text() == "hello\nworld\n"
    assert not (box.workspace / "old.txt").exists()
    stale = "--- a/a.py\n+++ b/a.py\n@@ -1,2 +1,2 @@\n def f():\n-    return 1\n+    return 3\n"
    assert "hunk 1 (at line 1) does not match" in error_of(box, "patch", diff=stale)
    assert (box.workspace / "a.py").read_text().count("return 2") == 1  # nothing half-applied


def test_search_files(box: Sandbox) -> None:
    (box.workspace / "src").mkdir()
    (box.workspace / "src" / "app.py").write_text("import os\n# TODO: fix\n")
    (box.workspace / "src" / "db.py").write_text("# todo later\n")
    (box.workspace / "notes.md").write_text("TODO in markdown\n")
    (box.workspace / "blob.bin").write_bytes(b"\0TODO")
    content, _ = call(box, "search_files", pattern="TODO", glob="*.py")
    assert content == "src/app.py:2: # TODO: fix"
    content, _ = call(box, "search_files", pattern="todo", ignore_case=True, path="src")
    assert content.splitlines() == ["src/app.py:2: # TODO: fix", "src/db.py:1: # todo later"]
    content, _ = call(box, "search_files", pattern="*.py", mode="files")
    assert content.splitlines() == ["src/app.py", "src/db.py"]
    content, _ = call(box, "search_files", pattern="TODO", limit=1)
    assert content.endswith("[stopped at 1 results]")
    assert "bad regular expression" in error_of(box, "search_files", pattern="(")


def test_terminal_output_is_capped_with_head_and_tail(box: Sandbox) -> None:
    context = ToolContext(box)
    toolbox = build_toolbox(["terminal"], context)
    result = asyncio.run(toolbox.call(ToolCall("c", "terminal", {"command": "seq 1 200000"})))
    output = json.loads(result.content)["output"]
    assert output.startswith("1\n2\n3\n") and output.endswith("199999\n200000\n")
    assert "bytes of output omitted" in output
    assert Flag.TRUNCATED_TOOL_OUTPUT in context.flags


def test_secrets_in_results_are_redacted(box: Sandbox) -> None:
    context = ToolContext(box, Redactor(["endpoint-key-12345678"]))
    toolbox = build_toolbox(["terminal"], context)
    command = "echo endpoint-key-12345678; echo ghp_abcdefghijklmnopqrstuvwxyz0123456789; echo AKIAABCDEFGHIJKLMNOP"
    result = asyncio.run(toolbox.call(ToolCall("c", "terminal", {"command": command})))
    assert json.loads(result.content)["output"] == "[REDACTED]\n[REDACTED]\n[REDACTED]\n"
    assert Flag.SECRETS_REDACTED in context.flags


def test_toolsets_by_name() -> None:
    assert parse_toolsets("terminal, file") == ["terminal", "file"]
    assert parse_toolsets("") == ["terminal", "file", "code"]
    assert parse_toolsets("browser") == ["browser"]  # every declared toolset is available now
    with pytest.raises(ValueError, match="unknown toolset 'bogus'"):
        parse_toolsets("terminal,bogus")
