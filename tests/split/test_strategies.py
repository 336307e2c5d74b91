"""make_split: each strategy's guarantee (brute force), seeds, oversampling, the description, and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.split.split_helpers import indexes, ordered_units, pairs_within_gap, regular_index, subsets_of

from hardneg.errors import InputError
from hardneg.split import STRATEGIES, check_split_frame, make_split, oversample_positives

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
GROUP_STRATEGIES = ("group", "stratified-group", "logo")


def _folds(frame):
    return sorted(frame["fold"].unique())


def _group_sets(index, ids):
    return set(index.loc[ids, "group"])


# ---------------------------------------------------------------------------------------------------------------------
# schema and description


@pytest.mark.parametrize("strategy", list(STRATEGIES))
@pytest.mark.parametrize("n_splits", [None, 3])
def test_every_strategy_writes_the_schema_and_says_what_it_measures(strategy, n_splits):
    index = regular_index()
    frame, info = make_split(index, strategy, n_splits=n_splits, gap_ms=500.0 if strategy == "time" else None)
    assert list(frame.columns) == ["fold", "window_id", "subset", "copies"]
    assert [str(dtype) for dtype in frame.dtypes] == ["int32", "int64", "str", "int32"]
    pd.testing.assert_frame_equal(check_split_frame(frame), frame)
    assert frame.equals(frame.sort_values(["fold", "window_id"], ignore_index=True))
    assert (frame["copies"] == 1).all()
    expected_folds = 4 if strategy == "logo" else (n_splits or 1)
    assert _folds(frame) == list(range(expected_folds))
    for fold in _folds(frame):
        subsets = subsets_of(frame, fold)
        assert all(len(ids) for ids in subsets.values())
    assert info["strategy"] == strategy and info["name"] == strategy
    assert info["measures"] == STRATEGIES[strategy]
    assert info["gap_ms"] == (500.0 if strategy == "time" else None)
    assert set(info["parameters"]) == {
        "test_size",
        "val_size",
        "n_splits",
        "gap_ms",
        "test_groups",
        "seed",
        "oversample_pos_to",
    }
    counts = info["counts"]
    assert counts["windows"] == len(index) and len(counts["folds"]) == expected_folds
    fold0 = counts["folds"][0]
    subsets = subsets_of(frame, 0)
    assert fold0["test"]["windows"] == len(subsets["test"])
    assert fold0["train"]["positives"] == int(index.loc[subsets["train"], "label"].sum())
    assert fold0["unused"] == len(index) - sum(len(ids) for ids in subsets.values())


def test_strategy_descriptions_say_what_they_measure():
    assert set(STRATEGIES) == {"random", "stratified", "group", "stratified-group", "logo", "intra-group", "time"}
    assert "not generalisation to new groups" in STRATEGIES["intra-group"]
    assert "never seen" in STRATEGIES["group"]
    assert "optimistic" in STRATEGIES["random"]
    assert "purge gap" in STRATEGIES["time"]
    for sentence in STRATEGIES.values():
        assert sentence.startswith(("how well", "the same as random"))
        assert "\n" not in sentence


# ---------------------------------------------------------------------------------------------------------------------
# guarantees per strategy, on random small indexes


@SETTINGS
@given(
    index=indexes(min_groups=3, max_groups=5, max_recordings=2, max_events=4),
    strategy=st.sampled_from(GROUP_STRATEGIES),
    kfold=st.booleans(),
    val_size=st.sampled_from([0.0, 0.2]),
    seed=st.integers(0, 3),
)
def test_group_strategies_never_share_a_group(index, strategy, kfold, val_size, seed):
    n_groups = index["group"].nunique()
    n_splits = 2 if kfold else None
    try:
        frame, _ = make_split(index, strategy, n_splits=n_splits, val_size=val_size, seed=seed)
    except InputError as error:
        # small datasets may not have room: the error must say so in the sklearn-like words
        assert any(word in str(error) for word in ("too few", "Cannot have number", "no train", "no val", "no test"))
        return
    for fold in _folds(frame):
        subsets = subsets_of(frame, fold)
        sets = {name: _group_sets(index, ids) for name, ids in subsets.items()}
        assert not sets["train"] & sets["test"]
        assert not sets["train"] & sets["val"]
        assert not sets["val"] & sets["test"]
        # no window lost: group splits use every window in every fold
        assert sum(len(ids) for ids in subsets.values()) == len(index)
    if strategy == "logo":
        assert len(_folds(frame)) == n_groups
        assert all(len(_group_sets(index, subsets_of(frame, f)["test"])) == 1 for f in _folds(frame))
    if kfold or strategy == "logo":
        tested = np.concatenate([subsets_of(frame, f)["test"] for f in _folds(frame)])
        assert sorted(tested.tolist()) == list(range(len(index)))  # each window tested exactly once


@SETTINGS
@given(index=indexes(min_groups=3, max_groups=5), data=st.data(), seed=st.integers(0, 3))
def test_explicit_test_groups_land_exactly_in_test(index, data, seed):
    names = sorted(index["group"].unique())
    chosen = data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=len(names) - 2, unique=True))
    frame, info = make_split(index, "group", test_groups=chosen, val_size=0.2, seed=seed)
    subsets = subsets_of(frame)
    expected = index.index[index["group"].isin(chosen)].to_numpy()
    assert sorted(subsets["test"].tolist()) == sorted(expected.tolist())
    assert not _group_sets(index, subsets["val"]) & set(chosen)
    assert not _group_sets(index, subsets["train"]) & _group_sets(index, subsets["val"])
    assert info["parameters"]["test_groups"] == sorted(chosen)
    assert "chosen test groups" in info["measures"]


@SETTINGS
@given(
    index=indexes(max_groups=3, max_events=5),
    kfold=st.booleans(),
    gap=st.sampled_from([0.0, 250.0, 500.0, 1500.0]),
    val_size=st.sampled_from([0.0, 0.25]),
)
def test_time_strategy_purges_by_brute_force(index, kfold, gap, val_size):
    n_splits = 3 if kfold else None
    try:
        frame, _ = make_split(index, "time", n_splits=n_splits, gap_ms=gap, val_size=val_size, test_size=0.25)
    except InputError as error:
        assert "has no" in str(error) or "Cannot have number" in str(error)
        return
    for fold in _folds(frame):
        subsets = subsets_of(frame, fold)
        assert pairs_within_gap(index, subsets["train"], subsets["test"], gap) == []
        assert pairs_within_gap(index, subsets["train"], subsets["val"], gap) == []
        assert pairs_within_gap(index, subsets["val"], subsets["test"], gap) == []
        if not kfold:
            # holdout: on each recording, test windows are the latest, validation just before them
            for _, rows in index.assign(subset=_subset_column(frame, fold, len(index))).groupby("recording"):
                ordered = rows.sort_values(["start_ms", "window_id"], kind="stable")["subset"].tolist()
                rank = {"train": 0, "val": 1, "test": 2}
                kept = [rank[s] for s in ordered if s != "unused"]
                assert kept == sorted(kept)


@SETTINGS
@given(
    index=indexes(max_groups=3, min_events=2, max_events=7),
    kfold=st.booleans(),
    val_size=st.sampled_from([0.0, 0.2]),
)
def test_intra_group_every_group_in_train_and_test_and_test_comes_later(index, kfold, val_size):
    n_splits = 3 if kfold else None
    try:
        frame, _ = make_split(index, "intra-group", n_splits=n_splits, val_size=val_size, test_size=0.25)
    except InputError as error:
        assert "too few" in str(error) or "Cannot have number" in str(error)
        return
    reference = ordered_units(index)
    groups = set(index["group"])
    for fold in _folds(frame):
        subsets = subsets_of(frame, fold)
        assert _group_sets(index, subsets["train"]) == groups == _group_sets(index, subsets["test"])
        subset = _subset_column(frame, fold, len(index))
        for entry in reference.values():
            unit_subset = {}
            for row, unit in entry["unit_of"].items():
                assert unit_subset.setdefault(unit, subset[row]) == subset[row]  # one event, one subset
            if not kfold:
                rank = {"train": 0, "val": 1, "test": 2}
                sequence = [rank[unit_subset[unit]] for unit in sorted(unit_subset)]
                assert sequence == sorted(sequence)  # test events come after val, after train


def _subset_column(frame, fold, n):
    subset = np.full(n, "unused", dtype=object)
    rows = frame[frame["fold"] == fold]
    subset[rows["window_id"].to_numpy()] = rows["subset"].to_numpy()
    return subset


@pytest.mark.parametrize("strategy", ["random", "stratified"])
def test_window_strategies_sizes_and_stratification(strategy):
    index = regular_index()
    frame, _ = make_split(index, strategy, test_size=0.25, val_size=0.15, seed=3)
    subsets = subsets_of(frame)
    n = len(index)
    assert len(subsets["test"]) == int(np.ceil(0.25 * n)) and len(subsets["val"]) == int(np.ceil(0.15 * n))
    if strategy == "stratified":
        rate = index["label"].mean()
        for ids in subsets.values():
            assert abs(index.loc[ids, "label"].mean() - rate) < 0.02


# ---------------------------------------------------------------------------------------------------------------------
# seeds


@pytest.mark.parametrize("strategy", ["random", "stratified", "group", "stratified-group"])
@pytest.mark.parametrize("n_splits", [None, 3])
def test_same_seed_same_frame_other_seed_other_frame(strategy, n_splits):
    index = regular_index(n_groups=8, recordings_per_group=1)
    first, first_info = make_split(index, strategy, n_splits=n_splits, seed=11)
    again, again_info = make_split(index, strategy, n_splits=n_splits, seed=11)
    pd.testing.assert_frame_equal(first, again)
    assert first_info == again_info
    others = [make_split(index, strategy, n_splits=n_splits, seed=seed)[0] for seed in (12, 13, 14)]
    assert any(not other.equals(first) for other in others)
    # the test subsets themselves move, not only validation
    tests = {tuple(f.loc[(f["fold"] == 0) & (f["subset"] == "test"), "window_id"]) for f in [first, *others]}
    assert len(tests) > 1


@pytest.mark.parametrize("strategy", ["intra-group", "time"])
def test_deterministic_strategies_ignore_the_seed(strategy):
    index = regular_index()
    gap = 500.0 if strategy == "time" else None
    a, _ = make_split(index, strategy, gap_ms=gap, seed=0)
    b, _ = make_split(index, strategy, gap_ms=gap, seed=5)
    pd.testing.assert_frame_equal(a, b)


# ---------------------------------------------------------------------------------------------------------------------
# oversampling


@SETTINGS
@given(
    n_pos=st.integers(1, 30),
    n_neg=st.integers(0, 200),
    target=st.floats(0.01, 0.99),
    seed=st.integers(0, 5),
)
def test_oversample_positives_reaches_the_smallest_sufficient_count(n_pos, n_neg, target, seed):
    labels = np.array([1] * n_pos + [0] * n_neg)
    order = np.random.default_rng(seed).permutation(len(labels))
    copies = oversample_positives(order, labels, target, seed)
    assert copies.dtype == np.int32 and (copies >= 1).all()
    positive = labels[order] == 1
    assert (copies[~positive] == 1).all()
    rows = int(copies[positive].sum())
    if n_pos / (n_pos + n_neg) >= target:
        assert rows == n_pos  # already there: untouched
    else:
        assert rows / (rows + n_neg) >= target
        assert (rows - 1) / (rows - 1 + n_neg) < target  # one row fewer would miss the target
        assert copies[positive].max() - copies[positive].min() <= 1  # spread evenly


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_oversampling_changes_only_train_positive_copies(strategy):
    index = regular_index()
    gap = 500.0 if strategy == "time" else None
    plain, _ = make_split(index, strategy, n_splits=3, gap_ms=gap, seed=2)
    boosted, info = make_split(index, strategy, n_splits=3, gap_ms=gap, seed=2, oversample_pos_to=0.45)
    pd.testing.assert_frame_equal(plain.drop(columns="copies"), boosted.drop(columns="copies"))
    labels = index["label"].to_numpy()
    changed = boosted["copies"] != plain["copies"]
    assert changed.any()
    assert (boosted.loc[changed, "subset"] == "train").all()
    assert (labels[boosted.loc[changed, "window_id"]] == 1).all()
    assert (boosted.loc[boosted["subset"] != "train", "copies"] == 1).all()
    for fold in _folds(boosted):
        train = boosted[(boosted["fold"] == fold) & (boosted["subset"] == "train")]
        positive_rows = train["copies"][labels[train["window_id"]] == 1].sum()
        assert positive_rows / train["copies"].sum() >= 0.45
        assert info["counts"]["folds"][fold]["train"]["rows"] == train["copies"].sum()
    assert info["parameters"]["oversample_pos_to"] == 0.45


def test_oversampling_with_no_training_positive_says_so():
    with pytest.raises(InputError, match="no positive window"):
        oversample_positives(np.array([0, 1]), np.array([0, 0]), 0.3, 0)
    with pytest.raises(InputError, match="target_fraction must be a number in"):
        oversample_positives(np.array([0]), np.array([1]), 1.0, 0)


# ---------------------------------------------------------------------------------------------------------------------
# bad input


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"strategy": "kfold"}, "strategy must be one of group, intra-group, logo, random, stratified"),
        ({"strategy": "group", "n_splits": 6}, "n_splits=6 greater than the number of groups: 4; make at most 4 folds"),
        ({"strategy": "stratified-group", "n_splits": 6}, "n_splits=6 greater than the number of groups: 4"),
        ({"strategy": "group", "test_size": 0}, r"test_size must be a number in \(0, 1\), got 0"),
        ({"strategy": "group", "val_size": -0.1}, r"val_size must be a number in \[0, 1\)"),
        ({"strategy": "random", "test_size": 0.6, "val_size": 0.4}, "leave nothing for training"),
        ({"strategy": "random", "n_splits": 1}, "n_splits must be an integer >= 2 or None, got 1"),
        ({"strategy": "random", "gap_ms": 100.0}, "gap_ms applies to strategy time only"),
        ({"strategy": "time"}, "gap_ms is needed for strategy time on a bare index"),
        ({"strategy": "random", "test_groups": ["g0"]}, "test_groups applies to strategy group only"),
        ({"strategy": "group", "test_groups": ["g0"], "n_splits": 3}, "leave out n_splits"),
        ({"strategy": "group", "test_groups": ["nope"]}, "--test-groups nope not among the dataset's groups"),
        ({"strategy": "group", "oversample_pos_to": 1.5}, r"oversample_pos_to must be a number in \(0, 1\)"),
        ({"strategy": "group", "seed": -1}, r"seed must be an integer in \[0, 4294967295\]"),
        ({"strategy": "intra-group", "n_splits": 17}, "greater than the number of events in group 'g0': 16"),
        ({"strategy": "time", "gap_ms": 1e9}, "no train windows after purging"),
    ],
)
def test_bad_input_gets_one_line_naming_the_option(kwargs, message):
    index = regular_index()
    with pytest.raises(InputError, match=message) as caught:
        make_split(index, **kwargs)
    assert "\n" not in str(caught.value)


def test_too_few_groups_for_a_group_holdout():
    index = regular_index(n_groups=2)
    with pytest.raises(InputError, match="2 groups are too few for 1 test, 1 validation"):
        make_split(index, "group")
    frame, _ = make_split(index, "group", val_size=0.0)
    assert set(frame["subset"]) == {"train", "test"}


def test_index_problems_are_named():
    index = regular_index()
    with pytest.raises(InputError, match="no column 'group'"):
        make_split(index.drop(columns="group"), "group")
    with pytest.raises(InputError, match="label column must hold 0 and 1"):
        make_split(index.assign(label=2), "random")
    with pytest.raises(InputError, match="repeats window ids"):
        make_split(index.assign(window_id=0), "random")
