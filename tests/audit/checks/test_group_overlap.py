"""group_overlap: shared groups FAIL, disjoint groups PASS; intra-group and time splits FAIL for new groups."""

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupKFold

from hardneg.audit import AuditContext, run_audit


def _run(dataset, frame, info=None):
    return run_audit(AuditContext(dataset, frame, info or {"name": "s", "strategy": "random"}), ["group_overlap"])[
        "group_overlap"
    ]


def test_random_window_split_fails_with_brute_force_counts(build):
    ds = build.dataset(build.grid_index(n_recordings=6, per_recording=40))
    subsets = build.random_subsets(len(ds.index), seed=1)
    result = _run(ds, build.frame(subsets))
    assert result.verdict == "FAIL"
    groups = ds.index["group"].to_numpy()
    by_subset = {s: set(groups[subsets == s]) for s in ("train", "val", "test")}
    shared = (
        (by_subset["train"] & by_subset["test"])
        | (by_subset["train"] & by_subset["val"])
        | (by_subset["val"] & by_subset["test"])
    )
    assert result.numbers["shared_groups"] == len(shared) == 6
    test_groups = groups[subsets == "test"]
    expected_share = np.mean([g in by_subset["train"] for g in test_groups])
    assert result.numbers["test_windows_in_train_groups"] == expected_share == 1.0
    assert "group split" in result.explanation or "Split by group" in result.explanation


def test_group_split_passes(build):
    ds = build.dataset(build.grid_index(n_recordings=6, per_recording=40))
    subsets = build.group_subsets(ds.index["group"], test_groups=["g0", "g1"], val_groups=["g2"])
    result = _run(ds, build.frame(subsets), {"name": "g", "strategy": "group"})
    assert result.verdict == "PASS"
    assert result.numbers["shared_groups"] == 0
    assert result.numbers["test_windows_in_train_groups"] == 0.0


def test_one_shared_group_fails_and_is_named(build):
    ds = build.dataset(build.grid_index(n_recordings=4, per_recording=30))
    subsets = build.group_subsets(ds.index["group"], test_groups=["g0"])
    # move 5 windows of g1 (a training group) into test
    subsets[np.flatnonzero(ds.index["group"].to_numpy() == "g1")[:5]] = "test"
    result = _run(ds, build.frame(subsets), {"name": "g", "strategy": "group"})
    assert result.verdict == "FAIL"
    assert result.numbers["shared_group_examples"] == ["g1"]
    assert result.numbers["test_windows_in_train_groups"] == 5 / 35


def test_intra_group_and_time_splits_fail_for_new_groups(build):
    ds = build.dataset(build.grid_index(n_recordings=4, per_recording=30))
    # every group in train (first 70% of its windows) and test (last 30%)
    position = ds.index.groupby("recording").cumcount().to_numpy()
    subsets = np.where(position >= 21, "test", "train")
    for strategy in ("intra-group", "time"):
        result = _run(ds, build.frame(subsets), {"name": strategy, "strategy": strategy})
        assert result.verdict == "FAIL", strategy
        assert result.numbers["shared_groups"] == 4
        assert strategy in result.explanation
    assert "within groups" in _run(ds, build.frame(subsets), {"strategy": "intra-group"}).explanation


def test_group_k_fold_passes_and_reports_each_fold(build):
    ds = build.dataset(build.grid_index(n_recordings=6, per_recording=20))
    parts = []
    for fold, (train, test) in enumerate(GroupKFold(n_splits=3).split(ds.index, groups=ds.index["group"])):
        subsets = np.empty(len(ds.index), dtype=object)
        subsets[train], subsets[test] = "train", "test"
        parts.append(build.frame(subsets.astype(str), fold=fold))
    result = _run(ds, pd.concat(parts, ignore_index=True), {"strategy": "group"})
    assert result.verdict == "PASS"
    assert [entry["fold"] for entry in result.numbers["per_fold"]] == [0, 1, 2]


def test_single_subset_is_skipped(build):
    ds = build.dataset(build.grid_index(n_recordings=2, per_recording=10))
    result = _run(ds, build.frame(["train"] * len(ds.index)))
    assert result.verdict == "SKIP"
    assert "single subset" in result.explanation
