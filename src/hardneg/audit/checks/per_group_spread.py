"""per_group_spread: how far the test metrics of single groups are from each other and from the pooled score."""

from __future__ import annotations

import math

import numpy as np
from sklearn.metrics import roc_auc_score

from hardneg.audit._base import PASS, WARN, CheckResult, register_check
from hardneg.audit.checks._common import num, skip

NAME = "per_group_spread"

#: A group's AUC is computed when it holds at least this many test windows of each class, its recall when it holds
#: this many positives: with fewer, one window moves the value by 20 points or more.
MIN_PER_CLASS = 5
#: Decision threshold for recall (the benchmark's fixed one).
THRESHOLD = 0.5
#: Range of per-group ROC AUC (max - min) from which the model works for some groups and not others: 0.3 spans
#: "good" to "poor".
AUC_SPREAD_WARN = 0.3
#: Range of per-group recall from which the detector misses most events of some groups while catching most of
#: others'.
RECALL_SPREAD_WARN = 0.5
#: Pooled AUC above the mean within-group AUC by this much: the pooled number is carried by telling groups apart
#: (their base rates), not by finding events within a group.
POOLED_EXCESS_WARN = 0.1
MAX_LISTED = 20


@register_check(NAME, needs_predictions=True)
def per_group_spread(context) -> CheckResult:
    """Spread of per-group ROC AUC and recall on the test predictions, and pooled vs within-group AUC."""
    scored = context.scored_subset("test")
    if len(scored) == 0:
        return skip(NAME, "The predictions cover no test window of this split; predict on the test subset.")
    rows = []
    for group, part in scored.groupby(scored["group"].astype(str)):
        y, score = part["label"].to_numpy(), part["score"].to_numpy()
        n_pos, n_neg = int(y.sum()), int(len(y) - y.sum())
        auc = float(roc_auc_score(y, score)) if min(n_pos, n_neg) >= MIN_PER_CLASS else math.nan
        recall = float((score[y == 1] >= THRESHOLD).mean()) if n_pos >= MIN_PER_CLASS else math.nan
        rows.append({"group": group, "windows": len(y), "positives": n_pos, "roc_auc": auc, "recall": recall})
    aucs = np.array([r["roc_auc"] for r in rows])
    recalls = np.array([r["recall"] for r in rows])
    auc_ok, recall_ok = ~np.isnan(aucs), ~np.isnan(recalls)
    if auc_ok.sum() < 2 and recall_ok.sum() < 2:
        return skip(
            NAME,
            f"Fewer than two test groups hold {MIN_PER_CLASS} windows of each class (or {MIN_PER_CLASS} positives), "
            "so there is no per-group spread to measure.",
            {"groups": len(rows)},
        )
    y_all = scored["label"].to_numpy()
    pooled = float(roc_auc_score(y_all, scored["score"])) if y_all.min() != y_all.max() else math.nan
    within = float(aucs[auc_ok].mean()) if auc_ok.any() else math.nan
    numbers = {
        "auc_spread": float(np.ptp(aucs[auc_ok])) if auc_ok.sum() >= 2 else math.nan,
        "recall_spread": float(np.ptp(recalls[recall_ok])) if recall_ok.sum() >= 2 else math.nan,
        "pooled_auc": pooled,
        "mean_group_auc": within,
        "min_group_auc": float(aucs[auc_ok].min()) if auc_ok.any() else math.nan,
        "worst_group": rows[int(np.nanargmin(np.where(auc_ok, aucs, np.inf)))]["group"] if auc_ok.any() else None,
        "groups_with_auc": int(auc_ok.sum()),
        "groups_with_recall": int(recall_ok.sum()),
        "groups": sorted(rows, key=lambda r: (math.isnan(r["roc_auc"]), r["roc_auc"]))[:MAX_LISTED],
    }
    findings = []
    if numbers["auc_spread"] >= AUC_SPREAD_WARN:
        findings.append(
            f"per-group ROC AUC ranges over {num(numbers['auc_spread'])} (lowest {num(numbers['min_group_auc'])} for "
            f"group {numbers['worst_group']})"
        )
    elif auc_ok.any() and numbers["min_group_auc"] < 0.5:
        findings.append(f"group {numbers['worst_group']} has ROC AUC {num(numbers['min_group_auc'])}, below chance")
    if numbers["recall_spread"] >= RECALL_SPREAD_WARN:
        findings.append(f"recall at {THRESHOLD} ranges over {num(numbers['recall_spread'])} between groups")
    if not math.isnan(pooled) and not math.isnan(within) and pooled - within >= POOLED_EXCESS_WARN:
        findings.append(
            f"the pooled ROC AUC ({num(pooled)}) exceeds the mean within-group AUC ({num(within)}): part of the pooled "
            "score comes from telling groups apart, not from finding events within a group"
        )
    measured = (
        f"On test, {int(auc_ok.sum())} groups hold at least {MIN_PER_CLASS} windows of each class; their ROC AUC "
        f"averages {num(within)} against a pooled {num(pooled)}."
    )
    if findings:
        return CheckResult(
            NAME,
            WARN,
            numbers,
            measured + " " + "; ".join(findings).capitalize() + ". A single pooled number hides this: report per-group "
            "metrics, look at the weakest groups' data, and make sure the split holds enough groups that one of them "
            "does not decide the score.",
        )
    return CheckResult(
        NAME,
        PASS,
        numbers,
        measured + " The groups agree: the pooled score describes each of them reasonably well.",
    )
