"""A task's environment in a sandbox: fixtures laid out, sites served, and the check run at the end."""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import shutil
import time
from pathlib import Path
from types import TracebackType

from trajforge.agent.sites import EpisodeSites
from trajforge.sandbox import ExecRequest, Sandbox
from trajforge.tasks import GitFixture, LoadedTask, Mutation, SdistFixture
from trajforge.tasks.checking import ANSWER_FILE, FIXTURE_FILE, exports, fixture_manifest, helper_files
from trajforge.tasks.sdist import SdistError, apply_mutation, fetch_sdist, unpack_sdist
from trajforge.tools.agent.home_helper import helper_files as home_helper_files
from trajforge.trace import Outcome

CHECK_TIMEOUT = 300.0
FIXTURE_TIME = 1_767_225_600  # 2026-01-01 00:00 UTC
SETUP_TIMEOUT = 300.0
_GITCONFIG = """\
[user]
\tname = Trajforge Agent
\temail = agent@trajforge.invalid
[init]
\tdefaultBranch = main
[safe]
\tdirectory = *
[advice]
\tdetachedHead = false
"""


class EnvironmentSetupError(RuntimeError):
    """A fixture could not be laid out or a setup command failed; the message says which."""


class TaskEnvironment:
    """Use as `async with TaskEnvironment(task, sandbox) as env:`; `env.prompt` is what the user says."""

    def __init__(self, task: LoadedTask, sandbox: Sandbox, seed: int = 0) -> None:
        """`seed`: the episode's seed (`TRAJFORGE_SEED` of set-up commands and the check)."""
        self.task = task
        self.sandbox = sandbox
        self.seed = seed
        self._fixture_hashes: dict[str, str] = {}
        self.sites = EpisodeSites()
        self.site_urls = self.sites.urls
        """Site name -> its URL (`http://NAME.test/`, the same in every episode)."""

    @property
    def prompt(self) -> str:
        """The task's prompt with `{site_url}` (and `{site_url:NAME}`) filled in."""
        text = self.task.spec.prompt
        for name, url in self.site_urls.items():
            text = text.replace(f"{{site_url:{name}}}", url)
        if self.site_urls:
            text = text.replace("{site_url}", next(iter(self.site_urls.values())))
        return text

    async def __aenter__(self) -> TaskEnvironment:
        try:
            await self._prepare()
        except BaseException:
            self.close()
            raise
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release what the environment holds (its sites live in this process and need no stopping)."""

    async def _prepare(self) -> None:
        fixtures = self.task.spec.fixtures
        self.sandbox.write_text(self.sandbox.info.home / ".gitconfig", _GITCONFIG)
        for path, text in fixtures.files.items():
            self.sandbox.write_text(self.sandbox.resolve(path), text)
        for folder, destination in fixtures.folders.items():
            self._copy_folder(folder, self.sandbox.resolve(destination))
        for number, repo in enumerate(fixtures.git):
            await self._git(repo, number)
        for site in fixtures.sites:
            self.sites.add(site, self._fixture(site.folder) if site.folder else None)
        for number, source in enumerate(fixtures.sdists):
            await self._sdist(source, number)
        self._fix_times(self.sandbox.workspace, since=None)
        setup_started = time.time() - 1
        if fixtures.setup:
            prefix = self._check_files({"TRAJFORGE_SEED": str(self.seed)})
            for command in fixtures.setup:
                await self._run(prefix + command, "setup command", shown=command)
        # Setup commands may date files on purpose (touch -d): only what they made "now" is fixed.
        self._fix_times(self.sandbox.workspace, since=setup_started)
        self._fixture_hashes = fixture_manifest(self.sandbox.workspace)

    @staticmethod
    def _fix_times(root: Path, since: float | None) -> None:
        """Give fixture files (those changed since `since`, or all) one fixed time: `ls -l` shows it,
        and it must not differ between repeats of an episode."""
        for path in [root, *(Path(folder) / name for folder, dirs, files in os.walk(root) for name in dirs + files)]:
            if since is None or path.lstat().st_mtime >= since:
                os.utime(path, (FIXTURE_TIME, FIXTURE_TIME), follow_symlinks=False)

    def _fixture(self, name: str) -> Path:
        path = (self.task.fixture_root / name).resolve()
        if not path.is_dir() or self.task.fixture_root.resolve() not in path.parents:
            raise EnvironmentSetupError(
                f"task {self.task.spec.id}: no fixture folder {name!r} in {self.task.fixture_root}"
            )
        return path

    def _copy_folder(self, name: str, destination: Path) -> None:
        shutil.copytree(self._fixture(name), destination, dirs_exist_ok=True, symlinks=True)
        self._adopt_tree(destination)

    def _adopt_tree(self, root: Path) -> None:
        self.sandbox.adopt(root)
        for folder, dirs, files in os.walk(root):
            for name in dirs + files:
                self.sandbox.adopt(Path(folder) / name)

    async def _run(self, command: str, what: str, shown: str | None = None) -> str:
        result = await self.sandbox.run(ExecRequest(command, timeout=SETUP_TIMEOUT, fresh=True))
        if result.exit_code != 0:
            raise EnvironmentSetupError(
                f"task {self.task.spec.id}: {what} failed (exit {result.exit_code}): {shown or command}\n"
                f"{result.output[-2000:]}"
            )
        return result.output

    def _check_files(self, variables: dict[str, str]) -> str:
        """Write the check helpers into the private folder (over anything there) and return the exports."""
        private = self.sandbox.info.home / ".trajforge"
        for relative, text in {**helper_files(), **home_helper_files()}.items():
            self.sandbox.write_text(private / relative, text)
            if relative.startswith("bin/"):
                (private / relative).chmod(0o755)
        return exports(variables, self.sandbox.visible(private))

    async def _git(self, repo: GitFixture, number: int) -> None:
        target = self.sandbox.resolve(repo.path)
        if repo.url:
            await self._clone(repo, target)
            return
        target.mkdir(parents=True, exist_ok=True)
        self.sandbox.adopt(target)
        if repo.folder:
            self._copy_folder(repo.folder, target)
        where = shlex.quote(self.sandbox.visible(target))
        await self._run(f"cd {where} && git init -q -b main", "git init")
        commits: list[tuple[str, dict[str, str | None], str | None]] = []
        if repo.folder:
            commits.append(("Initial commit", {}, None))
        commits += [(c.message, c.files, c.branch) for c in repo.commits]
        for index, (message, files, branch) in enumerate(commits):
            if branch:
                await self._run(f"cd {where} && (git checkout -q {branch} 2>/dev/null || git checkout -q -b {branch})",
                                "git checkout")  # fmt: skip
            for path, text in files.items():
                file = self.sandbox.resolve(str(Path(repo.path) / path))
                if text is None:
                    file.unlink(missing_ok=True)
                else:
                    self.sandbox.write_text(file, text)
            # Fixed dates: the same task always builds the same history.
            date = f"2026-01-{index % 28 + 1:02d}T{10 + number}:00:00+00:00"
            await self._run(
                f"cd {where} && git add -A && GIT_AUTHOR_DATE={date} GIT_COMMITTER_DATE={date} "
                f"git commit -q --allow-empty -m {shlex.quote(message)}",
                "git commit",
            )
        if repo.checkout:
            await self._run(f"cd {where} && git checkout -q {shlex.quote(repo.checkout)}", "git checkout")

    async def _sdist(self, source: SdistFixture, number: int) -> None:
        """A released source distribution (fetched on the host, cached) unpacked as a repository, with
        its mutations: those with a message committed one by one after the import."""
        target = self.sandbox.resolve(source.path)
        try:
            archive = await asyncio.to_thread(fetch_sdist, source.name, source.version, source.sha256)
            await asyncio.to_thread(unpack_sdist, archive, target)
            for path in source.remove:
                (target / path).unlink(missing_ok=True)
            for early in (m for m in source.mutations if m.message is None):
                apply_mutation(target, early.file, early.old, early.new)
        except SdistError as exc:
            raise EnvironmentSetupError(f"task {self.task.spec.id}: {exc}") from None
        self._adopt_tree(target)
        where = shlex.quote(self.sandbox.visible(target))
        steps: list[tuple[str, Mutation | None]] = [(f"Import {source.name} {source.version}", None)]
        steps += [(m.message, m) for m in source.mutations if m.message is not None]
        await self._run(f"cd {where} && git init -q -b main", "git init")
        for index, (message, mutation) in enumerate(steps):
            if mutation is not None:
                try:
                    apply_mutation(target, mutation.file, mutation.old, mutation.new)
                except SdistError as exc:
                    raise EnvironmentSetupError(f"task {self.task.spec.id}: {exc}") from None
            date = f"2026-01-{index % 28 + 1:02d}T{20 + number % 4}:00:00+00:00"
            await self._run(f"cd {where} && git add -A && GIT_AUTHOR_DATE={date} GIT_COMMITTER_DATE={date} "
                            f"git commit -q -m {shlex.quote(message)}", "git commit")  # fmt: skip

    async def _clone(self, repo: GitFixture, target: Path) -> None:
        # On the host: a sandbox without network could not fetch. The clone is then given to the sandbox user.
        argv = ["git", "clone", "-q", *(["--branch", repo.ref] if repo.ref else []), str(repo.url), str(target)]
        process = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        output, _ = await process.communicate()
        if process.returncode != 0:
            raise EnvironmentSetupError(
                f"task {self.task.spec.id}: git clone {repo.url} failed: {output.decode()[-500:]}"
            )
        self._adopt_tree(target)

    async def check(self, answer: str | None = None) -> tuple[Outcome, str]:
        """Run the task's check in the sandbox: passed on exit 0, failed otherwise, error on a timeout.

        `answer` is the agent's final answer, given to the check as the file `$TRAJFORGE_ANSWER`.
        """
        spec = self.task.spec
        if not spec.has_check:
            return Outcome.NONE, ""
        private = self.sandbox.info.home / ".trajforge"
        self.sites.write_state(self.sandbox)
        self.sandbox.write_text(private / ANSWER_FILE, answer or "")
        self.sandbox.write_text(private / FIXTURE_FILE, json.dumps(self._fixture_hashes, indent=0, sort_keys=True))
        prefix = self._check_files({
            "TRAJFORGE_SEED": str(self.seed),
            "TRAJFORGE_ANSWER": self.sandbox.visible(private / ANSWER_FILE),
            "TRAJFORGE_FIXTURE": self.sandbox.visible(private / FIXTURE_FILE),
        })  # fmt: skip
        if spec.check_python:
            program = private / "check.py"
            self.sandbox.write_text(program, spec.check_python)
            command = prefix + f"python3 {shlex.quote(self.sandbox.visible(program))}"
        else:
            command = prefix + str(spec.check)
        result = await self.sandbox.run(ExecRequest(command, timeout=CHECK_TIMEOUT, fresh=True))
        if result.timed_out:
            return Outcome.ERROR, f"the check timed out after {CHECK_TIMEOUT:g} s"
        return (Outcome.PASSED if result.exit_code == 0 else Outcome.FAILED), result.output
