"""val_test_gap: validation far better than test FAILs; same distributions PASS; small real gaps WARN."""

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from hardneg.audit import AuditContext, run_audit


def _scores(labels, separation, rng):
    return 1 / (1 + np.exp(-(rng.standard_normal(len(labels)) + separation * (labels - 0.5))))


def _run(build, val_sep, test_sep, n=2000, seed=0, subsets=None):
    index = build.grid_index(n_recordings=4, per_recording=n // 4, prevalence=0.3, seed=seed)
    ds = build.dataset(index)
    labels = index["label"].to_numpy()
    if subsets is None:
        subsets = np.where(np.arange(n) % 2 == 0, "val", "test")
    rng = np.random.default_rng(seed)
    scores = np.where(subsets == "val", _scores(labels, val_sep, rng), _scores(labels, test_sep, rng))
    context = AuditContext(ds, build.frame(subsets), {}, predictions=build.predictions(scores))
    return run_audit(context, ["val_test_gap"])["val_test_gap"], labels, scores, subsets


def test_same_distribution_passes(build):
    result, *_ = _run(build, 1.5, 1.5)
    assert result.verdict == "PASS", result.numbers
    assert result.numbers["roc_auc_gap_low"] <= 0 <= result.numbers["roc_auc_gap_high"]


def test_validation_much_better_than_test_fails(build):
    result, labels, scores, subsets = _run(build, 3.0, 0.5)
    assert result.verdict == "FAIL"
    val, test = subsets == "val", subsets == "test"
    assert result.numbers["roc_auc_gap"] == pytest.approx(
        roc_auc_score(labels[val], scores[val]) - roc_auc_score(labels[test], scores[test])
    )
    assert result.numbers["average_precision_gap"] == pytest.approx(
        average_precision_score(labels[val], scores[val]) - average_precision_score(labels[test], scores[test])
    )
    assert result.numbers["roc_auc_gap_low"] > 0


def test_small_but_real_gap_warns(build):
    result, *_ = _run(build, 2.0, 1.5, n=8000)
    assert result.verdict == "WARN", result.numbers
    assert 0 < result.numbers["roc_auc_gap"] < 0.15


def test_no_validation_is_skipped(build):
    result, *_ = _run(build, 1.0, 1.0, n=400, subsets=np.full(400, "test"))
    assert result.verdict == "SKIP"
