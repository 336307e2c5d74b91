"""The cluster bootstrap equals a plain loop over resamples calling scikit-learn on repeated windows."""

import math

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, precision_score, recall_score, roc_auc_score

from hardneg._validation import rng as seeded_rng
from hardneg.errors import InputError
from hardneg.stats import cluster_bootstrap, paired_cluster_bootstrap

SKLEARN = {"roc_auc": roc_auc_score, "average_precision": average_precision_score}


def _data(seed, n_groups=7, n_seeds=3, decimals=1):
    """Groups of unequal sizes, scores with many ties, both classes in most groups."""
    gen = np.random.default_rng(seed)
    sizes = gen.integers(1, 12, n_groups)
    groups = np.repeat([f"g{i:02d}" for i in range(n_groups)], sizes)
    y = (gen.random(len(groups)) < 0.4).astype(int)
    y[:2] = [1, 0]
    scores = np.round(gen.random((n_seeds, len(groups))) * 0.6 + 0.4 * y, decimals)
    return y, scores, groups


def _threshold_metric(metric, y, predicted):
    if metric == "recall":
        return recall_score(y, predicted, zero_division=np.nan)
    if metric == "precision":
        return precision_score(y, predicted, zero_division=np.nan)
    return 1.0 - recall_score(1 - y, 1 - predicted, zero_division=np.nan)  # fpr = 1 - specificity


def _loop(y, scores, groups, metric, n_resamples, seed, thresholds=None):
    """One resample at a time: draw the groups, repeat each window by its group's multiplicity, call scikit-learn."""
    names = np.unique(groups)
    codes = np.searchsorted(names, groups)
    draws = seeded_rng(seed, "cluster-bootstrap").multinomial(
        len(names), np.full(len(names), 1 / len(names)), n_resamples
    )
    out = []
    for draw in draws:
        repeats = draw[codes]
        yy = np.repeat(y, repeats)
        if yy.min() == yy.max():
            out.append(math.nan)
            continue
        per_seed = []
        for k, row in enumerate(scores):
            ss = np.repeat(row, repeats)
            if metric in SKLEARN:
                per_seed.append(SKLEARN[metric](yy, ss))
            else:
                per_seed.append(_threshold_metric(metric, yy, (ss >= thresholds[k]).astype(int)))
        out.append(np.mean(per_seed))
    return np.asarray(out)


def _percentiles(values, confidence=0.95):
    defined = values[~np.isnan(values)]
    alpha = (1 - confidence) / 2
    return np.percentile(defined, [100 * alpha, 100 * (1 - alpha)]), len(values) - len(defined)


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("metric", ["roc_auc", "average_precision"])
def test_weighted_metric_equals_sklearn_with_sample_weight(seed, metric):
    y, scores, groups = _data(seed, n_seeds=1)
    names = np.unique(groups)
    multiplicity = np.random.default_rng(seed + 100).integers(0, 4, len(names))
    multiplicity[:2] = 3  # the first groups hold both classes (y[:2] = [1, 0])
    weights = multiplicity[np.searchsorted(names, groups)]
    found = cluster_bootstrap(y, scores, groups, metric=metric, n_resamples=1)
    assert found.value == pytest.approx(SKLEARN[metric](y, scores[0]), abs=1e-12)
    # the weighted statistic through the same code path as a resample: the draw is replaced by ``multiplicity``
    from hardneg.stats import _cluster

    codes = np.searchsorted(names, groups)
    got = _cluster._per_seed(metric, y.astype(bool), scores, codes, len(names), None, multiplicity[None, :])
    expected = SKLEARN[metric](y, scores[0], sample_weight=weights)
    assert got[0, 0] == pytest.approx(expected, abs=1e-12)
    assert expected == pytest.approx(SKLEARN[metric](np.repeat(y, weights), np.repeat(scores[0], weights)), abs=1e-12)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("metric", ["roc_auc", "average_precision", "recall", "fpr", "precision"])
def test_bootstrap_equals_a_plain_loop_over_resamples(seed, metric):
    y, scores, groups = _data(seed, n_groups=6 + seed, n_seeds=1 + seed % 3)
    thresholds = np.linspace(0.4, 0.6, scores.shape[0]) if metric in ("recall", "fpr", "precision") else None
    found = cluster_bootstrap(y, scores, groups, metric=metric, thresholds=thresholds, n_resamples=50, seed=seed)
    loop = _loop(y, scores, groups, metric, 50, seed, thresholds)
    (low, high), n_undefined = _percentiles(loop)
    assert (found.low, found.high) == pytest.approx((low, high), abs=1e-12)
    assert found.n_undefined == n_undefined
    assert (found.n_groups, found.n_seeds, found.n_resamples, found.method) == (
        6 + seed,
        scores.shape[0],
        50,
        "cluster",
    )
    if metric in SKLEARN:
        expected = np.mean([SKLEARN[metric](y, row) for row in scores])
    else:
        expected = np.mean([_threshold_metric(metric, y, (row >= t).astype(int)) for row, t in zip(scores, thresholds)])
    assert found.value == pytest.approx(expected, abs=1e-12)


def test_windows_of_a_group_travel_together_and_order_does_not_matter():
    y, scores, groups = _data(3)
    order = np.random.default_rng(0).permutation(len(y))
    a = cluster_bootstrap(y, scores, groups, metric="roc_auc", n_resamples=200)
    b = cluster_bootstrap(y[order], scores[:, order], groups[order], metric="roc_auc", n_resamples=200)
    assert (a.value, a.low, a.high) == pytest.approx((b.value, b.low, b.high), abs=1e-12)


def test_one_deterministic_score_vector_gets_a_nonzero_width_interval():
    gen = np.random.default_rng(1)
    groups = np.repeat(np.arange(20), 30)
    y = (gen.random(600) < 0.3).astype(int)
    score = 0.3 * y + 0.7 * gen.random(600) + 0.2 * (groups % 4 == 0)  # groups differ
    found = cluster_bootstrap(y, score, groups, metric="roc_auc", n_resamples=300)
    assert found.n_seeds == 1
    assert found.high - found.low > 0.01
    assert found.low < found.value < found.high
    assert found.covers == "new groups drawn like the 20 test groups"
    assert found.warnings == ()


def test_interval_widens_as_the_groups_get_fewer():
    gen = np.random.default_rng(2)
    n = 2400
    y = (gen.random(n) < 0.3).astype(int)
    # how well the classes separate drifts along the windows, so contiguous groups differ (as recordings do)
    score = np.linspace(0.0, 2.0, n) * y + gen.random(n)
    widths = []
    for n_groups in (48, 12, 6):
        groups = np.arange(n) // (n // n_groups)
        found = cluster_bootstrap(y, score, groups, metric="roc_auc", n_resamples=400)
        widths.append(found.high - found.low)
    assert widths[0] < widths[1] < widths[2]


def test_identical_sides_give_a_zero_width_difference_at_zero():
    y, scores, groups = _data(4, n_seeds=4)
    for metric in ("roc_auc", "average_precision"):
        found = paired_cluster_bootstrap(y, scores, scores, groups, metric=metric, n_resamples=100)
        assert (found.value, found.low, found.high) == (0.0, 0.0, 0.0)
    found = paired_cluster_bootstrap(
        y, scores, scores, groups, metric="recall", thresholds_a=0.5, thresholds_b=0.5, n_resamples=100
    )
    assert (found.value, found.low, found.high) == (0.0, 0.0, 0.0)


def test_paired_difference_equals_a_loop_on_the_same_groups_and_seeds():
    y, a, groups = _data(5, n_seeds=3)
    b = np.round(np.random.default_rng(9).random(a.shape), 1)
    found = paired_cluster_bootstrap(y, a, b, groups, metric="roc_auc", n_resamples=50, seed=3)
    diff = _loop(y, a, groups, "roc_auc", 50, 3) - _loop(y, b, groups, "roc_auc", 50, 3)
    (low, high), _ = _percentiles(diff)
    assert (found.low, found.high) == pytest.approx((low, high), abs=1e-12)
    expected = np.mean([roc_auc_score(y, r) for r in a]) - np.mean([roc_auc_score(y, r) for r in b])
    assert found.value == pytest.approx(expected, abs=1e-12)
    assert "same groups and seeds" in found.covers


def test_paired_is_narrower_than_the_sides_when_they_share_the_groups():
    gen = np.random.default_rng(6)
    groups = np.repeat(np.arange(15), 40)
    y = (gen.random(600) < 0.3).astype(int)
    base = 0.4 * y + gen.random(600) + 0.3 * (groups % 3 == 0)
    a, b = base + 0.05 * gen.random(600), base + 0.05 * gen.random(600)
    single = cluster_bootstrap(y, a, groups, metric="roc_auc", n_resamples=300)
    paired = paired_cluster_bootstrap(y, a, b, groups, metric="roc_auc", n_resamples=300)
    assert paired.high - paired.low < (single.high - single.low) / 3


def test_few_groups_are_flagged():
    y, scores, groups = _data(7, n_groups=4)
    found = cluster_bootstrap(y, scores, groups, metric="roc_auc", n_resamples=100)
    assert found.warnings == ("fewer than 5 test groups: the interval is unreliable",)
    assert found.as_dict()["warnings"] == list(found.warnings)


def test_mostly_undefined_resamples_are_flagged():
    # seed k predicts a positive in group k only: precision is defined only when every group is drawn
    groups = np.repeat(np.arange(6), 2)
    y = np.tile([1, 0], 6)
    scores = np.zeros((6, 12))
    scores[np.arange(6), 2 * np.arange(6)] = 1.0
    found = cluster_bootstrap(y, scores, groups, metric="precision", thresholds=0.5, n_resamples=200)
    assert found.value == 1.0
    assert found.n_undefined > 100
    assert found.warnings == (
        f"{found.n_undefined} of 200 resamples were undefined (one class only, or no predicted positive) and left out: the interval is unreliable",
    )


@pytest.mark.parametrize("metric", ["roc_auc", "average_precision"])
@pytest.mark.parametrize("label", [0, 1])
def test_one_class_only_gives_nan(metric, label):
    found = cluster_bootstrap([label] * 3, [0.1, 0.2, 0.3], [0, 1, 2], metric=metric, n_resamples=10)
    assert math.isnan(found.value) and math.isnan(found.low) and found.n_undefined == 10


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"metric": "auc"}, "metric"),
        ({"metric": "roc_auc", "n_resamples": 0}, "n_resamples"),
        ({"metric": "roc_auc", "confidence": 1.0}, "confidence"),
        ({"metric": "roc_auc", "seed": -1}, "seed"),
        ({"metric": "recall"}, "thresholds"),
        ({"metric": "roc_auc", "thresholds": 0.5}, "thresholds"),
        ({"metric": "recall", "thresholds": [0.5, 0.5]}, "thresholds"),
    ],
)
def test_bad_options_name_the_parameter(kwargs, parameter):
    with pytest.raises(InputError) as raised:
        cluster_bootstrap([0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4], [0, 0, 1, 1], **kwargs)
    assert raised.value.parameter == parameter
    assert str(raised.value).startswith(parameter)


def test_bad_arrays_name_the_parameter():
    with pytest.raises(InputError, match="^scores must be") as raised:
        cluster_bootstrap([0, 1], [[0.1, 0.2, 0.3]], [0, 1], metric="roc_auc")
    assert raised.value.parameter == "scores"
    with pytest.raises(InputError, match="^scores must be finite or NaN"):
        cluster_bootstrap([0, 1], [0.1, np.inf], [0, 1], metric="roc_auc")
    with pytest.raises(InputError, match="^groups must") as raised:
        cluster_bootstrap([0, 1], [0.1, 0.2], [0], metric="roc_auc")
    assert raised.value.parameter == "groups"
    with pytest.raises(InputError, match="^groups must not be missing"):
        cluster_bootstrap([0, 1], [0.1, 0.2], ["a", None], metric="roc_auc")
    with pytest.raises(InputError, match="^scores_b must have as many seeds") as raised:
        paired_cluster_bootstrap([0, 1], [[0.1, 0.2]] * 2, [[0.1, 0.2]] * 3, [0, 1], metric="roc_auc")
    assert raised.value.parameter == "scores_b"


def test_chunks_of_resamples_do_not_change_the_interval(monkeypatch):
    from hardneg.stats import _cluster_kernels

    y, scores, groups = _data(8, n_groups=9, n_seeds=2)
    whole = cluster_bootstrap(y, scores, groups, metric="average_precision", n_resamples=60)
    monkeypatch.setattr(_cluster_kernels, "CHUNK_CELLS", 7)  # one resample per chunk
    chunked = cluster_bootstrap(y, scores, groups, metric="average_precision", n_resamples=60)
    assert chunked == whole
