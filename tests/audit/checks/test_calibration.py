"""calibration: calibrated scores PASS, overconfident scores WARN; ECE against an independent computation."""

import numpy as np
import pytest

from hardneg.audit import AuditContext, run_audit


def _run(build, scores, labels):
    index = build.grid_index(n_recordings=5, per_recording=len(labels) // 5)
    index["label"] = labels
    ds = build.dataset(index)
    frame = build.frame(np.full(len(labels), "test"))
    context = AuditContext(ds, frame, {}, predictions=build.predictions(scores))
    return run_audit(context, ["calibration"])["calibration"]


def ece_by_hand(labels, scores, n_bins=10):
    total = 0.0
    for b in range(n_bins):
        low, high = b / n_bins, (b + 1) / n_bins
        inside = (scores > low) & (scores <= high) if b else (scores >= low) & (scores <= high)
        if inside.any():
            total += inside.sum() * abs(labels[inside].mean() - scores[inside].mean())
    return total / len(labels)


def test_calibrated_and_miscalibrated(build):
    rng = np.random.default_rng(0)
    probability = rng.beta(1, 3, 5000)
    labels = (rng.random(5000) < probability).astype(int)
    result = _run(build, probability, labels)
    assert result.verdict == "PASS"
    assert result.numbers["ece"] == pytest.approx(ece_by_hand(labels, probability))
    assert result.numbers["ece"] < 0.03

    overconfident = probability**0.3  # pushed towards 1: what oversampled training does
    result = _run(build, overconfident, labels)
    assert result.verdict == "WARN"
    assert result.numbers["ece"] == pytest.approx(ece_by_hand(labels, overconfident))
    assert result.numbers["mean_score"] > result.numbers["positive_rate"]
    bins = result.numbers["reliability"]
    assert sum(b["count"] for b in bins) == 5000
