"""Run ``hardneg`` on the command line, in this process or as ``python -m hardneg``, and check a refusal.

In-process runs call :func:`hardneg.cli.main.main` with ``sys.argv``-like arguments and capture what it
writes; an exception that escapes it is recorded as a traceback on stderr, as a subprocess would print it.
That is about 50 times faster than a subprocess, which matters for a corpus of over a hundred cases on two
cores. ``HARDNEG_CLI_SUBPROCESS=1`` in the environment runs every case as a subprocess instead.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def run_subprocess(*args, cwd: Path | None = None, env: dict | None = None, timeout: float = 120) -> Result:
    """``python -m hardneg ARGS`` as a user's shell runs it (not a terminal)."""
    environment = dict(os.environ)
    environment.pop("COLUMNS", None)
    environment["NO_COLOR"] = "1"
    environment.update(env or {})
    done = subprocess.run(
        [sys.executable, "-m", "hardneg", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment,
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def run_in_process(*args, cwd: Path | None = None) -> Result:
    """``hardneg ARGS`` through :func:`hardneg.cli.main.main` in this process."""
    from hardneg.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    previous = Path.cwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main([str(arg) for arg in args])
            except SystemExit as stop:
                code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
            except BaseException:  # noqa: BLE001 - what the interpreter prints: a traceback and status 1
                err.write(traceback.format_exc())
                code = 1
    finally:
        os.chdir(previous)
    return Result(code, out.getvalue(), err.getvalue())


def run_hardneg(*args, cwd: Path | None = None) -> Result:
    """In process unless ``HARDNEG_CLI_SUBPROCESS=1``."""
    if os.environ.get("HARDNEG_CLI_SUBPROCESS") == "1":
        return run_subprocess(*args, cwd=cwd)
    return run_in_process(*args, cwd=cwd)


def error_lines(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


def assert_refused(result: Result, *needles: str) -> str:
    """Exit 2, exactly one stderr line starting with ``error:`` that holds every needle, no traceback.

    Other stderr lines may only be ``warning:`` lines (and their wrapped continuations); stdout is empty.
    """
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert result.returncode == 2, output
    lines = error_lines(result)
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], f"{needle!r} not in {lines[0]!r}"
    assert not result.stdout.strip(), result.stdout
    return lines[0]
