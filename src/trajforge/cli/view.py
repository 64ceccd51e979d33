"""`trajforge view`: serve run folders and datasets as web pages."""

from __future__ import annotations

import contextlib
import threading
import webbrowser
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from trajforge.cli.common import fail

if TYPE_CHECKING:
    from trajforge.viewer import ViewerState


def view(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Run folders (OUT, OUT/runs or OUT/runs/<config>), published dataset folders, JSONL or Parquet "
            "files, or folders of them; several are shown side by side.",
            show_default=False,
        ),
    ],
    host: Annotated[str, typer.Option(help="Address to bind; anything but loopback needs --token.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on (0: any free port).")] = 8765,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="TRAJFORGE_VIEW_TOKEN", help="Secret every request must carry (?token= once, then a cookie)."
        ),
    ] = None,
    open_browser: Annotated[bool, typer.Option("--open", help="Open the home page in a web browser.")] = False,
) -> None:
    """Browse, filter, search and compare traces in a web page (an index is built once and cached)."""
    from trajforge.viewer.guard import is_loopback  # light: refusals come before the dataset imports

    if not is_loopback(host) and not token:
        raise fail(f"--host {host} would let other machines read the traces: give --token too (or bind 127.0.0.1)")
    if token is not None and len(token) < 8:
        raise fail("--token must be at least 8 characters")
    from trajforge.dataset import LayoutError
    from trajforge.dataset.rows.parallel import default_workers
    from trajforge.viewer import Settings, ViewerState, cache_root, find_sources
    from trajforge.viewer.index import is_cached

    try:
        sources = find_sources(paths)
    except LayoutError as exc:
        raise fail(str(exc)) from None
    if not sources:
        raise fail(f"{', '.join(map(str, paths))}: no configs found")
    console = Console(stderr=True)
    if not is_cached(paths, sources):
        size = sum(f.stat().st_size for s in sources for f in s.files if f.is_file()) / 1e6
        console.print(f"trajforge view: indexing {size:,.0f} MB once (kept in {cache_root()})", highlight=False,
                      soft_wrap=True)  # fmt: skip
    columns = (TextColumn("indexing"), BarColumn(), MofNCompleteColumn(), TextColumn("pieces"), TimeElapsedColumn())
    progress = Progress(*columns, console=console, transient=True)
    task = progress.add_task("index", total=None)
    settings = Settings(paths, workers=min(default_workers(), 8),
                        progress=lambda done, total: progress.update(task, completed=done, total=total))  # fmt: skip
    try:
        with progress:
            state = ViewerState(settings, sources)
    except OSError as exc:
        raise fail(f"cannot build the index under {cache_root()}: {exc}") from None
    settings.progress = None
    _serve(state, host, port, token, open_browser, console)


def _serve(state: ViewerState, host: str, port: int, token: str | None, open_browser: bool, console: Console) -> None:
    import uvicorn

    from trajforge.viewer import create_app

    config = uvicorn.Config(create_app(state, host=host, port=port, token=token), host=host, port=port,
                            log_level="error", access_log=False)  # fmt: skip
    server = uvicorn.Server(config)
    shown = f"[{host}]" if ":" in host else host
    address = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else shown}:{port}/"

    def announce() -> None:
        while not server.started:
            if server.should_exit:
                return
            threading.Event().wait(0.05)
        bound = server.servers[0].sockets[0].getsockname()[1] if port == 0 and server.servers else port
        url = address.replace(f":{port}/", f":{bound}/") + (f"?token={token}" if token else "")
        rows = len(state.index)
        console.print(f"trajforge view: {rows:,} traces at {url}  (Ctrl-C to stop)", markup=False, highlight=False,
                      soft_wrap=True)  # fmt: skip
        if open_browser:
            webbrowser.open(url)

    threading.Thread(target=announce, daemon=True).start()
    with contextlib.suppress(SystemExit):  # uvicorn exits when it cannot bind
        server.run()
    if not server.started:
        raise fail(f"cannot listen on {host}:{port} (in use, or not an address of this machine)")
