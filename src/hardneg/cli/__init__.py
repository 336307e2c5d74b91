"""Command-line interface; see :mod:`hardneg.cli.main`."""
