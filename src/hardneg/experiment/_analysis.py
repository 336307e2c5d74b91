"""From finished runs to tables: results, per-arm summaries, paired comparisons, factor effects, criteria.

- **summary**: per arm, evaluation set and metric, the mean over seeds, the
  standard deviation over seeds and a cluster-bootstrap interval (the test
  groups drawn with replacement, every seed evaluated on each draw): it covers
  new groups drawn like the test groups, and seeds;
- **comparisons**: each arm against its baseline arm (the one differing only on
  the axes the baseline fixes), **paired by seed id**: the mean of the per-seed
  deltas, a hierarchical bootstrap interval (test groups and seeds drawn),
  the two-sided Wilcoxon signed-rank p (SciPy, exact for small n), Holm-adjusted
  over every comparison of one metric on one evaluation set, a label
  (:func:`hardneg.stats.label_comparison`) and, where not significant, the seeds
  an effect of the observed size needs at 80 % power;
- **factors**: per axis, the mean paired delta of each level against the
  axis's reference level (the baseline's, else its first), over every pair of
  arms that differ only on that axis;
- **criteria**: each criterion on each arm's mean over seeds.

A failed run leaves a hole: seeds are paired only where both arms finished,
and the tables say how many pairs they rest on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hardneg._schema import (
    ARM_SUMMARY_COLUMNS,
    COMPARISON_COLUMNS,
    CRITERIA_COLUMNS,
    EXPERIMENT_RESULT_COLUMNS,
    FACTOR_COLUMNS,
)
from hardneg.dataset import Dataset
from hardneg.experiment._config import Experiment

__all__ = ["EvalData", "analyse", "results_table"]

#: what the label of a comparison means, as the report states it
LABEL_RULE = (
    "significant: the Holm-adjusted Wilcoxon p is below {alpha} and the interval excludes 0; directional: the "
    "interval excludes 0 but the test does not reach the level (too few seeds, or the correction); no effect: the "
    "interval holds 0"
)
HOLM_FAMILY = "Holm's correction runs over every comparison of one metric on one evaluation set"
THRESHOLD_METRICS = ("f1", "precision", "recall", "fpr")


@dataclass
class EvalData:
    """One evaluation set's windows and every finished run's scores on them."""

    labels: np.ndarray
    groups: np.ndarray
    #: arm -> (seed ids, scores (n_seeds, n_windows) NaN where not tested, thresholds (n_seeds,))
    runs: dict


def results_table(experiment: Experiment, metrics: dict) -> pd.DataFrame:
    """``results.parquet``: one row per finished run, evaluation set and metric; one column per axis.

    ``metrics`` maps ``(arm, seed)`` to the run's ``metrics.json``.
    """
    axes = list(experiment.axes)
    rows = []
    for arm in experiment.arms:
        for seed in experiment.seeds:
            found = metrics.get((arm.name, seed))
            if found is None:
                continue
            for item in experiment.eval_sets:
                values = found["eval"].get(item.name, {})
                for metric in item.metrics:
                    rows.append((arm.name, *(arm.levels[axis] for axis in axes), seed, item.name, metric,
                                 float(values.get(metric, math.nan))))  # fmt: skip
    columns = ["arm", *axes, *EXPERIMENT_RESULT_COLUMNS[1:]]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.astype({"seed": "int64", "value": "float64"})


def load_eval_data(experiment: Experiment, metrics: dict, predictions: dict) -> dict[str, EvalData]:
    """Labels, groups and per-arm score matrices of every evaluation set.

    ``predictions`` maps ``(arm, seed, eval_set)`` to a ``window_id, score`` frame.
    """
    base = Dataset.load(experiment.dataset)
    data = {}
    for item in experiment.eval_sets:
        dataset = Dataset.load(item.dataset) if item.dataset is not None else base
        tested = [
            frame["window_id"].to_numpy() for (arm, seed, name), frame in predictions.items() if name == item.name
        ]
        ids = np.unique(np.concatenate(tested)) if tested else np.zeros(0, dtype=np.int64)
        index = dataset.index.set_index("window_id").loc[ids]
        runs = {}
        for arm in experiment.arms:
            seeds, rows, thresholds = [], [], []
            for seed in experiment.seeds:
                frame = predictions.get((arm.name, seed, item.name))
                if frame is None:
                    continue
                row = np.full(len(ids), np.nan)
                row[np.searchsorted(ids, frame["window_id"].to_numpy())] = frame["score"].to_numpy()
                seeds.append(seed)
                rows.append(row)
                thresholds.append(metrics[(arm.name, seed)]["threshold"])
            if seeds:
                runs[arm.name] = (seeds, np.vstack(rows), np.array(thresholds))
        data[item.name] = EvalData(
            index["label"].to_numpy().astype(np.int64), index["group"].astype(str).to_numpy(), runs
        )
    return data


def _per_seed(results: pd.DataFrame, arm: str, eval_set: str, metric: str) -> dict:
    rows = results[(results["arm"] == arm) & (results["eval_set"] == eval_set) & (results["metric"] == metric)]
    return dict(zip(rows["seed"].tolist(), rows["value"].tolist()))


def summary_table(experiment: Experiment, results: pd.DataFrame, data: dict[str, EvalData]) -> pd.DataFrame:
    from hardneg.stats import GroupResampler

    rows = []
    for item in experiment.eval_sets:
        found = data[item.name]
        resampler = GroupResampler(found.groups, n_resamples=experiment.n_resamples) if len(found.groups) else None
        for arm in experiment.arms:
            run = found.runs.get(arm.name)
            for metric in item.metrics:
                values = np.array([v for v in _per_seed(results, arm.name, item.name, metric).values()], dtype=float)
                defined = values[~np.isnan(values)]
                low = high = math.nan
                covers = ""
                if run is not None and resampler is not None and len(defined):
                    _, scores, thresholds = run
                    resampled = resampler.evaluate(
                        found.labels, scores, found.groups, metric=metric,
                        thresholds=thresholds[:, None] if metric in THRESHOLD_METRICS else None,
                    )  # fmt: skip
                    interval = resampler.interval(resampled)
                    low, high, covers = interval.low, interval.high, interval.covers
                rows.append((
                    arm.name, item.name, metric, len(defined),
                    float(defined.mean()) if len(defined) else math.nan,
                    float(defined.std(ddof=1)) if len(defined) > 1 else math.nan,
                    low, high, covers,
                ))  # fmt: skip
    return pd.DataFrame(rows, columns=list(ARM_SUMMARY_COLUMNS))


def comparisons_table(experiment: Experiment, results: pd.DataFrame, data: dict[str, EvalData]) -> pd.DataFrame:
    from hardneg.stats import compare_paired, hierarchical_paired_bootstrap, holm, label_comparison, seeds_needed

    rows = []
    for arm in experiment.arms:
        partner = experiment.partner(arm)
        if partner is None:
            continue
        for item in experiment.eval_sets:
            found = data[item.name]
            for metric in item.metrics:
                a = _per_seed(results, arm.name, item.name, metric)
                b = _per_seed(results, partner.name, item.name, metric)
                row = dict.fromkeys(COMPARISON_COLUMNS, math.nan)
                row.update(arm=arm.name, baseline=partner.name, eval_set=item.name, metric=metric, covers="",
                           n_pairs=0, unpaired=len(set(a) ^ set(b)), reachable=False, seeds_needed=None)  # fmt: skip
                shared = [seed for seed in a if seed in b and not (math.isnan(a[seed]) or math.isnan(b[seed]))]
                if shared:
                    paired = compare_paired(a, b, alpha=experiment.alpha)
                    row.update(n_pairs=paired.n_pairs, unpaired=paired.unpaired, mean_delta=paired.mean_delta,
                               wilcoxon_p=paired.wilcoxon_p, ttest_p=paired.ttest_p, reachable=paired.reachable)  # fmt: skip
                    run_a, run_b = found.runs.get(arm.name), found.runs.get(partner.name)
                    if run_a is not None and run_b is not None:
                        interval = hierarchical_paired_bootstrap(
                            found.labels, run_a[1], run_b[1], found.groups, seeds_a=run_a[0], seeds_b=run_b[0],
                            metric=metric,
                            thresholds_a=run_a[2] if metric in THRESHOLD_METRICS else None,
                            thresholds_b=run_b[2] if metric in THRESHOLD_METRICS else None,
                            n_resamples=experiment.n_resamples,
                        ).interval  # fmt: skip
                        row.update(ci_low=interval.low, ci_high=interval.high, covers=interval.covers)
                    row["paired_deltas"] = paired.deltas
                rows.append(row)
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=list(COMPARISON_COLUMNS))
    frame["p_holm"] = np.nan
    for _, family in frame.groupby(["eval_set", "metric"], sort=False):
        frame.loc[family.index, "p_holm"] = holm(family["wilcoxon_p"].to_numpy(dtype=float))
    labels, needed = [], []
    for row in frame.itertuples():
        label = label_comparison(row.p_holm, row.ci_low, row.ci_high, alpha=experiment.alpha)
        labels.append(label)
        deltas = row.paired_deltas if isinstance(row.paired_deltas, np.ndarray) else np.zeros(0)
        needed.append(seeds_needed(deltas, alpha=experiment.alpha) if label != "significant" else None)
    frame["label"] = labels
    frame["seeds_needed"] = pd.array(needed, dtype="Int64")
    frame = frame[list(COMPARISON_COLUMNS)]
    return frame.astype({"n_pairs": "int64", "unpaired": "int64", "reachable": "bool"})


def factors_table(experiment: Experiment, results: pd.DataFrame) -> pd.DataFrame:
    """The mean paired delta of each axis level against the axis's reference level."""
    from hardneg.experiment._config import arm_name

    names = {arm.name for arm in experiment.arms}
    rows = []
    for axis, levels in experiment.axes.items():
        reference = experiment.baseline.get(axis, next(iter(levels)))
        for level in levels:
            if level == reference:
                continue
            for item in experiment.eval_sets:
                for metric in item.metrics:
                    deltas, n_arms = [], 0
                    for arm in experiment.arms:
                        if arm.levels[axis] != level:
                            continue
                        other = arm_name({**arm.levels, axis: reference}, experiment.axes)
                        if other not in names:
                            continue
                        a = _per_seed(results, arm.name, item.name, metric)
                        b = _per_seed(results, other, item.name, metric)
                        pairs = [a[s] - b[s] for s in sorted(set(a) & set(b)) if not math.isnan(a[s] - b[s])]
                        if pairs:
                            n_arms += 1
                            deltas += pairs
                    if deltas:
                        values = np.array(deltas)
                        rows.append((axis, level, reference, item.name, metric, n_arms, len(values),
                                     float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else math.nan))  # fmt: skip
    return pd.DataFrame(rows, columns=list(FACTOR_COLUMNS))


def criteria_table(experiment: Experiment, results: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for arm in experiment.arms:
        for criterion in experiment.criteria:
            values = _per_seed(results, arm.name, criterion.eval_set, criterion.metric)
            defined = [value for value in values.values() if not math.isnan(value)]
            found = summary[(summary["arm"] == arm.name) & (summary["eval_set"] == criterion.eval_set)
                            & (summary["metric"] == criterion.metric)]  # fmt: skip
            mean = float(np.mean(defined)) if defined else math.nan
            low = float(found["ci_low"].iloc[0]) if len(found) else math.nan
            high = float(found["ci_high"].iloc[0]) if len(found) else math.nan
            rows.append((arm.name, criterion.text, criterion.eval_set, criterion.metric, criterion.op,
                         criterion.target, mean, low, high, criterion.holds(mean) if defined else None,
                         sum(criterion.holds(value) for value in defined), len(defined)))  # fmt: skip
    frame = pd.DataFrame(rows, columns=list(CRITERIA_COLUMNS))
    frame["passed"] = frame["passed"].astype("boolean")
    return frame


def analyse(experiment: Experiment, metrics: dict, predictions: dict) -> dict[str, pd.DataFrame]:
    """Every table of the experiment from its finished runs (see the module docstring)."""
    results = results_table(experiment, metrics)
    data = load_eval_data(experiment, metrics, predictions)
    summary = summary_table(experiment, results, data)
    return {
        "results": results,
        "summary": summary,
        "comparisons": comparisons_table(experiment, results, data),
        "factors": factors_table(experiment, results),
        "criteria": criteria_table(experiment, results, summary),
    }
