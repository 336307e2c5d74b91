"""Every metric of every seed on every group draw at once: the kernels behind :mod:`hardneg.stats._cluster`.

A draw is a vector of group multiplicities; the metric on the weighted
sample equals the metric on the sample with each window repeated that many
times. Scores come as an ``(n_seeds, n_windows)`` matrix in which NaN marks a
window the seed did not test (a fresh split per seed tests other windows),
so one call covers every seed. No step loops over windows:

* ROC AUC is bilinear in the multiplicities (a pair's weight is the product
  of its two groups' multiplicities): one group x group table of correctly
  ranked pairs per seed (ties 1/2) gives every resample's AUC in one
  matrix product;
* average precision comes from weighted counts at the distinct scores of
  the positives (ties as in scikit-learn's step-wise sum): a sparse
  product of the draws with a threshold x group table per seed and chunk
  of resamples, then cumulative sums;
* the metrics at a threshold, the Brier score and the expected calibration
  error are sums over windows, so per (seed, group) sums weighted by the
  draws, for every seed at once.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from hardneg.stats._bootstrap import ap_from_counts

__all__ = ["CALIBRATION", "RANKING", "THRESHOLD", "per_seed", "tested_counts"]

RANKING = ("roc_auc", "average_precision")
#: Metrics at ``score >= threshold`` (the threshold per seed, or per seed and window).
THRESHOLD = ("recall", "fpr", "precision", "f1", "balanced_accuracy")
#: Metrics of the probabilities themselves (defined for one class too).
CALIBRATION = ("brier", "ece")
#: Equal-width bins of the expected calibration error, as :func:`hardneg.metrics.expected_calibration_error`.
ECE_BINS = 10
#: Resamples x distinct scores per chunk of counts (8 bytes each, a few arrays at once): ~16 MB per array.
CHUNK_CELLS = 2_000_000


def _per_seed_group(values: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """Sums of ``values`` (n_seeds, n_windows) per seed and group: (n_seeds, n_groups), one bincount."""
    n_seeds = values.shape[0]
    index = (np.arange(n_seeds)[:, None] * n_groups + codes[None, :]).ravel()
    return np.bincount(index, weights=values.ravel(), minlength=n_seeds * n_groups).reshape(n_seeds, n_groups)


def tested_counts(y: np.ndarray, tested: np.ndarray, codes, n_groups, draws) -> tuple[np.ndarray, np.ndarray]:
    """Weighted positives and negatives each seed tested on each draw: two (n_draws, n_seeds) arrays."""
    positives = _per_seed_group((tested & y).astype(np.float64), codes, n_groups)
    negatives = _per_seed_group((tested & ~y).astype(np.float64), codes, n_groups)
    return draws @ positives.T, draws @ negatives.T


def _auc(y: np.ndarray, score: np.ndarray, codes: np.ndarray, n_groups: int, draws: np.ndarray) -> np.ndarray:
    """ROC AUC of one seed's scores on every weighted resample: (n_resamples,).

    The Mann-Whitney numerator is a sum over (positive, negative) pairs, and a pair's weight is the product of
    its two groups' multiplicities, so it is ``m @ C @ m`` with ``C[g, h]`` the pairs (positive in ``g``,
    negative in ``h``) ranked right, ties counted 1/2: one ``G x G`` table per seed, whatever the resample.
    """
    pos_score, pos_codes = score[y], codes[y]
    pairs = np.zeros((n_groups, n_groups))
    for h in np.unique(codes[~y]):
        negatives = np.sort(score[~y & (codes == h)])
        below = np.searchsorted(negatives, pos_score, side="left")
        ties = np.searchsorted(negatives, pos_score, side="right") - below
        pairs[:, h] = np.bincount(pos_codes, weights=below + 0.5 * ties, minlength=n_groups)
    n_pos = draws @ np.bincount(pos_codes, minlength=n_groups)
    n_neg = draws @ np.bincount(codes[~y], minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        return ((draws @ pairs) * draws).sum(axis=1) / (n_pos * n_neg)


def _average_precision(y, score, codes, n_groups, draws) -> np.ndarray:
    """Average precision of one seed's scores on every weighted resample: (n_resamples,).

    Only the distinct scores of positives are thresholds where recall moves, so each negative is counted at
    the highest of them it reaches (``score >= threshold``), and negatives below every positive are dropped;
    the weighted counts per threshold are the draws times a sparse (group x threshold) table.
    """
    thresholds, pos_bins = np.unique(score[y], return_inverse=True)
    neg_bins = np.searchsorted(thresholds, score[~y], side="right") - 1
    reached = neg_bins >= 0
    width = len(thresholds)
    if width == 0:
        return np.full(len(draws), np.nan)

    def table(group_codes, bins):
        # threshold x group windows (CSR), so that table @ draws.T is one sparse product per chunk
        return sparse.csr_matrix((np.ones(len(bins)), (bins, group_codes)), shape=(width, n_groups))

    pos_table = table(codes[y], pos_bins)
    neg_table = table(codes[~y][reached], neg_bins[reached])
    out = np.empty(len(draws))
    step = max(1, CHUNK_CELLS // width)
    with np.errstate(invalid="ignore", divide="ignore"):
        for start in range(0, len(draws), step):
            weights = draws[start : start + step].T
            out[start : start + step] = ap_from_counts((pos_table @ weights).T, (neg_table @ weights).T)
    return out


_RANKED = {"roc_auc": _auc, "average_precision": _average_precision}


def _thresholded(metric, y, scores, tested, codes, n_groups, thresholds, draws) -> np.ndarray:
    """``metric`` at ``score >= threshold`` for every seed on every draw: (n_draws, n_seeds)."""
    with np.errstate(invalid="ignore"):
        predicted = tested & (scores >= thresholds)
    tp = draws @ _per_seed_group((predicted & y).astype(np.float64), codes, n_groups).T
    fp = draws @ _per_seed_group((predicted & ~y).astype(np.float64), codes, n_groups).T
    positives, negatives = tested_counts(y, tested, codes, n_groups, draws)
    with np.errstate(invalid="ignore", divide="ignore"):
        recall, fpr = tp / positives, fp / negatives
        if metric == "recall":
            return recall
        if metric == "fpr":
            return fpr
        if metric == "balanced_accuracy":
            return (recall + 1.0 - fpr) / 2.0
        if metric == "f1":  # 2TP / (2TP + FP + FN), with FN = positives - TP; undefined without any positive
            return np.where(tp + fp + positives > 0, 2.0 * tp / (tp + fp + positives), np.nan)
        return np.where(tp + fp > 0, tp / (tp + fp), np.nan)


def _calibration(metric, y, scores, tested, codes, n_groups, draws) -> np.ndarray:
    """Brier score or ECE (10 equal-width bins) of every seed on every draw: (n_draws, n_seeds)."""
    filled = np.where(tested, scores, 0.0)
    n = draws @ _per_seed_group(tested.astype(np.float64), codes, n_groups).T
    with np.errstate(invalid="ignore", divide="ignore"):
        if metric == "brier":
            squared = np.where(tested, (filled - y) ** 2, 0.0)
            return (draws @ _per_seed_group(squared, codes, n_groups).T) / n
        # ECE = sum over bins |sum of (y - p) in the bin| / n: per (seed, bin, group) sums, weighted by the draws
        edges = np.linspace(0.0, 1.0, ECE_BINS + 1)
        bins = np.searchsorted(edges[1:-1], filled)  # the bins of sklearn's calibration_curve(strategy="uniform")
        residual = np.where(tested, y - filled, 0.0)
        total = np.zeros((len(draws), scores.shape[0]))
        for b in range(ECE_BINS):
            in_bin = np.where(bins == b, residual, 0.0)
            total += np.abs(draws @ _per_seed_group(in_bin, codes, n_groups).T)
        return total / n


def per_seed(metric, y, scores, codes, n_groups, thresholds, draws) -> tuple[np.ndarray, np.ndarray]:
    """The metric of every seed on every draw, and whether the seed is *present* in the draw.

    Parameters
    ----------
    metric : str
        One of :data:`RANKING`, :data:`THRESHOLD`, :data:`CALIBRATION`.
    y : bool array (n_windows,)
    scores : float array (n_seeds, n_windows)
        NaN where the seed did not test the window.
    codes : int array (n_windows,)
        Group code of every window, in ``range(n_groups)``.
    thresholds : float array broadcastable to ``scores``, or None
    draws : float array (n_draws, n_groups)
        Group multiplicities.

    Returns
    -------
    values, present : (n_draws, n_seeds) arrays
        ``present`` is False where the drawn sample of that seed has no window (calibration metrics) or one
        class only (every other metric): the seed did not test that draw. ``values`` is NaN there, and also
        where a present seed's metric is undefined (precision with no predicted positive).
    """
    tested = ~np.isnan(scores)
    positives, negatives = tested_counts(y, tested, codes, n_groups, draws)
    if metric in CALIBRATION:
        present = (positives + negatives) > 0
        values = _calibration(metric, y, scores, tested, codes, n_groups, draws)
    else:
        present = (positives > 0) & (negatives > 0)
        if metric in RANKING:
            columns = []
            for row, keep in zip(scores, tested):
                columns.append(_RANKED[metric](y[keep], row[keep], codes[keep], n_groups, draws))
            values = np.column_stack(columns)
        else:
            values = _thresholded(metric, y, scores, tested, codes, n_groups, thresholds, draws)
    values = np.where(present, values, np.nan)
    return values, present
