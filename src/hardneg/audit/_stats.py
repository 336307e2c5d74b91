"""Bootstrap intervals of ranking metrics, and the binomial intervals the checks report.

The intervals come from :func:`scipy.stats.bootstrap` (percentile method,
stratified: positives and negatives are resampled separately, so every
resample has both classes and the class counts of the data); point values
from scikit-learn. Calling scikit-learn once per resample costs ~2.5 ms on
8,000 windows, seconds for 1,000 resamples, so the bootstrap resamples
*positions* and the statistic turns a whole batch of resamples into counts
per distinct score, from which ROC AUC and average precision follow in a
few array operations. The tests check those statistics against
scikit-learn with weights, ties included.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats
from sklearn import metrics as skm

#: Resamples per bootstrap interval. 1,000 puts the 2.5% and 97.5% percentiles within about one
#: percentile step of where 10,000 would, and keeps an interval on 8,000 windows under a second.
N_BOOTSTRAP = 1000
#: Counts of one batch of resamples take batch x distinct scores x 8 bytes, several times over; 100 resamples of
#: 8,000 distinct scores is 6 MB, and the batch shrinks for larger subsets to stay near that.
_BATCH_CELLS = 1_000_000


class _Counts:
    """Scores of one subset as codes into their sorted distinct values, to count resamples cheaply."""

    def __init__(self, y, score):
        y = np.asarray(y).astype(bool)
        self.values, codes = np.unique(np.asarray(score, dtype=np.float64), return_inverse=True)
        self.pos_codes, self.neg_codes = codes[y], codes[~y]
        self.n_pos, self.n_neg = len(self.pos_codes), len(self.neg_codes)

    def _histogram(self, codes: np.ndarray, picks: np.ndarray) -> np.ndarray:
        # picks: (batch, n) indices into codes -> (batch, distinct values) counts, one bincount for the batch
        picks = np.atleast_2d(picks)
        m = len(self.values)
        flat = codes[picks] + m * np.arange(picks.shape[0])[:, None]
        return np.bincount(flat.ravel(), minlength=m * picks.shape[0]).reshape(picks.shape[0], m).astype(np.float64)

    def metric(self, name: str, pos_picks: np.ndarray, neg_picks: np.ndarray) -> np.ndarray:
        pos = self._histogram(self.pos_codes, pos_picks)
        neg = self._histogram(self.neg_codes, neg_picks)
        return _FROM_COUNTS[name](pos, neg)


def _auc_from_counts(pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
    # Mann-Whitney over distinct values (ascending): each positive beats the negatives below it, ties count 1/2.
    below = np.cumsum(neg, axis=-1) - neg
    return (pos * (below + 0.5 * neg)).sum(axis=-1) / (pos.sum(axis=-1) * neg.sum(axis=-1))


def _ap_from_counts(pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
    # scikit-learn's sum_k (R_k - R_{k-1}) P_k over distinct thresholds, highest first: R rises by pos_k / n1 at
    # threshold k, where the precision is (positives at or above) / (windows at or above).
    tp = np.cumsum(pos[..., ::-1], axis=-1)[..., ::-1]
    fp = np.cumsum(neg[..., ::-1], axis=-1)[..., ::-1]
    precision = np.divide(tp, tp + fp, out=np.zeros_like(tp), where=(tp + fp) > 0)
    return (pos * precision).sum(axis=-1) / pos.sum(axis=-1)


_FROM_COUNTS = {"roc_auc": _auc_from_counts, "average_precision": _ap_from_counts}


def _bootstrap(statistic, sizes, *, confidence: float, rng: np.random.Generator) -> tuple[float, float]:
    """Percentile interval of ``statistic(*picks)`` where each sample of positions 0..size-1 is resampled alone."""
    result = stats.bootstrap(
        tuple(np.arange(size) for size in sizes),
        statistic,
        n_resamples=N_BOOTSTRAP,
        batch=int(np.clip(_BATCH_CELLS // max(sizes), 10, 100)),
        vectorized=True,
        paired=False,
        axis=-1,
        confidence_level=confidence,
        method="percentile",
        rng=rng,
    )
    low, high = result.confidence_interval
    return float(low), float(high)


def point_metric(metric: str, y, score) -> float:
    """scikit-learn's ``roc_auc`` or ``average_precision`` of ``score`` for ``y``; NaN with one class only."""
    y = np.asarray(y).astype(bool)
    if y.all() or not y.any():
        return math.nan
    func = skm.roc_auc_score if metric == "roc_auc" else skm.average_precision_score
    return float(func(y, np.asarray(score, dtype=np.float64)))


def metric_interval(metric: str, y, score, *, confidence: float, rng: np.random.Generator) -> dict:
    """scikit-learn's ``metric`` (``roc_auc`` or ``average_precision``) with a stratified bootstrap interval.

    NaN everywhere when ``y`` holds one class only; NaN bounds with fewer than
    two windows of a class.
    """
    value = point_metric(metric, y, score)
    counts = _Counts(y, score)
    if math.isnan(value) or min(counts.n_pos, counts.n_neg) < 2:
        return {"value": value, "low": math.nan, "high": math.nan}
    low, high = _bootstrap(
        lambda p, q, axis=-1: counts.metric(metric, p, q),
        (counts.n_pos, counts.n_neg),
        confidence=confidence,
        rng=rng,
    )
    return {"value": value, "low": low, "high": high}


def difference_interval(metric: str, y_a, score_a, y_b, score_b, *, confidence: float, rng: np.random.Generator):
    """``metric(a) - metric(b)`` with a bootstrap interval, ``a`` and ``b`` resampled independently (stratified)."""
    value = point_metric(metric, y_a, score_a) - point_metric(metric, y_b, score_b)
    a, b = _Counts(y_a, score_a), _Counts(y_b, score_b)
    if math.isnan(value) or min(a.n_pos, a.n_neg, b.n_pos, b.n_neg) < 2:
        return {"value": value, "low": math.nan, "high": math.nan}
    low, high = _bootstrap(
        lambda pa, na, pb, nb, axis=-1: a.metric(metric, pa, na) - b.metric(metric, pb, nb),
        (a.n_pos, a.n_neg, b.n_pos, b.n_neg),
        confidence=confidence,
        rng=rng,
    )
    return {"value": value, "low": low, "high": high}


def wilson_interval(k: int, n: int, confidence: float) -> tuple[float, float]:
    """Wilson score interval of a proportion ``k / n`` (scipy's ``binomtest(...).proportion_ci``)."""
    if n == 0:
        return (0.0, 1.0)
    ci = stats.binomtest(int(k), int(n)).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)
