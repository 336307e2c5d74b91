"""Summaries of bench results (the long ``results.parquet`` table) across seeds and folds.

Mean, spread and a bootstrap interval per combination (:func:`summarize_results`),
the best baseline per split (:func:`best_baselines`), every model's gain over it
(:func:`baseline_gains`) and each split against a reference split
(:func:`compare_splits`). Every interval comes from :mod:`hardneg.stats._bootstrap`
with its own freshly seeded generator, on values sorted by ``(seed, fold)``, so a
reader can reproduce any number in a report with a single SciPy call.

The ``*_checked`` variants take a table that :func:`check_results` has already
validated and sorted, so that a report computing several summaries checks it once.

Examples
--------
>>> import pandas as pd
>>> results = pd.DataFrame({
...     "model": "et", "features": "rich", "split": "group", "seed": [0, 1, 2], "fold": 0,
...     "subset": "test", "metric": "roc_auc", "value": [0.81, 0.84, 0.8]})
>>> row = summarize_results(results).iloc[0]
>>> int(row["n"]), round(float(row["mean"]), 3)
(3, 0.817)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from hardneg._schema import BASELINES, RESULT_COLUMNS, check_columns
from hardneg.errors import InputError
from hardneg.stats._bootstrap import (
    BOOTSTRAP_SEED,
    CONFIDENCE,
    N_RESAMPLES,
    bootstrap_ci,
    check_bootstrap_options,
    difference_ci,
    finite_values,
)

__all__ = [
    "KEY_COLUMNS",
    "baseline_gains",
    "baseline_gains_checked",
    "best_baselines",
    "check_results",
    "compare_splits",
    "compare_splits_checked",
    "summarize_checked",
    "summarize_results",
]

#: The columns that identify one value of ``results.parquet``: each key appears once.
KEY_COLUMNS = ("model", "features", "split", "seed", "fold", "subset", "metric")
COMBO = ["split", "model", "features"]


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
    check_columns(results, RESULT_COLUMNS, "results", hint="results.parquet")
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
    Three seeds of an extra-trees model and the prior baseline on a random and a group split:

    >>> rows = [(model, "rich", split, seed, 0, "test", "roc_auc", value)
    ...         for model, split, values in [("et", "random", [0.95, 0.97, 0.96]), ("et", "group", [0.81, 0.84, 0.8]),
    ...                                      ("prior", "random", [0.5] * 3), ("prior", "group", [0.5] * 3)]
    ...         for seed, value in enumerate(values)]
    >>> results = pd.DataFrame(rows, columns=list(RESULT_COLUMNS))
    >>> summary = summarize_results(results, metrics=["roc_auc"])
    >>> print(summary[["split", "model", "n", "mean", "ci_low", "ci_high"]].round(3).to_string(index=False))
     split model  n  mean  ci_low  ci_high
     group    et  3 0.817    0.80     0.84
     group prior  3 0.500    0.50     0.50
    random    et  3 0.960    0.95     0.97
    random prior  3 0.500    0.50     0.50
    """
    check_bootstrap_options(confidence, n_resamples)
    return summarize_checked(check_results(results), subset, metrics, confidence, n_resamples, seed)


def summarize_checked(frame, subset, metrics, confidence, n_resamples, seed) -> pd.DataFrame:
    """:func:`summarize_results` of a table :func:`check_results` returned (positional arguments)."""
    frame = frame[frame["subset"] == subset]
    if metrics is not None:
        frame = frame[frame["metric"].isin(list(metrics))]
    rows = []
    for (split, model, features, metric), group in frame.groupby(COMBO + ["metric"], sort=True):
        values = group["value"].to_numpy()
        finite = finite_values(values)
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
    >>> rows = [(model, "rich", "group", seed, 0, "test", "average_precision", value)
    ...         for model, values in [("prior", [0.19] * 3), ("stratified", [0.17, 0.2, 0.18]),
    ...                                ("et", [0.6, 0.7, 0.65])]
    ...         for seed, value in enumerate(values)]
    >>> name, mean = best_baselines(pd.DataFrame(rows, columns=list(RESULT_COLUMNS)))[("group", "average_precision")]
    >>> name, round(mean, 3)
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
    >>> rows = [(model, "rich", split, seed, 0, "test", "roc_auc", value)
    ...         for model, split, values in [("et", "random", [0.95, 0.97, 0.96]), ("et", "group", [0.81, 0.84, 0.8]),
    ...                                      ("prior", "random", [0.5] * 3), ("prior", "group", [0.5] * 3)]
    ...         for seed, value in enumerate(values)]
    >>> results = pd.DataFrame(rows, columns=list(RESULT_COLUMNS))
    >>> gains = baseline_gains(results)
    >>> print(gains[["split", "model", "baseline", "gain", "ci_low", "ci_high", "n", "paired"]].round(3).to_string())
        split model baseline   gain  ci_low  ci_high  n  paired
    0   group    et    prior  0.317    0.30     0.34  3    True
    1  random    et    prior  0.460    0.45     0.47  3    True
    """
    check_bootstrap_options(confidence, n_resamples)
    frame = check_results(results)
    return baseline_gains_checked(frame, subset, metrics, baselines, confidence, n_resamples, seed)


def baseline_gains_checked(frame, subset, metrics, baselines, confidence, n_resamples, seed) -> pd.DataFrame:
    """:func:`baseline_gains` of a table :func:`check_results` returned (positional arguments)."""
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
    >>> rows = [(model, "rich", split, seed, 0, "test", "roc_auc", value)
    ...         for model, split, values in [("et", "random", [0.95, 0.97, 0.96]), ("et", "group", [0.81, 0.84, 0.8]),
    ...                                      ("prior", "random", [0.5] * 3), ("prior", "group", [0.5] * 3)]
    ...         for seed, value in enumerate(values)]
    >>> results = pd.DataFrame(rows, columns=list(RESULT_COLUMNS))
    >>> compared = compare_splits(results, "group").query("split == 'random'")
    >>> print(compared[["model", "split", "reference", "mean", "reference_mean", "delta"]].round(3).to_string())
       model   split reference  mean  reference_mean  delta
    0     et  random     group  0.96           0.817  0.143
    1  prior  random     group  0.50           0.500  0.000
    """
    check_bootstrap_options(confidence, n_resamples)
    return compare_splits_checked(check_results(results), reference, subset, metrics, confidence, n_resamples, seed)


def compare_splits_checked(frame, reference, subset, metrics, confidence, n_resamples, seed) -> pd.DataFrame:
    """:func:`compare_splits` of a table :func:`check_results` returned (positional arguments)."""
    frame = frame[(frame["subset"] == subset) & frame["metric"].isin(list(metrics))]
    columns = ["model", "features", "metric", "split", "reference", "mean", "reference_mean", "delta"]
    columns += ["ci_low", "ci_high"]
    values = {
        key: finite_values(g["value"]) for key, g in frame.groupby(["model", "features", "metric", "split"], sort=True)
    }
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
