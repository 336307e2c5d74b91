"""Summaries of bench results across seeds and folds: mean, spread and bootstrap intervals.

Every interval is a percentile bootstrap of the mean from :func:`scipy.stats.bootstrap`
with its own freshly seeded generator, so one interval never depends on which others
were computed before it, and a reader can reproduce any number in a report with a
single SciPy call on the values sorted by ``(seed, fold)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from hardneg.errors import InputError

#: The dummy models every benchmark adds (``hardneg.models.BASELINES``); repeated here so
#: that a report can be written from a results table without importing the model layer.
BASELINES = ("prior", "stratified", "majority")

RESULT_COLUMNS = ("model", "features", "split", "seed", "fold", "subset", "metric", "value")
KEY_COLUMNS = ("model", "features", "split", "seed", "fold", "subset", "metric")
COMBO = ["split", "model", "features"]

CONFIDENCE = 0.95
N_RESAMPLES = 2000
BOOTSTRAP_SEED = 0
#: Below this many values a bootstrap of the mean is meaningless; the interval is then the
#: plain percentiles of the values themselves.
MIN_BOOTSTRAP = 3


def _tails(confidence: float) -> tuple[float, float]:
    alpha = (1.0 - confidence) / 2.0
    return 100.0 * alpha, 100.0 * (1.0 - alpha)


def _finite(values) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64).ravel()
    return array[np.isfinite(array)]


def check_bootstrap_options(confidence: float, n_resamples: int) -> None:
    """Raise :class:`InputError` unless ``0 < confidence < 1`` and ``n_resamples >= 100``."""
    if not 0.0 < confidence < 1.0:
        raise InputError(f"confidence must be in (0, 1), got {confidence}; use e.g. 0.95")
    if int(n_resamples) < 100:
        raise InputError(f"n_resamples must be at least 100, got {n_resamples}; use e.g. 2000")


def bootstrap_ci(
    values,
    *,
    confidence: float = CONFIDENCE,
    n_resamples: int = N_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values`` (NaNs dropped).

    Parameters
    ----------
    values : array-like of float
        One value per seed × fold; non-finite values (e.g. ROC AUC of a one-class test
        fold) are left out.
    confidence : float
        Two-sided coverage of the interval.
    n_resamples : int
        Bootstrap resamples.
    seed : int
        Seeds a new :class:`numpy.random.Generator` for this call only.

    Returns
    -------
    (low, high) : tuple of float
        NaN when no value is finite. With fewer than three values, or all values equal,
        the plain percentiles of the values (a bootstrap of one or two numbers says
        nothing about the spread of their mean).

    Examples
    --------
    >>> bootstrap_ci([0.8, 0.82, 0.79, 0.85, 0.81])  # doctest: +ELLIPSIS
    (0.79..., 0.83...)
    >>> bootstrap_ci([0.7, 0.9])
    (0.705, 0.895)
    """
    check_bootstrap_options(confidence, n_resamples)
    finite = _finite(values)
    if finite.size == 0:
        return (float("nan"), float("nan"))
    if finite.size < MIN_BOOTSTRAP or np.ptp(finite) == 0.0:
        low, high = np.percentile(finite, _tails(confidence))
        return (float(low), float(high))
    result = stats.bootstrap(
        (finite,),
        np.mean,
        n_resamples=int(n_resamples),
        confidence_level=confidence,
        method="percentile",
        rng=np.random.default_rng(seed),
    )
    return (float(result.confidence_interval.low), float(result.confidence_interval.high))


def _mean_difference(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(x, axis=axis) - np.mean(y, axis=axis)


def difference_ci(
    a,
    b,
    *,
    confidence: float = CONFIDENCE,
    n_resamples: int = N_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``mean(a) - mean(b)`` for two independent samples.

    Each sample is resampled on its own (``paired=False``), which is right when the two
    come from different splits whose test sets share nothing fold by fold. For paired
    values (same seed and fold) use :func:`bootstrap_ci` on the differences instead.

    Returns
    -------
    (low, high) : tuple of float
        With fewer than three finite values on either side, the plain percentiles of
        every pairwise difference ``a[i] - b[j]``; NaN when a side is empty.

    Examples
    --------
    >>> low, high = difference_ci([0.9, 0.92, 0.95, 0.91], [0.7, 0.72, 0.69, 0.75])
    >>> 0.15 < low < high < 0.25
    True
    """
    check_bootstrap_options(confidence, n_resamples)
    x, y = _finite(a), _finite(b)
    if x.size == 0 or y.size == 0:
        return (float("nan"), float("nan"))
    if min(x.size, y.size) < MIN_BOOTSTRAP or (np.ptp(x) == 0.0 and np.ptp(y) == 0.0):
        low, high = np.percentile(np.subtract.outer(x, y), _tails(confidence))
        return (float(low), float(high))
    result = stats.bootstrap(
        (x, y),
        _mean_difference,
        n_resamples=int(n_resamples),
        confidence_level=confidence,
        method="percentile",
        paired=False,
        rng=np.random.default_rng(seed),
    )
    return (float(result.confidence_interval.low), float(result.confidence_interval.high))


def check_results(results: pd.DataFrame) -> pd.DataFrame:
    """Validate a bench results table and return it sorted, with ``value`` as float64.

    Raises
    ------
    InputError
        A required column is missing, the table is empty, a value is not numeric, or a
        (model, features, split, seed, fold, subset, metric) key appears twice (a resumed
        run that appended its parts twice would otherwise count every value double).
    """
    if not isinstance(results, pd.DataFrame):
        raise InputError(f"results must be a pandas DataFrame, got {type(results).__name__}; read results.parquet")
    missing = [c for c in RESULT_COLUMNS if c not in results.columns]
    if missing:
        raise InputError(
            f"results: column(s) {', '.join(missing)} missing; expected {', '.join(RESULT_COLUMNS)} (results.parquet)"
        )
    if results.empty:
        raise InputError("results: no rows; run `hardneg bench` first, there is nothing to report")
    frame = results.loc[:, list(RESULT_COLUMNS)].copy()
    for column in ("model", "features", "split", "subset", "metric"):
        frame[column] = frame[column].astype(str)
    try:
        frame["value"] = pd.to_numeric(frame["value"], errors="raise").astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"results: column 'value' must be numeric ({exc}); rewrite results.parquet") from None
    duplicated = frame.duplicated(list(KEY_COLUMNS))
    if duplicated.any():
        first = frame.loc[duplicated].iloc[0]
        key = ", ".join(f"{c}={first[c]}" for c in KEY_COLUMNS)
        raise InputError(
            f"results: {int(duplicated.sum())} duplicated row(s), e.g. {key}; each key must appear once, "
            "remove the repeated rows (a part appended twice?)"
        )
    # Sorted so that the values of a group (and thus every bootstrap) do not depend on row order.
    return frame.sort_values(list(KEY_COLUMNS), kind="mergesort").reset_index(drop=True)


def summarize_results(
    results: pd.DataFrame,
    *,
    subset: str = "test",
    metrics: Sequence[str] | None = None,
    confidence: float = CONFIDENCE,
    n_resamples: int = N_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> pd.DataFrame:
    """Mean, sample standard deviation and bootstrap interval of each metric per combination.

    Parameters
    ----------
    results : DataFrame
        Long bench results (``model, features, split, seed, fold, subset, metric, value``).
    subset : str
        Which subset's values to summarise.
    metrics : sequence of str, optional
        Metrics to keep, all by default.
    confidence, n_resamples, seed
        Passed to :func:`bootstrap_ci`.

    Returns
    -------
    DataFrame
        One row per (split, model, features, metric): ``n`` finite values, ``n_missing``
        non-finite ones, ``mean``, ``std`` (ddof=1, NaN for one value), ``ci_low``,
        ``ci_high``.

    Examples
    --------
    >>> summary = summarize_results(results, metrics=["average_precision"])  # doctest: +SKIP
    >>> summary.loc[0, ["split", "model", "mean", "ci_low", "ci_high"]]  # doctest: +SKIP
    """
    check_bootstrap_options(confidence, n_resamples)
    return _summarize(check_results(results), subset, metrics, confidence, n_resamples, seed)


def _summarize(frame, subset, metrics, confidence, n_resamples, seed) -> pd.DataFrame:
    frame = frame[frame["subset"] == subset]
    if metrics is not None:
        frame = frame[frame["metric"].isin(list(metrics))]
    rows = []
    for (split, model, features, metric), group in frame.groupby(COMBO + ["metric"], sort=True):
        values = group["value"].to_numpy()
        finite = _finite(values)
        low, high = bootstrap_ci(finite, confidence=confidence, n_resamples=n_resamples, seed=seed)
        rows.append(
            {
                "split": split,
                "model": model,
                "features": features,
                "metric": metric,
                "n": int(finite.size),
                "n_missing": int(values.size - finite.size),
                "mean": float(finite.mean()) if finite.size else float("nan"),
                "std": float(finite.std(ddof=1)) if finite.size > 1 else float("nan"),
                "ci_low": low,
                "ci_high": high,
            }
        )
    columns = COMBO + ["metric", "n", "n_missing", "mean", "std", "ci_low", "ci_high"]
    return pd.DataFrame(rows, columns=columns)


def best_baselines(
    results: pd.DataFrame,
    *,
    subset: str = "test",
    metrics: Sequence[str] = ("average_precision", "roc_auc"),
    baselines: Sequence[str] = BASELINES,
) -> dict[tuple[str, str], tuple[str, float]]:
    """The baseline with the highest mean per (split, metric), pooling its feature sets.

    A dummy model ignores the features, so a baseline run once per feature set is one
    model: its mean is taken over all of its finite values in the split.

    Returns
    -------
    dict
        ``(split, metric) -> (baseline name, its mean)``; pairs without any baseline value
        are absent. Ties go to the name that sorts first.

    Examples
    --------
    >>> best_baselines(results)[("group", "average_precision")]  # doctest: +SKIP
    ('prior', 0.19)
    """
    frame = check_results(results)
    return _best_baselines(frame, subset, metrics, baselines)


def _best_baselines(frame, subset, metrics, baselines) -> dict[tuple[str, str], tuple[str, float]]:
    rows = frame[
        (frame["subset"] == subset)
        & frame["metric"].isin(list(metrics))
        & frame["model"].isin(list(baselines))
        & np.isfinite(frame["value"].to_numpy())
    ]
    best: dict[tuple[str, str], tuple[str, float]] = {}
    means = rows.groupby(["split", "metric", "model"], sort=True)["value"].mean()
    for (split, metric), group in means.groupby(level=["split", "metric"], sort=True):
        top = group.max()
        # The index is sorted, so the first maximum is the name that sorts first.
        name = group.index[group.to_numpy() == top][0][2]
        best[(split, metric)] = (name, float(top))
    return best


def baseline_gains(
    results: pd.DataFrame,
    *,
    subset: str = "test",
    metrics: Sequence[str] = ("average_precision", "roc_auc"),
    baselines: Sequence[str] = BASELINES,
    confidence: float = CONFIDENCE,
    n_resamples: int = N_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> pd.DataFrame:
    """Gain of every non-baseline combination over the best baseline of its split.

    The best baseline of a split is the one with the highest mean of the metric
    (:func:`best_baselines`, per metric, so AP and ROC AUC may name different baselines).
    Gains are paired: for each (seed, fold) the combination's value minus the baseline's
    (averaged over the baseline's feature sets, which a dummy model ignores), and the
    interval is :func:`bootstrap_ci` of those differences. When no (seed, fold) is shared
    the gain is the unpaired difference of means with :func:`difference_ci`.

    Returns
    -------
    DataFrame
        One row per (split, model, features, metric): ``baseline``, ``baseline_mean``,
        ``mean`` (the combination's), ``gain``, ``ci_low``, ``ci_high``, ``n`` (pairs, or
        the combination's values when unpaired) and ``paired``.

    Examples
    --------
    >>> gains = baseline_gains(results)  # doctest: +SKIP
    >>> gains.query("split == 'group' and metric == 'roc_auc'")  # doctest: +SKIP
    """
    check_bootstrap_options(confidence, n_resamples)
    frame = check_results(results)
    return _baseline_gains(frame, subset, metrics, baselines, confidence, n_resamples, seed)


def _baseline_gains(frame, subset, metrics, baselines, confidence, n_resamples, seed) -> pd.DataFrame:
    best = _best_baselines(frame, subset, metrics, baselines)
    frame = frame[(frame["subset"] == subset) & frame["metric"].isin(list(metrics))]
    frame = frame[np.isfinite(frame["value"].to_numpy())]
    columns = COMBO + ["metric", "baseline", "baseline_mean", "mean", "gain", "ci_low", "ci_high", "n", "paired"]
    rows = []
    for (split, metric), group in frame.groupby(["split", "metric"], sort=True):
        if (split, metric) not in best:
            continue
        name, base_mean = best[(split, metric)]
        base = group[group["model"] == name].groupby(["seed", "fold"], sort=True)["value"].mean()
        candidates = group[~group["model"].isin(list(baselines))]
        for (model, features), combo in candidates.groupby(["model", "features"], sort=True):
            values = combo.set_index(["seed", "fold"])["value"]
            shared = values.index.intersection(base.index)
            if len(shared):
                diffs = (values.loc[shared] - base.loc[shared]).to_numpy()
                gain = float(diffs.mean())
                low, high = bootstrap_ci(diffs, confidence=confidence, n_resamples=n_resamples, seed=seed)
                n, paired = len(shared), True
            else:
                gain = float(values.mean() - base.mean())
                low, high = difference_ci(
                    values.to_numpy(), base.to_numpy(), confidence=confidence, n_resamples=n_resamples, seed=seed
                )
                n, paired = len(values), False
            rows.append(
                {
                    "split": split,
                    "model": model,
                    "features": features,
                    "metric": metric,
                    "baseline": name,
                    "baseline_mean": base_mean,
                    "mean": float(values.mean()),
                    "gain": gain,
                    "ci_low": low,
                    "ci_high": high,
                    "n": int(n),
                    "paired": paired,
                }
            )
    return pd.DataFrame(rows, columns=columns)


def compare_splits(
    results: pd.DataFrame,
    reference: str,
    *,
    subset: str = "test",
    metrics: Sequence[str] = ("average_precision", "roc_auc"),
    confidence: float = CONFIDENCE,
    n_resamples: int = N_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> pd.DataFrame:
    """How much higher each split scores the same model and features than ``reference``.

    The splits' test sets differ, so the difference of means gets an unpaired interval
    (:func:`difference_ci`). A positive ``delta`` on a split the audit failed is the
    inflation a practitioner would have reported.

    Returns
    -------
    DataFrame
        One row per (model, features, metric, split != reference) present on both:
        ``reference``, ``mean``, ``reference_mean``, ``delta``, ``ci_low``, ``ci_high``.

    Examples
    --------
    >>> compare_splits(results, "group").query("split == 'random'")  # doctest: +SKIP
    """
    check_bootstrap_options(confidence, n_resamples)
    return _compare_splits(check_results(results), reference, subset, metrics, confidence, n_resamples, seed)


def _compare_splits(frame, reference, subset, metrics, confidence, n_resamples, seed) -> pd.DataFrame:
    frame = frame[(frame["subset"] == subset) & frame["metric"].isin(list(metrics))]
    columns = ["model", "features", "metric", "split", "reference", "mean", "reference_mean", "delta"]
    columns += ["ci_low", "ci_high"]
    values = {key: _finite(g["value"]) for key, g in frame.groupby(["model", "features", "metric", "split"], sort=True)}
    rows = []
    for (model, features, metric, split), a in values.items():
        b = values.get((model, features, metric, reference))
        if split == reference or b is None or a.size == 0 or b.size == 0:
            continue
        low, high = difference_ci(a, b, confidence=confidence, n_resamples=n_resamples, seed=seed)
        rows.append(
            {
                "model": model,
                "features": features,
                "metric": metric,
                "split": split,
                "reference": reference,
                "mean": float(a.mean()),
                "reference_mean": float(b.mean()),
                "delta": float(a.mean() - b.mean()),
                "ci_low": low,
                "ci_high": high,
            }
        )
    return pd.DataFrame(rows, columns=columns)
