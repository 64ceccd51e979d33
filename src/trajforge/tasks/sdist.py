"""Real codebases for tasks: released source distributions fetched from PyPI, cached, unpacked, mutated.

A task names a package and version (and may pin the archive's SHA-256); the
archive is fetched once from the package index into the user's cache folder
and used offline from then on. Nothing is vendored into this repository. Bugs
are injected by documented mutations: an exact piece of code replaced by
another, which must occur exactly once in the released file.

The cache is `$TRAJFORGE_CACHE/sdists`, else `$XDG_CACHE_HOME/trajforge/sdists`,
else `~/.cache/trajforge/sdists`. Downloads go through pip (`pip download
--no-binary :all:`), so the user's index, proxy and certificate settings apply.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from trajforge.tasks.parse_cache import user_cache

FETCH_TIMEOUT = 60.0


class SdistError(RuntimeError):
    """A source distribution could not be fetched, verified or unpacked; the message says which and why."""


def cache_dir() -> Path:
    """Where fetched source distributions are kept."""
    return user_cache("sdists")


def cached_sdist(name: str, version: str, cache: Path | None = None) -> Path | None:
    """The cached archive of `name` `version`, if it was fetched before."""
    folder = cache or cache_dir()
    found = sorted(folder.glob(f"{_normal(name)}-{version}.*")) if folder.is_dir() else []
    return next((p for p in found if not p.name.endswith(".part")), None)


def fetch_sdist(name: str, version: str, sha256: str | None = None, cache: Path | None = None) -> Path:
    """The archive of `name` `version`: from the cache, else downloaded from the index and cached.

    Raises SdistError when it is neither cached nor reachable, or its digest is not the pinned one.
    """
    folder = cache or cache_dir()
    found = cached_sdist(name, version, folder)
    if found is not None:
        _verify(found, sha256, f"cached {found}")
        return found
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".download-") as scratch:
        downloaded = _pip_download(name, version, Path(scratch))
        _verify(downloaded, sha256, f"downloaded {name} {version}")
        suffix = ".zip" if downloaded.name.endswith(".zip") else ".tar.gz"
        target = folder / f"{_normal(name)}-{version}{suffix}"
        os.replace(downloaded, target)  # atomic: a concurrent fetch of the same archive replaces it with the same bytes
    return target


def _pip_download(name: str, version: str, folder: Path) -> Path:
    """The sdist of `name`==`version` downloaded by pip (the user's index and proxy settings apply)."""
    argv = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "--quiet",
            "--disable-pip-version-check", "--retries", "1", "--timeout", "30", "-d", str(folder),
            f"{name}=={version}"]  # fmt: skip
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=FETCH_TIMEOUT * 3, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SdistError(f"{name} {version} is not cached in {cache_dir()} and pip could not run: {exc}") from None
    found = [p for p in folder.iterdir() if p.name.endswith((".tar.gz", ".zip"))]
    if done.returncode != 0 or not found:
        reason = (done.stderr.strip().splitlines() or ["no archive downloaded"])[-1]
        raise SdistError(f"{name} {version} is not cached in {cache_dir()} and cannot be downloaded: {reason}")
    return found[0]


def _verify(path: Path, sha256: str | None, what: str) -> None:
    if sha256 is None:
        return
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != sha256:
        raise SdistError(f"{what}: SHA-256 {digest} is not the pinned {sha256}")


def _normal(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def unpack_sdist(archive: Path, destination: Path) -> list[str]:
    """Unpack `archive` into `destination` without its top folder; the relative paths written.

    Members that would leave the destination (absolute, `..`, links) are refused.
    """
    destination.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        if archive.name.endswith(".zip"):
            with zipfile.ZipFile(archive) as bundle:
                for member in bundle.namelist():
                    _safe(member, archive)
                bundle.extractall(scratch)
        else:
            with tarfile.open(archive) as bundle:
                bundle.extractall(scratch, filter="data")
        tops = list(Path(scratch).iterdir())
        root = tops[0] if len(tops) == 1 and tops[0].is_dir() else Path(scratch)
        written = []
        for path in sorted(root.rglob("*")):
            relative = path.relative_to(root)
            target = destination / relative
            if path.is_dir():
                target.mkdir(parents=True, exist_ok=True)
            elif path.is_file() and not path.is_symlink():
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(path.read_bytes())
                written.append(relative.as_posix())
    return written


def _safe(member: str, archive: Path) -> None:
    path = PurePosixPath(member)
    if path.is_absolute() or ".." in path.parts:
        raise SdistError(f"{archive}: member {member!r} would leave the destination")


def apply_mutation(root: Path, file: str, old: str, new: str) -> None:
    """Replace `old` (which must occur exactly once) by `new` in `root/file`; SdistError otherwise."""
    path = root / file
    if not path.is_file():
        raise SdistError(f"mutation of {file}: no such file in the unpacked source")
    text = path.read_text(encoding="utf-8")
    count = text.count(old)
    if count != 1:
        raise SdistError(f"mutation of {file}: the code to replace occurs {count} times (it must occur once): {old!r}")
    path.write_text(text.replace(old, new), encoding="utf-8")
