"""prediction_clustering: a model answering with 16 levels (one per group) FAILs; continuous scores PASS."""

import numpy as np
import pytest

from hardneg.audit import AuditContext, run_audit
from hardneg.audit.checks import prediction_clustering as pc


def _run(dataset, frame, predictions):
    context = AuditContext(dataset, frame, {"strategy": "random"}, predictions=predictions)
    return run_audit(context, ["prediction_clustering"])["prediction_clustering"]


def _setup(build, n_groups=16, per_group=40, seed=0):
    index = build.grid_index(n_recordings=n_groups, per_recording=per_group, prevalence=0.3, seed=seed)
    ds = build.dataset(index)
    subsets = np.where(np.random.default_rng(seed).random(len(index)) < 0.5, "test", "train")
    return ds, build.frame(subsets), subsets


def test_one_level_per_group_fails(build):
    ds, frame, subsets = _setup(build)
    codes = ds.index["recording"].str[3:].astype(int).to_numpy()
    levels = np.linspace(0.2, 0.8, 16)
    result = _run(ds, frame, build.predictions(levels[codes]))
    assert result.verdict == "FAIL"
    assert result.numbers["values_used_3_plus"] == 16
    assert result.numbers["clustered_share"] == 1.0
    assert result.numbers["clustered_group_purity"] == 1.0
    test = subsets == "test"
    assert result.numbers["tied_pair_share"] == pytest.approx(
        brute_force_tied(ds.index["label"].to_numpy()[test], levels[codes][test])
    )


def brute_force_tied(labels, score):
    pos, neg = score[labels == 1], score[labels == 0]
    return float((pos[:, None] == neg[None, :]).mean())


def test_continuous_scores_pass(build):
    ds, frame, _ = _setup(build)
    scores = np.random.default_rng(1).random(len(ds.index))
    result = _run(ds, frame, build.predictions(scores))
    assert result.verdict == "PASS"
    assert result.numbers["values_used_3_plus"] == 0
    assert result.numbers["distinct_values"] == (frame["subset"] == "test").sum()


def test_repeated_zeros_for_negatives_only_pass(build):
    # extra trees on easy negatives: exactly 0 for many negatives, distinct values elsewhere
    ds, frame, _ = _setup(build)
    labels = ds.index["label"].to_numpy()
    rng = np.random.default_rng(2)
    scores = np.where(
        labels == 1,
        rng.uniform(0.3, 1, len(labels)),
        np.where(rng.random(len(labels)) < 0.7, 0.0, rng.uniform(0, 0.5, len(labels))),
    )
    result = _run(ds, frame, build.predictions(scores))
    assert result.numbers["clustered_share"] > pc.SHARE_WARN
    assert result.numbers["tied_pair_share"] == 0
    assert result.verdict == "PASS"


def test_some_clustering_with_ties_warns(build):
    ds, frame, _subsets = _setup(build)
    rng = np.random.default_rng(3)
    scores = rng.random(len(ds.index))
    # a fifth of the windows on four shared levels, both classes among them
    clustered = rng.random(len(scores)) < 0.2
    scores[clustered] = rng.choice([0.2, 0.4, 0.6, 0.8], clustered.sum())
    result = _run(ds, frame, build.predictions(scores))
    assert pc.SHARE_WARN <= result.numbers["clustered_share"] < pc.SHARE_FAIL
    assert result.numbers["tied_pair_share"] >= pc.TIED_PAIRS_WARN
    assert result.verdict == "WARN"


def test_constant_scores_fail(build):
    ds, frame, _ = _setup(build)
    result = _run(ds, frame, build.predictions(np.full(len(ds.index), 0.3)))
    assert result.verdict == "FAIL"
    assert result.numbers["distinct_values"] == 1


def test_without_predictions_it_is_skipped(build):
    ds, frame, _ = _setup(build)
    result = run_audit(AuditContext(ds, frame, {}), ["prediction_clustering"])["prediction_clustering"]
    assert result.verdict == "SKIP"
    assert "--predictions" in result.explanation


def test_predictions_on_train_only_are_skipped(build):
    ds, frame, subsets = _setup(build)
    train = np.flatnonzero(subsets == "train")
    result = _run(ds, frame, build.predictions(np.full(len(train), 0.5), window_ids=train))
    assert result.verdict == "SKIP"
