"""Paired differences of two training variants with a hierarchical bootstrap over test groups *and* seeds.

An experiment trains each arm (a training variant) with seeds ``0..k-1``;
with common random numbers seed ``k`` gives every arm the same split and
initialisation, so arm and baseline are compared seed by seed: runs are
paired **by seed id**, never by row order, and a seed that ran in one arm
only is left out and counted.

The difference between two arms varies for two reasons: the test groups
(recordings, patients) happen to be these and not others, and the seeds
(split, initialisation, data order) happen to be these. An interval that
resamples only the groups with the seeds held fixed covers new groups for
*these* seeds; one from the seeds alone (a t interval of the per-seed
deltas) covers new seeds on *these* groups. A claim about the training
variant needs both, so each resample

1. draws the test groups with replacement (the draws of
   :class:`~hardneg.stats.GroupResampler`, so two comparisons on the same
   groups share them) and computes every seed's metric for both arms on
   that draw, and
2. draws the paired seeds with replacement (a multinomial over the
   ``n`` paired seeds, from its own random stream),

and its statistic is the mean over the drawn seeds, weighted by how often
each was drawn, of the metric of the arm minus that of the baseline; a
seed whose difference is undefined on that draw (its drawn windows hold one
class only, or it tested none of the drawn groups) sits the draw out. The
percentile interval of those statistics covers new groups drawn like the
test groups and new seeds drawn like the paired seeds. The point estimate is
the mean over paired seeds of the per-seed differences on the original
sample.

:func:`hierarchical_paired_ratio` does the same for statistics that are
ratios of per-group sums (false alarms per hour: false alarms over hours of
the drawn recordings; event recall: events found over events).

Examples
--------
>>> import numpy as np
>>> y = np.tile([0, 1], 40)
>>> groups = np.repeat(np.arange(10), 8)
>>> noise = np.random.default_rng(0).random((4, 80))
>>> arm, baseline = 0.5 * noise + 0.5 * y, 0.8 * noise + 0.2 * y
>>> found = hierarchical_paired_bootstrap(y, arm, baseline[::-1], groups, seeds_a=[0, 1, 2, 3],
...                                      seeds_b=[3, 2, 1, 0], metric="roc_auc", n_resamples=200)
>>> found.seeds, round(found.interval.value, 3), bool(found.interval.low > 0)
([0, 1, 2, 3], 0.297, True)
>>> found.interval.covers
'new groups drawn like the 10 test groups and new seeds like the 4 paired seeds (both arms on the same groups and seeds)'
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from hardneg._validation import Interval, Options, check_seed, validate_value
from hardneg._validation import rng as seeded_rng
from hardneg.errors import InputError
from hardneg.metrics import check_binary_labels
from hardneg.stats._bootstrap import CONFIDENCE, N_BOOTSTRAP
from hardneg.stats._cluster import (
    CLUSTER_METRICS,
    MIN_GROUPS,
    ClusterInterval,
    GroupResampler,
    _check_scores,
    _check_thresholds,
    percentile_interval,
)
from hardneg.stats._cluster_kernels import per_seed

__all__ = ["HierarchicalResult", "hierarchical_paired_bootstrap", "hierarchical_paired_ratio"]

#: The stream of seed draws; its own purpose, so that it neither shares nor shifts the group draws.
_SEED_PURPOSE = "hierarchical-seeds"


@dataclass(frozen=True)
class HierarchicalResult:
    """A paired difference (arm minus baseline) with its hierarchical bootstrap interval, and the draws behind it.

    Attributes
    ----------
    interval : ClusterInterval
        The mean over paired seeds of the per-seed differences and its percentile interval
        (``method="hierarchical"``, ``n_seeds`` the paired seeds).
    seeds : list
        The paired seed ids, sorted.
    deltas : ndarray (n_pairs,)
        Arm minus baseline per paired seed on the original sample, in ``seeds`` order; NaN where undefined.
    unpaired : int
        Seeds only one arm has (left out).
    statistics : ndarray (n_resamples,)
        The statistic of every resample; NaN where no drawn seed has a defined difference.
    group_draws : ndarray (n_resamples, n_groups)
        How often each group was drawn, columns in the order of ``groups``.
    seed_draws : ndarray (n_resamples, n_pairs)
        How often each paired seed was drawn, columns in ``seeds`` order.
    groups : ndarray (n_groups,)
        The group names (as strings, sorted): the columns of ``group_draws``.
    """

    interval: ClusterInterval
    seeds: list
    deltas: np.ndarray
    unpaired: int
    statistics: np.ndarray
    group_draws: np.ndarray
    seed_draws: np.ndarray
    groups: np.ndarray


# ------------------------------------------------------------------------------------------ inputs


def _check_ids(seeds, n_rows: int, name: str) -> list:
    values = np.asarray(seeds)
    if values.ndim != 1 or len(values) != n_rows:
        raise InputError(
            f"{name} must hold one seed id per score row ({n_rows}), got shape {values.shape}", parameter=name
        )
    ids = values.tolist()
    if any(isinstance(v, float) and math.isnan(v) for v in ids) or any(v is None for v in ids):
        raise InputError(f"{name} must not hold a missing seed id (NaN or None)", parameter=name)
    if len(set(ids)) != len(ids):
        seen = set()
        twice = next(v for v in ids if v in seen or seen.add(v))
        raise InputError(f"{name}: seed id {twice!r} appears twice; each row must be a different seed", parameter=name)
    return ids


def _pair(seeds_a: list, seeds_b: list) -> tuple[list, np.ndarray, np.ndarray, int]:
    """The seed ids both arms have (sorted), the row of each in either arm, and how many only one arm has."""
    shared = set(seeds_a) & set(seeds_b)
    if not shared:
        raise InputError("arm and baseline share no seed id; nothing to pair", parameter="seeds_b")
    try:
        paired = sorted(shared)
    except TypeError:
        raise InputError("seeds_a and seeds_b must hold seed ids of one kind (integers)", parameter="seeds_a") from None
    row_a = {s: i for i, s in enumerate(seeds_a)}
    row_b = {s: i for i, s in enumerate(seeds_b)}
    rows_a = np.array([row_a[s] for s in paired], dtype=np.intp)
    rows_b = np.array([row_b[s] for s in paired], dtype=np.intp)
    return paired, rows_a, rows_b, len(set(seeds_a) ^ set(seeds_b))


def _thresholds(metric: str, thresholds, scores: np.ndarray, name: str):
    try:
        return _check_thresholds(metric, thresholds, scores)
    except InputError as error:  # the shared check speaks of "thresholds"; here each arm has its own
        raise InputError(str(error).replace("thresholds", name, 1), parameter=name) from None


def _check_options(n_resamples, confidence, seed) -> int:
    validate_value("n_resamples", n_resamples, [Interval(numbers.Integral, 1, None, closed="left")])
    validate_value("confidence", confidence, [Interval(numbers.Real, 0, 1, closed="neither")])
    return check_seed(seed)


def _check_sums(values, name: str, n_rows: int | None, n_groups: int) -> np.ndarray:
    try:
        values = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{name} must hold numbers", parameter=name) from None
    if values.ndim == 1:
        values = values[None, :]
    expected = f"({n_rows}, {n_groups})" if n_rows is not None else f"(n_seeds, {n_groups})"
    if (
        values.ndim != 2
        or values.shape[1] != n_groups
        or values.shape[0] == 0
        or (n_rows is not None and values.shape[0] != n_rows)
    ):
        raise InputError(
            f"{name} must be {expected}: one row per seed, one column per group, got shape {values.shape}",
            parameter=name,
        )
    if np.isinf(values).any():
        raise InputError(f"{name} must be finite or NaN (not evaluated), got an infinity", parameter=name)
    return values


def _check_ratio_side(numer, denom, n_groups: int, side: str) -> tuple[np.ndarray, np.ndarray]:
    numer = _check_sums(numer, f"numer_{side}", None, n_groups)
    denom = _check_sums(denom, f"denom_{side}", numer.shape[0], n_groups)
    if not np.array_equal(np.isnan(numer), np.isnan(denom)):
        raise InputError(
            f"numer_{side} and denom_{side} must be NaN at the same places (a group the seed did not evaluate)",
            parameter=f"denom_{side}",
        )
    if (denom < 0).any():
        raise InputError(f"denom_{side} must be >= 0 (sums of counts or hours)", parameter=f"denom_{side}")
    empty = np.flatnonzero(np.isnan(denom).all(axis=1))
    if len(empty):
        raise InputError(
            f"denom_{side}: seed row {empty[0]} evaluates no group (all NaN); NaN marks a group a seed did not "
            "evaluate",
            parameter=f"denom_{side}",
        )
    return numer, denom


# ------------------------------------------------------------------------------------- statistics


def _seed_draws(n_pairs: int, n_resamples: int, seed: int) -> np.ndarray:
    """Multiplicities of each paired seed, one row per resample (the paired seeds drawn with replacement)."""
    draws = seeded_rng(seed, _SEED_PURPOSE).multinomial(n_pairs, np.full(n_pairs, 1.0 / n_pairs), size=n_resamples)
    return draws.astype(np.float64)


def _weighted_mean(deltas: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Per row, the mean of the defined deltas weighted by ``weights``; NaN where no drawn seed is defined."""
    defined = ~np.isnan(deltas)
    total = (weights * np.where(defined, deltas, 0.0)).sum(axis=1)
    count = (weights * defined).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.where(count > 0, count, 1.0), np.nan)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _result(name, deltas, paired, unpaired, resampler, n_groups, seed, confidence, why) -> HierarchicalResult:
    """The interval from per-seed deltas on the original sample (row 0) and on every group draw (rows 1..)."""
    n_pairs = len(paired)
    n_resamples = resampler.n_resamples
    seed_draws = _seed_draws(n_pairs, n_resamples, seed)
    statistics = _weighted_mean(deltas[1:], seed_draws)
    point = _weighted_mean(deltas[:1], np.ones((1, n_pairs)))[0]
    low, high, n_undefined = percentile_interval(float(point), statistics, confidence)
    warnings = []
    if n_groups < MIN_GROUPS:
        warnings.append(f"fewer than {MIN_GROUPS} test groups: the interval is unreliable")
    if n_undefined > n_resamples / 2:
        warnings.append(
            f"{n_undefined} of {n_resamples} resamples were undefined ({why}) and left out: the interval is unreliable"
        )
    groups_text = f"new groups drawn like the {_plural(n_groups, 'test group')}"
    if n_pairs < 2:
        warnings.append("one paired seed only: the interval covers new groups, not new seeds")
        covers = f"{groups_text} (both arms on the same groups and seed)"
    else:
        covers = f"{groups_text} and new seeds like the {n_pairs} paired seeds (both arms on the same groups and seeds)"
    interval = ClusterInterval(
        metric=name,
        value=float(point),
        low=low,
        high=high,
        confidence=float(confidence),
        n_groups=n_groups,
        n_seeds=n_pairs,
        n_resamples=n_resamples,
        n_undefined=n_undefined,
        covers=covers,
        warnings=tuple(warnings),
        method="hierarchical",
    )
    return HierarchicalResult(
        interval=interval,
        seeds=paired,
        deltas=deltas[0].copy(),
        unpaired=unpaired,
        statistics=statistics,
        group_draws=resampler.draws,
        seed_draws=seed_draws,
        groups=resampler.names,
    )


# ------------------------------------------------------------------------------------------ public


def hierarchical_paired_bootstrap(
    y,
    scores_a,
    scores_b,
    groups,
    *,
    seeds_a,
    seeds_b,
    metric: str,
    thresholds_a=None,
    thresholds_b=None,
    n_resamples: int = N_BOOTSTRAP,
    confidence: float = CONFIDENCE,
    seed: int = 0,
) -> HierarchicalResult:
    """Arm minus baseline on ``metric``, paired by seed id, with an interval over new test groups and new seeds.

    Parameters
    ----------
    y : array-like of {0, 1}, shape (n_windows,)
        Labels of the evaluation set's windows.
    scores_a, scores_b : array-like of float, shape (n_seeds_a, n_windows) and (n_seeds_b, n_windows)
        One row per run of the arm (``a``) and of the baseline (``b``); NaN where that seed did not test the
        window (a fresh split per seed).
    groups : array-like, shape (n_windows,)
        The test group (recording, patient) of every window.
    seeds_a, seeds_b : array-like
        The seed id of every row of ``scores_a`` and ``scores_b``, in any order; no id twice.
        Rows are paired by these ids; seeds only one arm has are left out and counted (``unpaired``).
    metric : str
        One of :data:`~hardneg.stats.CLUSTER_METRICS`.
    thresholds_a, thresholds_b : array-like of float, optional
        For the threshold metrics (recall, precision, f1, fpr, balanced accuracy, at ``score >= threshold``)
        only: one per row (aligned with the rows, like the seed ids), one per row and window, or one for all.
    n_resamples : int
        Resamples (each one group draw and one seed draw).
    confidence : float
        Two-sided coverage of the percentile interval.
    seed : int
        Seeds the draws: the groups as :class:`~hardneg.stats.GroupResampler` (the same draws for the same
        groups), the paired seeds from ``rng(seed, "hierarchical-seeds")``.

    Returns
    -------
    HierarchicalResult

    Raises
    ------
    InputError
        On shapes that do not match, a seed id given twice, or no seed id the two arms share.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.tile([0, 1], 30)
    >>> groups = np.repeat([f"r{i}" for i in range(6)], 10)
    >>> a = np.random.default_rng(1).random((3, 60)) * 0.6 + 0.4 * y
    >>> same = hierarchical_paired_bootstrap(y, a, a[[2, 0, 1]], groups, seeds_a=[7, 8, 9], seeds_b=[9, 7, 8],
    ...                                     metric="f1", thresholds_a=[0.5, 0.5, 0.6],
    ...                                     thresholds_b=[0.6, 0.5, 0.5], n_resamples=100)
    >>> same.interval.value, same.interval.low, same.interval.high, same.deltas.tolist()
    (0.0, 0.0, 0.0, [0.0, 0.0, 0.0])
    >>> fewer = hierarchical_paired_bootstrap(y, a, a[:2], groups, seeds_a=[0, 1, 2], seeds_b=[0, 1],
    ...                                      metric="roc_auc", n_resamples=100)
    >>> fewer.seeds, fewer.unpaired, fewer.seed_draws.shape, fewer.group_draws.shape
    ([0, 1], 1, (100, 2), (100, 6))
    """
    validate_value("metric", metric, [Options(CLUSTER_METRICS)])
    seed = _check_options(n_resamples, confidence, seed)
    y = check_binary_labels(y).astype(bool)
    n = len(y)
    scores_a = _check_scores(scores_a, n, "scores_a")
    scores_b = _check_scores(scores_b, n, "scores_b")
    ids_a = _check_ids(seeds_a, scores_a.shape[0], "seeds_a")
    ids_b = _check_ids(seeds_b, scores_b.shape[0], "seeds_b")
    thresholds_a = _thresholds(metric, thresholds_a, scores_a, "thresholds_a")
    thresholds_b = _thresholds(metric, thresholds_b, scores_b, "thresholds_b")
    groups = np.asarray(groups)
    if groups.ndim != 1 or len(groups) != n:
        raise InputError(f"groups must hold one group per window ({n}), got shape {groups.shape}", parameter="groups")
    paired, rows_a, rows_b, unpaired = _pair(ids_a, ids_b)
    resampler = GroupResampler(groups, n_resamples=n_resamples, seed=seed)
    codes = resampler.codes(groups)
    n_all = len(resampler.names)
    # the original sample is one more draw (every group once), so its tables are built with the rest
    draws = np.vstack([np.ones((1, n_all)), resampler.draws])
    values = []
    for scores, thresholds, rows in ((scores_a, thresholds_a, rows_a), (scores_b, thresholds_b, rows_b)):
        kept = None if thresholds is None else thresholds[rows]
        values.append(per_seed(metric, y, scores[rows], codes, n_all, kept, draws)[0])
    deltas = values[0] - values[1]  # (1 + n_resamples, n_pairs), NaN where either arm is undefined
    tested = ~np.isnan(scores_a[rows_a]) | ~np.isnan(scores_b[rows_b])
    n_groups = len(np.unique(codes[tested.any(axis=0)]))
    why = "one class only, or no predicted positive" if metric in ("precision", "f1") else "one class only"
    return _result(metric, deltas, paired, unpaired, resampler, n_groups, seed, confidence, why)


def hierarchical_paired_ratio(
    numer_a,
    denom_a,
    numer_b,
    denom_b,
    groups,
    *,
    seeds_a,
    seeds_b,
    scale: float = 1.0,
    n_resamples: int = N_BOOTSTRAP,
    confidence: float = CONFIDENCE,
    seed: int = 0,
    name: str = "ratio",
) -> HierarchicalResult:
    """Arm minus baseline on a ratio of per-group sums, paired by seed id, over new groups and new seeds.

    Per seed and draw the statistic is ``scale * (draws @ numer) / (draws @ denom)`` (e.g. false alarms per
    hour: false alarms over hours of the drawn recordings, ``scale=1``; event recall: events found over
    events), NaN where the drawn denominator is 0; the rest is as :func:`hierarchical_paired_bootstrap`.

    Parameters
    ----------
    numer_a, denom_a, numer_b, denom_b : array-like of float, shape (n_seeds, n_groups)
        Per (seed, group) sums of the numerator and denominator of the arm (``a``) and the baseline (``b``);
        NaN in both where the seed did not evaluate the group.
    groups : array-like, shape (n_groups,)
        The group of every column. Columns may share a group (two recordings of one patient): they are
        then drawn together.
    seeds_a, seeds_b : array-like
        The seed id of every row, in any order; rows are paired by these ids.
    scale : float
        Multiplies every ratio (e.g. 3600 for a rate per second reported per hour).
    n_resamples, confidence, seed
        As :func:`hierarchical_paired_bootstrap`; the same groups and seed ids give the same draws.
    name : str
        The statistic's name in the interval's ``metric``.

    Returns
    -------
    HierarchicalResult

    Examples
    --------
    >>> import numpy as np
    >>> hours = np.full((3, 5), 2.0)
    >>> alarms_a = np.array([[1, 0, 2, 1, 0], [0, 1, 1, 0, 1], [1, 1, 0, 0, 2]], dtype=float)
    >>> found = hierarchical_paired_ratio(alarms_a, hours, alarms_a + 2, hours, ["p1", "p2", "p3", "p4", "p5"],
    ...                                   seeds_a=[0, 1, 2], seeds_b=[0, 1, 2], name="fa_per_hour")
    >>> found.interval.metric, [round(v, 6) for v in (found.interval.value, found.interval.low, found.interval.high)]
    ('fa_per_hour', [-1.0, -1.0, -1.0])
    >>> found.deltas.round(6).tolist(), found.interval.covers
    ([-1.0, -1.0, -1.0], 'new groups drawn like the 5 test groups and new seeds like the 3 paired seeds (both arms on the same groups and seeds)')
    """
    seed = _check_options(n_resamples, confidence, seed)
    validate_value("scale", scale, [Interval(numbers.Real, 0, None, closed="neither")])
    if not isinstance(name, str) or not name:
        raise InputError(f"name must be a non-empty string, got {name!r}", parameter="name")
    groups = np.asarray(groups)
    if groups.ndim != 1 or len(groups) == 0:
        raise InputError(f"groups must be a non-empty 1-D array, got shape {groups.shape}", parameter="groups")
    n_columns = len(groups)
    numer_a, denom_a = _check_ratio_side(numer_a, denom_a, n_columns, "a")
    numer_b, denom_b = _check_ratio_side(numer_b, denom_b, n_columns, "b")
    ids_a = _check_ids(seeds_a, numer_a.shape[0], "seeds_a")
    ids_b = _check_ids(seeds_b, numer_b.shape[0], "seeds_b")
    paired, rows_a, rows_b, unpaired = _pair(ids_a, ids_b)
    resampler = GroupResampler(groups, n_resamples=n_resamples, seed=seed)
    codes = resampler.codes(groups)
    # every column weighs as often as its group was drawn; row 0 is the original sample
    weights = np.vstack([np.ones((1, n_columns)), resampler.draws[:, codes]])
    ratios = []
    for numer, denom, rows in ((numer_a, denom_a, rows_a), (numer_b, denom_b, rows_b)):
        top = weights @ np.nan_to_num(numer[rows]).T
        bottom = weights @ np.nan_to_num(denom[rows]).T
        with np.errstate(invalid="ignore", divide="ignore"):
            ratios.append(np.where(bottom > 0, scale * top / np.where(bottom > 0, bottom, 1.0), np.nan))
    deltas = ratios[0] - ratios[1]
    evaluated = ~np.isnan(denom_a[rows_a]) | ~np.isnan(denom_b[rows_b])
    n_groups = len(np.unique(codes[evaluated.any(axis=0)]))
    return _result(name, deltas, paired, unpaired, resampler, n_groups, seed, confidence, "no denominator drawn")
