"""A score equal to the decision threshold is predicted positive (``score >= threshold``), counted by hand."""

from __future__ import annotations

import pytest

from hardneg.metrics import binary_metrics, choose_threshold, metric_rows

# Labels and scores with two windows exactly on 0.5 (one positive, one negative) and one on 0.3.
Y = [1, 0, 1, 0, 1, 0]
SCORE = [0.5, 0.5, 0.9, 0.1, 0.3, 0.3]


def test_score_equal_to_the_threshold_is_predicted_positive():
    result = binary_metrics(Y, SCORE, threshold=0.5)
    # predicted positive: 0.5, 0.5, 0.9 -> TP 2 (0.5, 0.9), FP 1 (0.5), FN 1 (0.3), TN 2 (0.1, 0.3)
    assert result["precision"] == 2 / 3
    assert result["recall"] == 2 / 3
    assert result["f1"] == pytest.approx(2 / 3)
    # class 0: recall 2/3 (0.1 and 0.3 of 0.5, 0.1, 0.3), precision 2/3 -> F1 2/3
    assert result["balanced_accuracy"] == pytest.approx(2 / 3)
    assert result["macro_f1"] == pytest.approx(2 / 3)


def test_threshold_equal_to_the_lowest_positive_score_finds_every_positive():
    result = binary_metrics(Y, SCORE, threshold=0.3)
    # predicted positive: all but 0.1 -> TP 3, FP 2, FN 0, TN 1
    assert result["recall"] == 1.0
    assert result["precision"] == 3 / 5
    assert result["f1"] == pytest.approx(2 * 3 / (2 * 3 + 2 + 0))
    assert result["balanced_accuracy"] == pytest.approx((1.0 + 1 / 3) / 2)


@pytest.mark.parametrize("threshold", [0.9, 1.0, 0.0])
def test_extreme_thresholds_equal_to_a_score(threshold):
    y, score = [1, 0, 1, 0], [1.0, 0.0, 0.9, 0.4]
    result = binary_metrics(y, score, threshold=threshold)
    # >= 1.0: the 1.0 only; >= 0.9: both positives; >= 0.0: everything
    expected = {1.0: (1.0, 0.5), 0.9: (1.0, 1.0), 0.0: (0.5, 1.0)}[threshold]
    assert (result["precision"], result["recall"]) == expected


def test_metric_rows_at_a_validation_threshold_equal_to_a_score():
    rows = metric_rows(Y, SCORE, val_threshold=0.3)
    assert rows["recall_at_val_threshold"] == 1.0
    assert rows["precision_at_val_threshold"] == 3 / 5
    assert rows["f1_at_val_threshold"] == pytest.approx(0.75)
    # the fixed-threshold metrics are taken at 0.5, where the tie is predicted positive too
    assert rows["precision"] == 2 / 3 and rows["recall"] == 2 / 3


def test_chosen_threshold_reproduces_the_f1_it_was_chosen_for():
    # F1 by hand at each candidate: >= 0.9: TP 1 FP 0 -> 2/4 = 0.5; >= 0.5: TP 2 FP 1 -> 4/6; >= 0.3: TP 3 FP 2 -> 6/8;
    # >= 0.1: TP 3 FP 3 -> 6/9. Best: 0.75 at 0.3, a score two windows sit on.
    threshold = choose_threshold(Y, SCORE)
    assert threshold == 0.3
    assert metric_rows(Y, SCORE, threshold)["f1_at_val_threshold"] == pytest.approx(0.75)
    assert binary_metrics(Y, SCORE, threshold=threshold)["f1"] == pytest.approx(0.75)
