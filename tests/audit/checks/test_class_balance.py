"""class_balance: counts per subset against pandas, too few test positives FAIL, copies outside train FAIL."""

import math

import numpy as np
import pytest
from scipy import stats

from hardneg.audit import AuditContext, run_audit
from hardneg.audit.checks import class_balance as cb


def _run(dataset, frame, confidence=0.95):
    context = AuditContext(dataset, frame, {"strategy": "random"}, confidence=confidence)
    return run_audit(context, ["class_balance"])["class_balance"]


def test_counts_match_pandas_and_large_split_passes(build):
    index = build.grid_index(n_recordings=10, per_recording=200, prevalence=0.3)
    ds = build.dataset(index)
    subsets = build.random_subsets(len(index), seed=1)
    result = _run(ds, build.frame(subsets))
    assert result.verdict == "PASS", result.explanation
    expected = index.assign(subset=subsets).groupby("subset")["label"].agg(["size", "sum"])
    fold = result.numbers["per_fold"][0]
    for subset in ("train", "val", "test"):
        assert fold[subset]["windows"] == expected.loc[subset, "size"]
        assert fold[subset]["positives"] == expected.loc[subset, "sum"]
    assert result.numbers["test_positives"] == expected.loc["test", "sum"]


def test_fewer_than_ten_test_positives_fail(build):
    index = build.grid_index(n_recordings=4, per_recording=100, prevalence=0.3)
    labels = index["label"].to_numpy()
    subsets = np.full(len(index), "train")
    positives, negatives = np.flatnonzero(labels == 1), np.flatnonzero(labels == 0)
    subsets[positives[:6]] = "test"
    subsets[negatives[:60]] = "test"
    result = _run(build.dataset(index), build.frame(subsets))
    assert result.verdict == "FAIL"
    assert result.numbers["test_positives"] == 6
    assert "only 6 positives" in result.explanation


def test_interval_too_wide_warns(build):
    index = build.grid_index(n_recordings=4, per_recording=200, prevalence=0.3)
    labels = index["label"].to_numpy()
    subsets = np.full(len(index), "train")
    subsets[np.flatnonzero(labels == 1)[:25]] = "test"
    subsets[np.flatnonzero(labels == 0)[:40]] = "test"
    result = _run(build.dataset(index), build.frame(subsets))
    assert result.verdict == "WARN"
    # hand formula of the Wilson interval at 13/25: centre and half-width from z
    z = stats.norm.ppf(0.975)
    n, p = 25, 13 / 25
    half = z / (1 + z**2 / n) * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    assert result.numbers["recall_interval_width"] == pytest.approx(2 * half)
    assert result.numbers["recall_interval_width"] > cb.MAX_RECALL_INTERVAL


def test_copies_outside_training_fail(build):
    index = build.grid_index(n_recordings=6, per_recording=200, prevalence=0.3)
    subsets = build.random_subsets(len(index), seed=2)
    copies = np.ones(len(index), dtype=int)
    copies[np.flatnonzero((subsets == "test") & (index["label"].to_numpy() == 1))[:3]] = 2
    result = _run(build.dataset(index), build.frame(subsets, copies=copies))
    assert result.verdict == "FAIL"
    assert result.numbers["copies_outside_train"] == 3
    assert "training only" in result.explanation


def test_training_copies_are_reported_and_allowed(build):
    index = build.grid_index(n_recordings=6, per_recording=200, prevalence=0.2)
    subsets = build.random_subsets(len(index), seed=3)
    labels = index["label"].to_numpy()
    copies = np.where((subsets == "train") & (labels == 1), 3, 1)
    result = _run(build.dataset(index), build.frame(subsets, copies=copies))
    train = result.numbers["per_fold"][0]["train"]
    in_train = subsets == "train"
    expected = (labels[in_train] * copies[in_train]).sum() / copies[in_train].sum()
    assert train["positive_rate_with_copies"] == pytest.approx(expected)
    assert result.numbers["copies_outside_train"] == 0
    assert result.verdict == "PASS"


def test_single_class_groups_are_listed(build):
    index = build.grid_index(n_recordings=4, per_recording=200, prevalence=[0.0, 0.0, 0.4, 0.4])
    result = _run(build.dataset(index), build.frame(build.random_subsets(len(index), seed=4)))
    assert result.numbers["single_class_groups"] == 2
    assert result.numbers["single_class_group_examples"] == ["g0", "g1"]
    assert result.numbers["single_class_group_share"] == 0.5
    assert result.verdict == "WARN"


def test_folds_without_positives_warn_when_pooled_test_is_large(build):
    import pandas as pd

    # leave-one-group-out over groups of which two have no positives
    index = build.grid_index(n_recordings=5, per_recording=200, prevalence=[0.0, 0.0, 0.3, 0.3, 0.3])
    groups = index["group"].to_numpy()
    parts = [build.frame(np.where(groups == g, "test", "train"), fold=k) for k, g in enumerate(np.unique(groups))]
    result = _run(build.dataset(index), pd.concat(parts, ignore_index=True))
    assert result.verdict == "WARN"
    assert result.numbers["thin_folds"] == 2
    assert result.numbers["test_positives"] == index["label"].sum()
    assert "2 of 5 folds" in result.explanation
