"""Small helpers the check modules share: subset pairs, formatting, skip results."""

from __future__ import annotations

import math

from hardneg.audit._base import SKIP, CheckResult

#: The subset pairs a leak can cross: (the subset a model learns from, the subset it is scored on).
LEAK_PAIRS = (("train", "test"), ("train", "val"), ("val", "test"))


def pct(share: float, digits: int = 1) -> str:
    """``0.1234`` -> ``'12.3%'``; NaN -> ``'n/a'``."""
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return "n/a"
    return f"{100.0 * share:.{digits}f}%"


def num(value: float, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.{digits}f}"


def skip(check: str, reason: str, numbers: dict | None = None) -> CheckResult:
    return CheckResult(check, SKIP, numbers or {}, reason)


def fold_label(context, fold: int) -> str:
    return "the split" if len(context.folds) == 1 else f"fold {fold}"


def in_fold(context, fold: int) -> str:
    """``""`` for a holdout, ``" in fold 3"`` for a fold of a cross-validation."""
    return "" if len(context.folds) == 1 else f" in fold {fold}"


def preview(items, limit: int = 10) -> list:
    """The first ``limit`` items, sorted, for the numbers (full lists of thousands help nobody)."""
    return sorted(items, key=str)[:limit]
