"""Group holdouts draw ``ceil(test_size x n_groups)`` test groups and ``ceil(val_size x n_groups)`` validation groups.

``make_split``'s rule for group, stratified-group and explicit groups (scikit-learn's
rounding of ``test_size``: up), with the share taken as the decimal written, so that
0.28 x 25 is 7 groups, not 8. The expected counts are computed here with exact fractions.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from hardneg.split import make_split


def _index(n_groups: int, per_group: int = 6) -> pd.DataFrame:
    """``per_group`` windows per group, a third of them positive, so every group holds both classes."""
    groups = np.repeat([f"grp{g:02d}" for g in range(n_groups)], per_group)
    labels = np.tile((np.arange(per_group) % 3 == 0).astype(np.int8), n_groups)
    return pd.DataFrame({"window_id": np.arange(len(groups), dtype=np.int64), "group": groups, "label": labels})


def _groups_by_subset(index: pd.DataFrame, frame: pd.DataFrame) -> dict[str, set]:
    merged = frame.merge(index, on="window_id")
    by_subset = {s: set(merged.loc[merged["subset"] == s, "group"]) for s in ("train", "val", "test")}
    # whole groups: no group in two subsets, every group somewhere
    assert sum(len(g) for g in by_subset.values()) == index["group"].nunique()
    return by_subset


def _exact_ceil(share: str, n: int) -> int:
    return math.ceil(Fraction(share) * n)


@pytest.mark.parametrize("strategy", ["group", "stratified-group"])
@pytest.mark.parametrize(
    ("n_groups", "test_size", "val_size", "n_test", "n_val"),
    [
        (10, "0.25", "0.15", 3, 2),  # 2.5 -> 3, 1.5 -> 2
        (10, "0.2", "0.2", 2, 2),  # whole numbers stay as they are
        (25, "0.28", "0.12", 7, 3),  # 0.28 * 25 is 7.000000000000001 in floats: still 7, not 8
        (7, "0.3", "0.1", 3, 1),  # 2.1 -> 3, 0.7 -> 1
        (4, "0.1", "0.0", 1, 0),  # 0.4 -> 1: a small share still holds out one group
        (9, "0.34", "0.12", 4, 2),  # 3.06 -> 4, 1.08 -> 2
    ],
)
@pytest.mark.parametrize("seed", [0, 7])
def test_group_holdout_sizes_round_up(strategy, n_groups, test_size, val_size, n_test, n_val, seed):
    assert (_exact_ceil(test_size, n_groups), _exact_ceil(val_size, n_groups)) == (n_test, n_val)
    index = _index(n_groups)
    frame, info = make_split(index, strategy, test_size=float(test_size), val_size=float(val_size), seed=seed)
    by_subset = _groups_by_subset(index, frame)
    assert len(by_subset["test"]) == n_test
    assert len(by_subset["val"]) == n_val
    assert len(by_subset["train"]) == n_groups - n_test - n_val
    assert info["parameters"]["test_size"] == float(test_size)


def test_explicit_test_groups_draw_validation_groups_rounded_up():
    index = _index(10)
    frame, _ = make_split(index, "group", test_groups=["grp00", "grp01"], val_size=0.25, seed=3)
    by_subset = _groups_by_subset(index, frame)
    assert by_subset["test"] == {"grp00", "grp01"}
    assert len(by_subset["val"]) == 3  # ceil(0.25 * 10)
    assert len(by_subset["train"]) == 5
