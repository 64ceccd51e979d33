"""The fixture sites' one real server per browser: Chromium resolves every `*.test` host to it, and it
answers each request from the site app of the episode that made it.

Why a server and not `route.fulfill`: Chromium does not route the request that follows a fulfilled
redirect (a form's POST-then-303), so a fulfilled site could not submit a form. Requests keep the
site's name (`http://shop.test/`) in the URL, so prompts and traces read the same in every repeat.
The episode is told by a header its context's routing adds to every request it lets through.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import socket
from collections.abc import Awaitable, Callable, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

ASGIApp = Callable[
    [MutableMapping[str, Any], Callable[[], Awaitable[MutableMapping[str, Any]]],
     Callable[[MutableMapping[str, Any]], Awaitable[None]]],
    Awaitable[None],
]  # fmt: skip
"""An ASGI 3 application (a Starlette app)."""
SESSION_HEADER = "x-trajforge-episode"
SITE_DOMAIN = ".test"


@dataclass(frozen=True)
class Tenant:
    """One episode's sites by host, and the other hosts it may be redirected to."""

    sites: Mapping[str, ASGIApp]
    allowed_hosts: Sequence[str]


class SiteServer:
    """An HTTP server on 127.0.0.1 (a free port) serving the registered episodes' sites."""

    def __init__(self) -> None:
        self._tenants: dict[str, Tenant] = {}
        self._keys = itertools.count(1)
        self.port = 0
        self._server: Any = None
        self._task: asyncio.Task[None] | None = None

    @property
    def resolver_rule(self) -> str:
        """The Chromium switch that sends every `*.test` host to this server."""
        return f"--host-resolver-rules=MAP *{SITE_DOMAIN}:80 127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Listen on a free port (once)."""
        if self._task is not None:
            return
        import uvicorn  # imported when a browser first starts

        class _Quiet(uvicorn.Server):
            @contextlib.contextmanager
            def capture_signals(self) -> Iterator[None]:
                yield  # Ctrl-C and SIGTERM stay the runner's

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._dispatch, interface="asgi3", lifespan="off", log_level="critical", access_log=False
        )
        self._server = _Quiet(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started and not self._task.done():
            await asyncio.sleep(0.005)

    async def stop(self) -> None:
        """Stop serving (safe to call twice)."""
        task, self._task = self._task, None
        if task is not None:
            self._server.should_exit = True
            with contextlib.suppress(Exception):
                await task

    def add(self, sites: Mapping[str, ASGIApp], allowed_hosts: Sequence[str]) -> str:
        """Register an episode's sites; the key its requests must carry."""
        key = f"episode-{next(self._keys)}"
        self._tenants[key] = Tenant(sites, allowed_hosts)
        return key

    def remove(self, key: str) -> None:
        """Forget an episode's sites."""
        self._tenants.pop(key, None)

    async def _dispatch(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        headers = [(k, v) for k, v in scope["headers"] if k.decode("latin-1") != SESSION_HEADER]
        given = dict(scope["headers"])
        tenant = self._tenants.get(given.get(SESSION_HEADER.encode(), b"").decode("latin-1"))
        host = given.get(b"host", b"").decode("latin-1").rpartition(":")[0] or given.get(b"host", b"").decode()
        app = tenant.sites.get(host.lower()) if tenant else None
        if tenant is None or app is None:
            await _plain(send, 404, f"no site {host} in this episode")
            return
        url = f"http://{host}{scope.get('path', '/')}"

        async def guarded(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start" and 300 <= int(message["status"]) < 400:
                message = _guard_redirect(message, url, tenant)
            await send(message)

        await app({**scope, "headers": headers}, receive, guarded)


def _guard_redirect(message: MutableMapping[str, Any], url: str, tenant: Tenant) -> MutableMapping[str, Any]:
    """A redirect to a host the episode may not reach becomes a 403 (redirects are not routed again)."""
    location = next((v.decode("latin-1") for k, v in message.get("headers", []) if k.lower() == b"location"), "")
    host = (urlsplit(urljoin(url, location)).hostname or "").lower()
    if host in tenant.sites or host in tenant.allowed_hosts:
        return message
    return {"type": "http.response.start", "status": 403, "headers": [(b"content-type", b"text/plain")]}


async def _plain(send: Any, status: int, text: str) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8")]})  # fmt: skip
    await send({"type": "http.response.body", "body": text.encode()})
