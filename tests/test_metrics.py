"""Benchmark metrics against scikit-learn, hand-checked numbers and one-class subsets."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve

from hardneg.metrics import (
    METRIC_NAMES,
    binary_metrics,
    choose_threshold,
    expected_calibration_error,
    metric_rows,
    reliability_table,
)
from hardneg.errors import InputError


def scored(n=300, seed=0, decimals=None):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(np.int64)
    score = np.clip(0.3 * y + rng.random(n) * 0.7, 0.0, 1.0)
    if decimals is not None:
        score = np.round(score, decimals)  # many ties
    return y, score


@pytest.mark.parametrize("threshold", [0.5, 0.31, 0.0, 1.0])
def test_binary_metrics_equal_scikit_learn(threshold):
    y, score = scored()
    predicted = (score >= threshold).astype(int)
    result = binary_metrics(y, score, threshold=threshold)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # threshold 1.0 predicts no positive: precision undefined
        expected = {
            "average_precision": skm.average_precision_score(y, score),
            "roc_auc": skm.roc_auc_score(y, score),
            "f1": skm.f1_score(y, predicted, zero_division=np.nan),
            "precision": skm.precision_score(y, predicted, zero_division=np.nan),
            "recall": skm.recall_score(y, predicted, zero_division=np.nan),
            "balanced_accuracy": skm.balanced_accuracy_score(y, predicted),
            "macro_f1": skm.f1_score(y, predicted, average="macro", zero_division=np.nan),
            "brier": skm.brier_score_loss(y, score),
        }
    for key, value in expected.items():
        np.testing.assert_allclose(result[key], value, rtol=1e-12, err_msg=key)
    assert result["ece"] == expected_calibration_error(y, score)
    assert all(isinstance(value, float) for value in result.values())


def test_hand_checked_numbers():
    y = [0, 0, 1, 1]
    score = [0.1, 0.6, 0.4, 0.9]
    result = binary_metrics(y, score)
    # ranking: 3 of the 4 positive-negative pairs are ordered right; AP = (1/1 + 2/3) / 2
    assert result["roc_auc"] == 0.75
    assert result["average_precision"] == pytest.approx((1 + 2 / 3) / 2)
    # at 0.5: TP=1 (0.9), FP=1 (0.6), FN=1 (0.4), TN=1
    assert (result["precision"], result["recall"], result["f1"]) == (0.5, 0.5, 0.5)
    assert result["balanced_accuracy"] == 0.5 and result["macro_f1"] == 0.5
    assert result["brier"] == pytest.approx((0.01 + 0.36 + 0.36 + 0.01) / 4)
    # ten bins: 0.1 -> [0, 0.1], 0.4 -> (0.3, 0.4], 0.6 -> (0.5, 0.6], 0.9 -> (0.8, 0.9], one window each
    assert result["ece"] == pytest.approx((0.1 + 0.6 + 0.6 + 0.1) / 4)


def test_ece_and_reliability_by_hand():
    y = [0, 0, 1, 1, 1, 0]
    score = [0.0, 0.2, 0.3, 0.7, 0.9, 1.0]
    table = reliability_table(y, score, n_bins=2)
    assert table["count"].tolist() == [3, 3]
    np.testing.assert_allclose(table["mean_score"], [0.5 / 3, 2.6 / 3])
    np.testing.assert_allclose(table["positive_rate"], [1 / 3, 2 / 3])
    np.testing.assert_allclose(table[["bin_low", "bin_high"]].to_numpy(), [[0, 0.5], [0.5, 1]])
    # (3/6) |1/3 - 0.5/3| + (3/6) |2/3 - 2.6/3| = 0.5 * 0.5/3 + 0.5 * 0.6/3
    assert expected_calibration_error(y, score, n_bins=2) == pytest.approx(0.55 / 3)
    # a perfectly calibrated bin has no error
    assert expected_calibration_error([1, 0, 0, 0], [0.25] * 4, n_bins=10) == 0.0
    # one bin: |mean label - mean score|
    assert expected_calibration_error(y, score, n_bins=1) == pytest.approx(abs(0.5 - 3.1 / 6))


@pytest.mark.parametrize("n_bins", [1, 5, 10, 15])
def test_reliability_rows_equal_calibration_curve(n_bins):
    y, score = scored(decimals=1)  # scores on bin edges, to check which side an edge belongs to
    score[:4] = [0.0, 1.0, 0.1, 0.3]
    table = reliability_table(y, score, n_bins=n_bins)
    prob_true, prob_pred = calibration_curve(y, score, n_bins=n_bins, strategy="uniform")
    occupied = table[table["count"] > 0]
    np.testing.assert_allclose(occupied["positive_rate"], prob_true, rtol=1e-12)
    np.testing.assert_allclose(occupied["mean_score"], prob_pred, rtol=1e-12)
    assert table["count"].sum() == len(y) and len(table) == n_bins
    assert table.loc[table["count"] == 0, ["mean_score", "positive_rate"]].isna().all().all()
    # ECE is the count-weighted gap of those same rows
    expected = (occupied["count"] * (occupied["positive_rate"] - occupied["mean_score"]).abs()).sum() / len(y)
    assert expected_calibration_error(y, score, n_bins=n_bins) == pytest.approx(expected, rel=1e-12)


def _brute_force_threshold(y, score):
    best_f1, best_t = -1.0, None
    for t in sorted(np.unique(score)):  # increasing: ">=" keeps the highest threshold among ties
        f1 = skm.f1_score(y, (score >= t).astype(int), zero_division=0.0)
        if f1 >= best_f1:
            best_f1, best_t = f1, t
    return float(best_t)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("decimals", [None, 1, 2])
def test_threshold_maximises_f1_like_a_brute_force_search(seed, decimals):
    y, score = scored(n=120, seed=seed, decimals=decimals)
    assert choose_threshold(y, score) == _brute_force_threshold(y, score)


def test_threshold_ties_go_to_the_higher_threshold():
    # at 0.9: TP=1 FP=0 FN=1 -> F1 2/3; at 0.4: TP=2 FP=2 FN=0 -> F1 4/6 = 2/3 as well
    assert choose_threshold([1, 0, 0, 1], [0.9, 0.6, 0.5, 0.4]) == 0.9
    # best F1 0.8 at 0.3 (TP=2 FP=1)
    assert choose_threshold([1, 0, 1, 0], [0.9, 0.8, 0.3, 0.2]) == 0.3


def test_threshold_on_one_class_validation():
    assert math.isnan(choose_threshold([0, 0, 0], [0.2, 0.9, 0.4]))
    assert choose_threshold([1, 1, 1], [0.2, 0.9, 0.4]) == 0.2  # all predicted positive: F1 = 1
    assert math.isnan(choose_threshold([], []))


@pytest.mark.parametrize("label", [0, 1])
def test_one_class_subset_gives_nan_where_undefined_and_no_warning(label):
    y = np.full(6, label)
    score = np.array([0.1, 0.2, 0.3, 0.6, 0.7, 0.8])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = binary_metrics(y, score)
        rows = metric_rows(y, score, val_threshold=0.75)
        table = reliability_table(y, score)
        ece = expected_calibration_error(y, score)
        threshold = choose_threshold(y, score)
    assert math.isnan(result["roc_auc"]) and math.isnan(result["average_precision"])
    assert result["brier"] == pytest.approx(np.mean((score - label) ** 2))
    assert ece == pytest.approx(np.abs(score - label).mean())  # one window per bin
    assert table["count"].sum() == 6
    if label == 0:
        assert result["precision"] == 0.0  # 3 predicted positive, none right
        assert math.isnan(result["recall"])  # no positive to recall
        assert result["f1"] == 0.0  # 2TP / (2TP + FP + FN) = 0 / 3
        assert result["balanced_accuracy"] == 0.5  # scikit-learn: mean recall of the classes present
        assert rows["f1_at_val_threshold"] == 0.0  # 0.8 >= 0.75 is one false positive
        assert math.isnan(threshold) and math.isnan(metric_rows(y, score, threshold)["f1_at_val_threshold"])
    else:
        assert (result["precision"], result["recall"]) == (1.0, 0.5)
        assert threshold == 0.1
        assert rows["recall_at_val_threshold"] == pytest.approx(1 / 6)


def test_nothing_predicted_positive_and_no_positive_is_nan():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = binary_metrics([0, 0, 0], [0.1, 0.2, 0.3])
    assert math.isnan(result["precision"]) and math.isnan(result["recall"]) and math.isnan(result["f1"])
    assert result["balanced_accuracy"] == 1.0
    assert result["macro_f1"] == 1.0  # class 0 is perfect, class 1 is undefined and left out


def test_empty_subset_is_all_nan():
    rows = metric_rows([], [], val_threshold=0.5)
    assert list(rows) == list(METRIC_NAMES)
    assert all(math.isnan(value) for value in rows.values())


def test_metric_rows_hold_every_metric_at_both_thresholds():
    y, score = scored(seed=2)
    threshold = choose_threshold(y, score)
    rows = metric_rows(y, score, threshold)
    assert list(rows) == list(METRIC_NAMES)
    at_half = binary_metrics(y, score)
    for key in ("average_precision", "roc_auc", "f1", "precision", "recall", "balanced_accuracy", "macro_f1", "ece"):
        assert rows[key] == at_half[key]
    predicted = (score >= threshold).astype(int)
    assert rows["f1_at_val_threshold"] == pytest.approx(skm.f1_score(y, predicted))
    assert rows["precision_at_val_threshold"] == pytest.approx(skm.precision_score(y, predicted))
    assert rows["recall_at_val_threshold"] == pytest.approx(skm.recall_score(y, predicted))
    assert rows["f1_at_val_threshold"] >= rows["f1"]  # chosen on this very subset, so at least as good as 0.5
    nan_rows = metric_rows(y, score, math.nan)
    assert all(math.isnan(nan_rows[f"{key}_at_val_threshold"]) for key in ("f1", "precision", "recall"))


def test_booleans_are_labels():
    y, score = scored()
    assert binary_metrics(y.astype(bool), score) == binary_metrics(y, score)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: binary_metrics([0, 1], [0.2, 1.3]), r"score must be probabilities in \[0, 1\], got 1.3 at position 1"),
        (lambda: binary_metrics([0, 1], [0.2, np.nan]), r"score must be probabilities in \[0, 1\], got nan"),
        (lambda: binary_metrics([0, 2], [0.2, 0.3]), r"y_true must hold 0/1 labels only, got 2 at position 1"),
        (lambda: binary_metrics([0, 1, 1], [0.2, 0.3]), r"score has 2 values but the labels have 3"),
        (lambda: choose_threshold([0, 1], [0.2]), r"score_val has 1 values but the labels have 2"),
        (lambda: expected_calibration_error([0, 1], [0.2, 0.3], n_bins=0), "n_bins must be a positive integer"),
        (lambda: reliability_table(["a", "b"], [0.2, 0.3]), "y must hold 0/1 labels"),
        (lambda: metric_rows([0, 1], [0.2, 0.3], val_threshold="high"), "threshold must be a number"),
    ],
)
def test_bad_input_is_named(call, message):
    with pytest.raises(InputError, match=message):
        call()


@pytest.mark.parametrize(
    "y, score",
    [
        ([0, 0, 0, 0], [0.1, 0.6, 0.7, 0.2]),  # one class, some predicted positive
        ([0, 0, 0], [0.1, 0.2, 0.3]),  # one class, none predicted positive
        ([1, 1, 1], [0.1, 0.2, 0.9]),
        ([1, 1, 1], [0.6, 0.7, 0.9]),  # one class, all right
        ([0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4]),  # both classes, nothing predicted positive
        ([0, 1, 0, 1], [0.9, 0.8, 0.7, 0.6]),  # both classes, everything predicted positive
    ],
)
def test_threshold_metrics_on_edge_cases_equal_scikit_learn(y, score):
    predicted = (np.asarray(score) >= 0.5).astype(int)
    result = binary_metrics(y, score)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = {
            "balanced_accuracy": skm.balanced_accuracy_score(y, predicted),
            "macro_f1": skm.f1_score(y, predicted, labels=[0, 1], average="macro", zero_division=np.nan),
            "f1": skm.f1_score(y, predicted, zero_division=np.nan),
            "precision": skm.precision_score(y, predicted, zero_division=np.nan),
            "recall": skm.recall_score(y, predicted, zero_division=np.nan),
        }
    for key, value in expected.items():
        np.testing.assert_equal(result[key], value, err_msg=key)
