"""Split real datasets end to end: the demo's synthetic IMU shots, and MIT-BIH V beats when the records are there."""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from tests.split.split_helpers import count_pairs_within_gap

from hardneg import Dataset, InputOptions, SamplingConfig, build_dataset
from hardneg.demo._run import run_demo
from hardneg.split import (
    STRATEGIES,
    ExplicitGroupSplit,
    IntraGroupSplit,
    SavedSplit,
    TimeBlockedSplit,
    default_gap_ms,
    load_split,
    make_split,
    save_split,
)

REPO = Path(__file__).resolve().parents[2]
MITDB = (REPO / ".." / "shared" / "data" / "mitdb").resolve()
MIT_RECORDS = ["106", "119", "200", "208", "233"]  # records with hundreds of V beats each


def _summary_features(windows: np.ndarray) -> np.ndarray:
    """Per-channel mean, std, min, max: enough for a classifier, computed here so the test needs no features module."""
    data = np.asarray(windows, dtype=np.float64)
    return np.concatenate([data.mean(axis=2), data.std(axis=2), data.min(axis=2), data.max(axis=2)], axis=1)


def _check_frame(dataset: Dataset, frame, info) -> None:
    index = dataset.index
    for fold in sorted(frame["fold"].unique()):
        rows = frame[frame["fold"] == fold]
        ids = {name: rows.loc[rows["subset"] == name, "window_id"].to_numpy() for name in ("train", "val", "test")}
        assert all(len(part) for part in ids.values())
        groups = {name: set(index.loc[part, "group"]) for name, part in ids.items()}
        if info["strategy"] in ("group", "stratified-group", "logo"):
            assert not groups["train"] & groups["test"] and not groups["val"] & (groups["train"] | groups["test"])
        if info["strategy"] == "intra-group":
            assert groups["train"] == groups["test"] == set(index["group"])
        if info["strategy"] == "time":
            assert info["gap_ms"] == default_gap_ms(dataset.meta)
            everything_else = np.r_[ids["test"], ids["val"]]
            assert count_pairs_within_gap(index, ids["train"], everything_else, info["gap_ms"]) == 0
            assert count_pairs_within_gap(index, ids["val"], ids["test"], info["gap_ms"]) == 0


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Dataset:
    # Only the dataset is needed here; skip the demo's benchmark where run_demo offers one.
    extra = {"bench_seeds": 0} if "bench_seeds" in inspect.signature(run_demo).parameters else {}
    return run_demo(tmp_path_factory.mktemp("demo") / "demo", seed=0, **extra).dataset


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_demo_dataset_splits_with_every_strategy(demo, strategy):
    frame, info = make_split(demo, strategy, n_splits=3 if strategy in ("time", "intra-group") else None, seed=1)
    _check_frame(demo, frame, info)
    save_split(demo.path, f"{strategy}-s1", frame, info)
    loaded, loaded_info = load_split(demo.path, f"{strategy}-s1")
    assert loaded.equals(frame) and loaded_info["measures"] == STRATEGIES[strategy]


def test_demo_dataset_in_cross_val_score(demo):
    X = _summary_features(demo.windows)
    y = demo.labels
    for cv in (
        TimeBlockedSplit(demo, n_splits=3),
        IntraGroupSplit(demo.index, n_splits=3),
        ExplicitGroupSplit(["shooter_b"]),
        SavedSplit(make_split(demo, "group", seed=0, oversample_pos_to=0.3)[0]),
    ):
        scores = cross_val_score(
            LogisticRegression(max_iter=1000), X, y, groups=demo.groups, cv=cv, error_score="raise"
        )
        assert np.isfinite(scores).all()


@pytest.mark.skipif(
    not (MITDB / "100.hea").is_file(),
    reason=f"MIT-BIH records not found: {MITDB} (the issue's ../shared/data/mitdb beside the repo) is absent",
)
@pytest.mark.filterwarnings("ignore:The inplace keyword:Warning")  # inside wfdb.rdann, with pandas >= 3
def test_mitdb_v_beats_smoke(tmp_path):
    pytest.importorskip("wfdb", reason="the wfdb package (hardneg[wfdb]) is not installed")
    dataset = build_dataset(
        [MITDB / f"{record}.hea" for record in MIT_RECORDS],
        tmp_path / "mitdb-v",
        inputs=InputOptions(event_symbols=("V",)),
        config=SamplingConfig(align="center", window_ms=600),
    )
    assert set(dataset.index["group"]) == set(MIT_RECORDS)
    for strategy in STRATEGIES:
        frame, info = make_split(dataset, strategy, n_splits=5 if strategy in ("time", "intra-group") else None)
        _check_frame(dataset, frame, info)
    frame, info = make_split(dataset, "group", test_groups=["200", "233"], val_size=0.2)
    test_groups = set(dataset.index.loc[frame.loc[frame["subset"] == "test", "window_id"], "group"])
    assert test_groups == {"200", "233"}
    X = _summary_features(dataset.windows)
    scores = cross_val_score(
        LogisticRegression(max_iter=500), X, dataset.labels, groups=dataset.groups, cv=TimeBlockedSplit(dataset, 3)
    )
    assert np.isfinite(scores).all()
