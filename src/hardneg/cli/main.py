"""The ``hardneg`` command: one sub-command per stage, each a thin wrapper over the Python API.

Each ``hardneg.cli.<module>`` holds its command (``train`` holds ``train`` and ``predict``) and a
``register(app)`` that adds it to a Typer app; this module composes them, and is the one place where bad
input becomes one ``error:`` line and exit status 2.
"""

from __future__ import annotations

import importlib
import re
import sys

import typer
from typer.core import TyperCommand, TyperGroup

from hardneg.cli.common import flag_names, flagged
from hardneg.errors import InputError

__all__ = ["app", "main"]

#: command -> (the module of hardneg.cli that registers it, its line in ``hardneg --help``), in that order
COMMANDS = {
    "sample": ("sample", "Cut positive and negative windows out of continuous recordings."),
    "split": ("split", "Split a dataset into train/val/test or folds, save it, and audit it."),
    "audit": ("audit", "Check a saved split (and predictions) for leakage and confounds."),
    "bench": ("bench", "Benchmark models x features x splits x seeds against baselines."),
    "train": ("train", "Fit one model on a split's training subset and save it with its card."),
    "predict": ("train", "Score every window of a dataset with a trained model."),
    "mine": ("mine", "Score a pool of recordings with a model and keep what it wrongly finds."),
    "export": ("export", "Write reviewed candidates as a manifest, YOLO or COCO backgrounds, or a dataset."),
    "stream": ("stream", "Score whole recordings and measure false alarms per hour, recall and lead time."),
    "experiment": ("experiment", "Compare training variants (arms x seeds) with paired statistics."),
    "review": ("review", "Triage mined candidates in the browser; every decision saved as you make it."),
    "demo": ("demo", "The whole job on a small synthetic IMU world, in well under a minute."),
}


#: What Ctrl-C leaves behind, per command, where the command does not say it itself (bench and mine count what
#: they kept). Every file is written whole or not at all, so an interrupted run never leaves a half-written one.
INTERRUPTED = {
    "sample": "interrupted; no dataset was written (a dataset already in --out is as it was); run the same "
    "command again",
    "split": "interrupted; the split is saved whole or not at all, and audited after it; run the same command "
    "again, with --overwrite if the split was saved",
    "audit": "interrupted; no audit file was written (an earlier audit is as it was); run the same command again",
    "bench": "interrupted; the finished parts are kept in --out; run the same command again to resume where it stopped",
    "train": "interrupted; no model was written (a model already in --out is as it was); run the same command again",
    "predict": "interrupted; no predictions were written; run the same command again",
    "mine": "interrupted before any pool item was scored; run the same command again (with --overwrite if it "
    "had started --out)",
    "export": "interrupted; nothing was written (an export already in --out is as it was); run the same command "
    "again",
    "stream": "interrupted; recordings scored so far are kept in --out (run the same command again to go on); "
    "an evaluation writes its files whole or not at all",
    "experiment": "interrupted; finished runs are kept in --out; run the same command again to go on",
    "review": "stopped; every decision the page showed as saved is in MINED/review.sqlite",
    "demo": "interrupted; what the demo made so far stays in --out and is replaced when you run it again",
}


def describe(error: InputError, command=None) -> str:
    """An :class:`InputError` as one line, the library parameters it names replaced by the command's flags."""
    message = " ".join(str(error).split())  # one line, however the message was built
    parameter = getattr(error, "parameter", None)
    if command is None:
        return message
    flags = flag_names(command)
    if parameter and message.startswith(parameter):
        flag = flags.get(parameter)
        rest = message[len(parameter) :]
        if flag and not (rest[:1].isalnum() or rest[:1] in "_-"):  # the whole name, not the start of a longer one
            message = flag + rest
    # Other parameters the message names ("test_size 0.6 plus val_size 0.9"): the flags too.
    return flagged(message, flags)


def literal_help(command) -> None:
    """Show the help texts of ``command`` and its options as written.

    They are rendered as rich markup, and hold brackets meant literally ("[q, 1-q]"); a docstring's
    line breaks inside a paragraph are only where the source wrapped it.
    """
    from rich.markup import escape

    if command.help:
        paragraphs = command.help.strip().split("\n\n")
        command.help = escape("\n\n".join(" ".join(paragraph.split()) for paragraph in paragraphs))
    for param in command.params:
        if getattr(param, "help", None):
            param.help = escape(param.help)
        if getattr(param, "is_flag", False):
            param.metavar = ""  # a switch takes no value: no "<bool>" beside it
        elif param.param_type_name == "argument" and param.nargs != 1:
            param.display_type_rich = _many(param.display_type_rich)
    command.get_help_option = _switch(command.get_help_option)


def _switch(get_help_option):
    """The help option as a switch (no ``<bool>``), like every other flag."""

    def get(ctx):
        option = get_help_option(ctx)
        if option is not None:
            option.metavar = ""
        return option

    return get


def _many(display):
    """``<list[Path]>`` as ``<path>...``: what to type, not the Python annotation."""

    def shown(ctx) -> str | None:
        text = display(ctx)
        match = re.fullmatch(r"<list\[(\w+)\]>", text or "")
        return f"<{match.group(1).lower()}>..." if match else text

    return shown


def load_commands(module_name: str) -> dict:
    """Import ``hardneg.cli.<module_name>`` and build the click commands its ``register`` adds."""
    module = importlib.import_module(f"hardneg.cli.{module_name}")
    single = typer.Typer(rich_markup_mode="rich", add_completion=False)
    module.register(single)
    built = typer.main.get_command(single)
    commands = built.commands if isinstance(built, TyperGroup) else {built.name: built}
    for name, command in commands.items():
        literal_help(command)
        for sub in getattr(command, "commands", {}).values():  # a command with sub-commands (stream score, ...)
            literal_help(sub)
        command.short_help = COMMANDS[name][1]
    return commands


class HardnegGroup(TyperGroup):
    """The sub-commands, and one ``error:`` line for bad input.

    A command's module is imported when the command runs or shows its help, not before: the choices of
    ``bench``, ``split`` and ``train`` come from library modules that import scikit-learn and SciPy.
    """

    _listing = False  # while ``hardneg --help`` lists the commands, names and summaries suffice

    def get_help_option(self, ctx):
        return _switch(super().get_help_option)(ctx)

    def list_commands(self, ctx) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx, cmd_name: str):
        if cmd_name not in COMMANDS:
            return None
        if self._listing and cmd_name not in self.commands:
            return TyperCommand(name=cmd_name, short_help=COMMANDS[cmd_name][1])
        if cmd_name not in self.commands:
            self.commands.update(load_commands(COMMANDS[cmd_name][0]))
        return self.commands[cmd_name]

    def format_help(self, ctx, formatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except InputError as error:
            name = ctx.invoked_subcommand
            sys.stderr.write(f"error: {describe(error, self.commands.get(name) if name else None)}\n")
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            name = ctx.invoked_subcommand
            sys.stderr.write(f"{INTERRUPTED.get(name, 'interrupted; run the same command again')}\n")
            raise typer.Exit(130) from None


SUMMARY = "Honest negatives, splits and evaluation for event detectors on sensor streams, ECG, audio and video."

app = typer.Typer(
    name="hardneg",
    cls=HardnegGroup,
    help=SUMMARY,
    rich_markup_mode="rich",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        from hardneg import __version__

        typer.echo(f"hardneg {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", help="Print the version and exit.", is_eager=True, callback=_print_version, metavar=""
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
        message = " ".join(error.format_message().split()).replace("Value error, ", "").rstrip(".")
        context = getattr(error, "ctx", None)
        if context is not None:
            command = context.command_path
        else:  # an option's missing value is reported without its command: the first command word names it
            words = sys.argv[1:] if argv is None else argv
            named = next((word for word in words if word in COMMANDS), None)
            command = f"hardneg {named}" if named else "hardneg"
        sys.stderr.write(f"error: {message}; see `{command} --help`\n")
        sys.exit(getattr(error, "exit_code", 2))
    except typer.Abort:
        sys.stderr.write("aborted\n")
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
