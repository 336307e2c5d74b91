"""The cross-validator classes against brute force: purge gaps, time blocks, intra-group blocks, explicit groups."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.split.split_helpers import indexes, make_index, ordered_units, pairs_within_gap, regular_index

from hardneg.errors import InputError
from hardneg.split import ExplicitGroupSplit, IntraGroupSplit, SavedSplit, TimeBlockedSplit, default_gap_ms
from hardneg.split._blocks import within_gap

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _x(index):
    return np.zeros((len(index), 1))


# ---------------------------------------------------------------------------------------------------------------------
# TimeBlockedSplit


@SETTINGS
@given(index=indexes(max_groups=3), n_splits=st.integers(2, 4), gap=st.sampled_from([0.0, 100.0, 500.0, 2000.0]))
def test_time_blocked_purge_matches_brute_force(index, n_splits, gap):
    """No training window is within the gap of a test window, and only such windows are left out."""
    if index.groupby("recording").size().max() < n_splits:
        with pytest.raises(InputError, match="Cannot have number of splits"):
            list(TimeBlockedSplit(index, n_splits=n_splits, gap_ms=gap).split(_x(index)))
        return
    seen_test = np.zeros(len(index), dtype=int)
    try:
        folds = list(TimeBlockedSplit(index, n_splits=n_splits, gap_ms=gap).split(_x(index)))
    except InputError as error:  # a big gap can purge a fold's whole training set; that must be the reason
        assert "no training window left" in str(error)
        return
    assert len(folds) == n_splits
    for train, test in folds:
        assert len(np.intersect1d(train, test)) == 0
        assert pairs_within_gap(index, train, test, gap) == []
        left_out = np.setdiff1d(np.arange(len(index)), np.union1d(train, test))
        # Every purged window really is within the gap of some test window (the purge is not over-eager).
        touched = {i for i, _ in pairs_within_gap(index, left_out, test, gap)}
        assert touched == set(left_out.tolist())
        seen_test[test] += 1
    assert (seen_test == 1).all()  # every window is tested exactly once


@SETTINGS
@given(index=indexes(max_groups=3), n_splits=st.integers(2, 4))
def test_time_blocks_are_contiguous_and_balanced_per_recording(index, n_splits):
    if index.groupby("recording").size().max() < n_splits:
        return
    block = np.empty(len(index), dtype=int)
    try:
        folds = list(TimeBlockedSplit(index, n_splits=n_splits, gap_ms=0.0).split(_x(index)))
    except InputError as error:  # overlapping windows can leave a fold nothing to train on
        assert "no training window left" in str(error)
        return
    for fold, (_, test) in enumerate(folds):
        block[test] = fold
    for _, rows in index.assign(block=block).groupby("recording"):
        ordered = rows.sort_values(["start_ms", "window_id"], kind="stable")
        assert (np.diff(ordered["block"].to_numpy()) >= 0).all()  # later windows, later (or same) block
        sizes = np.bincount(ordered["block"], minlength=n_splits)
        if len(rows) >= n_splits:
            assert sizes.max() - sizes.min() <= 1


def test_time_blocked_hand_checked():
    # One recording, windows of 100 ms at 0, 100, 200 | 1000, 1100, 1200.
    index = make_index(
        [{"recording": "r", "group": "g", "events": [], "far": [0, 100, 200, 1000, 1100, 1200]}], window_ms=100.0
    )
    cv = TimeBlockedSplit(index, n_splits=2, gap_ms=0.0)
    assert [(a.tolist(), b.tolist()) for a, b in cv.split(_x(index))] == [
        ([3, 4, 5], [0, 1, 2]),
        ([0, 1, 2], [3, 4, 5]),
    ]
    # gap 700: window 200-300 and test 1000-1100 are 700 apart: kept (the gap must be *less* than gap_ms to purge).
    cv = TimeBlockedSplit(index, n_splits=2, gap_ms=700.0)
    assert [(a.tolist(), b.tolist()) for a, b in cv.split(_x(index))] == [
        ([3, 4, 5], [0, 1, 2]),
        ([0, 1, 2], [3, 4, 5]),
    ]
    cv = TimeBlockedSplit(index, n_splits=2, gap_ms=700.5)
    assert [(a.tolist(), b.tolist()) for a, b in cv.split(_x(index))] == [([4, 5], [0, 1, 2]), ([0, 1], [3, 4, 5])]


def test_within_gap_touching_windows_kept_with_zero_gap():
    rec = np.zeros(3, dtype=int)
    start = np.array([0.0, 500.0, 499.0])
    end = start + 500.0
    # window 1 touches window 0 (500 == 500); window 2 overlaps it by 1 ms
    purge = within_gap(rec, start, end, np.array([False, True, True]), np.array([True, False, False]), 0.0)
    assert purge.tolist() == [False, False, True]


def test_time_blocked_default_gap_comes_from_the_dataset(tmp_path):
    class FakeDataset:
        def __init__(self, index, meta):
            self.index, self.meta = index, meta

    index = make_index(
        [{"recording": "r", "group": "g", "events": [], "far": [0, 600, 1200, 3000, 3600, 4200]}], window_ms=500.0
    )
    meta = {"parameters": {"window_ms": 500.0, "neg_avoid_post_ms": 1000.0}}
    assert default_gap_ms(meta) == 1500.0
    with_meta = list(TimeBlockedSplit(FakeDataset(index, meta), n_splits=2).split(_x(index)))
    explicit = list(TimeBlockedSplit(index, n_splits=2, gap_ms=1500.0).split(_x(index)))
    assert [(a.tolist(), b.tolist()) for a, b in with_meta] == [(a.tolist(), b.tolist()) for a, b in explicit]
    # A bare DataFrame falls back to the window length (500 ms): 1200-1700 is 1300 ms from 3000, kept.
    bare = list(TimeBlockedSplit(index, n_splits=2).split(_x(index)))
    assert bare[0][0].tolist() == [3, 4, 5] and bare[1][0].tolist() == [0, 1, 2]
    assert with_meta[1][0].tolist() == [0, 1]  # 1200-1700 is within 1500 ms of 3000: purged
    with pytest.raises(InputError, match="--gap-ms"):
        default_gap_ms({"parameters": {}})


# ---------------------------------------------------------------------------------------------------------------------
# IntraGroupSplit


@SETTINGS
@given(index=indexes(max_groups=3, max_events=7), n_splits=st.integers(2, 4))
def test_intra_group_blocks_match_brute_force(index, n_splits):
    reference = ordered_units(index)
    if min(entry["n_units"] for entry in reference.values()) < n_splits:
        with pytest.raises(InputError, match="Cannot have number of splits"):
            list(IntraGroupSplit(index, n_splits=n_splits).split(_x(index)))
        return
    folds = list(IntraGroupSplit(index, n_splits=n_splits).split(_x(index)))
    block = np.full(len(index), -1)
    groups = index["group"].to_numpy()
    for fold, (train, test) in enumerate(folds):
        assert sorted(np.concatenate([train, test]).tolist()) == list(range(len(index)))
        # Every group is in both train and test of every fold.
        assert set(groups[train]) == set(groups) == set(groups[test])
        block[test] = fold
    assert (block >= 0).all()
    for group, entry in reference.items():
        unit_block = {}
        for row, unit in entry["unit_of"].items():
            # All windows of one unit (event) share a block.
            assert unit_block.setdefault(unit, block[row]) == block[row]
        sequence = [unit_block[unit] for unit in sorted(unit_block)]
        assert sequence == sorted(sequence), f"group {group}: blocks not in time order"
        sizes = np.bincount(sequence, minlength=n_splits)
        assert sizes.max() - sizes.min() <= 1 and sizes.min() >= 1


def test_intra_group_hand_checked_far_windows_follow_time():
    index = make_index(
        [
            {"recording": "a1", "group": "a", "events": [1000.0, 5000.0], "near": [[800.0], []], "far": [3000.0]},
            # second recording of group a: its far window before its first event follows a1's last event
            {"recording": "a2", "group": "a", "events": [2000.0, 9000.0], "near": [[], []], "far": [100.0, 9500.0]},
        ]
    )
    folds = list(IntraGroupSplit(index, n_splits=2).split(_x(index)))
    test0 = set(index.loc[folds[0][1], "start_ms"].round().astype(int).tolist())
    # Block 0 = a1's events 0 (pos 600, near 200) and 1 (pos 4600), a1's far window at 3000 (after event 0) and
    # a2's far window at 100, which comes before a2's first event and so after a1's last one.
    assert test0 == {100, 200, 600, 3000, 4600}
    test1 = index.loc[folds[1][1]]
    assert set(test1["recording"]) == {"a2"} and sorted(test1["start_ms"].tolist()) == [1600.0, 8600.0, 9500.0]


def test_intra_group_group_without_events_uses_its_windows():
    index = make_index(
        [
            {"recording": "a", "group": "a", "events": [1000.0, 5000.0], "near": [[], []]},
            {"recording": "b", "group": "b", "events": [], "far": [0.0, 700.0, 1400.0]},
        ]
    )
    folds = list(IntraGroupSplit(index, n_splits=2).split(_x(index)))
    for _, test in folds:
        assert set(index.loc[test, "group"]) == {"a", "b"}


def test_intra_group_too_few_events_names_the_group():
    index = make_index([{"recording": "p3", "group": "p3", "events": [1000.0, 2000.0], "near": [[], []]}])
    with pytest.raises(InputError, match=r"n_splits=3 greater than the number of events in group 'p3': 2"):
        list(IntraGroupSplit(index, n_splits=3).split(_x(index)))


# ---------------------------------------------------------------------------------------------------------------------
# ExplicitGroupSplit


@SETTINGS
@given(index=indexes(min_groups=2, max_groups=4), data=st.data())
def test_explicit_groups_land_exactly_in_test(index, data):
    names = sorted(index["group"].unique())
    if len(names) < 2:
        return
    chosen = data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=len(names) - 1, unique=True))
    ((train, test),) = list(ExplicitGroupSplit(chosen).split(_x(index), groups=index["group"]))
    groups = index["group"].to_numpy()
    assert set(test.tolist()) == set(np.flatnonzero(np.isin(groups, chosen)).tolist())
    assert set(train.tolist()) == set(np.flatnonzero(~np.isin(groups, chosen)).tolist())


def test_explicit_groups_compare_as_text_and_report_unknown_names():
    groups = np.array(["100", "100", "101", "103"])
    ((train, test),) = list(ExplicitGroupSplit([100, "103"]).split(np.zeros((4, 1)), groups=groups))
    assert test.tolist() == [0, 1, 3] and train.tolist() == [2]
    with pytest.raises(InputError, match="999 not among the dataset's groups"):
        list(ExplicitGroupSplit([999]).split(np.zeros((4, 1)), groups=groups))
    with pytest.raises(InputError, match="names every group"):
        list(ExplicitGroupSplit(["100", "101", "103"]).split(np.zeros((4, 1)), groups=groups))
    with pytest.raises(InputError, match="'groups' parameter should not be None"):
        list(ExplicitGroupSplit(["100"]).split(np.zeros((4, 1))))
    assert ExplicitGroupSplit(["100"]).get_n_splits() == 1


# ---------------------------------------------------------------------------------------------------------------------
# SavedSplit and shared checks


def test_saved_split_repeats_copies_and_can_test_on_val():
    frame = pd.DataFrame(
        {
            "fold": [0, 0, 0, 0, 1, 1, 1],
            "window_id": [0, 1, 2, 3, 0, 2, 3],
            "subset": ["train", "train", "val", "test", "test", "train", "val"],
            "copies": [1, 3, 1, 1, 1, 2, 1],
        }
    )
    X = np.zeros((4, 1))
    assert [(a.tolist(), b.tolist()) for a, b in SavedSplit(frame).split(X)] == [([0, 1, 1, 1], [3]), ([2, 2], [0])]
    assert [b.tolist() for _, b in SavedSplit(frame, test_subset="val").split(X)] == [[2], [3]]
    assert SavedSplit(frame).get_n_splits() == 2
    with pytest.raises(InputError, match="names window 3 but X has 3 rows"):
        list(SavedSplit(frame).split(np.zeros((3, 1))))
    bad = frame.assign(copies=[1, 1, 2, 1, 1, 1, 1])
    with pytest.raises(InputError, match="copies > 1 outside the train subset"):
        list(SavedSplit(bad).split(X))


def test_index_splitters_check_rows_and_groups():
    index = regular_index(n_groups=3, recordings_per_group=1)
    X = np.zeros((len(index), 1))
    with pytest.raises(InputError, match=rf"X has 5 rows but the index has {len(index)} windows"):
        list(TimeBlockedSplit(index, n_splits=2, gap_ms=0).split(np.zeros((5, 1))))
    # groups that rename the index's groups are fine; groups in another row order are not
    renamed = index["group"].map({"g0": 7, "g1": 8, "g2": 9}).to_numpy()
    assert len(list(IntraGroupSplit(index, n_splits=2).split(X, groups=renamed))) == 2
    shuffled = np.random.default_rng(0).permutation(index["group"].to_numpy())
    with pytest.raises(InputError, match="groups does not match the index's group column"):
        list(IntraGroupSplit(index, n_splits=2).split(X, groups=shuffled))
    with pytest.raises(InputError, match="n_splits must be an integer >= 2, got 1"):
        TimeBlockedSplit(index, n_splits=1)
    with pytest.raises(InputError, match="gap_ms must be a number >= 0"):
        TimeBlockedSplit(index, gap_ms=-1)
    with pytest.raises(InputError, match="the index has no column 'event_id'"):
        list(IntraGroupSplit(index.drop(columns="event_id"), n_splits=2).split(X))


def test_repr_is_short():
    index = regular_index(n_groups=2, recordings_per_group=1)
    assert repr(TimeBlockedSplit(index, n_splits=3, gap_ms=250.0)) == (
        f"TimeBlockedSplit(gap_ms=250.0, n_splits=3, index=<{len(index)} windows>)"
    )
    assert repr(IntraGroupSplit(index)) == f"IntraGroupSplit(n_splits=5, index=<{len(index)} windows>)"
    assert repr(ExplicitGroupSplit(["a"])) == "ExplicitGroupSplit(test_groups=['a'])"
