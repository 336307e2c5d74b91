"""val_test_gap: validation and test scores that differ by more than their bootstrap interval allows."""

from __future__ import annotations

import math

from hardneg.audit._base import FAIL, PASS, WARN, CheckResult, register_check
from hardneg.audit.checks._common import num, pct, skip
from hardneg.stats import difference_interval

NAME = "val_test_gap"

METRICS = ("average_precision", "roc_auc")
#: A validation score above test by this much, beyond the interval, means model selection and thresholds were tuned
#: on a subset that does not behave like test (a typical case: tail recall 60% on validation, 17% on test). FAIL.
GAP_FAIL = 0.15


@register_check(NAME, needs_predictions=True)
def val_test_gap(context) -> CheckResult:
    """Validation minus test average precision and ROC AUC, with a bootstrap interval of the difference."""
    val, test = context.scored_subset("val"), context.scored_subset("test")
    if len(val) == 0 or len(test) == 0:
        missing = "validation" if len(val) == 0 else "test"
        return skip(NAME, f"The predictions cover no {missing} window of this split, so there is no gap to measure.")
    y_val, y_test = val["label"].to_numpy(), test["label"].to_numpy()
    if y_val.min() == y_val.max() or y_test.min() == y_test.max():
        return skip(NAME, "Validation or test predictions hold one class only, so AP and ROC AUC are undefined.")
    numbers, worst = {}, None
    for metric in METRICS:
        result = difference_interval(
            metric,
            y_val,
            val["score"].to_numpy(),
            y_test,
            test["score"].to_numpy(),
            confidence=context.confidence,
            rng=context.rng(f"{NAME}/{metric}"),
        )
        numbers[f"{metric}_gap"] = result["value"]
        numbers[f"{metric}_gap_low"] = result["low"]
        numbers[f"{metric}_gap_high"] = result["high"]
        outside = not math.isnan(result["low"]) and (result["low"] > 0 or result["high"] < 0)
        if outside and (worst is None or abs(result["value"]) > abs(worst[1])):
            worst = (metric, result["value"], result["low"], result["high"])
    numbers["confidence"] = context.confidence
    numbers["val_windows"], numbers["test_windows"] = len(val), len(test)
    measured = (
        f"Validation minus test: average precision {num(numbers['average_precision_gap'])} "
        f"({pct(context.confidence, 0)} interval {num(numbers['average_precision_gap_low'])} to "
        f"{num(numbers['average_precision_gap_high'])}), ROC AUC {num(numbers['roc_auc_gap'])} "
        f"({num(numbers['roc_auc_gap_low'])} to {num(numbers['roc_auc_gap_high'])})."
    )
    if worst is None:
        return CheckResult(
            NAME,
            PASS,
            numbers,
            measured + " Both intervals include 0: validation predicts test performance, so thresholds and model "
            "choices made on validation carry over.",
        )
    metric, value, _, _ = worst
    name = metric.replace("_", " ")
    if value >= GAP_FAIL:
        return CheckResult(
            NAME,
            FAIL,
            numbers,
            measured + f" Validation {name} is higher than test by {num(value)}, beyond the interval: validation is "
            "easier than test, usually because it shares groups, recordings or time with training while test does "
            "not (a typical case: tail recall 60% on validation, 17% on test). Everything tuned on validation (the model, its "
            "threshold, early stopping) is then tuned for the wrong data; draw validation the way test is drawn "
            "(the same group split, inside the training groups).",
        )
    direction = "higher" if value > 0 else "lower"
    return CheckResult(
        NAME,
        WARN,
        numbers,
        measured + f" Validation {name} is {direction} than test by {num(abs(value))}, more than chance explains: "
        "the two subsets do not measure the same thing. Check that validation and test are drawn the same way "
        "(groups, time, class balance) before choosing thresholds on validation.",
    )
