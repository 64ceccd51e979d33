"""Several endpoints serving one model: pick the least-loaded healthy one, rest the failing ones."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from trajforge.policy.http_client import HTTPClient


@dataclass
class Endpoint:
    """One base URL, its client, and what the pool knows about its health."""

    url: str
    client: HTTPClient
    in_flight: int = 0
    failures: int = 0
    """Failures in a row since the last rest (decides the next rest)."""
    resting_until: float = 0.0
    served: int = field(default=0)
    streak: int = 0
    """Failed requests in a row, through rests; only a success resets it (the breaker counts these)."""
    last_error: str = ""
    """The last failure, one line."""


class EndpointPool:
    """Chooses an endpoint per request.

    The least-loaded endpoint that is not resting wins (ties: the one that has
    served least). An endpoint that fails `failures_to_rest` times in a row
    rests for `rest_seconds`, then is tried again; when all rest, the one that
    wakes first is used, so requests never stall on the pool itself.

    The breaker opens when every endpoint has failed `breaker_failures`
    requests in a row (0: never); a success on any endpoint closes it again.
    """

    def __init__(
        self,
        urls: list[str],
        make_client: Callable[[str], HTTPClient],
        *,
        failures_to_rest: int = 3,
        rest_seconds: float = 30.0,
        breaker_failures: int = 8,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not urls:
            raise ValueError("an endpoint pool needs at least one URL")
        self.endpoints = [Endpoint(url, make_client(url)) for url in urls]
        self._failures_to_rest = failures_to_rest
        self._rest_seconds = rest_seconds
        self._breaker_failures = breaker_failures
        self._clock = clock

    def acquire(self) -> Endpoint:
        """The endpoint for the next request (its in-flight count is taken)."""
        now = self._clock()
        awake = [e for e in self.endpoints if e.resting_until <= now]
        if awake:
            chosen = min(awake, key=lambda e: (e.in_flight, e.served))
        else:
            chosen = min(self.endpoints, key=lambda e: e.resting_until)
        chosen.in_flight += 1
        chosen.served += 1
        return chosen

    def release(self, endpoint: Endpoint, ok: bool, error: str = "") -> None:
        """Return `endpoint` after a request; `ok` False (with `error`, one line) counts towards its rest."""
        endpoint.in_flight -= 1
        if ok:
            endpoint.failures = endpoint.streak = 0
            return
        endpoint.streak += 1
        endpoint.last_error = error or endpoint.last_error
        endpoint.failures += 1
        if endpoint.failures >= self._failures_to_rest:
            endpoint.resting_until = self._clock() + self._rest_seconds
            endpoint.failures = 0

    def abandon(self, endpoint: Endpoint) -> None:
        """Return `endpoint` after a request that was cancelled: neither a success nor a failure."""
        endpoint.in_flight -= 1

    @property
    def breaker_open(self) -> bool:
        """Whether every endpoint has failed `breaker_failures` requests in a row."""
        limit = self._breaker_failures
        return limit > 0 and all(e.streak >= limit for e in self.endpoints)

    @property
    def breaker_reason(self) -> str | None:
        """Why the breaker is open, in one line (None while closed)."""
        if not self.breaker_open:
            return None
        parts = "; ".join(
            f"{e.url}: {e.streak} failed in a row, last: {e.last_error or 'unknown'}" for e in self.endpoints
        )
        return f"every endpoint keeps failing ({parts})"

    async def close(self) -> None:
        """Close every client."""
        for endpoint in self.endpoints:
            await endpoint.client.close()
