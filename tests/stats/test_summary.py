"""Bootstrap summaries, baseline gains and split comparisons against NumPy and SciPy directly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tests.report.bench_synth import make_results
from scipy import stats

from hardneg.errors import InputError
from hardneg.report import split_trust
from hardneg.stats import (
    baseline_gains,
    best_baselines,
    bootstrap_ci,
    compare_splits,
    difference_ci,
    summarize_results,
)


def scipy_ci(values, n_resamples=2000, seed=0):
    result = stats.bootstrap(
        (np.asarray(values, float),),
        np.mean,
        n_resamples=n_resamples,
        method="percentile",
        confidence_level=0.95,
        rng=np.random.default_rng(seed),
    )
    return result.confidence_interval.low, result.confidence_interval.high


def scipy_diff_ci(a, b, seed=0):
    result = stats.bootstrap(
        (np.asarray(a, float), np.asarray(b, float)),
        lambda x, y, axis=-1: x.mean(axis=axis) - y.mean(axis=axis),
        n_resamples=2000,
        method="percentile",
        paired=False,
        rng=np.random.default_rng(seed),
    )
    return result.confidence_interval.low, result.confidence_interval.high


def test_bootstrap_ci_is_scipy_percentile_bootstrap():
    values = np.random.default_rng(3).normal(0.8, 0.05, 17)
    assert bootstrap_ci(values) == pytest.approx(scipy_ci(values), abs=0)
    assert bootstrap_ci(values, seed=5, n_resamples=500) == pytest.approx(scipy_ci(values, 500, 5), abs=0)
    low, high = bootstrap_ci(values)
    assert low < values.mean() < high


def test_bootstrap_ci_small_samples_nans_and_constants():
    assert bootstrap_ci([0.7, 0.9]) == pytest.approx(tuple(np.percentile([0.7, 0.9], [2.5, 97.5])))
    assert bootstrap_ci([0.4]) == (0.4, 0.4)
    assert bootstrap_ci([0.5, 0.5, 0.5, 0.5]) == (0.5, 0.5)
    assert all(np.isnan(bootstrap_ci([np.nan, np.nan])))
    values = [0.6, np.nan, 0.7, 0.8, np.inf, 0.75]
    assert bootstrap_ci(values) == pytest.approx(scipy_ci([0.6, 0.7, 0.8, 0.75]), abs=0)
    with pytest.raises(InputError, match="confidence"):
        bootstrap_ci([1, 2, 3], confidence=95)


def test_difference_ci_two_sample_and_fallback():
    rng = np.random.default_rng(1)
    a, b = rng.normal(0.9, 0.03, 12), rng.normal(0.7, 0.03, 9)
    assert difference_ci(a, b) == pytest.approx(scipy_diff_ci(a, b), abs=0)
    pairwise = np.subtract.outer([0.9, 0.95], [0.7, 0.72, 0.71])
    assert difference_ci([0.9, 0.95], [0.7, 0.72, 0.71]) == pytest.approx(tuple(np.percentile(pairwise, [2.5, 97.5])))
    assert all(np.isnan(difference_ci([], [0.5])))


def test_summarize_matches_numpy_and_scipy():
    results = make_results(n_seeds=4, n_folds=3)
    summary = summarize_results(results)
    test = results[results["subset"] == "test"].sort_values(["seed", "fold"])
    assert len(summary) == test.groupby(["split", "model", "features", "metric"]).ngroups
    for split, model, features, metric in [
        ("random", "et", "rich", "average_precision"),
        ("group", "logreg", "summary", "brier"),
        ("time", "prior", "rich", "roc_auc"),
    ]:
        values = test.query("split == @split and model == @model and features == @features and metric == @metric")
        values = values["value"].to_numpy()
        row = summary.query("split == @split and model == @model and features == @features and metric == @metric")
        row = row.iloc[0]
        assert row["n"] == 12 and row["n_missing"] == 0
        assert row["mean"] == pytest.approx(values.mean(), abs=1e-15)
        assert row["std"] == pytest.approx(values.std(ddof=1), abs=1e-15)
        assert (row["ci_low"], row["ci_high"]) == pytest.approx(scipy_ci(values), abs=0)


def test_summarize_does_not_depend_on_row_order():
    results = make_results(n_seeds=3, n_folds=2)
    shuffled = results.sample(frac=1.0, random_state=7)
    pd.testing.assert_frame_equal(summarize_results(results), summarize_results(shuffled))


def test_summarize_counts_missing_values():
    results = make_results(n_seeds=3, n_folds=1, splits=("group",), models=("et",), features=("rich",))
    mask = (results["metric"] == "roc_auc") & (results["subset"] == "test") & (results["seed"] == 1)
    results.loc[mask, "value"] = np.nan
    row = summarize_results(results, metrics=["roc_auc"]).iloc[0]
    assert (row["n"], row["n_missing"]) == (2, 1)
    kept = results.loc[(results["metric"] == "roc_auc") & (results["subset"] == "test"), "value"].dropna()
    assert row["mean"] == pytest.approx(kept.mean())
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(tuple(np.percentile(kept, [2.5, 97.5])))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r.drop(columns=["fold"]), "fold"),
        (lambda r: r.iloc[:0], "no rows"),
        (lambda r: pd.concat([r, r.iloc[:1]]), "duplicated"),
        (lambda r: r.assign(value="x"), "numeric"),
    ],
)
def test_bad_results_raise_input_error(change, message):
    with pytest.raises(InputError, match=message):
        summarize_results(change(make_results(n_seeds=1, n_folds=1, splits=("group",))))


def test_baseline_gains_are_paired_differences_with_the_best_baseline():
    results = make_results(n_seeds=4, n_folds=2)
    gains = baseline_gains(results)
    test = results[results["subset"] == "test"]
    best = best_baselines(results)
    for split in ("random", "group", "time"):
        for metric in ("average_precision", "roc_auc"):
            base = test[(test["split"] == split) & (test["metric"] == metric)]
            means = base[base["model"].isin(["prior", "stratified", "majority"])].groupby("model")["value"].mean()
            assert best[(split, metric)] == (means.idxmax(), pytest.approx(means.max()))
    row = gains.query("split == 'group' and model == 'mlp' and features == 'rich' and metric == 'average_precision'")
    row = row.iloc[0]
    name = best[("group", "average_precision")][0]
    model = test.query("split == 'group' and model == 'mlp' and features == 'rich' and metric == 'average_precision'")
    base = test.query("split == 'group' and model == @name and metric == 'average_precision'")
    base = base.groupby(["seed", "fold"])["value"].mean()
    diffs = model.set_index(["seed", "fold"])["value"].sort_index() - base
    assert row["baseline"] == name and row["paired"] and row["n"] == 8
    assert row["gain"] == pytest.approx(diffs.mean())
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(scipy_ci(diffs.to_numpy()), abs=1e-12)
    assert set(gains["model"]) == {"logreg", "et", "mlp"}


def test_baseline_gains_unpaired_when_no_seed_fold_is_shared():
    results = make_results(n_seeds=4, n_folds=1, splits=("group",), models=("et", "prior"), features=("rich",))
    results.loc[results["model"] == "prior", "seed"] += 100
    row = baseline_gains(results, metrics=["roc_auc"]).iloc[0]
    test = results[(results["subset"] == "test") & (results["metric"] == "roc_auc")].sort_values(["seed", "fold"])
    a = test.loc[test["model"] == "et", "value"].to_numpy()
    b = test.loc[test["model"] == "prior", "value"].to_numpy()
    assert not row["paired"]
    assert row["gain"] == pytest.approx(a.mean() - b.mean())
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(scipy_diff_ci(a, b), abs=0)


def test_compare_splits_shows_the_inflation():
    results = make_results(n_seeds=5, n_folds=2)
    comparison = compare_splits(results, "group")
    assert set(comparison["split"]) == {"random", "time"}
    row = comparison.query("model == 'et' and features == 'summary' and metric == 'roc_auc' and split == 'random'")
    row = row.iloc[0]
    test = results[(results["subset"] == "test") & (results["metric"] == "roc_auc")].sort_values(["seed", "fold"])
    a = test.query("split == 'random' and model == 'et' and features == 'summary'")["value"].to_numpy()
    b = test.query("split == 'group' and model == 'et' and features == 'summary'")["value"].to_numpy()
    assert row["delta"] == pytest.approx(a.mean() - b.mean())
    assert row["delta"] > 0.2  # random is built 0.25 higher
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(scipy_diff_ci(a, b), abs=0)


def test_split_trust_takes_the_worst_verdict():
    audits = {
        "random": {"split": "random", "verdict": "PASS", "checks": [{"check": "group_confound", "verdict": "FAIL"}]},
        "group": {"split": "group", "verdict": "PASS", "checks": [{"check": "group_overlap", "verdict": "PASS"}]},
    }
    trust = split_trust(audits, ["random", "group", "time"])
    assert list(trust) == ["random", "group", "time"]
    assert trust["random"].untrustworthy and trust["random"].failed_names == ("group_confound",)
    assert "⚠" in trust["random"].label and "group_confound" in trust["random"].short_reason()
    assert not trust["group"].untrustworthy and trust["group"].label == "group"
    assert trust["time"].verdict == "NOT AUDITED" and not trust["time"].untrustworthy
    with pytest.raises(InputError, match="checks"):
        split_trust({"random": {"verdict": "FAIL"}}, ["random"])
    with pytest.raises(InputError, match="verdict 'BAD'"):
        split_trust({"random": {"checks": [{"check": "x", "verdict": "BAD"}]}}, ["random"])
