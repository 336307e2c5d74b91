"""The floors of the package hold: import-linter's contracts in pyproject.toml pass, and would fail on a back-arrow.

The contracts (layers as in DESIGN.md, no cycles between sibling modules, private modules kept private) are
checked on the code as it is, then on a copy with one import from a higher floor or one cycle put in, which
must break them: a contract that cannot fail would prove nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "hardneg"


def _lint_imports(project: Path, src: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(src)}
    command = [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"]
    return subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=300)


def _copy(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(SRC, tmp_path / "src" / "hardneg", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path / "src" / "hardneg"


def test_the_floors_hold():
    result = _lint_imports(ROOT, ROOT / "src")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    "module, line, contract",
    [
        # the ground floor reaching up into a stage
        ("metrics.py", "import hardneg.bench._runner  # noqa", "floors"),
        # an audit check importing the benchmark (the cycle the reshape removed)
        ("audit/checks/calibration.py", "import hardneg.bench  # noqa", "floors"),
        # the two mining engines importing each other again
        ("mine/_ray_engine.py", "import hardneg.mine._engine  # noqa", "no cycles"),
        # a stage importing another package's private module
        ("mine/_select.py", "import hardneg.audit.checks._common  # noqa", "private"),
    ],
)
def test_a_back_arrow_or_a_cycle_breaks_a_contract(tmp_path, module, line, contract):
    package = _copy(tmp_path)
    path = package / module
    path.write_text(path.read_text() + "\n" + line + "\n")
    result = _lint_imports(tmp_path, tmp_path / "src")
    assert result.returncode == 1, result.stdout + result.stderr
    broken = [text for text in result.stdout.splitlines() if text.endswith("BROKEN")]
    assert any(contract in text for text in broken), result.stdout
