"""roc_below_chance: inverted scores FAIL, good scores PASS, coin flips WARN; AUC equals scikit-learn's."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from hardneg.audit import AuditContext, run_audit


def _setup(build, n=1200, seed=0):
    index = build.grid_index(n_recordings=6, per_recording=n // 6, prevalence=0.3, seed=seed)
    ds = build.dataset(index)
    subsets = build.random_subsets(len(index), seed=seed, test=0.4, val=0.0)
    return ds, build.frame(subsets), subsets, index["label"].to_numpy()


def _run(ds, frame, predictions):
    context = AuditContext(ds, frame, {}, predictions=predictions)
    return run_audit(context, ["roc_below_chance"])["roc_below_chance"]


def _scores(labels, separation, rng):
    return 1 / (1 + np.exp(-(rng.standard_normal(len(labels)) + separation * (labels - 0.5))))


def test_inverted_scores_fail_with_interval_below_half(build):
    ds, frame, subsets, labels = _setup(build)
    scores = _scores(labels, -1.0, np.random.default_rng(1))
    result = _run(ds, frame, build.predictions(scores))
    test = subsets == "test"
    assert result.verdict == "FAIL"
    assert result.numbers["roc_auc"] == pytest.approx(roc_auc_score(labels[test], scores[test]))
    assert result.numbers["ci_low"] <= result.numbers["roc_auc"] <= result.numbers["ci_high"] < 0.5
    assert "excludes 0.5" in result.explanation


def test_good_scores_pass(build):
    ds, frame, _subsets, labels = _setup(build)
    scores = _scores(labels, 2.0, np.random.default_rng(2))
    result = _run(ds, frame, build.predictions(scores))
    assert result.verdict == "PASS"
    assert result.numbers["ci_low"] > 0.5


def test_coin_flip_scores_warn(build):
    ds, frame, subsets, labels = _setup(build)
    rng = np.random.default_rng(3)
    scores = rng.random(len(labels))
    test = subsets == "test"
    # nudge to exactly-above chance so the verdict is WARN (interval reaches 0.5), not FAIL
    while roc_auc_score(labels[test], scores[test]) < 0.5:
        scores = rng.random(len(labels))
    result = _run(ds, frame, build.predictions(scores))
    assert result.verdict == "WARN"
    assert result.numbers["ci_low"] <= 0.5


def test_interval_is_seeded(build):
    ds, frame, _subsets, labels = _setup(build)
    predictions = build.predictions(_scores(labels, 1.0, np.random.default_rng(4)))
    first = _run(ds, frame, predictions).numbers
    again = _run(ds, frame, predictions).numbers
    assert first == again


def test_per_fold_predictions(build):
    index = build.grid_index(n_recordings=6, per_recording=100, prevalence=0.3)
    ds = build.dataset(index)
    labels = index["label"].to_numpy()
    folds = np.arange(len(index)) % 2
    parts = [build.frame(np.where(folds == k, "test", "train"), fold=k) for k in (0, 1)]
    frame = pd.concat(parts, ignore_index=True)
    rng = np.random.default_rng(5)
    scores = _scores(labels, 2.0, rng)
    # fold 1's model is inverted
    scores[folds == 1] = 1 - scores[folds == 1]
    predictions = pd.DataFrame({"fold": folds, "window_id": np.arange(len(index)), "score": scores})
    result = _run(ds, frame, predictions)
    per_fold = {entry["fold"]: entry["roc_auc"] for entry in result.numbers["per_fold"]}
    assert per_fold[1] == pytest.approx(roc_auc_score(labels[folds == 1], scores[folds == 1]))
    assert result.numbers["min_fold_roc_auc"] < 0.5
