"""What each subcategory of the taxonomy means, in words a model can write tasks from.

The taxonomy (tasks/taxonomy.py) holds only names; a synthesis prompt needs the
description of the entry it asks for and an idea or two of what such a task is.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from trajforge.tasks.taxonomy import TAXONOMY


@dataclass(frozen=True)
class Entry:
    """One subcategory of the taxonomy with its description and example ideas."""

    category: str
    subcategory: str
    description: str
    examples: tuple[str, ...]


_CATEGORY_TEXT = MappingProxyType(
    {
        "Terminal & Coding": "Work in a shell and with code: write, run and fix programs and scripts.",
        "Agent Tools": "Use the agent's own tools: memory, delegation, skills, todos, code execution, past sessions.",
        "Repository Tasks": "Work in a git repository of real code: fix, extend, test, review or restructure it.",
        "Browser Automation": "Drive a web browser against a site served for the task: navigate, read, fill in, look.",
        "Multi-Tool": "Tasks that need tools from three or more toolsets together.",
        "File Operations": "Organise, search, transform and archive files and folders.",
        "Scheduling": "Set up jobs that run later or repeatedly: cron entries, reminders, timed automation.",
        "Planning & Organization": "Turn a goal into a written plan, a breakdown of tasks or a checklist.",
        "Conversational": "Answer the user's question, or look one fact up in the environment.",
    }
)

_SUBCATEGORY_TEXT: MappingProxyType[str, tuple[str, str]] = MappingProxyType(
    {
        "script_writing": ("Write a script or small program that does a stated job.",
                           "Write report.py that prints the three most frequent IPs in logs/access.log."),
        "debugging": ("Find and fix a bug in existing code, shown by a failing test or a wrong output.",
                      "The tests in tests/ fail after the last change to calc.py; make them pass."),
        "environment_setup": ("Prepare an environment: virtualenvs, config files, dependencies, paths.",
                              "Make a virtualenv in .venv and write requirements.txt pinning what app.py imports."),
        "data_processing": ("Read, clean, aggregate or convert data files.",
                            "Total sales.csv by region into totals.csv sorted by amount."),
        "testing": ("Write or run tests and report on them.",
                    "Add pytest tests for parse_date covering leap years, and run them."),
        "documentation": ("Write or update documentation from the code.",
                          "Write a README.md section documenting every public function of textutils."),
        "memory_persistence": ("Save facts to the agent's memory and use them later.",
                               "Remember that the staging server is on port 8081, then confirm what you saved."),
        "task_delegation": ("Split a job and hand parts to sub-agents, then combine their results.",
                            "Have a sub-agent summarise each log file, then merge the summaries."),
        "skill_management": ("Create, view or update reusable skills of the agent.",
                             "Save the steps for rotating the logs as a skill named rotate-logs."),
        "todo_planning": ("Keep a todo list with the todo tool while working through a job.",
                          "Plan the three fixes with the todo tool and tick each off as you do it."),
        "code_execution": ("Compute an answer by running code rather than guessing it.",
                           "Compute the SHA-256 of every file in data/ and write them to sums.txt."),
        "session_recall": ("Find what was said or done in earlier sessions.",
                           "Look up which port we agreed on for the API in an earlier session."),
        "bug_fix": ("Fix a reported bug in a repository and commit the fix.",
                    "Issue: Store.total() ignores quantities; fix it and commit with a message naming the issue."),
        "feature_implementation": ("Add a feature to a repository, with tests.",
                                   "Add a --json flag to the CLI that prints the result as JSON."),
        "test_writing": ("Write tests for existing code in a repository.",
                         "Write tests for inventory/store.py reaching every branch of remove()."),
        "code_review": ("Review a change or a file and report problems with their lines.",
                        "Review the last commit and write REVIEW.md listing each problem with file and line."),
        "refactoring": ("Restructure code without changing behaviour; the tests keep passing.",
                        "Split calc.py's parse_and_eval into a parser and an evaluator; keep the tests green."),
        "navigation": ("Move through a web site's pages to find something.",
                       "Open {site_url} and find the price of the most expensive product."),
        "scraping": ("Extract structured data from web pages into a file.",
                     "Collect every product name and price from {site_url} into products.csv."),
        "form_filling": ("Fill in and submit a web form with given data.",
                         "Send the contact form at {site_url} with the name Ada and the message hello."),
        "screenshot_analysis": ("Look at a page visually and answer about what it shows.",
                                "Take a look at {site_url} and say which colour the buy button is."),
        "research_and_report": ("Gather facts with several tools and write a report.",
                                "Find the failing requests in the logs, check the code behind them, write REPORT.md."),
        "build_and_verify": ("Build something, then verify it works with tests or runs.",
                             "Build a CLI that converts the CSV to JSON, run it, and check the output parses."),
        "data_pipeline": ("Chain several steps that move and transform data end to end.",
                          "Fetch the data, clean it with a script, load it into SQLite and query a summary."),
        "organizing": ("Sort files into folders by a rule.",
                       "Sort downloads/ into folders by file kind; leave nothing loose."),
        "searching": ("Find files or content matching a description.",
                      "Find every file under src/ that mentions a TODO and list them in todos.txt."),
        "transforming": ("Change file contents or formats in bulk.",
                         "Convert every .ini file under configs/ to JSON next to it."),
        "archiving": ("Pack, compress, rotate or unpack files.",
                      "Archive the logs older than a week into old-logs.tar.gz and remove them."),
        "recurring_jobs": ("Schedule a job that repeats.",
                           "Add a cron entry that backs up data/ every night at 02:30."),
        "reminders": ("Schedule a one-off message or action for later.",
                      "Remind me tomorrow at 9 to renew the certificate."),
        "time_based_automation": ("Automate something that depends on dates or times.",
                                  "Write a script that deletes files older than 30 days, and schedule it weekly."),
        "project_planning": ("Write a plan with milestones for a project.",
                             "Write PLAN.md with weekly milestones to add login to the service."),
        "task_breakdown": ("Break a goal into small, ordered tasks.",
                           "Break 'move config to environment variables' into numbered steps in TASKS.md."),
        "checklists": ("Write a checklist for a recurring procedure.",
                       "Write RELEASE_CHECKLIST.md with at least eight '- [ ]' items."),
        "question_answering": ("Answer a technical question directly, briefly and correctly.",
                               "What is the difference between HTTP 401 and 403?"),
        "single_lookup": ("Look one fact up in the environment with one or two tool calls.",
                          "Which Python version is installed here?"),
    }
)  # fmt: skip


def entry(category: str, subcategory: str) -> Entry:
    """The taxonomy entry (category, subcategory) with its words; KeyError when it is not in the taxonomy."""
    if subcategory not in TAXONOMY.get(category, ()):
        raise KeyError(f"{category}/{subcategory} is not in the taxonomy")
    description, example = _SUBCATEGORY_TEXT[subcategory]
    return Entry(category, subcategory, f"{_CATEGORY_TEXT[category]} {description}", (example,))


def all_entries() -> list[Entry]:
    """Every subcategory of the taxonomy, in taxonomy order."""
    return [entry(category, sub) for category, subs in TAXONOMY.items() for sub in subs]
