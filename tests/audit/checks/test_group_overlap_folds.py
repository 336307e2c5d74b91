"""group_overlap over several folds and over every subset pair, on hand-made splits whose verdict is known.

Each split here is written out group by group, so the shared groups of every fold
are read off the layout, not computed by the check under test.
"""

import numpy as np
import pandas as pd

from hardneg.audit import AuditContext, run_audit


def _run(dataset, frame, strategy="group"):
    context = AuditContext(dataset, frame, {"name": "s", "strategy": strategy})
    return run_audit(context, ["group_overlap"])["group_overlap"]


def _fold(build, groups, layout, fold, moved=None):
    """One fold's subsets from ``layout`` (group -> subset); ``moved``: (group, count, subset) windows put elsewhere."""
    subsets = np.array([layout[g] for g in groups], dtype=object)
    for group, count, subset in moved or ():
        subsets[np.flatnonzero(groups == group)[:count]] = subset
    return build.frame(subsets.astype(str), fold=fold)


def _dataset(build):
    ds = build.dataset(build.grid_index(n_recordings=4, per_recording=10))
    return ds, ds.index["group"].to_numpy()


def test_leak_in_the_first_fold_fails_although_the_last_fold_is_clean(build):
    ds, groups = _dataset(build)
    # fold 0: g0 and g1 test, g2 and g3 train, but 3 windows of g2 sit in test -> g2 shared
    leaky = _fold(build, groups, {"g0": "test", "g1": "test", "g2": "train", "g3": "train"}, 0, [("g2", 3, "test")])
    # fold 1: g2 and g3 test, g0 and g1 train, nothing shared
    clean = _fold(build, groups, {"g0": "train", "g1": "train", "g2": "test", "g3": "test"}, 1)
    result = _run(ds, pd.concat([leaky, clean], ignore_index=True))
    assert result.verdict == "FAIL"
    assert result.numbers["shared_groups"] == 1
    assert result.numbers["shared_group_examples"] == ["g2"]
    assert result.numbers["folds_with_shared_groups"] == 1
    per_fold = {entry["fold"]: entry for entry in result.numbers["per_fold"]}
    assert per_fold[0]["shared_groups"] == 1 and per_fold[0]["train_test"] == 1
    assert per_fold[1]["shared_groups"] == 0
    # fold 0 scores 23 test windows (20 of g0/g1, 3 of g2), 3 of them from a training group
    assert per_fold[0]["test_windows_in_train_groups"] == 3 / 23
    assert per_fold[1]["test_windows_in_train_groups"] == 0.0
    assert result.numbers["test_windows_in_train_groups"] == 3 / 23
    assert "in fold 0" in result.explanation


def test_leak_in_the_last_fold_only_fails_too(build):
    ds, groups = _dataset(build)
    clean = _fold(build, groups, {"g0": "test", "g1": "test", "g2": "train", "g3": "train"}, 0)
    leaky = _fold(build, groups, {"g0": "train", "g1": "train", "g2": "test", "g3": "test"}, 1, [("g3", 2, "train")])
    result = _run(ds, pd.concat([clean, leaky], ignore_index=True))
    assert result.verdict == "FAIL"
    assert result.numbers["shared_group_examples"] == ["g3"]
    assert result.numbers["folds_with_shared_groups"] == 1


def test_group_in_train_and_val_with_a_clean_test_fails(build):
    ds, groups = _dataset(build)
    # g0 test alone; g1 val but 4 of its windows in train -> g1 in train and val, test untouched
    frame = _fold(build, groups, {"g0": "test", "g1": "val", "g2": "train", "g3": "train"}, 0, [("g1", 4, "train")])
    result = _run(ds, frame)
    assert result.verdict == "FAIL"
    assert result.numbers["shared_groups"] == 1
    assert result.numbers["shared_group_examples"] == ["g1"]
    (entry,) = result.numbers["per_fold"]
    assert entry["train_val"] == 1 and entry["train_test"] == 0 and entry["val_test"] == 0
    # the test windows are all from g0, never trained on: the leak is in validation only
    assert result.numbers["test_windows_in_train_groups"] == 0.0


def test_group_in_val_and_test_fails(build):
    ds, groups = _dataset(build)
    frame = _fold(build, groups, {"g0": "test", "g1": "val", "g2": "train", "g3": "train"}, 0, [("g1", 1, "test")])
    result = _run(ds, frame)
    assert result.verdict == "FAIL"
    (entry,) = result.numbers["per_fold"]
    assert entry["val_test"] == 1 and entry["train_val"] == 0 and entry["train_test"] == 0


def test_train_and_val_only_split_with_shared_group_fails(build):
    ds, groups = _dataset(build)
    # no test subset at all: only the train/val pair can leak, and it does (g3)
    frame = _fold(build, groups, {"g0": "val", "g1": "train", "g2": "train", "g3": "train"}, 0, [("g3", 5, "val")])
    result = _run(ds, frame)
    assert result.verdict == "FAIL"
    assert result.numbers["shared_group_examples"] == ["g3"]
    # scored windows are validation then: 10 of g0 and 5 of g3, the 5 from a training group
    assert result.numbers["test_windows_in_train_groups"] == 5 / 15
