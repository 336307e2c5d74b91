"""The hierarchical paired bootstrap (test groups and seeds) against plain loops with scikit-learn."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import (
    average_precision_score,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)

from hardneg.errors import InputError
from hardneg.metrics import expected_calibration_error
from hardneg.stats import (
    GroupResampler,
    hierarchical_paired_bootstrap,
    hierarchical_paired_ratio,
)

THRESHOLDED = {
    "recall": lambda y, p: recall_score(y, p, zero_division=np.nan),
    "precision": lambda y, p: precision_score(y, p, zero_division=np.nan),
    "fpr": lambda y, p: 1.0 - recall_score(1 - y, 1 - p, zero_division=np.nan),
    "f1": lambda y, p: f1_score(y, p, zero_division=np.nan),
}
RANKED = {"roc_auc": roc_auc_score, "average_precision": average_precision_score}
METRICS = (*RANKED, *THRESHOLDED, "ece")


def _metric(metric, y, score, threshold) -> float:
    """The reference metric of one seed on one (expanded) sample; NaN where the kernels call it undefined."""
    if metric == "ece":
        return expected_calibration_error(y, score) if len(y) else math.nan
    if len(np.unique(y)) < 2:  # one class only: the seed sits the draw out
        return math.nan
    if metric in RANKED:
        return float(RANKED[metric](y, score))
    return float(THRESHOLDED[metric](y, (score >= threshold).astype(int)))


def _data(seed, *, n_groups=9, n_seeds=4, fresh_split=False):
    """Labels, groups of uneven size (one all-negative), two arms' scores with ties, per-row thresholds."""
    gen = np.random.default_rng(seed)
    sizes = gen.integers(3, 12, n_groups)
    groups = np.repeat([f"rec{i:02d}" for i in range(n_groups)], sizes)
    y = (gen.random(len(groups)) < 0.4).astype(int)
    y[groups == "rec00"] = 0
    seed_effect = gen.normal(0, 0.15, (n_seeds, 1))  # seeds differ: pairing matters
    base = np.round(np.clip(gen.random((n_seeds, len(y))) * 0.6 + 0.3 * y + seed_effect, 0, 1), 1)
    arm = np.round(np.clip(base + 0.1 * y - 0.05 + gen.normal(0, 0.1, base.shape), 0, 1), 1)
    if fresh_split:  # each seed tests its own groups, the same in both arms (common random numbers)
        for row in range(n_seeds):
            names = np.unique(groups)
            kept = gen.choice(names, size=max(2, int(0.6 * n_groups)), replace=False)
            untested = ~np.isin(groups, kept)
            base[row, untested] = np.nan
            arm[row, untested] = np.nan
    thresholds = np.round(gen.random((2, n_seeds)) * 0.3 + 0.35, 2)
    return y, arm, base, groups, thresholds


def _loop(metric, y, scores_a, scores_b, groups, thresholds_a, thresholds_b, result):
    """Every resample with a plain loop: the recorded draws, ``np.repeat``, scikit-learn per seed and arm."""
    by_name = {name: np.flatnonzero(groups == name) for name in result.groups}
    statistics = np.full(len(result.statistics), np.nan)
    for b in range(len(result.statistics)):
        index = np.concatenate(
            [np.repeat(by_name[name], int(m)) for name, m in zip(result.groups, result.group_draws[b])]
        )
        total = weight = 0.0
        for s in range(len(result.seeds)):
            sides = []
            for scores, thresholds in ((scores_a, thresholds_a), (scores_b, thresholds_b)):
                row = scores[s, index]
                tested = ~np.isnan(row)
                t = None if thresholds is None else thresholds[s]
                sides.append(_metric(metric, y[index][tested], row[tested], t))
            delta = sides[0] - sides[1]
            if not math.isnan(delta):
                total += result.seed_draws[b, s] * delta
                weight += result.seed_draws[b, s]
        if weight > 0:
            statistics[b] = total / weight
    return statistics


def _in_seed_order(seeds, scores, thresholds, paired):
    """Rows (and thresholds) of the paired seeds in sorted seed order, looked up by id."""
    rows = [list(seeds).index(s) for s in paired]
    return scores[rows], (None if thresholds is None else thresholds[rows])


@pytest.mark.parametrize("fresh_split", [False, True])
@pytest.mark.parametrize("metric", METRICS)
def test_every_resample_matches_a_plain_loop(metric, fresh_split):
    y, arm, base, groups, thresholds = _data(3, fresh_split=fresh_split)
    seeds_a, seeds_b = np.array([3, 0, 2, 1]), np.array([1, 3, 0, 2])  # both in their own order
    thr = metric in THRESHOLDED
    found = hierarchical_paired_bootstrap(
        y, arm, base, groups, seeds_a=seeds_a, seeds_b=seeds_b, metric=metric,
        thresholds_a=thresholds[0] if thr else None, thresholds_b=thresholds[1] if thr else None,
        n_resamples=40, seed=5,
    )  # fmt: skip
    assert found.seeds == [0, 1, 2, 3] and found.unpaired == 0
    a, ta = _in_seed_order(seeds_a, arm, thresholds[0] if thr else None, found.seeds)
    b, tb = _in_seed_order(seeds_b, base, thresholds[1] if thr else None, found.seeds)
    expected = _loop(metric, y, a, b, groups, ta, tb, found)
    np.testing.assert_allclose(found.statistics, expected, rtol=1e-9, atol=1e-12, equal_nan=True)
    assert found.interval.n_undefined == int(np.isnan(expected).sum())
    defined = expected[~np.isnan(expected)]
    assert len(defined) > 20
    assert found.interval.low == pytest.approx(np.percentile(defined, 2.5))
    assert found.interval.high == pytest.approx(np.percentile(defined, 97.5))
    # the point estimate: the mean over seeds of the per-seed differences on the original sample
    deltas = []
    for s in range(4):
        sides = []
        for scores, t in ((a, ta), (b, tb)):
            tested = ~np.isnan(scores[s])
            sides.append(_metric(metric, y[tested], scores[s, tested], None if t is None else t[s]))
        deltas.append(sides[0] - sides[1])
    np.testing.assert_allclose(found.deltas, deltas, rtol=1e-9, atol=1e-12, equal_nan=True)
    assert found.interval.value == pytest.approx(float(np.nanmean(deltas)), abs=1e-12)
    assert found.interval.method == "hierarchical" and found.interval.n_seeds == 4


def test_the_draws_are_those_of_the_group_resampler_and_shared_by_both_versions():
    y, arm, base, groups, _ = _data(1)
    found = hierarchical_paired_bootstrap(
        y, arm, base, groups, seeds_a=range(4), seeds_b=range(4), metric="roc_auc", n_resamples=30, seed=9
    )
    resampler = GroupResampler(groups, n_resamples=30, seed=9)
    np.testing.assert_array_equal(found.group_draws, resampler.draws)
    np.testing.assert_array_equal(found.groups, resampler.names)
    assert found.seed_draws.shape == (30, 4) and np.all(found.seed_draws.sum(axis=1) == 4)
    names = np.unique(groups)
    counts = np.ones((4, len(names)))
    ratio = hierarchical_paired_ratio(
        counts, counts, counts, counts, names[::-1], seeds_a=[3, 2, 1, 0], seeds_b=range(4), n_resamples=30, seed=9
    )
    np.testing.assert_array_equal(ratio.group_draws, found.group_draws)
    np.testing.assert_array_equal(ratio.seed_draws, found.seed_draws)
    # the seeds come from their own stream: not a copy of the groups' draws
    other = hierarchical_paired_ratio(counts, counts, counts, counts, names, seeds_a=range(4), seeds_b=range(4),
                                      n_resamples=30, seed=10)  # fmt: skip
    assert not np.array_equal(other.seed_draws, found.seed_draws)


@pytest.mark.parametrize("metric", ["roc_auc", "recall"])
def test_pairs_by_seed_id_not_by_row_order(metric):
    y, arm, base, groups, thresholds = _data(7, n_seeds=5)
    kw = {"metric": metric, "n_resamples": 60}
    thr = metric in THRESHOLDED
    ordered = hierarchical_paired_bootstrap(
        y, arm, base, groups, seeds_a=range(5), seeds_b=range(5),
        thresholds_a=thresholds[0] if thr else None, thresholds_b=thresholds[1] if thr else None, **kw,
    )  # fmt: skip
    order = np.array([4, 2, 0, 3, 1])
    permuted = hierarchical_paired_bootstrap(
        y, arm, base[order], groups, seeds_a=range(5), seeds_b=order,
        thresholds_a=thresholds[0] if thr else None, thresholds_b=thresholds[1][order] if thr else None, **kw,
    )  # fmt: skip
    np.testing.assert_array_equal(permuted.deltas, ordered.deltas)
    np.testing.assert_array_equal(permuted.statistics, ordered.statistics)
    assert permuted.interval == ordered.interval
    # the same permuted rows paired by row order pair the wrong runs
    by_row = hierarchical_paired_bootstrap(
        y, arm, base[order], groups, seeds_a=range(5), seeds_b=range(5),
        thresholds_a=thresholds[0] if thr else None, thresholds_b=thresholds[1][order] if thr else None, **kw,
    )  # fmt: skip
    assert not np.allclose(by_row.deltas, ordered.deltas)
    # the mean difference is the same either way (a difference of means); the interval is not: pairing by seed
    # cancels what a seed does to both arms, and pairing the wrong runs leaves it in
    assert by_row.interval.value == pytest.approx(ordered.interval.value)
    assert by_row.interval.high - by_row.interval.low > 1.5 * (ordered.interval.high - ordered.interval.low)


def test_a_seed_in_one_arm_only_is_left_out_and_counted():
    y, arm, base, groups, _ = _data(2, n_seeds=5)
    found = hierarchical_paired_bootstrap(
        y, arm[:4], base[1:], groups, seeds_a=[0, 1, 2, 3], seeds_b=[1, 2, 3, 9], metric="roc_auc", n_resamples=50
    )
    assert found.seeds == [1, 2, 3] and found.unpaired == 2
    alone = hierarchical_paired_bootstrap(
        y, arm[1:4], base[1:4], groups, seeds_a=[1, 2, 3], seeds_b=[1, 2, 3], metric="roc_auc", n_resamples=50
    )
    np.testing.assert_array_equal(found.statistics, alone.statistics)
    assert found.interval == alone.interval
    assert "3 paired seeds" in found.interval.covers
    with pytest.raises(InputError, match="share no seed id; nothing to pair"):
        hierarchical_paired_bootstrap(y, arm[:2], base[:2], groups, seeds_a=[0, 1], seeds_b=[2, 3], metric="roc_auc")


@pytest.mark.parametrize(
    ("change", "parameter", "message"),
    [
        ({"seeds_a": [0, 1, 1, 2]}, "seeds_a", "appears twice"),
        ({"seeds_b": [0, 1, 2]}, "seeds_b", "one seed id per score row"),
        ({"scores_b": np.zeros((4, 5))}, "scores_b", "windows"),
        ({"groups": ["g"] * 5}, "groups", "one group per window"),
        ({"metric": "recall"}, "thresholds_a", "must be given"),
        ({"thresholds_b": [0.5] * 4}, "thresholds_b", "apply to"),
        ({"n_resamples": 0}, "n_resamples", "n_resamples"),
        ({"confidence": 1.0}, "confidence", "confidence"),
    ],
)
def test_inputs_are_checked_by_parameter(change, parameter, message):
    y, arm, base, groups, _ = _data(0)
    kw = {"scores_b": base, "groups": groups, "seeds_a": range(4), "seeds_b": range(4), "metric": "roc_auc"}
    kw.update(change)
    scores_b, groups = kw.pop("scores_b"), kw.pop("groups")
    with pytest.raises(InputError, match=message) as caught:
        hierarchical_paired_bootstrap(y, arm, scores_b, groups, **kw)
    assert caught.value.parameter == parameter


def test_identical_arms_give_zero_and_a_strong_effect_excludes_zero():
    y, _, base, groups, thresholds = _data(4, fresh_split=True)
    for metric in ("roc_auc", "average_precision", "f1"):
        t = thresholds[0] if metric == "f1" else None
        same = hierarchical_paired_bootstrap(
            y, base, base[[2, 0, 3, 1]], groups, seeds_a=range(4), seeds_b=[2, 0, 3, 1], metric=metric,
            thresholds_a=t, thresholds_b=None if t is None else t[[2, 0, 3, 1]], n_resamples=80,
        )  # fmt: skip
        assert (same.interval.value, same.interval.low, same.interval.high) == (0.0, 0.0, 0.0)
    strong = np.where(np.isnan(base), np.nan, 0.2 + 0.6 * y)  # separates the classes on every seed
    found = hierarchical_paired_bootstrap(y, strong, base, groups, seeds_a=range(4), seeds_b=range(4),
                                          metric="roc_auc", n_resamples=200)  # fmt: skip
    assert found.interval.low > 0 and found.interval.value > found.interval.low
    assert found.interval.warnings == ()


def test_the_seed_level_alone_is_a_bootstrap_of_the_seed_mean():
    # per-seed differences that do not depend on the groups: each resample is the mean of the drawn seeds'
    gen = np.random.default_rng(0)
    hours = gen.uniform(1, 5, (6, 10))
    alarms = gen.poisson(3, (6, 10)).astype(float)
    shift = np.array([0.5, -0.2, 0.9, 0.1, 0.3, 0.7])
    found = hierarchical_paired_ratio(alarms + shift[:, None] * hours, hours, alarms, hours, np.arange(10),
                                      seeds_a=range(6), seeds_b=range(6), n_resamples=300)  # fmt: skip
    np.testing.assert_allclose(found.deltas, shift, atol=1e-12)
    np.testing.assert_allclose(found.statistics, found.seed_draws @ shift / 6, atol=1e-12)
    assert found.interval.value == pytest.approx(shift.mean())
    assert found.interval.high - found.interval.low > 0.3  # the seeds' spread is in the interval


def test_ratio_matches_a_plain_loop_with_missing_groups_and_empty_denominators():
    gen = np.random.default_rng(11)
    n_seeds, n_columns = 5, 7
    groups = np.array(["p1", "p2", "p2", "p3", "p4", "p5", "p6"])  # two recordings of p2 are drawn together
    numer_a = gen.poisson(2, (n_seeds, n_columns)).astype(float)
    numer_b = gen.poisson(3, (n_seeds, n_columns)).astype(float)
    denom_a = gen.uniform(0.5, 3, (n_seeds, n_columns))
    denom_a[:, :3] = 0.0  # three columns with no hours: draws of them alone have no denominator
    denom_b = denom_a.copy()
    for numer, denom in ((numer_a, denom_a), (numer_b, denom_b)):
        missing = gen.random((n_seeds, n_columns)) < 0.3
        missing[:, 0] = False
        numer[missing] = np.nan
        denom[missing] = np.nan
    seeds_b = np.array([4, 0, 3, 1, 2])
    found = hierarchical_paired_ratio(numer_a, denom_a, numer_b[seeds_b], denom_b[seeds_b], groups,
                                      seeds_a=range(5), seeds_b=seeds_b, scale=3600.0, n_resamples=300,
                                      name="fa_per_hour")  # fmt: skip
    assert found.interval.metric == "fa_per_hour" and found.interval.n_groups == 6

    def ratio(numer, denom, multiplicity):
        top = bottom = 0.0
        for j, name in enumerate(groups):
            if not math.isnan(denom[j]):
                m = multiplicity[list(found.groups).index(name)]
                top, bottom = top + m * numer[j], bottom + m * denom[j]
        return 3600.0 * top / bottom if bottom > 0 else math.nan

    expected = []
    for b in range(300):
        total = weight = 0.0
        for s in range(n_seeds):
            m = found.group_draws[b]
            delta = ratio(numer_a[s], denom_a[s], m) - ratio(numer_b[s], denom_b[s], m)
            if not math.isnan(delta):
                total, weight = total + found.seed_draws[b, s] * delta, weight + found.seed_draws[b, s]
        expected.append(total / weight if weight else math.nan)
    np.testing.assert_allclose(found.statistics, expected, rtol=1e-9, equal_nan=True)
    assert 0 < found.interval.n_undefined < 300  # some draws hold only the hour-less columns
    ones = np.ones(len(found.groups))
    deltas = [ratio(numer_a[s], denom_a[s], ones) - ratio(numer_b[s], denom_b[s], ones) for s in range(n_seeds)]
    np.testing.assert_allclose(found.deltas, deltas, rtol=1e-12)
    assert found.interval.value == pytest.approx(np.mean(deltas))


def test_ratio_inputs_are_checked():
    counts = np.ones((2, 3))
    half = counts.copy()
    half[0, 1] = np.nan
    with pytest.raises(InputError, match="NaN at the same places") as caught:
        hierarchical_paired_ratio(counts, half, counts, counts, ["a", "b", "c"], seeds_a=[0, 1], seeds_b=[0, 1])
    assert caught.value.parameter == "denom_a"
    with pytest.raises(InputError, match=r"must be \(2, 3\)") as caught:
        hierarchical_paired_ratio(counts, counts, counts, np.ones((3, 3)), ["a", "b", "c"], seeds_a=[0, 1],
                                  seeds_b=[0, 1])  # fmt: skip
    assert caught.value.parameter == "denom_b"
    with pytest.raises(InputError, match=">= 0"):
        hierarchical_paired_ratio(counts, -counts, counts, counts, ["a", "b", "c"], seeds_a=[0, 1], seeds_b=[0, 1])
    with pytest.raises(InputError, match="share no seed id"):
        hierarchical_paired_ratio(counts, counts, counts, counts, ["a", "b", "c"], seeds_a=[0, 1], seeds_b=[2, 3])


def test_warnings_few_groups_one_seed_and_undefined_draws():
    y = np.array([0, 1, 0, 1, 0, 0, 1, 1])
    groups = np.array(["a", "a", "b", "b", "c", "c", "d", "d"])
    score = np.linspace(0, 1, 8)[None, :]
    found = hierarchical_paired_bootstrap(y, score, score * 0.5, groups, seeds_a=[3], seeds_b=[3],
                                          metric="roc_auc", n_resamples=50)  # fmt: skip
    assert found.interval.n_seeds == 1
    assert "fewer than 5 test groups: the interval is unreliable" in found.interval.warnings
    assert any("one paired seed only" in w for w in found.interval.warnings)
    assert "new seeds" not in found.interval.covers and "4 test groups" in found.interval.covers
    one_class = np.array(["a", "b", "c", "d", "e", "f", "g", "h"])  # every group holds one window, one class
    found = hierarchical_paired_bootstrap(y, score, score, one_class, seeds_a=[0], seeds_b=[0], metric="roc_auc",
                                          n_resamples=200)  # fmt: skip
    assert found.interval.n_undefined == int(np.isnan(found.statistics).sum())
    assert found.interval.n_undefined < 100  # most draws hold both classes here
    empty = np.zeros(2)
    ratio = hierarchical_paired_ratio(empty, empty, empty, empty, ["x", "y"], seeds_a=[0], seeds_b=[0],
                                      n_resamples=20)  # fmt: skip
    assert math.isnan(ratio.interval.value) and ratio.interval.n_undefined == 20
    assert any("20 of 20 resamples were undefined (no denominator drawn)" in w for w in ratio.interval.warnings)
