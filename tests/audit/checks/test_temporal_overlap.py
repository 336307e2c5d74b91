"""temporal_overlap: windows of different subsets that overlap or sit within the gap, against brute force."""

import numpy as np
import pandas as pd
import pytest

from hardneg.audit import AuditContext, run_audit
from hardneg.audit.checks.temporal_overlap import default_gap_ms, near_windows


def brute_force_near(reference: pd.DataFrame, query: pd.DataFrame, gap: float) -> np.ndarray:
    out = np.zeros(len(query), dtype=bool)
    for i, q in enumerate(query.itertuples()):
        for r in reference.itertuples():
            if r.recording == q.recording and r.start_ms < q.end_ms + gap and r.end_ms > q.start_ms - gap:
                out[i] = True
                break
    return out


def _run(dataset, frame, info):
    return run_audit(AuditContext(dataset, frame, info), ["temporal_overlap"])["temporal_overlap"]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("gap", [0.0, 150.0, 1000.0])
def test_near_windows_matches_brute_force(seed, gap):
    rng = np.random.default_rng(seed)
    n = 120
    start = np.round(rng.uniform(0, 20000, n), 0)
    frame = pd.DataFrame(
        {
            "recording": rng.choice(["a", "b", "c"], n),
            "start_ms": start,
            "end_ms": start + rng.choice([100.0, 400.0, 2500.0], n),
        }
    )
    is_ref = rng.random(n) < 0.5
    reference, query = frame[is_ref], frame[~is_ref]
    np.testing.assert_array_equal(near_windows(reference, query, gap), brute_force_near(reference, query, gap))


def test_touching_windows_do_not_overlap_but_are_within_any_gap():
    reference = pd.DataFrame({"recording": ["r"], "start_ms": [0.0], "end_ms": [500.0]})
    query = pd.DataFrame(
        {"recording": ["r", "r", "s"], "start_ms": [500.0, 520.0, 100.0], "end_ms": [1000.0, 1020.0, 600.0]}
    )
    assert near_windows(reference, query, 0.0).tolist() == [False, False, False]
    assert near_windows(reference, query, 20.0).tolist() == [True, False, False]  # 20 ms apart is not within 20 ms
    assert near_windows(reference, query, 20.5).tolist() == [True, True, False]


def test_random_split_of_dense_windows_fails_with_brute_force_count(build):
    # windows of 500 ms every 250 ms: neighbours overlap
    ds = build.dataset(build.grid_index(n_recordings=3, per_recording=60, spacing_ms=250.0, window_ms=500.0))
    subsets = build.random_subsets(len(ds.index), seed=3)
    result = _run(ds, build.frame(subsets), {"strategy": "random", "gap_ms": None})
    assert result.verdict == "FAIL"
    index = ds.index
    expected = 0
    for first, second in (("train", "test"), ("train", "val"), ("val", "test")):
        expected += brute_force_near(index[subsets == first], index[subsets == second], 0.0).sum()
    assert result.numbers["windows_too_close"] == expected > 0
    assert result.numbers["overlapping"] == expected


def _time_split(index, test_from=0.7, purge_ms=0.0):
    """Per recording: the last 30% of time is test; training windows within purge_ms of test are dropped."""
    subsets, keep = [], []
    for _, row in index.iterrows():
        end = index.loc[index["recording"] == row["recording"], "end_ms"].max()
        cut = test_from * end
        if row["start_ms"] >= cut:
            subsets.append("test")
            keep.append(True)
        else:
            subsets.append("train")
            keep.append(row["end_ms"] <= cut - purge_ms)
    return np.array(subsets), np.array(keep)


def test_purged_time_split_passes_and_unpurged_fails(build):
    ds = build.dataset(build.grid_index(n_recordings=3, per_recording=50, spacing_ms=300.0, window_ms=500.0))
    gap = 800.0
    subsets, keep = _time_split(ds.index, purge_ms=gap)
    purged = build.frame(subsets[keep], window_ids=np.flatnonzero(keep))
    result = _run(ds, purged, {"strategy": "time", "gap_ms": gap})
    assert result.verdict == "PASS", result.explanation
    assert result.numbers["gap_ms"] == gap

    unpurged = build.frame(subsets)
    result = _run(ds, unpurged, {"strategy": "time", "gap_ms": gap})
    assert result.verdict == "FAIL"
    expected = brute_force_near(ds.index[subsets == "train"], ds.index[subsets == "test"], gap).sum()
    assert result.numbers["windows_too_close"] == expected


def test_close_but_not_overlapping_without_declared_gap_warns(build):
    # 500 ms windows every 600 ms: no overlap, but neighbours are 100 ms apart (< window length)
    ds = build.dataset(build.grid_index(n_recordings=2, per_recording=40, spacing_ms=600.0, window_ms=500.0))
    subsets = np.where(np.arange(len(ds.index)) % 2 == 0, "train", "test")
    result = _run(ds, build.frame(subsets), {"strategy": "random", "gap_ms": None})
    assert result.verdict == "WARN"
    assert result.numbers["overlapping"] == 0
    assert result.numbers["dataset_gap_ms"] == default_gap_ms(ds.meta) == 500.0
    assert result.numbers["within_dataset_gap"] > 0


def test_group_split_passes(build):
    ds = build.dataset(build.grid_index(n_recordings=4, per_recording=40, spacing_ms=250.0, window_ms=500.0))
    subsets = build.group_subsets(ds.index["group"], test_groups=["g0"], val_groups=["g1"])
    result = _run(ds, build.frame(subsets), {"strategy": "group", "gap_ms": None})
    assert result.verdict == "PASS"
    assert result.numbers["windows_too_close"] == 0


def test_default_gap_adds_post_event_zone():
    assert default_gap_ms({"parameters": {"window_ms": 600.0, "neg_avoid_post_ms": 2000.0}}) == 2600.0
    assert default_gap_ms({}) is None
