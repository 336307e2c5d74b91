"""What the benchmark scripts share: where things are, how to run hardneg, how to time a child, the commit.

Each benchmark runs as ``.venv/bin/python benchmarks/bench_*.py``, which puts this folder first on
``sys.path``, so ``import _common`` finds this file.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
RESULTS_MD = BENCH_DIR / "RESULTS.md"


def hardneg_command(override: str | None = None) -> list[str]:
    """``override`` split like a shell would, else the repository's ``.venv/bin/hardneg``, else ``python -m hardneg``."""
    if override:
        return shlex.split(override)
    script = REPO_ROOT / ".venv" / "bin" / "hardneg"
    return [str(script)] if script.exists() else [sys.executable, "-m", "hardneg"]


def timed(command: list[str]) -> tuple[float, str]:
    """Wall time of ``command`` as a fresh child, from start to exit, and its stdout; exit on failure."""
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        sys.exit(f"command failed ({completed.returncode}): {' '.join(map(str, command))}\n{completed.stderr[-2000:]}")
    return elapsed, completed.stdout


def package_versions(distributions) -> dict[str, str]:
    """Installed versions, read from metadata (no imports, so the measuring process stays small)."""
    from importlib import metadata

    versions = {}
    for dist in distributions:
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = "not installed"
    return versions


def git_commit() -> str | None:
    """The short HEAD commit, marked when tracked files have uncommitted changes; None outside git."""
    try:
        commit = subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, timeout=10, check=False).stdout.strip()  # fmt: skip
        if not commit:
            return None
        dirty = subprocess.run(["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10, check=False).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + (" (uncommitted changes)" if dirty else "")


def measure_table(rows) -> str:
    """``(measure, value)`` rows as the Markdown table every benchmark prints."""
    return "| measure | value |\n|---|---|\n" + "\n".join(f"| {name} | {value} |" for name, value in rows)


def append_results(title: str, command: str, table: str) -> None:
    """Append a dated section with the machine, the command and ``table`` to ``RESULTS.md``."""
    import datetime
    import os
    import platform

    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    machine = f"`{platform.platform()}`, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    with RESULTS_MD.open("a") as handle:
        handle.write(f"\n## {stamp} - {title}\n\n- machine: {machine}\n- command: {command}\n\n{table}\n")
    print(f"appended to {RESULTS_MD}")
