"""Writes examples/kimi.jsonl and examples/glm-5.1.jsonl from the hand-written episodes below.

Run: .venv/bin/python examples/make_examples.py
The episodes are written by hand as chat messages; `trajforge.trace.render` lays
them out, so the rows follow FORMAT.md exactly.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path
from typing import Any

from trajforge.dataset import write_rows
from trajforge.trace import Episode, Message, TaskRef, ToolCall, render

SYSTEM = (
    "You are a capable software agent working in a sandboxed Linux workspace at /workspace. "
    "Use the tools to inspect and change files, run commands and verify your work before you answer."
)


def tool(name: str, description: str, **params: str) -> dict[str, Any]:
    props = {key: {"type": "string", "description": text} for key, text in params.items()}
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {"type": "object", "properties": props, "required": list(params)[:1]},
        },
    }


TERMINAL = tool("terminal", "Run a shell command in the workspace.", command="The command to run.")
READ = tool("read_file", "Read a text file with line numbers.", path="File path.")
WRITE = tool("write_file", "Write a text file.", path="File path.", content="Full new content.")
PATCH = tool("patch", "Replace an exact text in a file.", path="File path.", old="Text to find.", new="Replacement.")
SEARCH = tool("search_files", "Search file contents.", pattern="Regular expression.", path="Folder.")
CODE = tool("execute_code", "Run Python code and return its output.", code="Python source.")
MEMORY = tool("memory", "Save or read persistent notes.", action="add, read or remove.", content="The note.")
TODO = tool("todo", "Keep a todo list.", action="add, list or done.", item="The item.")
NAVIGATE = tool("browser_navigate", "Open a URL in the browser.", url="The URL.")
SNAPSHOT = tool("browser_snapshot", "Text snapshot of the current page.")
CRON = tool("cronjob", "Schedule a recurring job.", schedule="Cron expression.", command="What to run.")

CODING = [TERMINAL, READ, WRITE, PATCH, SEARCH, CODE]


def uid(name: str) -> str:
    return str(uuid.UUID(bytes=hashlib.md5(name.encode()).digest(), version=4))


def call(cid: str, name: str, **arguments: Any) -> ToolCall:
    return ToolCall(id=cid, name=name, arguments=arguments)


def result(cid: str, name: str, content: Any) -> Message:
    text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
    return Message(role="tool", content=text, tool_call_id=cid, name=name)


def gpt(reasoning: str | None, content: str | None = None, *calls: ToolCall) -> Message:
    return Message(role="assistant", reasoning=reasoning, content=content, tool_calls=list(calls))


def episode(key: str, category: str, sub: str, prompt: str, tools: list[dict[str, Any]], *turns: Message) -> Episode:
    messages = [Message(role="system", content=SYSTEM), Message(role="user", content=prompt), *turns]
    return Episode(id=uid(key), task=TaskRef(key, category, sub, prompt), messages=messages, tools=tools)


def kimi() -> list[Episode]:
    log = (
        "2026-11-02 10:00:01 ERROR db timeout\n2026-11-02 10:00:07 WARN retry 1\n2026-11-02 10:01:13 ERROR db timeout\n"
    )
    return [
        episode(
            "kimi-count-errors",
            "Terminal & Coding",
            "data_processing",
            "Count the ERROR lines in app.log and tell me which message is most common.",
            CODING,
            gpt(
                "The user wants the count of ERROR lines and the most common message. I'll look at the log first "
                "and count with grep in the same turn.",
                None,
                call("call_1", "terminal", command="head -n 3 app.log"),
                call("call_2", "terminal", command="grep -c ERROR app.log"),
            ),
            result("call_1", "terminal", {"output": log, "exit_code": 0}),
            result("call_2", "terminal", {"output": "2\n", "exit_code": 0}),
            gpt(
                "Two ERROR lines, both 'db timeout'. That is the most common message.",
                "There are **2** ERROR lines in `app.log`; the most common message is `db timeout` (both of them).",
            ),
        ),
        episode(
            "kimi-fix-test",
            "Repository Tasks",
            "bug_fix",
            "The test test_add in tests/test_calc.py fails. Find the bug and fix it.",
            CODING,
            gpt(
                "Let me run the test to see the failure.",
                None,
                call("c1", "terminal", command="python -m pytest -q tests/test_calc.py"),
            ),
            result(
                "c1",
                "terminal",
                {"output": "F\n    assert add(2, 3) == 5\nE   assert -1 == 5\n1 failed in 0.02s\n", "exit_code": 1},
            ),
            gpt(
                "add returns -1 for (2, 3): it subtracts. Read calc.py.", None, call("c2", "read_file", path="calc.py")
            ),
            result("c2", "read_file", "1\tdef add(a, b):\n2\t    return a - b\n"),
            gpt(
                "Line 2 uses minus. Patch it and rerun.",
                None,
                call("c3", "patch", path="calc.py", old="return a - b", new="return a + b"),
            ),
            result("c3", "patch", {"replaced": 1, "path": "calc.py"}),
            gpt(None, None, call("c4", "terminal", command="python -m pytest -q tests/test_calc.py")),
            result("c4", "terminal", {"output": "1 passed in 0.01s\n", "exit_code": 0}),
            gpt(
                "Fixed and verified.", "`add` subtracted instead of adding; it now returns `a + b` and the test passes."
            ),
        ),
        episode(
            "kimi-remember-editor",
            "Agent Tools",
            "memory_persistence",
            "Remember that I prefer vim keybindings, then tell me what you know about my editor preferences.",
            [MEMORY, TERMINAL],
            gpt(
                "Save the preference first, then read memory back.",
                None,
                call("m1", "memory", action="add", content="User prefers vim keybindings."),
            ),
            result("m1", "memory", {"ok": True, "entries": 1}),
            gpt(None, None, call("m2", "memory", action="read")),
            result("m2", "memory", {"entries": ["User prefers vim keybindings."]}),
            gpt(
                "Memory has exactly the note I stored.",
                "Noted: you prefer vim keybindings. That's all I have on record.",
            ),
        ),
        episode(
            "kimi-scrape-prices",
            "Browser Automation",
            "scraping",
            "Open http://127.0.0.1:8000/shop and list each product with its price.",
            [NAVIGATE, SNAPSHOT],
            gpt(
                "Navigate, then take a snapshot to read the product list.",
                None,
                call("b1", "browser_navigate", url="http://127.0.0.1:8000/shop"),
            ),
            result("b1", "browser_navigate", {"url": "http://127.0.0.1:8000/shop", "title": "Shop", "status": 200}),
            gpt(None, None, call("b2", "browser_snapshot")),
            result(
                "b2",
                "browser_snapshot",
                '- heading "Shop"\n- listitem: Kettle — €24.90\n- listitem: Teapot — €18.00\n'
                "- listitem: Mug « café » — €6.50",
            ),
            gpt(
                "Three products with prices, one with non-ASCII characters.",
                "| Product | Price |\n|---|---|\n| Kettle | €24.90 |\n| Teapot | €18.00 |\n| Mug « café » | €6.50 |",
            ),
        ),
        episode(
            "kimi-plan-release",
            "Planning & Organization",
            "task_breakdown",
            "Break the 1.0 release into a todo list of at most four steps.",
            [TODO],
            gpt(
                "Four steps: changelog, version bump, tag, publish. Add them all at once.",
                None,
                call("t1", "todo", action="add", item="Write the changelog"),
                call("t2", "todo", action="add", item="Bump the version to 1.0.0"),
                call("t3", "todo", action="add", item="Tag the release"),
                call("t4", "todo", action="add", item="Publish to PyPI"),
            ),
            result("t3", "todo", {"id": 3, "item": "Tag the release"}),
            result("t1", "todo", {"id": 1, "item": "Write the changelog"}),
            result("t4", "todo", {"id": 4, "item": "Publish to PyPI"}),
            result("t2", "todo", {"id": 2, "item": "Bump the version to 1.0.0"}),
            gpt("All four stored.", "The release plan has four items: changelog, version bump, tag, publish."),
        ),
        episode(
            "kimi-what-is-cron",
            "Conversational",
            "question_answering",
            "What does the cron expression '*/15 9-17 * * 1-5' mean?",
            [],
            gpt(
                "Every 15 minutes, hours 9 through 17, Monday to Friday.",
                "It runs every 15 minutes between 09:00 and 17:45, Monday to Friday.",
            ),
            Message(role="user", content="And at 18:00?"),
            gpt("Hour 18 is outside 9-17.", "No: 18:00 is outside the 9-17 hour range, so it does not run then."),
        ),
    ]


def glm() -> list[Episode]:
    return [
        episode(
            "glm-word-freq",
            "Terminal & Coding",
            "script_writing",
            "Write wordfreq.py that prints the three most frequent words of a file, and run it on poem.txt.",
            CODING,
            gpt(
                "Write the script.",
                None,
                call(
                    "w1",
                    "write_file",
                    path="wordfreq.py",
                    content=(
                        "import collections, sys\n"
                        "words = open(sys.argv[1]).read().lower().split()\n"
                        "for word, n in collections.Counter(words).most_common(3):\n"
                        "    print(word, n)\n"
                    ),
                ),
            ),
            result("w1", "write_file", {"path": "wordfreq.py", "bytes": 134}),
            gpt(None, None, call("w2", "terminal", command="python wordfreq.py poem.txt")),
            result("w2", "terminal", {"output": "the 4\nand 3\nsea 2\n", "exit_code": 0}),
            gpt("Done.", "`wordfreq.py` is written. On poem.txt: the (4), and (3), sea (2)."),
        ),
        episode(
            "glm-find-todos",
            "File Operations",
            "searching",
            "Find every TODO comment under src/ and list them by file.",
            CODING,
            gpt("Search for TODO.", None, call("s1", "search_files", pattern="TODO", path="src")),
            result("s1", "search_files", "src/app.py:12: # TODO: handle empty input\nsrc/db.py:40: # TODO: add index"),
            gpt("Two hits.", "- src/app.py line 12: handle empty input\n- src/db.py line 40: add index"),
        ),
        episode(
            "glm-nightly-backup",
            "Scheduling",
            "recurring_jobs",
            "Schedule a nightly backup of ./data to ./backups at 02:30.",
            [CRON, TERMINAL],
            gpt(
                "Cron: 30 2 * * *.",
                None,
                call("j1", "cronjob", schedule="30 2 * * *", command="tar czf backups/data-$(date +%F).tgz data"),
            ),
            result("j1", "cronjob", {"job_id": "job-1", "next_run": "2026-11-26T02:30:00"}),
            gpt(None, "Scheduled job-1: every night at 02:30 it archives ./data into ./backups."),
        ),
        episode(
            "glm-mean-csv",
            "Agent Tools",
            "code_execution",
            "Compute the mean of the 'score' column in scores.csv.",
            [CODE],
            gpt(
                "Use Python's csv module.",
                None,
                call(
                    "x1",
                    "execute_code",
                    code=(
                        "import csv\nrows = list(csv.DictReader(open('scores.csv')))\n"
                        "print(sum(float(r['score']) for r in rows) / len(rows))"
                    ),
                ),
            ),
            result("x1", "execute_code", {"stdout": "81.25\n", "stderr": "", "exit_code": 0}),
            gpt("81.25.", "The mean score is **81.25**."),
        ),
        episode(
            "glm-report",
            "Multi-Tool",
            "research_and_report",
            "Check the Python version, count the .py files, and save both facts to memory and REPORT.md.",
            [TERMINAL, WRITE, MEMORY],
            gpt(
                "Run both commands in parallel.",
                None,
                call("r1", "terminal", command="python3 --version"),
                call("r2", "terminal", command="find . -name '*.py' | wc -l"),
            ),
            result("r2", "terminal", {"output": "17\n", "exit_code": 0}),
            result("r1", "terminal", {"output": "Python 3.11.7\n", "exit_code": 0}),
            gpt(
                "Write the report and the memory note together.",
                None,
                call("r3", "write_file", path="REPORT.md", content="# Report\n\n- Python 3.11.7\n- 17 .py files\n"),
                call("r4", "memory", action="add", content="Workspace: Python 3.11.7, 17 .py files."),
            ),
            result("r3", "write_file", {"path": "REPORT.md", "bytes": 42}),
            result("r4", "memory", {"ok": True, "entries": 1}),
            gpt("Both saved.", "Python 3.11.7 and 17 `.py` files; saved to REPORT.md and to memory."),
        ),
        episode(
            "glm-readme",
            "Terminal & Coding",
            "documentation",
            "Add a Usage section to README.md that shows how to run cli.py.",
            CODING,
            gpt("Read the README first.", None, call("d1", "read_file", path="README.md")),
            result("d1", "read_file", "1\t# tool\n2\t\n3\tA small tool.\n"),
            gpt(
                None,
                None,
                call(
                    "d2",
                    "patch",
                    path="README.md",
                    old="A small tool.\n",
                    new="A small tool.\n\n## Usage\n\n```\npython cli.py --help\n```\n",
                ),
            ),
            result("d2", "patch", {"replaced": 1, "path": "README.md"}),
            gpt("Added.", "README.md now has a Usage section showing `python cli.py --help`."),
        ),
    ]


def main() -> None:
    here = Path(__file__).parent
    for name, episodes in (("kimi", kimi()), ("glm-5.1", glm())):
        count = write_rows(here / f"{name}.jsonl", (render(e) for e in episodes))
        print(f"wrote {count} rows to {here / f'{name}.jsonl'}")


if __name__ == "__main__":
    main()
