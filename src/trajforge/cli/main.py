"""Entry point of the `trajforge` console script.

Each command's module is imported only when that command runs (or when the help
lists them all): `generate` must not pay for pyarrow and datasketch, which the
dataset commands import, before it starts (the issue's start-up target, 0.5 s).
"""

from __future__ import annotations

import importlib
import sys
from typing import Annotated

import typer

from trajforge import __version__
from trajforge.cli.options import plain_metavars

# command name -> (module under trajforge.cli, function); sub-apps name their typer app
_COMMANDS = {
    "stats": ("datasets", "stats"),
    "validate": ("datasets", "validate"),
    "run-task": ("run_task", "run_task"),
    "generate": ("generate", "generate_command"),
    "replay": ("replay", "replay"),
    "curate": ("curation", "curate_command"),
    "publish": ("curation", "publish_command"),
    "export": ("curation", "export_command"),
    "import": ("curation", "import_command"),
    "push": ("curation", "push_command"),
    "view": ("view", "view"),
    "compress": ("compress", "compress_command"),
}
_GROUPS = {"tasks": ("tasks", "app"), "endpoint": ("endpoint", "app")}


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"trajforge {__version__}")
        raise typer.Exit()


def _root(
    version: Annotated[
        bool,
        typer.Option("--version", "-V", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Generate and curate multi-turn tool-calling reasoning traces."""


def build_app(only: str | None = None) -> typer.Typer:
    """The command line with every command, or only `only` (the one being run)."""
    app = typer.Typer(
        name="trajforge",
        help="Generate and curate multi-turn tool-calling reasoning traces.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    app.callback()(_root)
    for name, (module, attribute) in _COMMANDS.items():
        if only in (None, name):
            app.command(name)(getattr(importlib.import_module(f"trajforge.cli.{module}"), attribute))
    for name, (module, attribute) in _GROUPS.items():
        if only in (None, name):
            app.add_typer(getattr(importlib.import_module(f"trajforge.cli.{module}"), attribute), name=name)
    return app


def main() -> None:
    """Run the command line."""
    named = next((arg for arg in sys.argv[1:] if not arg.startswith("-")), None)
    only = named if named in _COMMANDS or named in _GROUPS else None
    if named is None and {"--version", "-V"} & set(sys.argv[1:]):
        only = "endpoint"  # the version needs no command; the lightest one keeps the group a group
    command = typer.main.get_command(build_app(only))
    plain_metavars(command)
    command(prog_name="trajforge")
