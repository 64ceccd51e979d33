"""Is a prompt new? Exact duplicates by normalised text, near duplicates by MinHash over word shingles.

The curation (dataset room) finds near-duplicate trajectories with datasketch's
LSH over MinHash signatures; prompts are short, so here the shingles are word
3-grams of the lowercased prompt rather than byte 24-grams, with the same
library and the same rule: a candidate from the index counts when its
estimated Jaccard similarity reaches the threshold.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from trajforge.tasks.synthesis.outcomes import Reason, Rejected

if TYPE_CHECKING:
    from datasketch import MinHash

NUM_PERM = 128
SHINGLE_WORDS = 3
_WORD = re.compile(r"[a-z0-9]+")


def normalise(prompt: str) -> str:
    """The prompt as compared: lowercase words only (case, punctuation and spacing do not make a task new)."""
    return " ".join(_WORD.findall(prompt.lower()))


class PromptIndex:
    """The prompts kept so far (seeds and accepted tasks); `check` says whether a new one repeats one."""

    def __init__(self, threshold: float = 0.8) -> None:
        from datasketch import (
            MinHash,
            MinHashLSH,  # here: datasketch costs ~0.7 s at import, only synthesis needs it
        )

        self.threshold = threshold
        self._empty = MinHash(num_perm=NUM_PERM, seed=1)  # its permutations serve every signature (~20x faster)
        self._exact: dict[str, str] = {}
        self._lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
        self._hashes: dict[str, MinHash] = {}

    def __len__(self) -> int:
        return len(self._exact)

    def check(self, prompt: str) -> None:
        """Raise Rejected (exact or near duplicate, naming the task it repeats) when `prompt` is not new."""
        key = normalise(prompt)
        if key in self._exact:
            raise Rejected(Reason.DUPLICATE_EXACT, f"same prompt as {self._exact[key]}")
        minhash = self._minhash(key)
        for other in self._lsh.query(minhash):
            similarity = minhash.jaccard(self._hashes[other])
            if similarity >= self.threshold:
                raise Rejected(Reason.DUPLICATE_NEAR, f"Jaccard {similarity:.2f} with {other}")

    def add(self, task_id: str, prompt: str) -> None:
        """Keep `prompt` (of task `task_id`) for later checks; a second prompt of the same id is ignored."""
        key = normalise(prompt)
        if task_id in self._hashes or key in self._exact:
            return
        self._exact[key] = task_id
        minhash = self._minhash(key)
        self._hashes[task_id] = minhash
        self._lsh.insert(task_id, minhash)

    def _minhash(self, text: str) -> MinHash:
        from datasketch import MinHash

        words = text.split()
        width = min(SHINGLE_WORDS, max(1, len(words)))
        shingles = {" ".join(words[i : i + width]).encode() for i in range(max(1, len(words) - width + 1))}
        empty = self._empty
        minhash = MinHash(num_perm=NUM_PERM, seed=1, permutations=empty.permutations, scheme=empty.scheme)
        minhash.update_batch(list(shingles))
        return minhash
