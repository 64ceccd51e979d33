"""Entry point of the `trajforge` console script."""

from __future__ import annotations

from typing import Annotated

import typer

from trajforge import __version__
from trajforge.cli import curation, datasets, endpoint, generate, replay, run_task, tasks
from trajforge.cli.options import plain_metavars

app = typer.Typer(
    name="trajforge",
    help="Generate and curate multi-turn tool-calling reasoning traces.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("stats")(datasets.stats)
app.command("validate")(datasets.validate)
app.command("run-task")(run_task.run_task)
app.command("generate")(generate.generate_command)
app.command("replay")(replay.replay)
app.command("curate")(curation.curate_command)
app.command("publish")(curation.publish_command)
app.command("export")(curation.export_command)
app.command("import")(curation.import_command)
app.command("push")(curation.push_command)
app.add_typer(tasks.app, name="tasks")
app.add_typer(endpoint.app, name="endpoint")


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"trajforge {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", "-V", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Generate and curate multi-turn tool-calling reasoning traces."""


def main() -> None:
    """Run the command line."""
    command = typer.main.get_command(app)
    plain_metavars(command)
    command(prog_name="trajforge")
