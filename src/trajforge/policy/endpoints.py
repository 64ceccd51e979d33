"""Several endpoints serving one model: pick the least-loaded healthy one, rest the failing ones."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import openai


@dataclass
class Endpoint:
    """One base URL, its client, and what the pool knows about its health."""

    url: str
    client: openai.AsyncOpenAI
    in_flight: int = 0
    failures: int = 0
    """Failures in a row."""
    resting_until: float = 0.0
    served: int = field(default=0)


class EndpointPool:
    """Chooses an endpoint per request.

    The least-loaded endpoint that is not resting wins (ties: the one that has
    served least). An endpoint that fails `failures_to_rest` times in a row
    rests for `rest_seconds`, then is tried again; when all rest, the one that
    wakes first is used, so requests never stall on the pool itself.
    """

    def __init__(
        self,
        urls: list[str],
        make_client: Callable[[str], openai.AsyncOpenAI],
        *,
        failures_to_rest: int = 3,
        rest_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not urls:
            raise ValueError("an endpoint pool needs at least one URL")
        self.endpoints = [Endpoint(url, make_client(url)) for url in urls]
        self._failures_to_rest = failures_to_rest
        self._rest_seconds = rest_seconds
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

    def release(self, endpoint: Endpoint, ok: bool) -> None:
        """Return `endpoint` after a request; `ok` False counts towards its rest."""
        endpoint.in_flight -= 1
        if ok:
            endpoint.failures = 0
            return
        endpoint.failures += 1
        if endpoint.failures >= self._failures_to_rest:
            endpoint.resting_until = self._clock() + self._rest_seconds
            endpoint.failures = 0

    async def close(self) -> None:
        """Close every client."""
        for endpoint in self.endpoints:
            await endpoint.client.close()
