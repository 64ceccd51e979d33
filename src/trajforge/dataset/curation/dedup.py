"""Exact and near-duplicate detection over an episode's task and trajectory text.

The text leaves out what differs between two runs of the same trajectory
without meaning anything (episode and call ids, the system prompt). Exact
duplicates share a BLAKE2 digest of it. Near duplicates are found with
MinHash: the text's byte 24-grams are hashed with a rolling polynomial hash
in numpy and summarised by one-permutation hashing (one hash, `num_perm`
bins, empty bins filled from their right neighbour); datasketch's LSH index
finds candidates, and a candidate counts when the estimated Jaccard
similarity reaches the threshold. Per-shingle hashing in Python would cost
~50x more on 35 kB trajectories.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from trajforge.trace import Episode
from trajforge.trace.turns import json_bytes

SHINGLE_BYTES = 24  # about five words: short shingles make unrelated texts look alike
WINDOW_BYTES = 1 << 20  # text hashed at a time (~40 bytes of arrays per byte): bounds a signature's memory
_P = 0x100000001B3  # odd, so invertible modulo 2**64
_P_INVERSE = pow(_P, -1, 1 << 64)
_EMPTY = np.uint64(1 << 32)  # above every bin value: a bin no shingle fell into


def trajectory_text(episode: Episode) -> str:
    """The task and everything the agent and its tools said, without ids or the system prompt."""
    parts = [episode.task.prompt]
    for message in episode.messages:
        if message.role == "system":
            continue
        parts += [message.reasoning or "", message.content or ""]
        parts += [call.name + " " + json_bytes(call.arguments).decode() for call in message.tool_calls]
    return "\n".join(parts)


def exact_key(text: str | bytes) -> bytes:
    """A 16-byte digest of `text` (or its UTF-8 bytes): equal texts, equal keys."""
    return hashlib.blake2b(text.encode() if isinstance(text, str) else text, digest_size=16).digest()


def _shingle_hashes(data: bytes | memoryview, width: int) -> np.ndarray:
    """A 64-bit hash of every `width`-byte window of `data` (the whole text when shorter)."""
    raw = np.frombuffer(data, dtype=np.uint8).astype(np.uint64)
    n = len(raw)
    if n == 0:
        return np.zeros(0, dtype=np.uint64)
    width = min(width, n)
    with np.errstate(over="ignore"):
        powers = np.cumprod(np.full(n, _P, dtype=np.uint64))  # P^1 .. P^n
        inverse = np.cumprod(np.full(n, _P_INVERSE, dtype=np.uint64))  # P^-1 .. P^-n
        prefix = np.concatenate(([np.uint64(0)], np.cumsum(raw * inverse)))  # sum of b[t] P^-(t+1)
        # window i: sum over t in [i, i+width) of b[t] P^(i+width-1-t)
        hashes = (prefix[width:] - prefix[:-width]) * powers[width - 1 :]
        return _mix(hashes)


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: spreads the polynomial hash over all 64 bits."""
    h = h ^ (h >> np.uint64(30))
    h = h * np.uint64(0xBF58476D1CE4E5B9)
    h = h ^ (h >> np.uint64(27))
    h = h * np.uint64(0x94D049BB133111EB)
    mixed: np.ndarray = h ^ (h >> np.uint64(31))
    return mixed


def signature(text: str | bytes, num_perm: int = 128) -> np.ndarray:
    """The MinHash signature (`num_perm` uint64 values) of `text`'s byte shingles.

    The text is hashed WINDOW_BYTES at a time (windows overlap by a shingle less one
    byte, and a shingle's hash does not depend on where it starts), so memory stays
    at ~40 bytes per window byte whatever the text's size: the same signature as
    hashing it whole, which would take ~60 bytes per text byte (12 GB for 200 MB).
    """
    data = text.encode() if isinstance(text, str) else text
    sig = np.full(num_perm, _EMPTY, dtype=np.uint64)
    if len(data) <= SHINGLE_BYTES:
        _fold(sig, _shingle_hashes(data, SHINGLE_BYTES))
        return _densify(sig)
    view = memoryview(data)
    for start in range(0, len(data) - SHINGLE_BYTES + 1, WINDOW_BYTES):
        _fold(sig, _shingle_hashes(view[start : start + WINDOW_BYTES + SHINGLE_BYTES - 1], SHINGLE_BYTES))
    return _densify(sig)


def _fold(sig: np.ndarray, hashes: np.ndarray) -> None:
    """Take each hash's low half as its bin and keep, per bin, the least high half."""
    num_perm = len(sig)
    low = hashes & np.uint64(0xFFFFFFFF)
    # a mask where it can: uint64 modulo costs as much as the hashing itself
    bins = low & np.uint64(num_perm - 1) if num_perm & (num_perm - 1) == 0 else low % np.uint64(num_perm)
    np.minimum.at(sig, bins.astype(np.intp), hashes >> np.uint64(32))


def _densify(sig: np.ndarray) -> np.ndarray:
    """Fill each empty bin from the nearest filled bin to its right (circularly), offset by the distance."""
    empty = sig == _EMPTY
    if not empty.any() or empty.all():
        return sig
    k = len(sig)
    filled = np.flatnonzero(~empty)
    positions = np.arange(k)
    # index of the next filled bin at or after each position, wrapping around
    nxt = np.searchsorted(filled, positions)
    wrap = nxt == len(filled)
    source = np.where(wrap, filled[0], filled[np.minimum(nxt, len(filled) - 1)])
    distance = (source - positions) % k
    out = sig.copy()
    out[empty] = sig[source[empty]] + (np.uint64(1) << np.uint64(33)) * distance[empty].astype(np.uint64)
    return out


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of the texts behind two signatures."""
    return float(np.count_nonzero(a == b)) / len(a)


def find_duplicates(
    keys: Sequence[bytes] | None, signatures: np.ndarray | None, threshold: float | None, count: int
) -> tuple[np.ndarray, np.ndarray]:
    """(exact, near): which of `count` episodes repeat an earlier kept one, in the order given.

    `keys[i]` is episode i's exact key (None: no exact-duplicate filter);
    `signatures[i]` its MinHash signature (None: no near-duplicate search). The first of a group is kept; a later one
    is an exact duplicate when its key was kept before, else a near duplicate
    when its estimated Jaccard similarity with a kept one reaches `threshold`.
    """
    from datasketch import LeanMinHash, MinHashLSH  # here: importing datasketch costs ~0.7 s of every CLI start

    exact = np.zeros(count, dtype=bool)
    near = np.zeros(count, dtype=bool)
    seen: set[bytes] = set()
    index = None
    if signatures is not None and threshold is not None and count:
        index = MinHashLSH(threshold=threshold, num_perm=signatures.shape[1])
    for i in range(count):
        if keys is not None:
            if keys[i] in seen:
                exact[i] = True
                continue
            seen.add(keys[i])
        if index is None or signatures is None or threshold is None:
            continue
        minhash = LeanMinHash(seed=1, hashvalues=signatures[i], scheme="affine64")
        if any(jaccard(signatures[j], signatures[i]) >= threshold for j in index.query(minhash)):
            near[i] = True
            continue
        index.insert(i, minhash)
    return exact, near
