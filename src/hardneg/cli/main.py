"""The ``hardneg`` command: one sub-command per stage, each a thin wrapper over the Python API."""

from __future__ import annotations

import sys

import typer

from hardneg.cli.audit import audit
from hardneg.cli.bench import bench
from hardneg.cli.demo import demo
from hardneg.cli.mine import mine
from hardneg.cli.sample import sample
from hardneg.cli.split import split
from hardneg.cli.train import predict, train

app = typer.Typer(
    name="hardneg",
    help="Honest negatives, splits and evaluation for event detectors on sensor streams, ECG, audio and video.",
    # Plain help: rich's option table cuts long option names at 80 columns.
    rich_markup_mode=None,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command(no_args_is_help=True)(sample)
app.command(no_args_is_help=True)(split)
app.command(no_args_is_help=True)(audit)
app.command(no_args_is_help=True)(bench)
app.command(no_args_is_help=True)(train)
app.command(no_args_is_help=True)(predict)
app.command(no_args_is_help=True)(mine)
app.command()(demo)


def _print_version(value: bool) -> None:
    if value:
        from hardneg import __version__

        typer.echo(f"hardneg {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", help="Print the version and exit.", is_eager=True, callback=_print_version
    ),
) -> None:
    """Honest negatives, splits and evaluation for event detectors on sensor streams, ECG, audio and video."""


def main(argv: list[str] | None = None) -> None:
    """Run the command line; a usage error (bad option value, unknown option) is one ``error:`` line, exit 2."""
    try:
        code = app(args=argv, prog_name="hardneg", standalone_mode=False)
    except typer.TyperException as error:  # the vendored click's ClickException and UsageError
        if type(error).__name__ == "NoArgsIsHelpError":  # bare `hardneg` or `hardneg sample`: show the help
            error.show()
            sys.exit(0)
        message = " ".join(error.format_message().split())
        context = getattr(error, "ctx", None)
        command = context.command_path if context is not None else "hardneg"
        sys.stderr.write(f"error: {message}; see `{command} --help`\n")
        sys.exit(getattr(error, "exit_code", 2))
    except typer.Abort:
        sys.stderr.write("aborted\n")
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
