"""Binary detection metrics, from scikit-learn, with defined answers on one-class subsets.

The benchmark scores every subset with them and the audit's calibration check
reads its reliability table from here; this module imports no stage.

A subset of a fold can hold one class only (a leave-one-group-out fold on a
patient without events, a tiny validation subset). scikit-learn then raises
(ROC AUC), warns and returns 0 (average precision), or warns on every call;
over hundreds of fits that is either a crash or a wall of warnings. Here a
metric that is undefined is NaN, computed without an exception, and
scikit-learn's ``UndefinedMetricWarning`` is silenced inside these functions
only.

A window is predicted positive when ``score >= threshold``, the convention
of :func:`sklearn.metrics.precision_recall_curve`, so the threshold chosen
by :func:`choose_threshold` reproduces the F1 it was chosen for.

Calibration uses equal-width bins on [0, 1] exactly as
:func:`sklearn.calibration.calibration_curve` with ``strategy="uniform"``
(bin ``b`` is ``(b/n, (b+1)/n]``, the first bin also holds 0).
"""

from __future__ import annotations

import math
import numbers
import warnings
from contextlib import contextmanager

import numpy as np
import pandas as pd
from sklearn import metrics as skm
from sklearn.exceptions import UndefinedMetricWarning

from hardneg.errors import InputError

__all__ = [
    "METRIC_NAMES",
    "binary_metrics",
    "check_binary_labels",
    "check_n_bins",
    "check_score_array",
    "choose_threshold",
    "expected_calibration_error",
    "metric_rows",
    "reliability_table",
]

#: Every metric :func:`metric_rows` returns, in order; ``results.parquet``'s ``metric`` column takes these values.
METRIC_NAMES = (
    "average_precision",
    "roc_auc",
    "f1",
    "precision",
    "recall",
    "f1_at_val_threshold",
    "precision_at_val_threshold",
    "recall_at_val_threshold",
    "balanced_accuracy",
    "macro_f1",
    "ece",
    "brier",
)

_BINARY_METRICS = tuple(name for name in METRIC_NAMES if not name.endswith("_at_val_threshold"))


def check_binary_labels(y, *, name: str = "y") -> np.ndarray:
    """Return ``y`` as a 1-D int64 array if every value is 0 or 1 (or a bool), else raise :class:`InputError`.

    Examples
    --------
    >>> check_binary_labels([True, False, True]).tolist()
    [1, 0, 1]
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise InputError(f"{name} must be one-dimensional, got shape {y.shape}")
    if y.dtype != bool and not np.issubdtype(y.dtype, np.number):
        raise InputError(f"{name} must hold 0/1 labels, got dtype {y.dtype}")
    bad = ~np.isin(y, (0, 1))
    if bad.any():
        raise InputError(
            f"{name} must hold 0/1 labels only, got {y[bad][0].item()!r} at position {int(np.argmax(bad))}"
        )
    return y.astype(np.int64)


def check_score_array(score, n: int | None = None, *, name: str = "score") -> np.ndarray:
    """Return ``score`` as a 1-D float64 array if it holds finite probabilities in [0, 1] (and ``n`` values).

    Examples
    --------
    >>> check_score_array([0.2, 1]).tolist()
    [0.2, 1.0]
    """
    try:
        score = np.asarray(score, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{name} must hold numbers in [0, 1]") from None
    if score.ndim != 1:
        raise InputError(f"{name} must be one-dimensional, got shape {score.shape}")
    if n is not None and len(score) != n:
        raise InputError(f"{name} has {len(score)} values but the labels have {n}; pass one score per label")
    bad = ~((score >= 0.0) & (score <= 1.0))  # also catches NaN
    if bad.any():
        position = int(np.argmax(bad))
        raise InputError(
            f"{name} must be probabilities in [0, 1], got {score[position].item()!r} at position {position}; "
            "pass predict_proba()[:, 1], not a decision function"
        )
    return score


def check_n_bins(n_bins: int) -> int:
    """Return ``n_bins`` as an ``int`` if it is a positive integer, else raise :class:`InputError`."""
    if isinstance(n_bins, bool) or not isinstance(n_bins, numbers.Integral) or n_bins < 1:
        raise InputError(f"n_bins must be a positive integer, got {n_bins!r}")
    return int(n_bins)


def _check_threshold(threshold) -> float:
    if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real):
        raise InputError(f"threshold must be a number, got {threshold!r}")
    return float(threshold)


@contextmanager
def _quiet():
    """Silence scikit-learn's warnings about undefined metrics here only; the NaN says it instead."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        yield


def _reliability_counts(y: np.ndarray, score: np.ndarray, n_bins: int):
    # Same bins as sklearn.calibration.calibration_curve(strategy="uniform"), so the numbers agree with it.
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bin_ids = np.searchsorted(edges[1:-1], score)
    count = np.bincount(bin_ids, minlength=n_bins)
    score_sum = np.bincount(bin_ids, weights=score, minlength=n_bins)
    positive_sum = np.bincount(bin_ids, weights=y, minlength=n_bins)
    return edges, count, score_sum, positive_sum


def expected_calibration_error(y, score, n_bins: int = 10) -> float:
    """Expected calibration error of probabilities ``score`` for labels ``y``, with equal-width bins.

    ``ECE = sum_b (n_b / n) * |positive_rate_b - mean_score_b|`` over the
    non-empty bins ``b`` of :func:`reliability_table`: the "accuracy" of a bin
    is the share of positives in it and its "confidence" the mean predicted
    probability of the positive class. Defined for one-class ``y`` too; NaN
    when ``y`` is empty.

    Parameters
    ----------
    y : array-like of shape (n,)
        0/1 labels.
    score : array-like of shape (n,)
        Predicted probability of class 1, in [0, 1].
    n_bins : int, default=10
        Number of equal-width bins on [0, 1].

    Returns
    -------
    float
        In [0, 1]; 0 for a perfectly calibrated model.

    Examples
    --------
    >>> expected_calibration_error([0, 0, 0, 1], [0.25, 0.25, 0.25, 0.25])
    0.0
    >>> expected_calibration_error([0, 0, 1, 1], [0.05, 0.05, 0.95, 0.55], n_bins=2)
    0.15
    """
    y = check_binary_labels(y)
    score = check_score_array(score, len(y))
    n_bins = check_n_bins(n_bins)
    if len(y) == 0:
        return math.nan
    _, _, score_sum, positive_sum = _reliability_counts(y, score, n_bins)
    # |positive_sum - score_sum| / n equals (n_b / n) * |positive_rate_b - mean_score_b|, and is 0 for empty bins.
    return float(np.abs(positive_sum - score_sum).sum() / len(y))


def reliability_table(y, score, n_bins: int = 10) -> pd.DataFrame:
    """Observed positive rate against mean predicted probability in equal-width bins (a reliability diagram).

    Parameters
    ----------
    y : array-like of shape (n,)
        0/1 labels.
    score : array-like of shape (n,)
        Predicted probability of class 1, in [0, 1].
    n_bins : int, default=10
        Number of equal-width bins on [0, 1].

    Returns
    -------
    pandas.DataFrame
        One row per bin, empty bins included: ``bin_low``, ``bin_high``
        (float64), ``count`` (int64), ``mean_score`` and ``positive_rate``
        (float64, NaN for an empty bin). The non-empty rows' ``positive_rate``
        and ``mean_score`` equal ``calibration_curve(y, score, n_bins=n_bins)``.

    Examples
    --------
    >>> table = reliability_table([0, 0, 1, 1], [0.1, 0.3, 0.6, 0.9], n_bins=2)
    >>> table[["count", "mean_score", "positive_rate"]].to_numpy().tolist()
    [[2.0, 0.2, 0.0], [2.0, 0.75, 1.0]]
    """
    y = check_binary_labels(y)
    score = check_score_array(score, len(y))
    n_bins = check_n_bins(n_bins)
    edges, count, score_sum, positive_sum = _reliability_counts(y, score, n_bins)
    occupied = count > 0
    safe = np.where(occupied, count, 1)
    return pd.DataFrame(
        {
            "bin_low": edges[:-1],
            "bin_high": edges[1:],
            "count": count.astype(np.int64),
            "mean_score": np.where(occupied, score_sum / safe, np.nan),
            "positive_rate": np.where(occupied, positive_sum / safe, np.nan),
        }
    )


def _threshold_metrics(y: np.ndarray, predicted: np.ndarray) -> dict:
    """F1, precision, recall of class 1, balanced accuracy and macro F1 from one per-class scikit-learn call.

    One ``precision_recall_fscore_support`` call instead of five separate metric calls (each re-validates its input):
    the bench computes this for thousands of subsets. The averages follow scikit-learn exactly: with
    ``zero_division=np.nan`` an undefined class score is NaN and left out of the mean, which is also how
    ``balanced_accuracy_score`` drops the recall of a class absent from ``y`` (the tests compare with both).
    """
    with _quiet():
        precision, recall, f1, _ = skm.precision_recall_fscore_support(
            y, predicted, labels=[0, 1], average=None, zero_division=np.nan
        )
    return {
        "f1": float(f1[1]),
        "precision": float(precision[1]),
        "recall": float(recall[1]),
        "balanced_accuracy": _mean_of_defined(recall),
        "macro_f1": _mean_of_defined(f1),
    }


def _mean_of_defined(values: np.ndarray) -> float:
    defined = values[~np.isnan(values)]
    return float(defined.mean()) if len(defined) else math.nan


def binary_metrics(y_true, score, *, threshold: float = 0.5) -> dict:
    """Ranking, threshold and calibration metrics of scores ``score`` for labels ``y_true``.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        0/1 labels.
    score : array-like of shape (n,)
        Predicted probability of class 1, in [0, 1].
    threshold : float, default=0.5
        A window is predicted positive when ``score >= threshold``. NaN makes
        the threshold metrics NaN.

    Returns
    -------
    dict
        ``average_precision``, ``roc_auc`` (both NaN unless both classes are
        present), ``f1``, ``precision``, ``recall`` (of class 1; NaN when
        undefined, e.g. precision with nothing predicted positive, recall with
        no positives, F1 with neither), ``balanced_accuracy`` (scikit-learn's:
        the mean recall of the classes present in ``y_true``), ``macro_f1``
        (mean F1 of classes 0 and 1, leaving out an undefined one, as
        scikit-learn does with ``zero_division=np.nan``), ``ece``
        (:func:`expected_calibration_error`, 10 bins) and ``brier``; all
        floats, NaN for an empty input.

    Examples
    --------
    >>> result = binary_metrics([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9])
    >>> result["roc_auc"], result["precision"], result["recall"]
    (0.75, 0.5, 0.5)
    >>> binary_metrics([0, 0], [0.1, 0.2])["roc_auc"]
    nan
    """
    y = check_binary_labels(y_true, name="y_true")
    score = check_score_array(score, len(y))
    threshold = _check_threshold(threshold)
    nan = math.nan
    if len(y) == 0:
        return dict.fromkeys(_BINARY_METRICS, nan)
    both_classes = 0 < y.sum() < len(y)
    result = {
        "average_precision": float(skm.average_precision_score(y, score)) if both_classes else nan,
        "roc_auc": float(skm.roc_auc_score(y, score)) if both_classes else nan,
    }
    if math.isnan(threshold):
        result.update(f1=nan, precision=nan, recall=nan, balanced_accuracy=nan, macro_f1=nan)
    else:
        predicted = (score >= threshold).astype(np.int64)
        result.update(_threshold_metrics(y, predicted))
    result["ece"] = expected_calibration_error(y, score)
    with _quiet():
        result["brier"] = float(skm.brier_score_loss(y, score, labels=[0, 1]))
    return result


def choose_threshold(y_val, score_val) -> float:
    """The decision threshold that maximises F1 on a validation subset.

    Candidates are the distinct validation scores (predict positive when
    ``score >= threshold``); among thresholds with the same F1 the highest
    wins, so the choice flags as few windows as that F1 allows.

    Parameters
    ----------
    y_val : array-like of shape (n,)
        0/1 labels of the validation windows.
    score_val : array-like of shape (n,)
        Their predicted probabilities of class 1, in [0, 1].

    Returns
    -------
    float
        The chosen threshold, one of the validation scores; NaN when the
        validation subset holds no positive (F1 is then 0 or undefined at
        every threshold), which makes the ``*_at_val_threshold`` metrics of
        :func:`metric_rows` NaN.

    Examples
    --------
    >>> choose_threshold([0, 1, 0, 1, 1], [0.1, 0.4, 0.35, 0.8, 0.9])
    0.4
    >>> choose_threshold([0, 0], [0.3, 0.7])
    nan
    """
    y = check_binary_labels(y_val, name="y_val")
    score = check_score_array(score_val, len(y), name="score_val")
    n_positive = int(y.sum())
    if n_positive == 0:
        return math.nan
    # Counts at every distinct threshold, highest first: predicting positive at >= t takes all scores >= t.
    order = np.argsort(-score, kind="stable")
    sorted_score, sorted_y = score[order], y[order]
    last_of_value = np.r_[np.flatnonzero(np.diff(sorted_score)), len(score) - 1]
    true_positives = np.cumsum(sorted_y)[last_of_value]
    predicted_positives = last_of_value + 1
    # F1 = 2TP / (2TP + FP + FN) = 2TP / (TP + FP + P); from integers, so equal F1 values compare equal exactly.
    f1 = 2.0 * true_positives / (predicted_positives + n_positive)
    best = int(np.argmax(f1))  # first maximum in descending-threshold order = the highest threshold among ties
    return float(sorted_score[last_of_value[best]])


def metric_rows(y, score, val_threshold: float) -> dict:
    """Every benchmark metric of one subset, keyed by the names in :data:`METRIC_NAMES`.

    ``f1``, ``precision``, ``recall``, ``balanced_accuracy`` and ``macro_f1``
    are taken at 0.5; ``*_at_val_threshold`` at ``val_threshold`` (from
    :func:`choose_threshold` on the validation subset; NaN gives NaN).

    Parameters
    ----------
    y : array-like of shape (n,)
        0/1 labels of the subset.
    score : array-like of shape (n,)
        Predicted probabilities of class 1, in [0, 1].
    val_threshold : float
        Threshold chosen on validation.

    Returns
    -------
    dict
        Metric name -> float, in the order of :data:`METRIC_NAMES`.

    Examples
    --------
    >>> rows = metric_rows([0, 0, 1, 1], [0.1, 0.3, 0.35, 0.9], val_threshold=0.3)
    >>> rows["recall"], rows["recall_at_val_threshold"], rows["precision_at_val_threshold"]
    (0.5, 1.0, 0.6666666666666666)
    """
    y = check_binary_labels(y)
    score = check_score_array(score, len(y))
    val_threshold = _check_threshold(val_threshold)
    at_half = binary_metrics(y, score, threshold=0.5)
    if math.isnan(val_threshold) or len(y) == 0:
        at_val = {"f1": math.nan, "precision": math.nan, "recall": math.nan}
    else:
        at_val = _threshold_metrics(y, (score >= val_threshold).astype(np.int64))
        at_val = {name: at_val[name] for name in ("f1", "precision", "recall")}
    rows = {**at_half, **{f"{name}_at_val_threshold": value for name, value in at_val.items()}}
    return {name: rows[name] for name in METRIC_NAMES}
