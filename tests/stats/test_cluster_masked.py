"""Seeds that test different windows, per-window thresholds and the probability metrics, against a plain loop."""

import math

import numpy as np
import pytest
from sklearn.metrics import (
    average_precision_score,
    balanced_accuracy_score,
    brier_score_loss,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)

from hardneg._validation import rng as seeded_rng
from hardneg.errors import InputError
from hardneg.metrics import expected_calibration_error
from hardneg.stats import GroupResampler, cluster_bootstrap

THRESHOLDED = {
    "recall": lambda y, p: recall_score(y, p, zero_division=np.nan),
    "precision": lambda y, p: precision_score(y, p, zero_division=np.nan),
    "fpr": lambda y, p: 1.0 - recall_score(1 - y, 1 - p, zero_division=np.nan),
    "f1": lambda y, p: f1_score(y, p, zero_division=np.nan),
    "balanced_accuracy": balanced_accuracy_score,
}
RANKED = {"roc_auc": roc_auc_score, "average_precision": average_precision_score}
CALIBRATION = {"brier": brier_score_loss, "ece": expected_calibration_error}


def _data(seed, n_groups=8, n_seeds=3):
    """Every seed tests a different random subset of the windows (NaN elsewhere); scores with ties."""
    gen = np.random.default_rng(seed)
    sizes = gen.integers(2, 10, n_groups)
    groups = np.repeat([f"g{i:02d}" for i in range(n_groups)], sizes)
    y = (gen.random(len(groups)) < 0.4).astype(int)
    scores = np.round(gen.random((n_seeds, len(groups))) * 0.6 + 0.4 * y, 1)
    tested = gen.random(scores.shape) < 0.7
    scores[~tested] = np.nan
    thresholds = np.round(gen.random(scores.shape) * 0.3 + 0.35, 2)  # e.g. each fold's own threshold
    return y, scores, groups, thresholds


def _metric(metric, y, score, threshold):
    if metric in RANKED:
        return RANKED[metric](y, score)
    if metric in CALIBRATION:
        return CALIBRATION[metric](y, score)
    return THRESHOLDED[metric](y, (score >= threshold).astype(int))


def _loop(metric, y, scores, groups, thresholds, n_resamples, seed):
    """Draw the groups, repeat each tested window by its group's multiplicity, call the reference per seed."""
    names = np.unique(groups)
    codes = np.searchsorted(names, groups)
    draws = seeded_rng(seed, "cluster-bootstrap").multinomial(
        len(names), np.full(len(names), 1 / len(names)), n_resamples
    )
    out = []
    for draw in [np.ones(len(names), dtype=int), *draws]:
        values = []
        for row, limit in zip(scores, thresholds):
            keep = ~np.isnan(row)
            repeats = draw[codes[keep]]
            yy, ss, tt = (np.repeat(a[keep], repeats) for a in (y, row, limit))
            if len(yy) == 0 or (metric not in CALIBRATION and yy.min() == yy.max()):
                continue  # this seed tested nothing usable in the draw: it sits the draw out
            values.append(_metric(metric, yy, ss, tt))
        out.append(math.nan if not values or np.isnan(values).any() else float(np.mean(values)))
    return out[0], np.asarray(out[1:])


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("metric", [*RANKED, *THRESHOLDED, *CALIBRATION])
def test_masked_seeds_equal_a_plain_loop(seed, metric):
    y, scores, groups, thresholds = _data(seed, n_groups=6 + seed)
    resampler = GroupResampler(groups, n_resamples=40, seed=seed)
    found = resampler.evaluate(
        y, scores, groups, metric=metric, thresholds=thresholds if metric in THRESHOLDED else None
    )
    point, statistics = _loop(metric, y, scores, groups, thresholds, 40, seed)
    assert found.value == pytest.approx(point, abs=1e-12)
    np.testing.assert_allclose(found.statistics, statistics, atol=1e-12)
    assert found.n_seeds == 3


def test_a_seed_that_tested_nothing_is_refused():
    y, scores, groups, _ = _data(0)
    scores[1] = np.nan
    with pytest.raises(InputError, match="seed row 1 tests no window") as raised:
        cluster_bootstrap(y, scores, groups, metric="roc_auc")
    assert raised.value.parameter == "scores"


def test_thresholds_per_window_must_cover_the_tested_windows():
    y, scores, groups, thresholds = _data(1)
    thresholds[~np.isnan(scores)] = np.nan
    with pytest.raises(InputError, match="^thresholds must be one finite number") as raised:
        cluster_bootstrap(y, scores, groups, metric="recall", thresholds=thresholds)
    assert raised.value.parameter == "thresholds"


def test_shared_draws_pair_splits_that_test_different_groups():
    # two splits test different halves of the groups; the same resampler draws over all of them
    gen = np.random.default_rng(3)
    groups = np.repeat([f"r{i}" for i in range(12)], 20)
    y = (gen.random(240) < 0.3).astype(int)
    score = 0.3 * y + gen.random(240)
    first = np.where(np.isin(groups, [f"r{i}" for i in range(6)]), score, np.nan)
    second = np.where(np.isin(groups, [f"r{i}" for i in range(6)]), np.nan, score)
    resampler = GroupResampler(groups, n_resamples=200)
    a = resampler.evaluate(y, first, groups, metric="roc_auc")
    b = resampler.evaluate(y, second, groups, metric="roc_auc")
    assert (a.n_groups, b.n_groups) == (6, 6)
    difference = resampler.difference(a, b)
    assert difference.value == pytest.approx(a.value - b.value)
    assert difference.low < difference.value < difference.high


def test_a_group_outside_the_resampler_is_named():
    resampler = GroupResampler(["a", "b"], n_resamples=5)
    with pytest.raises(InputError, match="'c' is not among the 2 groups") as raised:
        resampler.evaluate([0, 1], [0.2, 0.8], ["a", "c"], metric="roc_auc")
    assert raised.value.parameter == "groups"
