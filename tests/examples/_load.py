"""Where the examples and MIT-BIH lie, and the feature module loaded from its file (examples/ is no package)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "ecg_rr_features.py"
MITDB = (REPO / ".." / "shared" / "data" / "mitdb").resolve()
MITDB_MISSING = f"MIT-BIH records not found at {MITDB} (../shared/data/mitdb beside the checkout)"
#: the symbols of a beat-level dataset: V/E beats positive, every other beat a labelled negative
POSITIVE = ("V", "E")
NEGATIVE = ("N", "L", "R", "e", "j", "A", "a", "J", "S", "F", "/", "f", "Q")


def load_example():
    """The module examples/ecg_rr_features.py, imported from its path as bench imports a feature spec."""
    spec = importlib.util.spec_from_file_location("ecg_rr_features", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def has_mitdb() -> bool:
    return (MITDB / "100.hea").is_file()
