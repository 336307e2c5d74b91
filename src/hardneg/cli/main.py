"""The ``hardneg`` command: one sub-command per stage, each a thin wrapper over the Python API."""

from __future__ import annotations

import typer

from hardneg.cli.demo import demo
from hardneg.cli.sample import sample

app = typer.Typer(
    name="hardneg",
    help="Honest negatives, splits and evaluation for event detectors on sensor streams, ECG, audio and video.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command(no_args_is_help=True)(sample)
app.command()(demo)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", help="Print the version and exit.", is_eager=True),
) -> None:
    if version:
        from hardneg import __version__

        typer.echo(__version__)
        raise typer.Exit()


def main() -> None:
    app()
