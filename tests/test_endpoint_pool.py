"""The endpoint pool: least-loaded first, a failing endpoint rests, and comes back after its rest."""

from __future__ import annotations

import asyncio

import openai

from trajforge.policy.endpoints import Endpoint, EndpointPool


def _pool(now: list[float]) -> EndpointPool:
    return EndpointPool(
        ["http://127.0.0.1:1/v1", "http://127.0.0.1:2/v1"],
        lambda url: openai.AsyncOpenAI(base_url=url, api_key="x"),
        failures_to_rest=3,
        rest_seconds=10.0,
        clock=lambda: now[0],
    )


def test_least_loaded_then_rest_then_return() -> None:
    now = [0.0]
    pool = _pool(now)
    a = pool.acquire()
    b = pool.acquire()
    assert a.url != b.url  # the second request goes to the idle endpoint
    pool.release(b, ok=True)
    assert pool.acquire() is b  # a still has one in flight
    pool.release(b, ok=True)
    pool.release(a, ok=True)
    for _ in range(3):  # a fails three times in a row: it rests
        pool.release(pool_acquire_specific(pool, a), ok=False)
    assert all(pool.acquire() is b for _ in range(5))
    now[0] = 11.0  # the rest is over
    assert pool.acquire() is a
    asyncio.run(pool.close())


def test_when_all_rest_the_first_to_wake_serves() -> None:
    now = [0.0]
    pool = _pool(now)
    first, second = pool.endpoints
    for endpoint, at in ((first, 0.0), (second, 5.0)):
        now[0] = at
        for _ in range(3):
            endpoint.in_flight += 1
            pool.release(endpoint, ok=False)
    now[0] = 6.0
    assert pool.acquire() is first  # wakes at 10, before second at 15
    asyncio.run(pool.close())


def pool_acquire_specific(pool: EndpointPool, endpoint: Endpoint) -> Endpoint:
    """Take `endpoint` as if the pool had chosen it (to script its failures)."""
    endpoint.in_flight += 1
    return endpoint


def test_breaker_counts_failures_through_rests_and_a_success_resets_them() -> None:
    now = [0.0]
    pool = EndpointPool(
        ["http://127.0.0.1:1/v1", "http://127.0.0.1:2/v1"],
        lambda url: openai.AsyncOpenAI(base_url=url, api_key="x"),
        failures_to_rest=3,
        rest_seconds=10.0,
        breaker_failures=5,
        clock=lambda: now[0],
    )
    first, second = pool.endpoints
    for _ in range(5):  # the first fails five in a row (resting after three): not every endpoint is failing
        pool.release(pool_acquire_specific(pool, first), ok=False, error="HTTP 503: busy")
    assert first.streak == 5 and not pool.breaker_open and pool.breaker_reason is None
    for _ in range(4):
        pool.release(pool_acquire_specific(pool, second), ok=False, error="connection refused")
    pool.release(pool_acquire_specific(pool, second), ok=True)  # a success: its count starts again
    for _ in range(4):
        pool.release(pool_acquire_specific(pool, second), ok=False, error="connection refused")
    assert not pool.breaker_open
    pool.release(pool_acquire_specific(pool, second), ok=False, error="connection refused")
    assert pool.breaker_open
    assert pool.breaker_reason == (
        "every endpoint keeps failing (http://127.0.0.1:1/v1: 5 failed in a row, last: HTTP 503: busy; "
        "http://127.0.0.1:2/v1: 5 failed in a row, last: connection refused)"
    )
    pool.release(pool_acquire_specific(pool, first), ok=True)
    assert not pool.breaker_open
    asyncio.run(pool.close())


def test_a_cancelled_request_is_neither_success_nor_failure() -> None:
    pool = _pool([0.0])
    endpoint = pool.acquire()
    pool.release(endpoint, ok=False, error="timed out")
    again = pool_acquire_specific(pool, endpoint)
    pool.abandon(again)
    assert (endpoint.in_flight, endpoint.streak) == (0, 1)
    asyncio.run(pool.close())
