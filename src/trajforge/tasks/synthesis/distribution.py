"""How many tasks each subcategory should get: the target distribution, its quotas and the report against it.

`reference` is the reference dataset's category proportions (its card, both
configs together; `reference:kimi` or `reference:glm-5.1` for one), spread
evenly over each category's subcategories, since the card gives no finer
figures. `uniform` gives every subcategory the same share. A YAML or JSON file
maps `Category` or `Category/subcategory` to a weight.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import yaml

from trajforge.tasks.taxonomy import TAXONOMY, UnknownCategory, resolve_category

Key = tuple[str, str]
# The reference card's "Categories" table (shared/reference-dataset-card.txt).
REFERENCE_COUNTS: MappingProxyType[str, MappingProxyType[str, int]] = MappingProxyType(
    {
        "kimi": MappingProxyType({
            "Terminal & Coding": 2010, "Agent Tools": 1474, "Repository Tasks": 1109, "Browser Automation": 1048,
            "Multi-Tool": 807, "File Operations": 757, "Scheduling": 204, "Planning & Organization": 201,
            "Conversational": 36,
        }),
        "glm-5.1": MappingProxyType({
            "Terminal & Coding": 2237, "Agent Tools": 2775, "Repository Tasks": 1022, "Browser Automation": 639,
            "Multi-Tool": 52, "File Operations": 134, "Scheduling": 104, "Planning & Organization": 92,
            "Conversational": 0,
        }),
    }
)  # fmt: skip


class DistributionError(ValueError):
    """A --distribution that cannot be used; the message names the file or the key."""


def weights(name: str, allowed: list[Key]) -> dict[Key, float]:
    """Weight per allowed (category, subcategory) under distribution `name`; all zero falls back to uniform."""
    if name == "uniform":
        found = dict.fromkeys(allowed, 1.0)
    elif name == "reference" or name.startswith("reference:"):
        found = _reference(name.partition(":")[2], allowed)
    else:
        found = _from_file(Path(name), allowed)
    if not any(found.values()):
        return dict.fromkeys(allowed, 1.0)
    return found


def _reference(config: str, allowed: list[Key]) -> dict[Key, float]:
    if config and config not in REFERENCE_COUNTS:
        raise DistributionError(f"--distribution reference:{config}: configs are {', '.join(REFERENCE_COUNTS)}")
    configs = [REFERENCE_COUNTS[config]] if config else list(REFERENCE_COUNTS.values())
    return {(c, s): sum(counts[c] for counts in configs) / len(TAXONOMY[c]) for c, s in allowed}


def _from_file(path: Path, allowed: list[Key]) -> dict[Key, float]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise DistributionError(f"--distribution {path}: {getattr(exc, 'strerror', None) or exc}") from None
    if not isinstance(data, dict) or not data:
        raise DistributionError(f"--distribution {path}: expected a mapping of Category[/subcategory] to a weight")
    found = dict.fromkeys(allowed, 0.0)
    for raw, weight in data.items():
        if not isinstance(weight, int | float) or isinstance(weight, bool) or weight < 0 or math.isnan(weight):
            raise DistributionError(f"--distribution {path}: {raw}: the weight must be a number >= 0, not {weight!r}")
        name, _, sub = str(raw).partition("/")
        try:
            category = resolve_category(name.strip())
        except UnknownCategory as exc:
            raise DistributionError(f"--distribution {path}: {exc}") from None
        subs = [sub.strip()] if sub else list(TAXONOMY[category])
        if sub and sub.strip() not in TAXONOMY[category]:
            raise DistributionError(f"--distribution {path}: {raw}: no subcategory {sub.strip()!r} in {category!r}")
        for each in subs:
            if (category, each) in found:
                found[(category, each)] += float(weight) / len(subs)
    return found


def apportion(total: int, weight: dict[Key, float]) -> dict[Key, int]:
    """`total` tasks shared out in proportion to `weight` (largest remainders; the counts sum to `total`)."""
    whole = sum(weight.values())
    if total <= 0 or whole <= 0:
        return dict.fromkeys(weight, 0)
    exact = {key: total * w / whole for key, w in weight.items()}
    counts = {key: math.floor(value) for key, value in exact.items()}
    by_remainder = sorted(exact, key=lambda key: (counts[key] - exact[key], key))
    for key in by_remainder[: total - sum(counts.values())]:
        counts[key] += 1
    return counts


def apportion_by_category(total: int, weight: dict[Key, float]) -> dict[Key, int]:
    """`total` shared out over categories first (so their counts follow the target as closely as whole
    numbers can), then each category's share over its subcategories."""
    categories: dict[str, dict[Key, float]] = {}
    for key, value in weight.items():
        categories.setdefault(key[0], {})[key] = value
    per_category = apportion(total, {(name, ""): sum(keys.values()) for name, keys in categories.items()})
    counts: dict[Key, int] = {}
    for name, keys in categories.items():
        counts.update(apportion(per_category[(name, "")], keys))
    return counts


@dataclass
class Quotas:
    """Target per subcategory (capped) and what is accepted so far; picks the subcategory to ask for next."""

    target: dict[Key, int]
    accepted: dict[Key, int]

    @classmethod
    def build(cls, total: int, weight: dict[Key, float], cap: int | None, accepted: dict[Key, int]) -> Quotas:
        """Quotas for `total` tasks, none above `cap`, counting what a previous run `accepted`."""
        target = apportion_by_category(total, weight)
        if cap is not None:
            target = {key: min(count, cap) for key, count in target.items()}
        return cls(target, {key: accepted.get(key, 0) for key in target})

    def missing(self, key: Key) -> int:
        """Tasks `key` still needs."""
        return max(0, self.target.get(key, 0) - self.accepted.get(key, 0))

    def next_key(self, pending: dict[Key, int]) -> Key | None:
        """The subcategory furthest below its target, counting `pending` (requests in flight); None when all met."""
        open_keys = [key for key in self.target if self.missing(key) > 0]
        if not open_keys:
            return None
        return max(open_keys, key=lambda key: (self.missing(key) - pending.get(key, 0), -pending.get(key, 0)))

    @property
    def done(self) -> bool:
        """Every subcategory has its target."""
        return all(self.missing(key) == 0 for key in self.target)
