"""The bootstrap statistics equal scikit-learn's metrics on the resampled data, ties included."""

import math

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import average_precision_score, roc_auc_score

from hardneg.stats import difference_interval, metric_interval, wilson_interval
from hardneg.stats._bootstrap import _Counts


@pytest.mark.parametrize("seed", range(20))
def test_resample_statistics_equal_sklearn_on_the_resampled_rows(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(4, 80))
    y = rng.random(n) < rng.uniform(0.2, 0.8)
    y[:2] = [True, False]
    score = np.round(rng.random(n), int(rng.integers(0, 3)))  # few decimals: many ties
    counts = _Counts(y, score)
    pos_picks = rng.integers(0, counts.n_pos, (4, counts.n_pos))
    neg_picks = rng.integers(0, counts.n_neg, (4, counts.n_neg))
    pos_rows, neg_rows = np.flatnonzero(y), np.flatnonzero(~y)
    for metric, func in (("roc_auc", roc_auc_score), ("average_precision", average_precision_score)):
        got = counts.metric(metric, pos_picks, neg_picks)
        for b in range(4):
            rows = np.r_[pos_rows[pos_picks[b]], neg_rows[neg_picks[b]]]
            assert got[b] == pytest.approx(func(y[rows], score[rows]), abs=1e-12)


def test_metric_interval_contains_sklearn_value_and_is_seeded():
    rng = np.random.default_rng(0)
    y = rng.random(500) < 0.3
    score = np.clip(0.3 * y + rng.random(500) * 0.7, 0, 1)
    first = metric_interval("roc_auc", y, score, confidence=0.95, rng=np.random.default_rng(1))
    assert first["value"] == roc_auc_score(y, score)
    assert first["low"] < first["value"] < first["high"]
    assert first == metric_interval("roc_auc", y, score, confidence=0.95, rng=np.random.default_rng(1))
    wider = metric_interval("roc_auc", y, score, confidence=0.99, rng=np.random.default_rng(1))
    assert wider["high"] - wider["low"] > first["high"] - first["low"]


def test_interval_agrees_with_a_plain_sklearn_bootstrap():
    rng = np.random.default_rng(2)
    y = rng.random(300) < 0.4
    score = np.clip(0.25 * y + rng.random(300), 0, 1) / 1.25
    ours = metric_interval("average_precision", y, score, confidence=0.9, rng=np.random.default_rng(3))
    pos, neg = np.flatnonzero(y), np.flatnonzero(~y)
    values = []
    for _ in range(2000):
        rows = np.r_[rng.choice(pos, len(pos)), rng.choice(neg, len(neg))]
        values.append(average_precision_score(y[rows], score[rows]))
    low, high = np.percentile(values, [5, 95])
    assert ours["low"] == pytest.approx(low, abs=0.015)
    assert ours["high"] == pytest.approx(high, abs=0.015)


def test_one_class_gives_nan():
    result = metric_interval(
        "roc_auc", np.zeros(10), np.linspace(0, 1, 10), confidence=0.95, rng=np.random.default_rng()
    )
    assert math.isnan(result["value"]) and math.isnan(result["low"])
    gap = difference_interval(
        "roc_auc", [0, 1, 0, 1], [0.1, 0.9, 0.2, 0.8], [0, 0], [0.1, 0.2], confidence=0.95, rng=np.random.default_rng()
    )
    assert math.isnan(gap["value"])


def test_wilson_interval_by_hand():
    z = stats.norm.ppf(0.975)
    k, n = 7, 20
    p = k / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    assert wilson_interval(k, n, 0.95) == pytest.approx((centre - half, centre + half))
