"""prediction_clustering: predictions piled on a few repeated values (e.g. 16 values each appearing 3+ times)."""

from __future__ import annotations

import math

import numpy as np

from hardneg.audit._base import FAIL, PASS, WARN, CheckResult, register_check
from hardneg.audit.checks._common import pct, skip

NAME = "prediction_clustering"

#: A value counts as a cluster when at least this many predictions share it ("3+ times").
MIN_REPEATS = 3
#: Scores are compared after rounding to 12 decimals, so float noise of the same computation does not split a value.
DECIMALS = 12
#: Share of predictions sitting on clustered values: from 10% the model answers with a few levels for a good part
#: of the windows (WARN); from 50% it mostly does (FAIL, when those levels also tie positives with negatives).
SHARE_WARN = 0.1
SHARE_FAIL = 0.5
#: This many distinct values used 3+ times is the signature of a model that outputs one level per
#: video, camera or subject. WARN.
VALUES_WARN = 16
#: Share of (positive, negative) pairs given exactly the same score: a tied pair is a coin flip for ROC AUC. Repeated
#: values that tie windows of one class only (tree votes of exactly 0 for easy negatives) do no harm to ranking; from
#: 0.5% of pairs they start to, from 5% (with half the predictions clustered) the ranking is mostly coin flips.
TIED_PAIRS_WARN = 0.005
TIED_PAIRS_FAIL = 0.05


def tied_pair_share(labels: np.ndarray, score: np.ndarray) -> float:
    """Share of (positive, negative) pairs with exactly equal scores."""
    labels = labels.astype(bool)
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    _, codes = np.unique(score, return_inverse=True)
    pos = np.bincount(codes[labels], minlength=codes.max() + 1)
    neg = np.bincount(codes[~labels], minlength=codes.max() + 1)
    return float((pos * neg).sum() / (n_pos * n_neg))


@register_check(NAME, needs_predictions=True)
def prediction_clustering(context) -> CheckResult:
    """Share of test predictions on repeated values and the number of values used 3 or more times."""
    scored = context.scored_subset("test")
    if len(scored) == 0:
        return skip(NAME, "The predictions cover no test window of this split; predict on the test subset.")
    score = np.round(scored["score"].to_numpy(), DECIMALS)
    labels = scored["label"].to_numpy()
    values, codes, counts = np.unique(score, return_inverse=True, return_counts=True)
    clustered = counts[codes] >= MIN_REPEATS
    share = float(clustered.mean())
    n_clustered = int((counts >= MIN_REPEATS).sum())
    tied = tied_pair_share(labels, score)
    # how much each clustered value is one group's: a model that outputs one level per group shows purity near 1
    purity = float("nan")
    if clustered.any():
        part = scored[clustered].assign(value=score[clustered])
        top = part.groupby(["value", "group"]).size().groupby(level="value").max()
        purity = float(top.sum() / len(part))
    order = np.argsort(-counts, kind="stable")[:5]
    numbers = {
        "clustered_share": share,
        "values_used_3_plus": n_clustered,
        "distinct_values": len(values),
        "tied_pair_share": tied,
        "saturated_share": float(((score == 0) | (score == 1)).mean()),
        "clustered_group_purity": purity,
        "top_values": [{"score": float(values[i]), "count": int(counts[i])} for i in order],
        "predictions": len(score),
    }
    measured = (
        f"{pct(share)} of the {len(score)} test predictions sit on a value used {MIN_REPEATS} or more times "
        f"({n_clustered} such values, {len(values)} distinct values in all); {pct(tied, 2)} of positive-negative "
        "pairs get exactly the same score."
    )
    if len(values) <= 2 or (share >= SHARE_FAIL and tied >= TIED_PAIRS_FAIL):
        verdict = FAIL
        advice = (
            " The model answers with a handful of levels, so it cannot rank windows within them and ROC/PR curves "
            "are mostly straight lines between a few points. A typical cause is a model recognising the "
            "group (a video model scoring each video at one level): check group_confound"
            + (
                f" (here {pct(purity)} of each clustered value's windows come from one group)"
                if not math.isnan(purity)
                else ""
            )
            + ", regularise, and fix the split before trusting any metric."
        )
    elif (share >= SHARE_WARN or n_clustered >= VALUES_WARN) and tied >= TIED_PAIRS_WARN:
        verdict = WARN
        advice = (
            " Many predictions repeat exactly and some of the repeats tie positives with negatives. Repeated values "
            "are expected from tree ensembles with few trees or k-NN; from a network or a linear model they mean "
            "collapsed inputs or outputs per group"
            + (
                f" ({pct(purity)} of each clustered value's windows come from one group)"
                if not math.isnan(purity)
                else ""
            )
            + "."
        )
    else:
        verdict = PASS
        advice = (
            " Repeats are rare or tie windows of one class only (e.g. tree votes of exactly 0 for easy negatives), "
            "which does not hurt ranking."
        )
    return CheckResult(NAME, verdict, numbers, measured + advice)
