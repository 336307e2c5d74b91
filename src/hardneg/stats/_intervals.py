"""The intervals of a bench run: one table per run, by cluster bootstrap over test groups (default) or over seeds.

:func:`bench_intervals` turns the out-of-sample scores of a bench
(``scores.parquet``) into one row per (model, features, split, metric):
the mean over seeds and its interval, with what the interval covers. Under
``ci_method="cluster"`` every combination is evaluated on the **same** group
draws (one :class:`~hardneg.stats.GroupResampler` over every test group of
the run), so a model's gain over a baseline, or one split against another,
is a difference draw by draw: paired by group and by seed. Each seed's
test predictions are pooled over its folds first (out-of-fold predictions
for k-fold splits). ``ci_method="seeds"`` keeps the older interval of the
mean over seeds x folds (:func:`~hardneg.stats.summarize_results`), which
covers seeds only and collapses when nothing varies across them.

Examples
--------
>>> import numpy as np, pandas as pd
>>> gen = np.random.default_rng(0)
>>> rows = []
>>> for model, strength in [("et", 0.6), ("prior", 0.0)]:
...     for seed in range(2):
...         label = gen.random(120) < 0.3
...         rows.append(pd.DataFrame({
...             "model": model, "features": "rich", "split": "group", "seed": seed, "fold": 0, "subset": "test",
...             "window_id": np.arange(120), "label": label.astype(int),
...             "group": np.repeat([f"p{i}" for i in range(12)], 10), "kind": np.where(label, "pos", "near"),
...             "score": strength * label + gen.random(120) * (1 - strength), "threshold": 0.5}))
>>> intervals = bench_intervals(pd.concat(rows), metrics=["roc_auc"], n_resamples=200)
>>> print(intervals.summary[["model", "metric", "ci_method", "n_test_groups", "n_seeds"]].to_string(index=False))
model  metric ci_method  n_test_groups  n_seeds
   et roc_auc   cluster             12        2
prior roc_auc   cluster             12        2
>>> gain = intervals.gains(["prior"], ["roc_auc"]).iloc[0]
>>> gain["baseline"], bool(gain["ci_low"] > 0)
('prior', True)
>>> intervals.covers
'new groups drawn like the 12 test groups, and seeds'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hardneg._schema import SCORE_KEY_COLUMNS, check_columns
from hardneg._validation import Options, validate_value
from hardneg.errors import InputError
from hardneg.stats._bootstrap import BOOTSTRAP_SEED, CONFIDENCE, N_BOOTSTRAP, N_RESAMPLES
from hardneg.stats._cluster import MIN_GROUPS, GroupResampler, Resampled
from hardneg.stats._summary import baseline_gains_checked, check_results, compare_splits_checked, summarize_checked

__all__ = [
    "CI_METHODS",
    "INTERVAL_METRICS",
    "SUMMARY_COLUMNS",
    "BenchIntervals",
    "SeedMatrix",
    "bench_intervals",
    "seed_matrix",
]

#: ``cluster``: resample the test groups, and seeds (the default); ``seeds``: the mean over seeds x folds only
CI_METHODS = ("cluster", "seeds")
#: ``summary.parquet``: one interval per (model, features, split, subset, metric)
SUMMARY_COLUMNS = (
    "model",
    "features",
    "split",
    "subset",
    "metric",
    "mean",
    "ci_low",
    "ci_high",
    "ci_method",
    "n_test_groups",
    "n_seeds",
)
#: The bench metrics with a cluster interval: name -> (metric on the draws, threshold: "val", a number or None).
INTERVAL_METRICS = {
    "average_precision": ("average_precision", None),
    "roc_auc": ("roc_auc", None),
    "f1_at_val_threshold": ("f1", "val"),
    "precision_at_val_threshold": ("precision", "val"),
    "recall_at_val_threshold": ("recall", "val"),
    "fpr_at_val_threshold": ("fpr", "val"),
    "balanced_accuracy": ("balanced_accuracy", 0.5),
    "ece": ("ece", None),
    "brier": ("brier", None),
}
_COMBO = ["split", "model", "features"]
_GAIN_COLUMNS = [*_COMBO, "metric", "baseline", "baseline_mean", "mean", "gain", "ci_low", "ci_high", "n", "paired"]
_COMPARE_COLUMNS = ["model", "features", "metric", "split", "reference", "mean", "reference_mean", "delta"]
_COMPARE_COLUMNS += ["ci_low", "ci_high"]


@dataclass
class BenchIntervals:
    """Every interval of a bench run, and the paired differences drawn from the same resamples.

    Attributes
    ----------
    summary : DataFrame
        :data:`SUMMARY_COLUMNS`, one row per (model, features, split, subset, metric).
    ci_method : str
    covers : str
        What the intervals cover, in words, for the report's header.
    warnings : list of str
        Why the intervals may be unreliable (fewer than 5 test groups), once per run.
    confidence : float
    n_resamples : int
    """

    summary: pd.DataFrame
    ci_method: str
    covers: str
    warnings: list[str]
    confidence: float
    n_resamples: int
    _resampler: GroupResampler | None = None
    _found: dict = field(default_factory=dict)
    _results: pd.DataFrame | None = None
    _seed: int = BOOTSTRAP_SEED

    def gains(self, baselines: Sequence[str], metrics: Sequence[str]) -> pd.DataFrame:
        """Each model's mean minus the best baseline of its split (highest mean), with a paired interval."""
        if self.ci_method == "seeds":
            return baseline_gains_checked(
                self._results, "test", list(metrics), list(baselines), self.confidence, self.n_resamples, self._seed
            )
        summary = self.summary[self.summary["metric"].isin(list(metrics))]
        rows = []
        for (split, metric), here in summary.groupby(["split", "metric"], sort=True):
            base = here[here["model"].isin(list(baselines)) & np.isfinite(here["mean"].to_numpy())]
            if base.empty:
                continue
            # A dummy model ignores the features: its best feature set stands for it; ties go to the first name.
            base = base.sort_values(["mean", "model", "features"], ascending=[False, True, True], kind="mergesort")
            name, base_features, base_mean = base.iloc[0][["model", "features", "mean"]]
            for row in here[~here["model"].isin(list(baselines))].itertuples(index=False):
                a = self._found[(split, row.model, row.features, metric)]
                b = self._found[(split, name, base_features, metric)]
                found = self._resampler.difference(a, b, confidence=self.confidence)
                rows.append(
                    [split, row.model, row.features, metric, name, float(base_mean), float(row.mean), found.value]
                    + [found.low, found.high, int(row.n_test_groups), True]
                )
        return pd.DataFrame(rows, columns=_GAIN_COLUMNS)

    def compare(self, reference: str, metrics: Sequence[str]) -> pd.DataFrame:
        """Each split's mean minus ``reference``'s for the same model and features, paired by group and seed."""
        if self.ci_method == "seeds":
            return compare_splits_checked(
                self._results, reference, "test", list(metrics), self.confidence, self.n_resamples, self._seed
            )
        rows = []
        for (split, model, features, metric), a in sorted(self._found.items()):
            b = self._found.get((reference, model, features, metric))
            if metric not in metrics or split == reference or b is None:
                continue
            found = self._resampler.difference(a, b, confidence=self.confidence)
            rows.append(
                [model, features, metric, split, reference, a.value, b.value, found.value, found.low, found.high]
            )
        return pd.DataFrame(rows, columns=_COMPARE_COLUMNS)


def _check_scores(scores) -> pd.DataFrame:
    if not isinstance(scores, pd.DataFrame):
        raise InputError(f"scores must be a pandas DataFrame, got {type(scores).__name__}", parameter="scores")
    check_columns(scores, SCORE_KEY_COLUMNS, "scores", hint="scores.parquet")
    return scores


def bench_intervals(
    scores: pd.DataFrame | None,
    results: pd.DataFrame | None = None,
    *,
    subset: str = "test",
    metrics: Sequence[str] = tuple(INTERVAL_METRICS),
    ci_method: str = "cluster",
    n_resamples: int | None = None,
    confidence: float = CONFIDENCE,
    seed: int = BOOTSTRAP_SEED,
) -> BenchIntervals:
    """The interval of every (model, features, split) and metric of a bench run.

    Parameters
    ----------
    scores : DataFrame
        ``scores.parquet``: model, features, split, seed, fold, subset, window_id, label, group, score, and
        ``threshold`` (each fold's validation-chosen threshold) for the ``*_at_val_threshold`` metrics.
    results : DataFrame, optional
        ``results.parquet``; required by ``ci_method="seeds"``, which summarises its per-(seed, fold) values.
    subset : str
        The subset to summarise.
    metrics : sequence of str
        Keys of :data:`INTERVAL_METRICS`.
    ci_method : {"cluster", "seeds"}
    n_resamples : int, optional
        Group draws (1,000 by default) or, for ``seeds``, bootstrap resamples of the mean (2,000).
    confidence : float
    seed : int
        Seeds the draws: the same inputs give the same intervals.

    Returns
    -------
    BenchIntervals
    """
    validate_value("ci_method", ci_method, [Options(CI_METHODS)])
    unknown = [metric for metric in metrics if metric not in INTERVAL_METRICS]
    if unknown:
        raise InputError(f"metrics: {unknown[0]!r} has no interval; choose from {', '.join(INTERVAL_METRICS)}")
    if scores is None:
        if ci_method == "cluster":
            raise InputError("scores must be given for ci_method='cluster' (it resamples groups)", parameter="scores")
        scores = pd.DataFrame(columns=list(SCORE_KEY_COLUMNS))
    scores = _check_scores(scores)
    tested = scores[scores["subset"] == subset]
    if tested.empty and ci_method == "cluster":
        raise InputError(f"scores: no rows with subset {subset!r}; nothing to summarise", parameter="scores")
    n_groups = int(tested["group"].nunique())
    warnings = []
    if 0 < n_groups < MIN_GROUPS:
        warnings.append(
            f"The test sets hold {n_groups} group{'s' if n_groups != 1 else ''} in all, fewer than {MIN_GROUPS}: "
            "an interval over so few groups is unreliable, whatever its width."
        )
    if ci_method == "seeds":
        if results is None:
            raise InputError("results must be given for ci_method='seeds'", parameter="results")
        n_resamples = N_RESAMPLES if n_resamples is None else n_resamples
        return _seed_intervals(tested, check_results(results), subset, metrics, confidence, n_resamples, seed, warnings)
    n_resamples = N_BOOTSTRAP if n_resamples is None else n_resamples
    resampler = GroupResampler(tested["group"].astype(str).to_numpy(), n_resamples=n_resamples, seed=seed)
    found: dict[tuple, Resampled] = {}
    rows = []
    for (split, model, features), combo in tested.groupby(_COMBO, sort=True):
        pivot = seed_matrix(combo)
        y, matrix, thresholds, groups = pivot.y, pivot.scores, pivot.thresholds, pivot.groups
        for metric in metrics:
            kernel, threshold = INTERVAL_METRICS[metric]
            if threshold == "val":
                if thresholds is None:
                    continue  # scores without thresholds (an older scores.parquet): no metric at threshold
                limits = thresholds
            else:
                limits = threshold
            result = resampler.evaluate(y, matrix, groups, metric=kernel, thresholds=limits)
            found[(split, model, features, metric)] = result
            interval = resampler.interval(result, confidence=confidence)
            rows.append(
                [model, features, split, subset, metric, interval.value, interval.low, interval.high, "cluster"]
                + [result.n_groups, result.n_seeds]
            )
    summary = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
    covers = f"new groups drawn like the {n_groups} test groups" + (
        ", and seeds" if int(tested["seed"].nunique()) > 1 else ""
    )
    return BenchIntervals(summary, "cluster", covers, warnings, confidence, n_resamples, resampler, found, None, seed)


@dataclass(frozen=True)
class SeedMatrix:
    """One combination's test scores as one row per seed and one column per window any seed tested.

    Attributes
    ----------
    window_id : ndarray (n_windows,)
    y : ndarray of int (n_windows,)
    groups : ndarray of str (n_windows,)
    kinds : ndarray of str or None
        The ``kind`` column where the table has one.
    seeds : ndarray (n_seeds,)
    scores : ndarray (n_seeds, n_windows)
        NaN where the seed did not test the window.
    thresholds : ndarray (n_seeds, n_windows) or None
        Each tested window's fold threshold; None where the table has none for some window.
    """

    window_id: np.ndarray
    y: np.ndarray
    groups: np.ndarray
    kinds: np.ndarray | None
    seeds: np.ndarray
    scores: np.ndarray
    thresholds: np.ndarray | None


def seed_matrix(rows: pd.DataFrame) -> SeedMatrix:
    """Pivot one combination's rows of ``scores.parquet`` (one subset) into a :class:`SeedMatrix`.

    A window scored in several folds of one seed (repeated splits) gets the mean of its scores and thresholds.

    Examples
    --------
    >>> rows = pd.DataFrame({"seed": [0, 0, 1], "window_id": [4, 7, 7], "label": [1, 0, 0], "group": "p1",
    ...                      "score": [0.9, 0.2, 0.4], "threshold": 0.5})
    >>> found = seed_matrix(rows)
    >>> found.window_id.tolist(), found.scores.tolist()
    ([4, 7], [[0.9, 0.2], [nan, 0.4]])
    """
    if rows.duplicated(["seed", "window_id"]).any():
        first = rows.drop_duplicates(["seed", "window_id"]).set_index(["seed", "window_id"])
        columns = ["score", "threshold"] if "threshold" in rows else ["score"]
        means = rows.groupby(["seed", "window_id"], sort=True)[columns].mean()
        rows = first.drop(columns=means.columns).join(means).reset_index()
    seeds = np.unique(rows["seed"].to_numpy())
    windows, where = np.unique(rows["window_id"].to_numpy(), return_index=True)
    at = (np.searchsorted(seeds, rows["seed"].to_numpy()), np.searchsorted(windows, rows["window_id"].to_numpy()))
    matrix = np.full((len(seeds), len(windows)), np.nan)
    matrix[at] = rows["score"].to_numpy(dtype=np.float64)
    thresholds = None
    if "threshold" in rows.columns and np.isfinite(rows["threshold"].to_numpy(dtype=np.float64)).all():
        thresholds = np.full(matrix.shape, np.nan)
        thresholds[at] = rows["threshold"].to_numpy(dtype=np.float64)
    kinds = rows["kind"].astype(str).to_numpy()[where] if "kind" in rows.columns else None
    return SeedMatrix(
        window_id=windows,
        y=rows["label"].to_numpy()[where].astype(np.int64),
        groups=rows["group"].astype(str).to_numpy()[where],
        kinds=kinds,
        seeds=seeds,
        scores=matrix,
        thresholds=thresholds,
    )


def _seed_intervals(tested, results, subset, metrics, confidence, n_resamples, seed, warnings) -> BenchIntervals:
    present = [metric for metric in metrics if metric in set(results["metric"])]
    summary = summarize_checked(results, subset, present, confidence, n_resamples, seed)
    groups = tested.groupby(_COMBO)["group"].nunique()
    seeds = results.groupby(_COMBO)["seed"].nunique()
    keys = [tuple(key) for key in summary[_COMBO].itertuples(index=False)]
    summary = summary.assign(
        subset=subset,
        ci_method="seeds",
        n_test_groups=[int(groups.get(key, 0)) for key in keys],
        n_seeds=[int(seeds.get(key, 0)) for key in keys],
    )[list(SUMMARY_COLUMNS)]
    covers = "seeds x folds only (the mean over seeds and folds, bootstrapped): not new groups"
    return BenchIntervals(summary, "seeds", covers, warnings, confidence, n_resamples, None, {}, results, seed)
