"""The viewer's web app: Starlette routes, server-rendered Jinja2 pages, files served from the package."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from trajforge.trace.turns import json_bytes
from trajforge.viewer import pages
from trajforge.viewer.guard import LOOPBACK_NAMES, Guard, is_loopback
from trajforge.viewer.markdown import Markdown
from trajforge.viewer.query import Query
from trajforge.viewer.state import ViewerState

STATIC = Path(__file__).parent / "static"


def _environment() -> Environment:
    env = Environment(loader=PackageLoader("trajforge.viewer", "templates"), autoescape=select_autoescape(default=True))
    env.filters["md"] = Markdown()
    env.filters["num"] = lambda value, digits=0: f"{value:,.{digits}f}"
    return env


def create_app(state: ViewerState, *, host: str = "127.0.0.1", port: int = 8765, token: str | None = None) -> Guard:
    """The ASGI app serving `state`; `host` is where it is bound (loopback hosts check the Host header)."""
    env = _environment()

    def page(template: str, build: Callable[[Request], dict[str, Any] | Response]) -> Callable[[Request], Response]:
        def endpoint(request: Request) -> Response:
            with state.lock:
                state.refresh()
                context = build(request)
                if isinstance(context, Response):
                    return context
                shared = {"config_names": state.config_names(), "rebuilding": state.rebuilding}
                html = env.get_template(template).render(**shared, **context)
            return HTMLResponse(html)

        return endpoint

    def trace(request: Request) -> dict[str, Any] | Response:
        position = _position(state, request)
        if position is None:
            return _missing(env, "No such trace (it may have changed since the link was made).")
        return pages.trace_page(state, position, _query(request))

    routes = [
        Route("/", page("home.html", lambda request: pages.home(state))),
        Route("/list", page("list.html", lambda request: pages.list_page(state, _query(request)))),
        Route("/trace", page("trace.html", trace)),
        Route(
            "/compare",
            page("compare.html", lambda request: pages.compare_page(state, request.query_params.get("task", ""))),
        ),
        Route("/raw", lambda request: _raw(state, request)),
        Route("/shot", lambda request: _shot(state, request)),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    hosts = [*LOOPBACK_NAMES] if is_loopback(host) else None
    return Guard(Starlette(routes=routes), token=token, port=port, hosts=hosts)


def _query(request: Request) -> Query:
    return Query.parse({k: request.query_params.getlist(k) for k in request.query_params})


def _position(state: ViewerState, request: Request) -> int | None:
    """The row a page's `config`, `id` and `n` name."""
    params = request.query_params
    n = params.get("n", "1")
    return state.find(params.get("config", ""), params.get("id", ""), int(n) if n.isdigit() else 0)


def _raw(state: ViewerState, request: Request) -> Response:
    """The row as JSON (the copy button's source), or the raw text of a line that is not JSON."""
    with state.lock:
        position = _position(state, request)
        if position is None:
            return _not_found("no such row")
        row = state.reader.read(position)
    body = json_bytes(row.data) if row.data is not None else row.raw.encode()
    return Response(body, media_type="application/json" if row.data is not None else "text/plain")


def _shot(state: ViewerState, request: Request) -> Response:
    """A screenshot the run kept for a row: only a file its listing names, never a path built from the request."""
    name = request.query_params.get("name", "")
    with state.lock:
        position = _position(state, request)
        if position is None:
            return _not_found("no such row")
        found = pages.screenshots(state.index.source_of(position), state.index.text["id"][position])
    for file in found:
        if file.name == name:
            return FileResponse(file)
    return _not_found("no such screenshot")


def _not_found(message: str) -> Response:
    return Response(f"{message}\n", status_code=404, media_type="text/plain")


def _missing(env: Environment, message: str) -> Response:
    html = env.get_template("missing.html").render(message=message, config_names=[])
    return HTMLResponse(html, status_code=404)
