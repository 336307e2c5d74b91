"""per_group_spread: a positive scoring exactly THRESHOLD (0.5) counts as found in the per-group recall."""

import numpy as np
import pandas as pd

from hardneg.audit import AuditContext, run_audit
from hardneg.audit.checks.per_group_spread import THRESHOLD


def _index(positive_scores: dict[str, list[float]], negatives: int = 5) -> tuple[pd.DataFrame, np.ndarray]:
    """One recording per group: its positives with the given scores, then ``negatives`` negatives scoring 0.1."""
    rows, scores = [], []
    for group, pos in positive_scores.items():
        labels = [1] * len(pos) + [0] * negatives
        for i, label in enumerate(labels):
            rows.append(
                {"recording": f"rec_{group}", "group": group, "start_ms": 1000.0 * i, "end_ms": 1000.0 * i + 500.0,
                 "label": label}
            )  # fmt: skip
        scores += list(pos) + [0.1] * negatives
    return pd.DataFrame(rows), np.asarray(scores)


def _run(build, positive_scores):
    index, scores = _index(positive_scores)
    ds = build.dataset(index)
    frame = build.frame(np.full(len(index), "test"))
    context = AuditContext(ds, frame, {}, predictions=build.predictions(scores))
    return run_audit(context, ["per_group_spread"])["per_group_spread"]


def test_positives_exactly_on_the_threshold_are_recalled(build):
    assert THRESHOLD == 0.5
    result = _run(build, {"g0": [0.5] * 5, "g1": [0.9] * 5})
    recall = {row["group"]: row["recall"] for row in result.numbers["groups"]}
    assert recall == {"g0": 1.0, "g1": 1.0}
    assert result.numbers["recall_spread"] == 0.0
    assert result.verdict == "PASS", result.explanation


def test_recall_counts_ties_and_misses_by_hand(build):
    # g0: 3 of 5 positives at >= 0.5 (two exactly on it); g1: 1 of 5 (exactly on it)
    result = _run(build, {"g0": [0.5, 0.5, 0.7, 0.4999, 0.2], "g1": [0.5, 0.3, 0.3, 0.2, 0.49]})
    recall = {row["group"]: row["recall"] for row in result.numbers["groups"]}
    assert recall == {"g0": 0.6, "g1": 0.2}
    assert result.numbers["recall_spread"] == 0.6 - 0.2
    # every positive outscores every negative (0.1) in both groups: AUC 1 each and pooled, and a recall spread of
    # 0.4 stays under RECALL_SPREAD_WARN (0.5)
    assert result.numbers["auc_spread"] == 0.0 and result.numbers["pooled_auc"] == 1.0
    assert result.verdict == "PASS", result.explanation
