"""Who may talk to the viewer, and what a page may do once it is loaded.

Every response carries a Content-Security-Policy that allows only the
viewer's own script and style files (no inline script, no inline style, no
plugin, no outside request), so text from a trace can never run. Bound to
loopback, requests must name a loopback host (a web page that rebinds its DNS
name to 127.0.0.1 gets 400). With a token, every request carries it: `?token=`
once, answered with a cookie and a redirect that drops it from the address
bar; a wrong token is 403.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from urllib.parse import urlencode

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'"
)
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
}
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1", "[::1]")


def is_loopback(host: str) -> bool:
    """Whether binding `host` keeps the viewer on this machine."""
    return host in LOOPBACK_NAMES or host.startswith("127.")


class Guard:
    """ASGI middleware: host check, token check, security headers."""

    def __init__(self, app: ASGIApp, *, token: str | None, port: int, hosts: Iterable[str] | None) -> None:
        self.app = app
        self.token = token
        self.cookie = f"trajforge_view_{port}"
        self.hosts = set(hosts) if hosts is not None else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refused = self._refusal(Request(scope))
        sender = _with_headers(send)
        if refused is not None:
            await refused(scope, receive, sender)
        else:
            await self.app(scope, receive, sender)

    def _refusal(self, request: Request) -> Response | None:
        if self.hosts is not None and (request.url.hostname or "") not in self.hosts:
            return PlainTextResponse("This viewer answers only to a loopback host name.\n", status_code=400)
        if self.token is None:
            return None
        given = request.query_params.get("token")
        if given is not None:
            if not hmac.compare_digest(given.encode(), self.token.encode()):
                return PlainTextResponse("Wrong token.\n", status_code=403)
            rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
            target = request.url.path + (f"?{urlencode(rest)}" if rest else "")
            response = RedirectResponse(target, status_code=303)
            response.set_cookie(self.cookie, self.token, httponly=True, samesite="strict", path="/")
            return response
        cookie = request.cookies.get(self.cookie)
        if cookie is None:
            return PlainTextResponse("This viewer needs its token: open it with ?token=...\n", status_code=401)
        if not hmac.compare_digest(cookie.encode(), self.token.encode()):
            return PlainTextResponse("Wrong token.\n", status_code=403)
        return None


def _with_headers(send: Send) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            for name, value in HEADERS.items():
                headers[name] = value
        await send(message)

    return wrapped
