"""calibration: expected calibration error and the reliability table of the test predictions."""

from __future__ import annotations

import numpy as np

from hardneg.audit._base import PASS, WARN, CheckResult, register_check
from hardneg.audit.checks._common import num, pct, skip
from hardneg.metrics import expected_calibration_error, reliability_table

NAME = "calibration"

#: ECE above which a score of 0.8 can no longer be read as "80% of such windows are events": 0.1 is ten points of
#: probability on average, more than most decision thresholds can absorb.
ECE_WARN = 0.1
N_BINS = 10
#: Fewer test predictions than this and an ECE over 10 bins is mostly sampling noise; the explanation says so.
MIN_RELIABLE = 100


@register_check(NAME, needs_predictions=True)
def calibration(context) -> CheckResult:
    """Expected calibration error (10 equal-width bins) and reliability of the test predictions."""
    scored = context.scored_subset("test")
    if len(scored) == 0:
        return skip(NAME, "The predictions cover no test window of this split; predict on the test subset.")
    y, score = scored["label"].to_numpy(), scored["score"].to_numpy()
    ece = expected_calibration_error(y, score, n_bins=N_BINS)
    table = reliability_table(y, score, n_bins=N_BINS)
    occupied = table[table["count"] > 0]
    gaps = (occupied["positive_rate"] - occupied["mean_score"]).to_numpy()
    numbers = {
        "ece": ece,
        "mean_score": float(score.mean()),
        "positive_rate": float(y.mean()),
        "largest_bin_gap": float(gaps[np.argmax(np.abs(gaps))]) if len(gaps) else float("nan"),
        "predictions": len(y),
        "reliability": occupied.to_dict(orient="records"),
    }
    direction = "above" if score.mean() > y.mean() else "below"
    measured = (
        f"Expected calibration error on the {len(y)} test predictions is {num(ece, 3)} ({N_BINS} equal-width bins): "
        f"predicted probabilities differ from the observed positive rate by that much on average. The mean score is "
        f"{num(score.mean(), 3)} against a positive rate of {num(y.mean(), 3)} ({direction})."
    )
    noise = f" With fewer than {MIN_RELIABLE} predictions this estimate is noisy." if len(y) < MIN_RELIABLE else ""
    if ece > ECE_WARN:
        return CheckResult(
            NAME,
            WARN,
            numbers,
            measured + " Scores cannot be read as probabilities, and a fixed threshold such as 0.5 lands somewhere "
            "arbitrary. Oversampled training data (the positive rate the model saw was "
            f"{'higher' if direction == 'above' else 'different'}) and class weights cause this; recalibrate on "
            "validation (sklearn's CalibratedClassifierCV) or choose thresholds on validation." + noise,
        )
    return CheckResult(
        NAME,
        PASS,
        numbers,
        measured + f" Within {ECE_WARN} on average: the scores can be read as probabilities ({pct(ece)} off)." + noise,
    )
