"""What a detector's user needs beyond AP: errors by kind of negative, counts at the threshold, groups, low FPR.

:func:`detector_tables` turns a bench's out-of-sample scores
(``scores.parquet``) into four tables for the report (rendered by
:mod:`hardneg.report._detector_sections`):

* ``per_kind``: for each kind of negative window (near, far, uniform, hard,
  or any other kind the data names), the share scored at or above the
  fold's validation-chosen threshold, and the ROC AUC of the positives
  against that kind alone, each with a cluster-bootstrap interval;
* ``confusion``: TP, FP, FN, TN, precision, recall and false positives per
  hour of negative windows at that threshold, mean per seed;
* ``per_group``: AP, recall and FPR of every test group, worst first;
* ``low_fpr``: recall at FPR 1% and 0.1%, and whether the test sets hold
  enough negatives for that rate to mean anything.

Every number is a mean over seeds of the seed's value on the windows it
tested (a fresh split per seed tests other windows). The intervals use one
:class:`~hardneg.stats.GroupResampler` over every test group of the table,
as :func:`hardneg.stats.bench_intervals` does, so with the same ``seed``
they are drawn on the same groups as the report's other intervals.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import roc_curve

from hardneg._schema import NEGATIVE_KINDS, SCORE_KEY_COLUMNS, check_columns
from hardneg._validation import Interval, validate_value
from hardneg.errors import InputError
from hardneg.stats import CONFIDENCE, N_BOOTSTRAP, GroupResampler, seed_matrix

__all__ = [
    "CONFUSION_COLUMNS",
    "FPR_TARGETS",
    "LOW_FPR_COLUMNS",
    "PER_GROUP_COLUMNS",
    "PER_KIND_COLUMNS",
    "DetectorTables",
    "detector_tables",
    "grouped_average_precision",
]

#: The false-positive rates :attr:`DetectorTables.low_fpr` reads recall at.
FPR_TARGETS = (0.01, 0.001)
_COMBO = ["split", "model", "features"]
PER_KIND_COLUMNS = (
    *_COMBO,
    "kind",
    "n_windows",
    "share_above",
    "share_low",
    "share_high",
    "roc_auc",
    "auc_low",
    "auc_high",
)
CONFUSION_COLUMNS = (
    *_COMBO,
    "n_seeds",
    "tp",
    "fp",
    "fn",
    "tn",
    "precision",
    "recall",
    "negative_hours",
    "fp_per_hour",
)
PER_GROUP_COLUMNS = (
    *_COMBO,
    "group",
    "n_seeds",
    "n_windows",
    "n_positives",
    "average_precision",
    "recall",
    "fpr",
)
LOW_FPR_COLUMNS = (*_COMBO, "target_fpr", "recall", "n_negatives", "too_few_negatives")
_MS_PER_HOUR = 3.6e6


@dataclass(frozen=True)
class DetectorTables:
    """The detector tables of one bench run, and how their intervals were drawn.

    Attributes
    ----------
    per_kind, confusion, per_group, low_fpr : DataFrame
        :data:`PER_KIND_COLUMNS`, :data:`CONFUSION_COLUMNS`, :data:`PER_GROUP_COLUMNS` (worst group first within
        each combination) and :data:`LOW_FPR_COLUMNS` (one row per target rate).
    subset : str
    confidence : float
    n_resamples : int
    covers : str
        What the intervals cover, in words.
    window_ms : float or None
        Window length, for false positives per hour.
    """

    per_kind: pd.DataFrame
    confusion: pd.DataFrame
    per_group: pd.DataFrame
    low_fpr: pd.DataFrame
    subset: str
    confidence: float
    n_resamples: int
    covers: str
    window_ms: float | None


@dataclass(frozen=True)
class _Combo:
    """One combination's test windows: one row per seed, one column per window any seed tested."""

    y: np.ndarray  # bool (n_windows,)
    groups: np.ndarray  # str (n_windows,)
    kinds: np.ndarray | None  # str (n_windows,)
    scores: np.ndarray  # (n_seeds, n_windows), NaN where the seed did not test the window
    thresholds: np.ndarray | None  # like scores; None when any tested window lacks one

    @property
    def tested(self) -> np.ndarray:
        return ~np.isnan(self.scores)

    def predicted(self) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return self.tested & (self.scores >= self.thresholds)


def _pivot(combo: pd.DataFrame) -> _Combo:
    found = seed_matrix(combo)
    return _Combo(found.y.astype(bool), found.groups, found.kinds, found.scores, found.thresholds)


def _check(scores, combos, subset, window_ms) -> pd.DataFrame:
    if not isinstance(scores, pd.DataFrame):
        raise InputError(f"scores must be a pandas DataFrame, got {type(scores).__name__}", parameter="scores")
    check_columns(scores, SCORE_KEY_COLUMNS, "scores", hint="scores.parquet")
    if not isinstance(combos, Mapping):
        raise InputError("combos must map each split to a list of (model, features)", parameter="combos")
    if window_ms is not None:
        validate_value("window_ms", window_ms, [Interval(numbers.Real, 0, None, closed="neither")])
    tested = scores[scores["subset"].astype(str) == subset]
    if tested.empty:
        raise InputError(f"scores: no rows with subset {subset!r}", parameter="scores")
    return tested


def _negative_kinds(combo: _Combo) -> list[str]:
    """Kinds of the negative windows: the known ones in their usual order, then any other sorted."""
    if combo.kinds is None:
        return []
    present = set(combo.kinds[~combo.y].tolist())
    return [k for k in NEGATIVE_KINDS if k in present] + sorted(present - set(NEGATIVE_KINDS))


def _kind_rows(key, combo: _Combo, resampler: GroupResampler, confidence: float) -> list[list]:
    rows = []
    for kind in _negative_kinds(combo):
        negatives = ~combo.y & (combo.kinds == kind)
        keep = combo.y | negatives
        scores = combo.scores[:, keep]
        seeds = ~np.isnan(scores).all(axis=1)  # a seed that tested none of these windows sits out
        # Columns in score order: the AUC kernel looks every positive up among each group's negatives, which is
        # several times faster for sorted positives; counts and sums do not depend on the order.
        order = np.argsort(_nanmean(scores[seeds], axis=0), kind="stable")
        scores, y, groups = scores[seeds][:, order], combo.y[keep][order], combo.groups[keep][order]
        n_windows = float((~np.isnan(combo.scores[:, negatives])).sum(axis=1).mean())
        auc = resampler.interval(resampler.evaluate(y, scores, groups, metric="roc_auc"), confidence=confidence)
        share = (math.nan,) * 3
        if combo.thresholds is not None:
            limits = combo.thresholds[:, keep][seeds][:, order]
            found = resampler.interval(
                resampler.evaluate(y, scores, groups, metric="fpr", thresholds=limits), confidence=confidence
            )
            share = (found.value, found.low, found.high)
        rows.append([*key, kind, n_windows, *share, auc.value, auc.low, auc.high])
    return rows


def _confusion_row(key, combo: _Combo, window_ms) -> list:
    tested = combo.tested
    positives = (tested & combo.y).sum(axis=1).astype(float)
    negatives = (tested & ~combo.y).sum(axis=1).astype(float)
    hours = negatives * window_ms / _MS_PER_HOUR if window_ms is not None else np.full(len(negatives), np.nan)
    if combo.thresholds is None:
        return [*key, len(positives), *([math.nan] * 6), float(hours.mean()), math.nan]
    predicted = combo.predicted()
    tp = (predicted & combo.y).sum(axis=1).astype(float)
    fp = (predicted & ~combo.y).sum(axis=1).astype(float)
    fn, tn = positives - tp, negatives - fp
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(tp + fp > 0, tp / (tp + fp), np.nan)
        recall = np.where(positives > 0, tp / positives, np.nan)
        per_hour = np.where(hours > 0, fp / hours, np.nan)
    means = [float(v.mean()) for v in (tp, fp, fn, tn)]
    return [*key, len(tp), *means, _nanmean(precision), _nanmean(recall), float(hours.mean()), _nanmean(per_hour)]


def _nanmean(values: np.ndarray, axis=None):
    """The mean of the defined values; NaN (not a warning) where there is none."""
    defined = ~np.isnan(values)
    total = np.where(defined, values, 0.0).sum(axis=axis)
    count = defined.sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        found = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return float(found) if axis is None else found


def grouped_average_precision(keys: np.ndarray, y: np.ndarray, score: np.ndarray, n_keys: int) -> np.ndarray:
    """Average precision of the windows of each key, as scikit-learn computes it (ties included), at once.

    NaN for a key whose windows do not hold both classes.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.metrics import average_precision_score
    >>> y, score = np.array([1, 0, 1, 1, 0, 0]), np.array([0.9, 0.8, 0.8, 0.3, 0.2, 0.5])
    >>> keys = np.array([0, 0, 0, 1, 1, 1])
    >>> found = grouped_average_precision(keys, y, score, 3)
    >>> bool(np.isclose(found[0], average_precision_score(y[:3], score[:3]))), bool(np.isnan(found[2]))
    (True, True)
    """
    order = np.lexsort((-score, keys))
    k, s, t = keys[order], score[order], y[order].astype(np.float64)
    n = len(k)
    index = np.arange(n)
    new_key = np.ones(n, dtype=bool)
    new_key[1:] = k[1:] != k[:-1]
    # the last window of each run of equal scores within a key: a threshold's cut
    cut = np.ones(n, dtype=bool)
    cut[:-1] = (k[1:] != k[:-1]) | (s[1:] != s[:-1])
    start = np.maximum.accumulate(np.where(new_key, index, 0))
    cum_tp = np.cumsum(t)
    tp = cum_tp - np.where(start > 0, cum_tp[start - 1], 0.0)
    seen = index + 1 - start
    end = np.minimum.accumulate(np.where(cut, index, n)[::-1])[::-1]
    precision = tp[end] / seen[end]
    positives = np.bincount(k, weights=t, minlength=n_keys)
    windows = np.bincount(k, minlength=n_keys)
    with np.errstate(invalid="ignore", divide="ignore"):
        found = np.bincount(k, weights=t * precision, minlength=n_keys) / positives
    return np.where((positives > 0) & (positives < windows), found, np.nan)


def _group_rows(key, combo: _Combo) -> list[list]:
    names, codes = np.unique(combo.groups, return_inverse=True)
    n_seeds, n_groups = combo.scores.shape[0], len(names)
    seed_of, window_of = np.nonzero(combo.tested)
    keys = seed_of * n_groups + codes[window_of]
    y = combo.y[window_of]
    size = n_seeds * n_groups

    def per_cell(weights):
        return np.bincount(keys, weights=weights, minlength=size).reshape(n_seeds, n_groups)

    windows = per_cell(None)
    positives = per_cell(y.astype(np.float64))
    ap = grouped_average_precision(keys, y, combo.scores[seed_of, window_of], size).reshape(n_seeds, n_groups)
    recall = fpr = np.full((n_seeds, n_groups), np.nan)
    if combo.thresholds is not None:
        predicted = combo.predicted()[seed_of, window_of]
        tp, fp = per_cell((predicted & y).astype(np.float64)), per_cell((predicted & ~y).astype(np.float64))
        with np.errstate(invalid="ignore", divide="ignore"):
            recall = np.where(positives > 0, tp / positives, np.nan)
            fpr = np.where(windows > positives, fp / (windows - positives), np.nan)
    seen = windows > 0
    n_tested = seen.sum(axis=0)
    count = np.where(seen, windows, np.nan)
    rows = []
    for g, name in enumerate(names):
        rows.append(
            [*key, name, int(n_tested[g]), _nanmean(count[:, g]), _nanmean(np.where(seen, positives, np.nan)[:, g])]
            + [_nanmean(ap[:, g]), _nanmean(recall[:, g]), _nanmean(fpr[:, g])]
        )
    return rows


def _low_fpr_rows(key, combo: _Combo, targets: Sequence[float]) -> list[list]:
    found = np.full((combo.scores.shape[0], len(targets)), np.nan)
    negatives = np.zeros(combo.scores.shape[0])
    for i, (row, keep) in enumerate(zip(combo.scores, combo.tested)):
        y = combo.y[keep]
        negatives[i] = (~y).sum()
        if y.all() or not y.any():
            continue
        fpr, tpr, _ = roc_curve(y, row[keep], drop_intermediate=False)
        for j, target in enumerate(targets):
            found[i, j] = tpr[fpr <= target].max()
    n_negatives = float(negatives.mean())
    return [
        [*key, float(target), _nanmean(found[:, j]), n_negatives, bool(n_negatives * target < 1)]
        for j, target in enumerate(targets)
    ]


def detector_tables(
    scores: pd.DataFrame,
    combos: Mapping[str, Sequence[tuple[str, str]]],
    *,
    subset: str = "test",
    n_resamples: int = N_BOOTSTRAP,
    confidence: float = CONFIDENCE,
    seed: int = 0,
    window_ms: float | None = None,
    fpr_targets: Sequence[float] = FPR_TARGETS,
) -> DetectorTables:
    """Errors by kind of negative, counts at the threshold, per-group numbers and recall at low FPR.

    Parameters
    ----------
    scores : DataFrame
        A bench ``scores.parquet``: model, features, split, seed, fold, subset, window_id, label, group, score, and
        ``kind`` (how each window was sampled) and ``threshold`` (its fold's threshold chosen on validation). Without
        ``kind`` there is no per-kind table; without finite thresholds the numbers at a threshold are NaN.
    combos : mapping
        Split -> ``[(model, features), ...]`` to describe, in the order the tables list them; a combination absent
        from the table is skipped.
    subset : str
        The subset to describe.
    n_resamples, confidence, seed
        The cluster bootstrap (:class:`hardneg.stats.GroupResampler` over every group of ``subset``).
    window_ms : float, optional
        Window length in milliseconds, for false positives per hour of negative windows; NaN without it.
    fpr_targets : sequence of float
        The false-positive rates of ``low_fpr``.

    Returns
    -------
    DetectorTables

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> gen = np.random.default_rng(0)
    >>> kind = np.tile(["pos", "near", "far", "far"], 30)
    >>> label = (kind == "pos").astype(int)
    >>> score = np.where(kind == "pos", 0.7, np.where(kind == "near", 0.5, 0.1)) + 0.3 * gen.random((2, 120))
    >>> scores = pd.concat([pd.DataFrame({
    ...     "model": "et", "features": "rich", "split": "group", "seed": s, "fold": 0, "subset": "test",
    ...     "window_id": np.arange(120), "label": label, "group": np.repeat([f"p{i}" for i in range(12)], 10),
    ...     "kind": kind, "score": score[s], "threshold": 0.7}) for s in range(2)])
    >>> tables = detector_tables(scores, {"group": [("et", "rich")]}, n_resamples=200, window_ms=10_000)
    >>> print(tables.per_kind[["kind", "n_windows", "share_above", "roc_auc"]].round(3).to_string(index=False))
    kind  n_windows  share_above  roc_auc
    near       30.0        0.383    0.937
     far       60.0        0.000    1.000
    >>> row = tables.confusion.iloc[0]
    >>> float(row["tp"]), float(row["fp"]), round(float(row["fp_per_hour"]), 2)
    (30.0, 11.5, 46.0)
    >>> tables.low_fpr[["target_fpr", "n_negatives", "too_few_negatives"]].to_dict("records")[1]
    {'target_fpr': 0.001, 'n_negatives': 90.0, 'too_few_negatives': True}
    """
    validate_value("confidence", confidence, [Interval(numbers.Real, 0, 1, closed="neither")])
    tested = _check(scores, combos, subset, window_ms)
    window_ms = None if window_ms is None else float(window_ms)
    resampler = GroupResampler(pd.unique(tested["group"]).astype(str), n_resamples=n_resamples, seed=seed)
    index = tested[_COMBO].astype(str).groupby(_COMBO, sort=False).indices
    kinds, confusion, groups, low = [], [], [], []
    for split, pairs in combos.items():
        for model, features in pairs:
            key = (str(split), str(model), str(features))
            rows = index.get(key)
            if rows is None:
                continue
            combo = _pivot(tested.iloc[rows])
            kinds += _kind_rows(key, combo, resampler, confidence)
            confusion.append(_confusion_row(key, combo, window_ms))
            found = pd.DataFrame(_group_rows(key, combo), columns=list(PER_GROUP_COLUMNS))
            # worst first: lowest AP, then lowest recall; undefined last; ties by name
            groups.append(found.sort_values(["average_precision", "recall", "group"], kind="mergesort"))
            low += _low_fpr_rows(key, combo, [float(t) for t in fpr_targets])
    per_group = pd.concat(groups, ignore_index=True) if groups else pd.DataFrame(columns=list(PER_GROUP_COLUMNS))
    n_groups = len(resampler.names)
    covers = f"new groups drawn like the {n_groups} test groups" + (
        ", and seeds" if int(tested["seed"].nunique()) > 1 else ""
    )
    return DetectorTables(
        per_kind=pd.DataFrame(kinds, columns=list(PER_KIND_COLUMNS)),
        confusion=pd.DataFrame(confusion, columns=list(CONFUSION_COLUMNS)),
        per_group=per_group,
        low_fpr=pd.DataFrame(low, columns=list(LOW_FPR_COLUMNS)),
        subset=subset,
        confidence=float(confidence),
        n_resamples=int(n_resamples),
        covers=covers,
        window_ms=window_ms,
    )
