"""roc_below_chance: a test ROC AUC below 0.5, with its bootstrap interval."""

from __future__ import annotations

import math

import numpy as np

from hardneg.audit._base import FAIL, PASS, WARN, CheckResult, register_check
from hardneg.audit.checks._common import num, pct, skip
from hardneg.stats import metric_interval, point_metric

NAME = "roc_below_chance"

#: Chance level of ROC AUC. Below it the model ranks negatives above positives more often than not (e.g.
#: 0.35): FAIL. Above it but with an interval that reaches it, the test set cannot tell the model from a coin: WARN.
CHANCE = 0.5


@register_check(NAME, needs_predictions=True)
def roc_below_chance(context) -> CheckResult:
    """Test ROC AUC below 0.5 (worse than random), with a bootstrap interval."""
    scored = context.scored_subset("test")
    labels = scored["label"].to_numpy()
    if len(scored) == 0 or labels.min() == labels.max():
        return skip(NAME, "The predictions cover no test windows of both classes, so no ROC AUC can be measured.")
    result = metric_interval(
        "roc_auc", labels, scored["score"].to_numpy(), confidence=context.confidence, rng=context.rng(NAME)
    )
    per_fold = []
    if scored["fold"].nunique() > 1:
        for fold, part in scored.groupby("fold"):
            y = part["label"].to_numpy()
            if y.min() != y.max():
                per_fold.append({"fold": int(fold), "roc_auc": point_metric("roc_auc", y, part["score"].to_numpy())})
    numbers = {
        "roc_auc": result["value"],
        "ci_low": result["low"],
        "ci_high": result["high"],
        "confidence": context.confidence,
        "positives": int(labels.sum()),
        "negatives": int(len(labels) - labels.sum()),
    }
    if per_fold:
        numbers["min_fold_roc_auc"] = min(entry["roc_auc"] for entry in per_fold)
        numbers["per_fold"] = per_fold
    auc, low, high = result["value"], result["low"], result["high"]
    interval = f"{pct(context.confidence, 0)} interval {num(low)}-{num(high)}" if not math.isnan(low) else "no interval"
    measured = (
        f"Test ROC AUC is {num(auc)} ({interval}, {numbers['positives']} positives, {numbers['negatives']} negatives)."
    )
    if auc < CHANCE:
        significant = not math.isnan(high) and high < CHANCE
        return CheckResult(
            NAME,
            FAIL,
            numbers,
            measured
            + " The model ranks negatives above positives more often than not"
            + (", and the interval excludes 0.5, so this is not bad luck" if significant else "")
            + ". A model worse than random on test has learnt something that flips between training and test: the "
            "group, camera or recording (a video model split within videos can fall to 0.35 this way), or a label or score "
            "inverted in the pipeline. Check group_confound and the label convention before anything else.",
        )
    if np.isnan(low) or low <= CHANCE:
        return CheckResult(
            NAME,
            WARN,
            numbers,
            measured + " The interval reaches 0.5: on this test set the model cannot be told apart from random "
            "ranking. Collect more test events or use a stronger model before drawing conclusions.",
        )
    return CheckResult(
        NAME, PASS, numbers, measured + " The whole interval is above 0.5: the model ranks better than chance."
    )
