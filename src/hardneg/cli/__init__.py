"""Command-line interface: ``hardneg`` and its sub-commands; see :mod:`hardneg.cli.main`."""

from hardneg.cli.main import app, main

__all__ = ["app", "main"]
