"""placement_shortcut: negatives at fixed offsets from the events FAIL; uniformly placed windows PASS."""

import numpy as np
import pandas as pd
import pytest

from hardneg.audit import AuditContext, run_audit
from hardneg.audit.checks import placement_shortcut as ps


def _run(dataset, frame):
    return run_audit(AuditContext(dataset, frame, {"strategy": "time"}), ["placement_shortcut"])["placement_shortcut"]


def trap_index(n_recordings=8, events=25, seed=0):
    """The seed's trap: an event every ~10 s, a positive window on it, two negatives 1 and 2 s before it."""
    rng = np.random.default_rng(seed)
    rows = []
    for r in range(n_recordings):
        t = 5000.0
        for _ in range(events):
            t += rng.uniform(8000, 12000)
            rows.append((f"rec{r}", t, 1))
            rows.append((f"rec{r}", t - 1000, 0))
            rows.append((f"rec{r}", t - 2000, 0))
    frame = pd.DataFrame(rows, columns=["recording", "start_ms", "label"])
    frame["end_ms"] = frame["start_ms"] + 500.0
    frame["group"] = frame["recording"]
    return frame.sort_values(["recording", "start_ms"]).reset_index(drop=True)


def uniform_index(n_recordings=8, per_recording=80, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for r in range(n_recordings):
        for t in np.sort(rng.uniform(0, 300000, per_recording)):
            rows.append((f"rec{r}", t, int(rng.random() < 0.3)))
    frame = pd.DataFrame(rows, columns=["recording", "start_ms", "label"])
    frame["end_ms"] = frame["start_ms"] + 500.0
    frame["group"] = frame["recording"]
    return frame


def test_negatives_at_fixed_offsets_fail(build):
    index = trap_index()
    ds = build.dataset(index)
    result = _run(ds, build.frame(build.random_subsets(len(index))))
    assert result.verdict == "FAIL"
    assert result.numbers["placement_auc"] >= ps.AUC_FAIL
    assert result.numbers["held_out"] == "recordings"
    assert result.numbers["strongest_feature"] in ("gap_next_ms", "gap_prev_ms")
    assert "time split" in result.explanation


def test_uniform_placement_passes(build):
    index = uniform_index()
    result = _run(build.dataset(index), build.frame(build.random_subsets(len(index))))
    assert result.verdict == "PASS"
    assert abs(result.numbers["placement_auc"] - 0.5) < 0.1


def test_labels_that_follow_position_warn(build):
    # positives mostly in the last fifth of every recording: position carries the label, imperfectly. Position
    # alone (late or not) then has AUC 0.75 * 0.905 + (0.75 * 0.095 + 0.25 * 0.905) / 2 = 0.83.
    index = uniform_index(per_recording=150, seed=2)
    rng = np.random.default_rng(2)
    late = index["start_ms"] > 240000
    index["label"] = (rng.random(len(index)) < np.where(late, 0.6, 0.05)).astype(int)
    result = _run(build.dataset(index), build.frame(build.random_subsets(len(index))))
    assert result.numbers["placement_auc"] == pytest.approx(0.83, abs=0.04)
    assert result.verdict == "WARN"
    assert result.numbers["strongest_feature"] in ("since_start_ms", "to_end_ms", "position")


def test_placement_features_by_hand():
    index = pd.DataFrame(
        {
            "recording": ["a", "a", "a", "b"],
            "start_ms": [1000.0, 200.0, 1300.0, 50.0],
            "end_ms": [1500.0, 700.0, 1800.0, 150.0],
        },
        index=[10, 11, 12, 13],
    )
    recordings = [{"id": "a", "t0_ms": 0.0, "end_ms": 2000.0}]  # b unknown: its windows bound it
    got = ps.placement_features(index, recordings)
    assert list(got.index) == [10, 11, 12, 13]
    np.testing.assert_allclose(got["since_start_ms"], [1000, 200, 1300, 0])
    np.testing.assert_allclose(got["to_end_ms"], [500, 1300, 200, 0])
    np.testing.assert_allclose(got["gap_prev_ms"], [300, np.nan, -200, np.nan])  # window 11 ends at 700
    np.testing.assert_allclose(got["gap_next_ms"], [-200, 300, np.nan, np.nan])
    np.testing.assert_allclose(got["position"], [0.5, 0.1, 0.65, 0.0])


def test_one_class_is_skipped(build):
    index = uniform_index(n_recordings=2, per_recording=20)
    index["label"] = 0
    result = _run(build.dataset(index), build.frame(["train"] * len(index)))
    assert result.verdict == "SKIP"


@pytest.mark.parametrize("n_recordings", [1])
def test_single_recording_falls_back_to_window_folds(build, n_recordings):
    index = trap_index(n_recordings=n_recordings, events=40)
    result = _run(build.dataset(index), build.frame(build.random_subsets(len(index))))
    assert result.numbers["held_out"] == "windows"
    assert result.verdict == "FAIL"


@pytest.mark.parametrize("strategy", ["group", "random", None])
def test_the_same_artefact_warns_on_splits_that_do_not_follow_placement(build, strategy):
    """Placement is a property of the sampled dataset: it fails time and intra-group splits, and warns on others."""
    index = trap_index()
    ds = build.dataset(index)
    frame = build.frame(build.random_subsets(len(index)))
    info = {} if strategy is None else {"strategy": strategy}
    result = run_audit(AuditContext(ds, frame, info), ["placement_shortcut"])["placement_shortcut"]
    assert result.numbers["placement_auc"] >= ps.AUC_FAIL
    assert result.verdict == "WARN"
    assert "stream evaluation" in result.explanation
    intra = run_audit(AuditContext(ds, frame, {"strategy": "intra-group"}), ["placement_shortcut"])
    assert intra["placement_shortcut"].verdict == "FAIL"
