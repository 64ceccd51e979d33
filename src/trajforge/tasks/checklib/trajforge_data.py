"""Seeded fixture data for tasks, drawn in the sandbox by set-up commands and redrawn by checks.

Standard library only (it runs on the sandbox's own Python). Every generator
takes a random.Random; the command draws with the episode's seed:

    python3 -m trajforge_data access-log [LINES]   an nginx-style access log (distinct top-3 client counts)
    python3 -m trajforge_data app-log [LINES]      "date time LEVEL message" lines, with a blank line or two
    python3 -m trajforge_data numbers [COUNT]      integers, one a line, with a blank line in between
    python3 -m trajforge_data words [COUNT]        a line of words drawn with repeats
    python3 -m trajforge_data users [COUNT]        a JSON list of {"id", "name", "email"} objects, unsorted
"""

from __future__ import annotations

import json
import os
import random
import sys

PATHS = ["/", "/login", "/logout", "/api/items", "/api/orders", "/static/app.js", "/static/app.css", "/search"]
STATUSES = [200] * 12 + [301, 304, 304, 404, 404, 500, 502]
ERRORS = ["db timeout", "cache miss storm", "payment gateway 502", "disk quota exceeded", "token expired"]
OTHERS = [("INFO", "request served"), ("INFO", "user login"), ("WARN", "slow query"), ("DEBUG", "cache hit")]
NAMES = ["Ana", "Bo", "Chen", "Dara", "Eli", "Femi", "Gus", "Hana", "Ivo", "Juno", "Kai", "Lea", "Mo", "Noor"]
WORDS = ["apple", "banana", "cherry", "damson", "elder", "fig", "grape", "kiwi", "lemon", "mango"]


def seeded(salt: str = "") -> random.Random:
    """A random.Random from TRAJFORGE_SEED (and `salt`), as the check helpers' rng() draws it."""
    seed = int(os.environ.get("TRAJFORGE_SEED", "0"))
    return random.Random(f"{seed}:{salt}" if salt else seed)


def access_log(r: random.Random, lines: int = 240) -> str:
    """Access-log lines whose three busiest clients have distinct counts (a top three without ties)."""
    clients = [f"10.0.{r.randint(0, 3)}.{n}" for n in r.sample(range(2, 250), 9)]
    counts = _descending(r, lines, len(clients))
    order = [ip for ip, count in zip(clients, counts, strict=True) for _ in range(count)]
    r.shuffle(order)
    out = []
    for second, ip in enumerate(order):
        stamp = f"02/Nov/2026:{10 + second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d} +0000"
        request = f"{r.choice(['GET'] * 5 + ['POST'])} {r.choice(PATHS)} HTTP/1.1"
        out.append(f'{ip} - - [{stamp}] "{request}" {r.choice(STATUSES)} {r.randint(120, 9000)}')
    return "\n".join(out) + "\n"


def _descending(r: random.Random, total: int, parts: int) -> list[int]:
    """`parts` positive counts summing to `total`, the first three distinct and above all others."""
    top = sorted(r.sample(range(total // 8, total // 5), 3), reverse=True)
    rest_total = total - sum(top)
    cuts = sorted(r.sample(range(1, rest_total), parts - 4))
    rest = [b - a for a, b in zip([0, *cuts], [*cuts, rest_total], strict=True)]
    while max(rest) >= top[2]:  # keep the top three on top: move the excess of a big one to the first
        big = rest.index(max(rest))
        excess = rest[big] - (top[2] - 1)
        rest[big] -= excess
        top[0] += excess
    return top + rest


def app_log(r: random.Random, lines: int = 120) -> str:
    """Application-log lines with ERROR messages of distinct frequencies (when there are at least 15 ERROR
    lines: five distinct counts need them), and two blank lines."""
    errors = r.sample(ERRORS, len(ERRORS))
    is_error = [r.random() < 0.3 for _ in range(lines)]
    counts = _distinct_counts(r, sum(is_error), len(errors))
    messages = [message for message, count in zip(errors, counts, strict=True) for _ in range(count)]
    r.shuffle(messages)
    out = []
    for second, error in enumerate(is_error):
        stamp = f"2026-11-02 {10 + second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}"
        level, message = ("ERROR", messages.pop()) if error else r.choice(OTHERS)
        out.append(f"{stamp} {level} {message}")
    for _ in range(2):
        out.insert(r.randint(1, len(out) - 1), "")
    return "\n".join(out) + "\n"


def _distinct_counts(r: random.Random, total: int, parts: int) -> list[int]:
    """`parts` counts summing to `total`, all different when `total` allows (1, 2, ..., parts at least):
    the rest is spread as non-decreasing extras over an increasing base, which keeps them apart."""
    base = parts * (parts + 1) // 2
    if total < base:  # too few lines for distinct counts: a plain random split
        cuts = sorted(r.choices(range(total + 1), k=parts - 1))
        return [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]
    cuts = sorted(r.choices(range(total - base + 1), k=parts - 1))
    extras = sorted(b - a for a, b in zip([0, *cuts], [*cuts, total - base], strict=True))
    return [n + extra for n, extra in zip(range(1, parts + 1), extras, strict=True)]


def numbers(r: random.Random, count: int = 8) -> str:
    """Integers one a line, with one blank line somewhere inside."""
    values = [str(r.randint(-20, 120)) for _ in range(count)]
    values.insert(r.randint(1, count - 1), "")
    return "\n".join(values) + "\n"


def words(r: random.Random, count: int = 40) -> str:
    """Words drawn with repeats, on one line."""
    return " ".join(r.choice(WORDS) for _ in range(count)) + "\n"


def users(r: random.Random, count: int = 6) -> str:
    """A JSON list of users with distinct ids, in no particular order."""
    ids = r.sample(range(1, 500), count)
    people = [{"id": i, "name": name, "email": f"{name.lower()}{i}@example.com"}
              for i, name in zip(ids, r.sample(NAMES, count), strict=True)]  # fmt: skip
    return json.dumps(people)


GENERATORS = {"access-log": access_log, "app-log": app_log, "numbers": numbers, "words": words, "users": users}
SIZES = {"access-log": (80, 100_000), "app-log": (2, 100_000), "numbers": (2, 100_000), "words": (1, 100_000),
         "users": (1, len(NAMES))}  # fmt: skip
"""The sizes each generator can draw (a top three without ties needs enough lines; users have distinct names)."""


def main(argv: list[str]) -> int:
    """Print the named data set drawn with the episode's seed."""
    if not argv or argv[0] not in GENERATORS:
        print(f"usage: python3 -m trajforge_data {'|'.join(GENERATORS)} [SIZE]", file=sys.stderr)
        return 2
    low, high = SIZES[argv[0]]
    if len(argv) > 1 and not (argv[1].isdigit() and low <= int(argv[1]) <= high):
        print(
            f"trajforge_data {argv[0]}: SIZE must be a whole number from {low} to {high}, not {argv[1]!r}",
            file=sys.stderr,
        )
        return 2
    size = [int(argv[1])] if len(argv) > 1 else []
    sys.stdout.write(GENERATORS[argv[0]](seeded(argv[0]), *size))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
