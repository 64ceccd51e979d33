"""Helpers for task checks, run inside the sandbox on its own Python (standard library only).

A check finds this module on PYTHONPATH (`import trajforge_check as tc`) and as
the command `trajforge-check` (PATH). Every helper that judges raises
`CheckFailed` with one line saying what is wrong; the command prints that line
and exits 1 (0 when everything holds, 2 on bad usage).

Importing the module also appends the working folder (the workspace) to sys.path, after the helpers
and the standard library, so a check program can import the agent's modules (`from primes import f`).

Python:
    tc.answer()                      the agent's final answer ("" when none)
    tc.seed(), tc.rng()              the episode's seed and a random.Random seeded with it
    tc.fixture()                     {relative path: sha256} of the workspace as set-up left it
    tc.unchanged(*paths)             those files are byte for byte as set-up left them
    tc.same_content(original, path)  `path` holds what fixture file `original` held (moved, copied, archived)
    tc.pytest(args, require=[...], min_passed=1, allow_skipped=False) -> Results
    tc.junit(path) -> Results        {test name: passed|failed|error|skipped} from a JUnit XML report
    tc.same_json(a, b), tc.same_csv(a, b)     files equal by value (key order, spacing, 1 vs 1.0 ignored)
    tc.compare_program(argv, cases, reference) run the agent's program on each case, compare whole outputs
    tc.answer_states(*values)        each value appears in the answer (numbers compared as numbers)
    tc.run_with_files({path: text}, argv)  run argv in a copy of the workspace with those files replaced
    tc.git(*args), tc.committed(min_new=1, branch=None)  git output; the work committed (clean tree, new commits)
    tc.run_mutant(path, old, new, argv) run argv in a copy of the workspace where `path` has `old` replaced by
                                     `new` (mutation testing: the agent's tests must fail on a broken copy)

Command:
    trajforge-check pytest [--require NAME]... [--min-passed N] [--allow-skipped] [--] PYTEST-ARGS...
    trajforge-check unchanged PATH...
    trajforge-check same-content ORIGINAL PATH
    trajforge-check same-json A B | same-csv A B
    trajforge-check answer-states VALUE...
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

if os.getcwd() not in sys.path:
    sys.path.append(os.getcwd())


class CheckFailed(Exception):
    """What the check found wrong, in one line."""


def _report(kind: type[BaseException], error: BaseException, trace: Any) -> None:
    """An uncaught CheckFailed is one line (and exit 1), not a traceback."""
    if isinstance(error, CheckFailed):
        print(f"check failed: {error}", file=sys.stderr)
    else:
        sys.__excepthook__(kind, error, trace)


sys.excepthook = _report


def require(condition: object, message: str) -> None:
    """Raise CheckFailed(message) unless `condition` holds."""
    if not condition:
        raise CheckFailed(message)


def answer() -> str:
    """The agent's final answer (empty when the episode ended without one)."""
    path = os.environ.get("TRAJFORGE_ANSWER")
    return Path(path).read_text(encoding="utf-8") if path and Path(path).is_file() else ""


def seed() -> int:
    """The episode's seed (the same one set-up commands saw)."""
    return int(os.environ.get("TRAJFORGE_SEED", "0"))


def rng(salt: str = "") -> random.Random:
    """A random.Random seeded with the episode's seed (and `salt`, for independent streams)."""
    return random.Random(f"{seed()}:{salt}" if salt else seed())


def fixture() -> dict[str, str]:
    """Relative path -> SHA-256 of each workspace file as set-up left it."""
    path = os.environ.get("TRAJFORGE_FIXTURE")
    require(path and Path(path).is_file(), "no fixture manifest (TRAJFORGE_FIXTURE) in this environment")
    return dict(json.loads(Path(str(path)).read_text(encoding="utf-8")))


def sha256(path: str | Path) -> str:
    """The SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def unchanged(*paths: str) -> None:
    """Each file (relative to the workspace) is present and byte for byte as set-up left it."""
    known = fixture()
    for path in paths:
        require(path in known, f"{path} was not a fixture file")
        require(Path(path).is_file(), f"{path} was removed")
        require(sha256(path) == known[path], f"{path} was changed (it must stay as it was)")


def same_content(original: str, path: str) -> None:
    """`path` holds exactly what fixture file `original` held."""
    known = fixture()
    require(original in known, f"{original} was not a fixture file")
    require(Path(path).is_file(), f"{path} does not exist")
    require(sha256(path) == known[original], f"{path} does not hold the original content of {original}")


class Results(dict[str, str]):
    """Test name -> status (`passed`, `failed`, `error`, `skipped`); names as `file::Class::test` or `test`."""

    def count(self, status: str) -> int:
        """How many tests ended with `status`."""
        return sum(1 for value in self.values() if value == status)

    def status(self, name: str) -> str | None:
        """The status of the test whose full name is `name` or ends with `::name` (failed wins over passed)."""
        found = [value for key, value in self.items() if key == name or key.endswith("::" + name)]
        for worst in ("error", "failed", "skipped", "passed"):
            if worst in found:
                return worst
        return None

    def summary(self) -> str:
        """Counts by status, for messages."""
        return ", ".join(f"{self.count(s)} {s}" for s in ("passed", "failed", "error", "skipped") if self.count(s))


def junit(path: str | Path) -> Results:
    """The results of a JUnit XML report (pytest's --junitxml)."""
    results = Results()
    for case in ElementTree.parse(path).iter("testcase"):
        module = (case.get("classname") or "").replace(".", "/")
        name = f"{module}::{case.get('name')}" if module else str(case.get("name"))
        kinds = {child.tag for child in case}
        status = next((k for k in ("error", "failure", "skipped") if k in kinds), "passed")
        results[name] = {"failure": "failed"}.get(status, status)
    return results


def pytest(
    args: Sequence[str] = (),
    require_passed: Iterable[str] = (),
    min_passed: int = 1,
    allow_skipped: bool = False,
    timeout: float = 240,
) -> Results:
    """Run pytest with a JUnit report and demand: nothing failed or errored, nothing skipped (unless allowed),
    at least `min_passed` passed, and every test in `require_passed` (a name or a `::`-suffix) passed."""
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "junit.xml"
        argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}", *args]
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise CheckFailed(f"pytest did not finish in {timeout:g} s") from None
        require(report.is_file(), f"pytest wrote no report (exit {done.returncode}): {done.stdout[-500:]}")
        results = junit(report)
    bad = sorted(name for name, status in results.items() if status in ("failed", "error"))
    require(not bad, f"tests failed: {', '.join(bad[:10])}\n{done.stdout[-1500:]}")
    skipped = sorted(name for name, status in results.items() if status == "skipped")
    require(allow_skipped or not skipped, f"tests skipped: {', '.join(skipped[:10])}")
    require(results.count("passed") >= min_passed, f"only {results.count('passed')} test(s) passed")
    for name in require_passed:
        require(results.status(name) == "passed", f"test {name} did not pass ({results.status(name) or 'absent'})")
    return results


def run_mutant(path: str, old: str, new: str, argv: Sequence[str], timeout: float = 120) -> Any:
    """Run `argv` in a copy of the workspace whose file `path` has `old` replaced by `new`; the
    subprocess.CompletedProcess (text output). The workspace itself is left untouched."""
    text = Path(path).read_text(encoding="utf-8")
    require(old in text, f"{path} no longer contains {old!r}; it was not to be changed")
    return run_with_files({path: text.replace(old, new)}, argv, timeout)


def run_with_files(files: dict[str, str], argv: Sequence[str], timeout: float = 120) -> Any:
    """Run `argv` in a copy of the workspace with `files` (path -> text) written over it; the
    subprocess.CompletedProcess. Used to run the agent's tests against a reference or a broken version."""
    folder = tempfile.mkdtemp(prefix="mutant-")
    shutil.copytree(".", folder, dirs_exist_ok=True, symlinks=True, ignore=shutil.ignore_patterns(".git"))
    for path, text in files.items():
        Path(folder, path).parent.mkdir(parents=True, exist_ok=True)
        Path(folder, path).write_text(text, encoding="utf-8")
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        return subprocess.run(list(argv), cwd=folder, capture_output=True, text=True, timeout=timeout, env=env,
                              check=False)  # fmt: skip
    except subprocess.TimeoutExpired:
        raise CheckFailed(f"{' '.join(argv)} did not finish in {timeout:g} s in a changed copy") from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def git(*args: str) -> str:
    """The output of a git command in the workspace (stripped); CheckFailed when git fails."""
    done = subprocess.run(["git", *args], capture_output=True, text=True, timeout=60, check=False)
    require(done.returncode == 0, f"git {' '.join(args)} failed: {done.stderr.strip()[-200:]}")
    return done.stdout.strip()


def committed(min_new: int = 1, branch: str | None = None) -> None:
    """The work is committed: a clean tree, at least `min_new` commits beyond the fixture's, on `branch`."""
    require(not git("status", "--porcelain"), f"uncommitted changes: {git('status', '--short')[:300]}")
    if branch is not None:
        require(git("branch", "--show-current") == branch, f"not on branch {branch}")
    new = int(git("rev-list", "--count", "HEAD", "--since=2026-01-31"))
    require(new >= min_new, f"{new} new commit(s); expected at least {min_new}")


def killed(path: str, old: str, new: str, argv: Sequence[str], what: str) -> None:
    """The tests run by `argv` fail (exit 1) when `path` has `old` replaced by `new` (`what` names the bug)."""
    run = run_mutant(path, old, new, argv)
    require(run.returncode == 1, f"the tests do not catch {what} (exit {run.returncode}): {run.stdout[-300:]}")


def _normal(value: Any) -> Any:
    """A JSON value with numbers as floats, so that 1 and 1.0 compare equal."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, list):
        return [_normal(v) for v in value]
    return {str(k): _normal(v) for k, v in value.items()}


def same_json(actual: str | Path, expected: str | Path | Any) -> None:
    """The JSON file `actual` holds the same value as the file `expected` (or as the Python value `expected`)."""
    try:
        got = json.loads(Path(actual).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CheckFailed(f"{actual}: not readable JSON: {exc}") from None
    want = json.loads(Path(expected).read_text(encoding="utf-8")) if isinstance(expected, (str, Path)) else expected
    require(_normal(got) == _normal(want), f"{actual} does not hold the expected value")


def read_csv(path: str | Path) -> list[dict[str, str]]:
    """The rows of a CSV file with a header, cells stripped."""
    with open(path, newline="", encoding="utf-8") as handle:
        return [{k.strip(): (v or "").strip() for k, v in row.items() if k} for row in csv.DictReader(handle)]


def _cell(text: str) -> Any:
    try:
        return round(float(text), 6)
    except ValueError:
        return text


def same_csv(actual: str | Path, expected: str | Path | list[dict[str, Any]], ordered: bool = True) -> None:
    """The CSV file `actual` has the same header and rows by value as `expected` (a file or rows);
    numbers compare as numbers ("3" equals "3.0"); `ordered=False` ignores row order."""
    try:
        got = [{k: _cell(v) for k, v in row.items()} for row in read_csv(actual)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise CheckFailed(f"{actual}: not a readable CSV file: {exc}") from None
    rows = read_csv(expected) if isinstance(expected, (str, Path)) else expected
    want = [{k: _cell(str(v)) for k, v in row.items()} for row in rows]
    if not ordered:
        got, want = sorted(got, key=repr), sorted(want, key=repr)
    require(bool(got) == bool(want), f"{actual} has no rows" if not got else f"{actual} should have no rows")
    if got and want:
        require(set(got[0]) == set(want[0]), f"{actual} has columns {sorted(got[0])}, expected {sorted(want[0])}")
    require(len(got) == len(want), f"{actual} has {len(got)} rows, expected {len(want)}")
    for number, (row, wanted) in enumerate(zip(got, want, strict=True), start=2):
        require(row == wanted, f"{actual} line {number}: {row} but expected {wanted}")


def compare_program(
    argv: Sequence[str],
    cases: Iterable[str | Sequence[str]],
    reference: Callable[[str | Sequence[str]], str],
    *,
    stdin: bool = False,
    timeout: float = 30,
) -> None:
    """Run the agent's program on each case and compare its whole output with `reference(case)`.

    A case is the standard input (stdin=True) or extra arguments; trailing spaces on lines are ignored.
    """
    for case in cases:
        text = case if stdin and isinstance(case, str) else None
        extra = [] if stdin else [case] if isinstance(case, str) else list(case)
        try:
            done = subprocess.run([*argv, *extra], input=text, capture_output=True, text=True, timeout=timeout,
                                  check=False)  # fmt: skip
        except subprocess.TimeoutExpired:
            raise CheckFailed(f"{' '.join(argv)} did not finish in {timeout:g} s on {case!r}") from None
        got, want = _lines(done.stdout), _lines(reference(case))
        require(done.returncode == 0, f"{' '.join(argv)} exited {done.returncode} on {case!r}: {done.stderr[-300:]}")
        require(got == want, f"{' '.join(argv)} on {str(case)[:80]!r}: printed {got[:5]}..., expected {want[:5]}...")


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.strip("\n").splitlines()]


_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


def _numbers(text: str) -> list[float]:
    found = []
    for token in _NUMBER.findall(text):
        try:
            found.append(float(token.replace(",", "")))
        except ValueError:
            continue
    return found


def answer_states(*values: object, text: str | None = None, tolerance: float = 1e-6) -> None:
    """Each value appears in the answer: numbers as a number in it (within `tolerance`, so a rounded
    figure counts), strings case-insensitively."""
    said = answer() if text is None else text
    require(said.strip(), "the final answer is empty")
    numbers = _numbers(said)
    for value in values:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            found = any(math.isclose(n, float(value), rel_tol=1e-9, abs_tol=tolerance) for n in numbers)
            require(found, f"the answer does not state {value}")
        else:
            require(str(value).lower() in said.lower(), f"the answer does not mention {value!r}")


def _main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    try:
        if command == "pytest":
            _pytest_command(rest)
        elif command == "unchanged":
            unchanged(*rest)
        elif command == "same-content" and len(rest) == 2:
            same_content(rest[0], rest[1])
        elif command == "same-json" and len(rest) == 2:
            same_json(rest[0], rest[1])
        elif command == "same-csv" and len(rest) == 2:
            same_csv(rest[0], rest[1])
        elif command == "answer-states":
            answer_states(*[_value(v) for v in rest])
        else:
            print(f"trajforge-check: unknown command or arguments: {' '.join(argv)}", file=sys.stderr)
            return 2
    except CheckFailed as exc:
        print(f"check failed: {exc}")
        return 1
    print("check passed")
    return 0


def _value(text: str) -> object:
    try:
        return float(text.replace(",", "")) if _NUMBER.fullmatch(text) else text
    except ValueError:
        return text


def _pytest_command(rest: list[str]) -> None:
    required: list[str] = []
    args: list[str] = []
    min_passed, allow_skipped = 1, False
    items = iter(rest)
    for item in items:
        if item == "--require":
            required.append(next(items, ""))
        elif item == "--min-passed":
            min_passed = int(next(items, "1"))
        elif item == "--allow-skipped":
            allow_skipped = True
        elif item == "--":
            args.extend(items)
        else:
            args.append(item)
    results = pytest(args, required, min_passed, allow_skipped)
    print(f"pytest: {results.summary()}")


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
