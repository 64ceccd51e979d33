"""The machine-wide uid pool: no two living sandboxes share a uid, across processes and past 1,000."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from trajforge.sandbox import SandboxConfig, SandboxFactory, UidPool
from trajforge.sandbox.procs import pids_of_uid

# Each child takes `count` uids from the pool in `folder`, prints them, and holds them until stdin closes.
_HOLDER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from trajforge.sandbox import UidPool

    pool = UidPool(Path(sys.argv[1]), base=500_000, size=1_000)
    leases = []
    for _ in range(int(sys.argv[2])):
        leases.append(pool.acquire())
        print(leases[-1].uid, flush=True)
    print("held", flush=True)
    sys.stdin.read()
    """
)


def _holder(folder: Path, count: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(folder), str(count)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def _uids_of(process: subprocess.Popen[str]) -> list[int]:
    assert process.stdout is not None
    uids = []
    for line in process.stdout:
        if line.strip() == "held":
            return uids
        uids.append(int(line))
    raise AssertionError(f"the holder ended early (exit {process.wait()})")


def test_two_processes_allocating_at_once_never_share_a_uid(tmp_path: Path) -> None:
    first, second = _holder(tmp_path, 200), _holder(tmp_path, 200)
    try:
        a, b = _uids_of(first), _uids_of(second)
        assert len(set(a)) == len(set(b)) == 200
        assert not set(a) & set(b)
    finally:
        for process in (first, second):
            process.communicate("")


def test_a_dead_holders_uids_are_lent_again_and_marked_dirty(tmp_path: Path) -> None:
    holder = _holder(tmp_path, 3)
    held = _uids_of(holder)
    holder.kill()  # no clean release: the kernel drops its locks
    holder.wait()
    pool = UidPool(tmp_path, base=500_000, size=1_000)
    leases = [pool.acquire() for _ in range(3)]
    assert [lease.uid for lease in leases] == held
    assert all(lease.dirty for lease in leases)
    for lease in leases:
        lease.release()
    again = pool.acquire()
    assert again.uid in held and not again.dirty


def test_a_uid_is_lent_again_only_after_its_release(tmp_path: Path) -> None:
    pool = UidPool(tmp_path, base=500_000, size=2_000)
    leases = [pool.acquire() for _ in range(1_001)]
    assert len({lease.uid for lease in leases}) == 1_001  # no wrap into a living sandbox past 1,000
    freed = leases[500]
    freed.release()
    freed.release()  # twice is harmless
    reused = pool.acquire()
    assert reused.uid == freed.uid and not reused.dirty
    assert pool.acquire().uid not in {lease.uid for lease in leases}
    for lease in [*leases, reused]:
        lease.release()


def test_an_exhausted_pool_says_so(tmp_path: Path) -> None:
    pool = UidPool(tmp_path, base=500_000, size=2)
    held = [pool.acquire(), pool.acquire()]
    with pytest.raises(RuntimeError, match="all 2 sandbox uids"):
        pool.acquire()
    for lease in held:
        lease.release()


def test_a_pool_folder_others_can_write_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "pool"
    folder.mkdir()
    folder.chmod(0o777)
    with pytest.raises(RuntimeError, match="not a private folder"):
        UidPool(folder).acquire()


@pytest.mark.skipif(os.geteuid() != 0, reason="sandboxes get uids of their own only when trajforge runs as root")
def test_sandboxes_hold_distinct_uids_until_closed(tmp_path: Path) -> None:
    async def scenario() -> None:
        factory = SandboxFactory(SandboxConfig(backend="local"), UidPool(tmp_path, base=500_000, size=1_000))
        first, second = await factory.create(), await factory.create()
        assert first.info.uid is not None and second.info.uid is not None
        assert first.info.uid != second.info.uid
        uid = first.info.uid
        await first.close()
        third = await factory.create()
        assert third.info.uid == uid  # given back at close, lent again
        await second.close()
        await third.close()

    asyncio.run(scenario())


@pytest.mark.skipif(os.geteuid() != 0, reason="sandboxes get uids of their own only when trajforge runs as root")
def test_processes_a_dead_holder_left_are_killed_before_the_uid_is_reused(tmp_path: Path) -> None:
    folder = tmp_path / "uids"
    holder = _holder(folder, 1)
    (uid,) = _uids_of(holder)
    leftover = subprocess.Popen(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "sleep", "300"])
    while not pids_of_uid(uid):  # setpriv is still root for a moment
        time.sleep(0.01)
    holder.kill()
    holder.wait()
    try:

        async def scenario() -> None:
            factory = SandboxFactory(SandboxConfig(backend="local"), UidPool(folder, base=500_000, size=1_000))
            box = await factory.create()
            assert box.info.uid == uid
            assert pids_of_uid(uid) == []
            await box.close()

        asyncio.run(scenario())
        assert leftover.wait(timeout=10) != 0
    finally:
        leftover.kill()
        leftover.wait()


def test_a_uid_given_back_unclean_is_lent_as_dirty(tmp_path: Path) -> None:
    pool = UidPool(tmp_path, base=500_000, size=1)
    lease = pool.acquire()
    lease.release(clean=False)  # a process of the uid outlived the killing at close
    again = pool.acquire()
    assert again.uid == lease.uid and again.dirty
    again.release()
    assert not pool.acquire().dirty
