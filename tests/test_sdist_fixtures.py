"""Released source distributions as task fixtures: cache, offline use, pinning, unpacking, mutations.

The archive tests build their own small sdist (no network). One test fetches a
real sdist through pip and skips when the package index cannot be reached.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import tarfile
from pathlib import Path

import pytest
import yaml

from trajforge.runner.task_judging import judge_task
from trajforge.sandbox import SandboxConfig, SandboxFactory
from trajforge.tasks import load_tasks
from trajforge.tasks.sdist import SdistError, apply_mutation, cached_sdist, fetch_sdist, unpack_sdist

from .harness import BACKENDS

LIB = 'def double(x):\n    """Twice x."""\n    return x * 2\n'
CHECK = "import trajforge_check as tc\ntc.unchanged('test_mylib.py')\ntc.pytest(['test_mylib.py'])\ntc.committed(1)\n"
TESTS = "from mylib import double\n\n\ndef test_double():\n    assert double(3) == 6\n"


def _sdist(path: Path, files: dict[str, str], top: str = "mylib-1.0") -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{top}/{name}" if top else name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache" / "sdists"
    folder.mkdir(parents=True)
    monkeypatch.setenv("TRAJFORGE_CACHE", str(tmp_path / "cache"))
    _sdist(folder / "mylib-1.0.tar.gz", {"mylib.py": LIB, "test_mylib.py": TESTS, "PKG-INFO": "Name: mylib\n"})
    return folder


def test_a_cached_archive_is_used_offline_and_checked_against_its_pin(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")  # nothing listens: any download would fail
    archive = cache / "mylib-1.0.tar.gz"
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    assert fetch_sdist("mylib", "1.0", digest) == archive
    with pytest.raises(SdistError, match="not the pinned"):
        fetch_sdist("mylib", "1.0", "0" * 64)
    with pytest.raises(SdistError, match=r"not cached .* cannot be downloaded"):
        fetch_sdist("nothere", "9.9")


def test_unpacking_drops_the_top_folder_and_refuses_escapes(tmp_path: Path) -> None:
    archive = _sdist(tmp_path / "a.tar.gz", {"pkg/m.py": "x = 1\n", "README": "r\n"})
    assert unpack_sdist(archive, tmp_path / "out") == ["README", "pkg/m.py"]
    assert (tmp_path / "out" / "pkg" / "m.py").read_text() == "x = 1\n"
    evil = _sdist(tmp_path / "evil.tar.gz", {"../outside.py": "boom\n"}, top="")
    with pytest.raises(tarfile.TarError):
        unpack_sdist(evil, tmp_path / "out2")
    assert not (tmp_path / "outside.py").exists()


def test_a_mutation_must_match_exactly_once(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("a = 1\na = 1\nb = 2\n")
    apply_mutation(tmp_path, "m.py", "b = 2", "b = 3")
    assert (tmp_path / "m.py").read_text().endswith("b = 3\n")
    for old in ("a = 1", "zzz"):
        with pytest.raises(SdistError, match="occurs"):
            apply_mutation(tmp_path, "m.py", old, "x")


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_task_on_a_mutated_sdist_is_judged_by_its_tests(cache: Path, tmp_path: Path, backend: str) -> None:
    task = {
        "id": "real-double", "category": "Repository Tasks", "subcategory": "bug_fix",
        "prompt": "The tests fail since the last commit; fix the library and commit.",
        "fixtures": {"sdists": [{"name": "mylib", "version": "1.0", "remove": ["PKG-INFO"], "mutations": [
            {"file": "mylib.py", "old": "return x * 2", "new": "return x * 3", "message": "Faster double"}]}]},
        "check_python": CHECK,
        "oracle": {"steps": [
            {"tool": "terminal", "args": {"command": "git log --format=%s && ls"}},
            {"tool": "patch", "args": {"path": "mylib.py", "old_string": "x * 3", "new_string": "x * 2"}},
            {"tool": "terminal", "args": {"command": "git commit -qam 'Fix double' && git log --oneline | wc -l"}}],
            "answer": "Fixed; history: {{result 1}}; commits: {{result 3}}"},
        "negatives": [{"name": "lazy", "answer": "Done."}],
    }  # fmt: skip
    spec = tmp_path / "tasks.yaml"
    spec.write_text(yaml.safe_dump([task]))
    load = load_tasks([spec])
    assert not load.problems
    plays = asyncio.run(judge_task(load.tasks[0], SandboxFactory(SandboxConfig(backend=backend))))  # type: ignore[arg-type]
    assert [(p.label, p.outcome, p.misjudged) for p in plays] == [
        ("oracle", "passed", False),
        ("lazy", "failed", False),
    ]
    oracle = plays[0].episode
    assert oracle is not None
    history = next(m.content or "" for m in oracle.messages if m.role == "tool")
    assert "Faster double" in history and "Import mylib 1.0" in history and "PKG-INFO" not in history


def test_a_real_sdist_is_fetched_once_through_pip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAJFORGE_CACHE", str(tmp_path))
    try:
        archive = fetch_sdist("inflection", "0.5.1", "1a29730d366e996aaacffb2f1f1cb9593dc38e2ddd30c91250c6dde09ea9b417")
    except SdistError as exc:
        pytest.skip(f"the package index is not reachable: {exc}")
    assert cached_sdist("inflection", "0.5.1") == archive
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    assert fetch_sdist("inflection", "0.5.1") == archive  # offline now: from the cache
    assert "inflection/__init__.py" in unpack_sdist(archive, tmp_path / "src")
