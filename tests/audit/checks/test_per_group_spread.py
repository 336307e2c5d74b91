"""per_group_spread: groups that disagree, or a pooled AUC carried by group base rates, WARN."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from hardneg.audit import AuditContext, run_audit


def _setup(build, prevalence=0.3, seed=0):
    index = build.grid_index(n_recordings=6, per_recording=150, prevalence=prevalence, seed=seed)
    ds = build.dataset(index)
    return ds, build.frame(np.full(len(index), "test")), index


def _run(ds, frame, scores):
    context = AuditContext(ds, frame, {}, predictions=_predictions(scores))
    return run_audit(context, ["per_group_spread"])["per_group_spread"]


def _predictions(scores):
    import pandas as pd

    return pd.DataFrame({"window_id": np.arange(len(scores)), "score": scores})


def test_groups_alike_pass(build):
    ds, frame, index = _setup(build)
    labels = index["label"].to_numpy()
    rng = np.random.default_rng(1)
    scores = np.clip(0.5 + 0.35 * (labels - 0.5) + 0.1 * rng.standard_normal(len(labels)), 0, 1)
    result = _run(ds, frame, scores)
    assert result.verdict == "PASS", result.explanation
    for row in result.numbers["groups"]:
        part = index["group"] == row["group"]
        assert row["roc_auc"] == pytest.approx(roc_auc_score(labels[part], scores[part]))


def test_one_inverted_group_warns(build):
    ds, frame, index = _setup(build)
    labels = index["label"].to_numpy()
    rng = np.random.default_rng(2)
    scores = np.clip(0.5 + 0.35 * (labels - 0.5) + 0.1 * rng.standard_normal(len(labels)), 0, 1)
    g3 = (index["group"] == "g3").to_numpy()
    scores[g3] = 1 - scores[g3]
    result = _run(ds, frame, scores)
    assert result.verdict == "WARN"
    assert result.numbers["worst_group"] == "g3"
    assert result.numbers["min_group_auc"] < 0.5
    assert result.numbers["auc_spread"] > 0.3


def test_pooled_auc_from_base_rates_warns(build):
    ds, frame, index = _setup(build, prevalence=[0.05, 0.1, 0.2, 0.4, 0.6, 0.8])
    index["label"].to_numpy()
    rate = index.groupby("group")["label"].transform("mean").to_numpy()
    scores = np.clip(rate + 0.01 * np.random.default_rng(3).standard_normal(len(rate)), 0, 1)  # no within-group info
    result = _run(ds, frame, scores)
    assert result.numbers["pooled_auc"] > 0.75
    assert abs(result.numbers["mean_group_auc"] - 0.5) < 0.15
    assert result.verdict == "WARN"
    assert "telling groups apart" in result.explanation


def test_too_few_per_group_is_skipped(build):
    index = build.grid_index(n_recordings=3, per_recording=6, prevalence=0.3)
    ds = build.dataset(index)
    frame = build.frame(np.full(len(index), "test"))
    result = _run(ds, frame, np.random.default_rng(0).random(len(index)))
    assert result.verdict == "SKIP"
