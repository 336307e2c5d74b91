"""The experiment's tables from constructed runs, against SciPy, scikit-learn and hand computations.

The runs are written by hand (scores per window, a threshold, the metrics of :func:`run_metrics`), on the
session's dataset; the seeds are listed out of order (``[3, 0, 4, 1, 2]``) and one run is missing, so pairing
by row order would pair the wrong seeds.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ttest_rel, wilcoxon
from sklearn.metrics import f1_score

from hardneg.dataset import Dataset
from hardneg.experiment import load_experiment, run_metrics
from hardneg.experiment._analysis import analyse
from hardneg.stats import hierarchical_paired_bootstrap, seeds_needed
from tests.experiment.conftest import write_experiment

SEEDS = [3, 0, 4, 1, 2]
ARMS = ["a+small", "a+big", "b+small", "b+big", "c+small", "c+big"]
MISSING = ("b+small", 4)
EFFECT = {"a": 0.0, "b": 0.25, "c": -0.1, "small": 0.0, "big": 0.1}
THRESHOLD_METRICS = ("f1", "precision", "recall", "fpr")


@pytest.fixture(scope="module")
def constructed(world, tmp_path_factory):
    import os

    folder = tmp_path_factory.mktemp("analysis")
    os.symlink(world.dataset, folder / "shots")
    path = write_experiment(folder, """\
dataset: shots
seeds: [3, 0, 4, 1, 2]
model: logreg
n_resamples: 200
baseline: {variant: a}
arms:
  variant:
    a: {}
    b: {fraction: 0.5}
    c: {fraction: 0.8}
  size:
    small: {}
    big: {neg_mult: 3}
eval:
  iid: {split: group}
  ood: {groups: [shooter_d]}
criteria: ["iid.recall >= 0.75", "iid.roc_auc > 0.92", "ood.f1 > 0.7"]
""")  # fmt: skip
    experiment = load_experiment(path)
    index = Dataset.load(world.dataset).index
    labels = index["label"].to_numpy()
    groups = index["group"].astype(str).to_numpy()
    others = sorted(set(groups) - {"shooter_d"})
    gen = np.random.default_rng(11)
    seed_effect = {seed: gen.normal(0, 0.25) for seed in SEEDS}  # seeds differ a lot: pairing matters
    tested = {}  # seed -> iid window ids: two of the three other groups, drawn per seed, the same in every arm
    for seed in SEEDS:
        chosen = gen.choice(others, size=2, replace=False)
        tested[seed] = np.flatnonzero(np.isin(groups, chosen))
    ood = np.flatnonzero(groups == "shooter_d")
    metrics, predictions = {}, {}
    for arm in ARMS:
        variant, size = arm.split("+")
        for seed in SEEDS:
            if (arm, seed) == MISSING:
                continue
            threshold = float(np.round(gen.uniform(0.45, 0.6), 3))
            run = {"threshold": threshold, "eval": {}}
            for name, ids in (("iid", tested[seed]), ("ood", ood)):
                noise = gen.random(len(ids))
                lift = 0.35 + EFFECT[variant] + EFFECT[size] + seed_effect[seed]
                score = np.clip(0.6 * noise + lift * labels[ids] + 0.1 * seed_effect[seed], 0, 1)
                run["eval"][name] = run_metrics(labels[ids], score, threshold)
                predictions[(arm, seed, name)] = pd.DataFrame({"window_id": ids, "score": score})
            metrics[(arm, seed)] = run
    tables = analyse(experiment, metrics, predictions)
    return experiment, metrics, predictions, tables, labels, groups


def _values(metrics, arm, eval_set, metric) -> dict:
    return {seed: metrics[(a, seed)]["eval"][eval_set][metric] for (a, seed) in metrics if a == arm}


def test_results_hold_every_finished_run_and_its_levels(constructed):
    experiment, metrics, _, tables, *_ = constructed
    results = tables["results"]
    assert list(results.columns) == ["arm", "variant", "size", "seed", "eval_set", "metric", "value"]
    assert len(results) == (len(ARMS) * len(SEEDS) - 1) * 2 * len(experiment.eval_sets[0].metrics)
    for row in results.itertuples():
        assert row.arm == f"{row.variant}+{row.size}"
        expected = metrics[(row.arm, row.seed)]["eval"][row.eval_set][row.metric]
        assert row.value == expected or (math.isnan(row.value) and math.isnan(expected))
    assert MISSING[1] not in set(results.loc[results["arm"] == MISSING[0], "seed"])


def test_comparisons_pair_by_seed_id_and_match_scipy(constructed):
    _experiment, metrics, _, tables, *_ = constructed
    comparisons = tables["comparisons"]
    assert set(zip(comparisons["arm"], comparisons["baseline"])) == {
        ("b+small", "a+small"), ("b+big", "a+big"), ("c+small", "a+small"), ("c+big", "a+big"),
    }  # fmt: skip
    checked = 0
    for row in comparisons.itertuples():
        a = _values(metrics, row.arm, row.eval_set, row.metric)
        b = _values(metrics, row.baseline, row.eval_set, row.metric)
        shared = sorted(s for s in set(a) & set(b) if not (math.isnan(a[s]) or math.isnan(b[s])))
        assert row.n_pairs == len(shared)
        if not shared:
            continue
        x, y = np.array([a[s] for s in shared]), np.array([b[s] for s in shared])
        deltas = x - y
        assert row.mean_delta == pytest.approx(deltas.mean(), abs=1e-15)
        expected = 1.0 if np.all(deltas == 0) else wilcoxon(deltas).pvalue
        assert row.wilcoxon_p == pytest.approx(expected, rel=1e-12)
        if len(shared) > 1 and np.std(deltas) > 0:
            assert row.ttest_p == pytest.approx(ttest_rel(x, y).pvalue, rel=1e-9)
            checked += 1
    assert checked >= 20
    missing = comparisons[(comparisons["arm"] == "b+small") & comparisons["metric"].isin(["f1", "roc_auc"])]
    assert (missing["n_pairs"] == 4).all() and (missing["unpaired"] == 1).all()


def test_pairing_by_row_order_would_give_other_p_values(constructed):
    """A tracker zipping the rows (each arm in its own row order) pairs other seeds: the p-values differ."""
    _, metrics, _, tables, *_ = constructed
    results = tables["results"]
    row = tables["comparisons"].query("arm == 'b+small' and eval_set == 'iid' and metric == 'roc_auc'").iloc[0]
    a = results.query("arm == 'b+small' and eval_set == 'iid' and metric == 'roc_auc'")["value"].to_numpy()
    b = results.query("arm == 'a+small' and eval_set == 'iid' and metric == 'roc_auc'")["value"].to_numpy()
    assert len(a) == 4 and len(b) == 5  # seed 4 of b+small is missing
    by_rows = wilcoxon(a - b[: len(a)]).pvalue
    assert by_rows != pytest.approx(row.wilcoxon_p)
    # a complete pair, one side listed by seed id (as a tracker sorting its runs would), the other as run
    row = tables["comparisons"].query("arm == 'c+big' and eval_set == 'iid' and metric == 'roc_auc'").iloc[0]
    c = _values(metrics, "c+big", "iid", "roc_auc")
    base = _values(metrics, "a+big", "iid", "roc_auc")
    listed = np.array([c[s] for s in SEEDS]) - np.array([base[s] for s in sorted(SEEDS)])
    assert ttest_rel(np.array([c[s] for s in SEEDS]), np.array([base[s] for s in sorted(SEEDS)])).pvalue != (
        pytest.approx(row.ttest_p)
    )
    assert listed.mean() == pytest.approx(row.mean_delta)  # the mean alone cannot tell
    paired = np.array([c[s] - base[s] for s in SEEDS])
    assert wilcoxon(paired).pvalue == pytest.approx(row.wilcoxon_p)


def _matrices(predictions, labels, groups, arm, eval_set, metrics):
    ids = np.unique(
        np.concatenate([f["window_id"].to_numpy() for (a, s, n), f in predictions.items() if n == eval_set])
    )
    seeds, rows, thresholds = [], [], []
    for seed in SEEDS:
        frame = predictions.get((arm, seed, eval_set))
        if frame is None:
            continue
        row = np.full(len(ids), np.nan)
        row[np.searchsorted(ids, frame["window_id"].to_numpy())] = frame["score"].to_numpy()
        seeds.append(seed)
        rows.append(row)
        thresholds.append(metrics[(arm, seed)]["threshold"])
    return labels[ids], groups[ids], np.array(seeds), np.vstack(rows), np.array(thresholds)


def test_intervals_equal_the_hierarchical_bootstrap_called_directly(constructed):
    _, metrics, predictions, tables, labels, groups = constructed
    for row in tables["comparisons"].itertuples():
        if row.n_pairs == 0:
            continue
        y, g, seeds_a, a, ta = _matrices(predictions, labels, groups, row.arm, row.eval_set, metrics)
        _, _, seeds_b, b, tb = _matrices(predictions, labels, groups, row.baseline, row.eval_set, metrics)
        thr = row.metric in THRESHOLD_METRICS
        found = hierarchical_paired_bootstrap(
            y, a, b, g, seeds_a=seeds_a, seeds_b=seeds_b, metric=row.metric,
            thresholds_a=ta if thr else None, thresholds_b=tb if thr else None, n_resamples=200,
        ).interval  # fmt: skip
        assert (row.ci_low, row.ci_high) == pytest.approx((found.low, found.high), nan_ok=True), row


def test_f1_interval_matches_a_plain_loop_with_scikit_learn(constructed):
    _, metrics, predictions, tables, labels, groups = constructed
    row = tables["comparisons"].query("arm == 'b+small' and eval_set == 'iid' and metric == 'f1'").iloc[0]
    y, g, seeds_a, a, ta = _matrices(predictions, labels, groups, "b+small", "iid", metrics)
    _, _, seeds_b, b, tb = _matrices(predictions, labels, groups, "a+small", "iid", metrics)
    found = hierarchical_paired_bootstrap(y, a, b, g, seeds_a=seeds_a, seeds_b=seeds_b, metric="f1",
                                          thresholds_a=ta, thresholds_b=tb, n_resamples=200)  # fmt: skip
    assert found.seeds == [0, 1, 2, 3]
    by_group = {name: np.flatnonzero(g == name) for name in found.groups}
    statistics = np.full(200, np.nan)
    for draw in range(200):
        index = np.concatenate(
            [np.repeat(by_group[name], int(m)) for name, m in zip(found.groups, found.group_draws[draw])]
        )
        total = weight = 0.0
        for column, seed in enumerate(found.seeds):
            sides = []
            for scores, seeds, thresholds in ((a, seeds_a, ta), (b, seeds_b, tb)):
                r = list(seeds).index(seed)
                score = scores[r, index]
                tested = ~np.isnan(score)
                yy = y[index][tested]
                if len(np.unique(yy)) < 2:
                    sides.append(math.nan)
                    continue
                sides.append(f1_score(yy, (score[tested] >= thresholds[r]).astype(int), zero_division=np.nan))
            delta = sides[0] - sides[1]
            if not math.isnan(delta):
                total += found.seed_draws[draw, column] * delta
                weight += found.seed_draws[draw, column]
        if weight > 0:
            statistics[draw] = total / weight
    np.testing.assert_allclose(statistics, found.statistics, rtol=1e-12, atol=1e-12, equal_nan=True)
    defined = statistics[np.isfinite(statistics)]
    low, high = np.percentile(defined, [2.5, 97.5])
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((low, high), rel=1e-12)
    # the point estimate is the mean per-seed difference of the results
    assert found.interval.value == pytest.approx(row["mean_delta"], rel=1e-12)


def _holm(pvalues):
    """Holm's step-down by hand: sort, multiply the i-th smallest by (m - i), running maximum, cap at 1."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full(len(p), np.nan)
    kept = [i for i in range(len(p)) if not math.isnan(p[i])]
    order = sorted(kept, key=lambda i: p[i])
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(kept) - rank) * p[i]))
        out[i] = running
    return out


def test_holm_runs_over_each_eval_set_and_metric(constructed):
    comparisons = constructed[3]["comparisons"]
    families = 0
    for _, family in comparisons.groupby(["eval_set", "metric"]):
        assert len(family) == 4
        np.testing.assert_allclose(family["p_holm"], _holm(family["wilcoxon_p"]), rtol=1e-12, equal_nan=True)
        families += 1
    assert families == 2 * len(constructed[0].eval_sets[0].metrics)
    assert (comparisons["p_holm"].dropna() >= comparisons.loc[comparisons["p_holm"].notna(), "wilcoxon_p"]).all()


def test_labels_follow_the_stated_rule(constructed):
    _, metrics, _, tables, *_ = constructed
    comparisons = tables["comparisons"]
    advised = 0
    for row in comparisons.itertuples():
        excludes = not (math.isnan(row.ci_low) or math.isnan(row.ci_high)) and (row.ci_low > 0 or row.ci_high < 0)
        if row.label == "significant":
            assert row.p_holm < 0.05 and excludes
        elif row.label == "directional":
            assert excludes and not row.p_holm < 0.05
        else:
            assert row.label == "no effect" and not excludes
        if row.label == "significant":
            assert pd.isna(row.seeds_needed)
        else:  # the seeds an effect of this size needs, from the deltas paired by seed id
            a = _values(metrics, row.arm, row.eval_set, row.metric)
            b = _values(metrics, row.baseline, row.eval_set, row.metric)
            deltas = [a[s] - b[s] for s in sorted(set(a) & set(b))]
            expected = seeds_needed(deltas)
            assert (pd.isna(row.seeds_needed) and expected is None) or row.seeds_needed == expected, row
            advised += expected is not None
    assert advised >= 10
    assert set(comparisons["label"]) >= {"directional", "no effect"}


def test_factors_equal_hand_computed_mean_deltas(constructed):
    _, metrics, _, tables, *_ = constructed
    factors = tables["factors"]
    plan = {
        ("variant", "b"): [("b+small", "a+small"), ("b+big", "a+big")],
        ("variant", "c"): [("c+small", "a+small"), ("c+big", "a+big")],
        ("size", "big"): [("a+big", "a+small"), ("b+big", "b+small"), ("c+big", "c+small")],
    }
    assert set(zip(factors["axis"], factors["level"])) == set(plan)
    assert set(factors.loc[factors["axis"] == "size", "reference"]) == {"small"}
    for (axis, level), pairs in plan.items():
        for metric in ("f1", "roc_auc", "recall"):
            for eval_set in ("iid", "ood"):
                deltas = []
                for arm, other in pairs:
                    a, b = _values(metrics, arm, eval_set, metric), _values(metrics, other, eval_set, metric)
                    deltas += [a[s] - b[s] for s in sorted(set(a) & set(b)) if not math.isnan(a[s] - b[s])]
                row = factors[
                    (factors["axis"] == axis) & (factors["level"] == level)
                    & (factors["eval_set"] == eval_set) & (factors["metric"] == metric)
                ]  # fmt: skip
                assert row["n_pairs"].item() == len(deltas) and row["n_arms"].item() == len(pairs)
                assert row["mean_delta"].item() == pytest.approx(np.mean(deltas), abs=1e-14)
                assert row["sd_delta"].item() == pytest.approx(np.std(deltas, ddof=1), abs=1e-14)
    size = factors.query("axis == 'size' and eval_set == 'iid' and metric == 'f1'")
    assert size["n_pairs"].item() == 14  # b+small lacks seed 4


def test_criteria_pass_and_seeds_passed_by_hand(constructed):
    _experiment, metrics, _, tables, *_ = constructed
    criteria = tables["criteria"]
    assert len(criteria) == len(ARMS) * 3
    checks = {"iid.recall >= 0.75": lambda v: v >= 0.75, "iid.roc_auc > 0.92": lambda v: v > 0.92,
              "ood.f1 > 0.7": lambda v: v > 0.7}  # fmt: skip
    outcomes = set()
    for row in criteria.itertuples():
        eval_set, rest = row.criterion.split(".", 1)
        metric = rest.split()[0]
        values = [v for v in _values(metrics, row.arm, eval_set, metric).values() if not math.isnan(v)]
        assert row.value == pytest.approx(np.mean(values))
        assert bool(row.passed) == checks[row.criterion](np.mean(values))
        assert row.seeds_passed == sum(checks[row.criterion](v) for v in values)
        assert row.n_seeds == len(values)
        outcomes.add(bool(row.passed))
    assert outcomes == {True, False}


def test_mean_delta_is_the_mean_of_per_seed_differences_of_results(constructed):
    tables = constructed[3]
    results = tables["results"]
    for row in tables["comparisons"].itertuples():
        a = results.query("arm == @row.arm and eval_set == @row.eval_set and metric == @row.metric")
        b = results.query("arm == @row.baseline and eval_set == @row.eval_set and metric == @row.metric")
        merged = a.merge(b, on="seed").dropna(subset=["value_x", "value_y"])
        if len(merged):
            assert row.mean_delta == pytest.approx((merged["value_x"] - merged["value_y"]).mean(), abs=1e-15)


def test_summary_mean_and_sd_equal_pandas_groupby(constructed):
    tables = constructed[3]
    grouped = tables["results"].dropna(subset=["value"]).groupby(["arm", "eval_set", "metric"])["value"]
    expected = pd.DataFrame({"mean": grouped.mean(), "sd": grouped.std(ddof=1), "n": grouped.size()})
    summary = tables["summary"].set_index(["arm", "eval_set", "metric"])
    joined = summary.join(expected.add_suffix("_expected"), how="inner")
    assert len(joined) == len(expected)
    np.testing.assert_allclose(joined["mean"], joined["mean_expected"], rtol=1e-12)
    np.testing.assert_allclose(joined["sd"], joined["sd_expected"], rtol=1e-12, equal_nan=True)
    assert (joined["ci_low"] <= joined["ci_high"]).all()
