"""What every fixture site shares: an ASGI app, its per-episode state, and one page layout."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send


class Site:
    """One site instance: `app` serves it, `state()` is what a check may read afterwards."""

    title = "Site"
    nav: Sequence[tuple[str, str]] = ()
    """(label, path) links shown on every page."""

    def __init__(self) -> None:
        # Every browser asks for /favicon.ico: answered, so it is no 404 in every page's console.
        self.app = Starlette(routes=[*self.routes(), Route("/favicon.ico", _no_icon)])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    def routes(self) -> list[BaseRoute]:
        """The site's routes (subclasses)."""
        return []

    def state(self) -> dict[str, Any]:
        """JSON-ready state the episode left behind (subclasses)."""
        return {}

    def page(self, title: str, body: str, status: int = 200, head: str = "") -> HTMLResponse:
        """A full HTML page in the site's layout; `body` is trusted HTML (escape what users sent)."""
        links = " ".join(f'<a href="{path}">{esc(label)}</a>' for label, path in self.nav)
        text = (
            f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{esc(title)} - {esc(self.title)}'
            f'</title><style>{_CSS}</style>{head}</head><body><header><p class="brand">{esc(self.title)}</p>'
            f'<nav aria-label="Main">{links}</nav></header><main>{body}</main>'
            f"<footer><p>&copy; 2026 {esc(self.title)}</p></footer></body></html>"
        )
        return HTMLResponse(text, status_code=status)

    def not_found(self, what: str) -> HTMLResponse:
        """A 404 page saying what was not found."""
        return self.page("Not found", f"<h1>Not found</h1><p>{esc(what)}</p>", status=404)


async def _no_icon(request: Request) -> Response:
    return Response(status_code=204)


def esc(value: object) -> str:
    """HTML-escaped text (quotes too): what users or fixtures wrote is shown as text, never markup."""
    return html.escape(str(value), quote=True)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], caption: str = "") -> str:
    """An HTML table with a header row."""
    head = "".join(f'<th scope="col">{esc(h)}</th>' for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in rows)
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def pager(path: str, page: int, pages: int, extra: str = "") -> str:
    """Previous/next links and the page position."""
    parts = []
    if page > 1:
        parts.append(f'<a href="{path}?page={page - 1}{extra}" rel="prev">Previous page</a>')
    parts.append(f"<span>Page {page} of {pages}</span>")
    if page < pages:
        parts.append(f'<a href="{path}?page={page + 1}{extra}" rel="next">Next page</a>')
    return f'<nav aria-label="Pagination" class="pager">{" ".join(parts)}</nav>'


def page_number(raw: str | None, pages: int) -> int | None:
    """The 1-based page a query asks for, or None when it is not a page of this listing."""
    try:
        number = int(raw or "1")
    except ValueError:
        return None
    return number if 1 <= number <= pages else None


_CSS = (
    "body{font-family:sans-serif;margin:0;color:#222}header{background:#24496b;color:#fff;padding:8px 16px}"
    "header a{color:#fff;margin-right:12px}.brand{font-size:20px;font-weight:bold;margin:4px 0}"
    "main{padding:16px;max-width:860px}table{border-collapse:collapse;margin:8px 0}"
    "td,th{border:1px solid #999;padding:4px 8px;text-align:left}.error{color:#b00020}"
    ".card{display:inline-block;border:1px solid #ccc;border-radius:6px;padding:8px 14px;margin:4px}"
    "footer{color:#777;padding:8px 16px;font-size:12px}label{display:block;margin:6px 0}"
)
