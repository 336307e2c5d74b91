"""The demo's experiment step: no hard negatives against mined tiers, paired by seed (``hardneg experiment``).

The tiers are cut from the mined scores the demo itself produced (every mined window, the top half, the top
quarter), so they hold windows whatever the world's seed. The step runs a small grid (the negative sets x 3
seeds) to keep the demo short, and writes the full grid (x two positive subsets x 5 seeds) beside it as a file
to run with ``hardneg experiment``.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

#: the demo's small grid; the full one adds positive subsets and seeds
DEMO_EXPERIMENT_SEEDS = 3
FULL_EXPERIMENT_SEEDS = 5


def _tier(score: float) -> float:
    """``score`` cut down to 2 decimals, so the tier never lies above the windows it is meant to keep."""
    return math.floor(score * 100.0) / 100.0


def experiment_text(seeds: int, *, positives: bool, tiers: tuple[float, float], model: str = "et") -> str:
    """The experiment file the demo writes (paths relative to it: ``../dataset``, ``../mined``)."""
    low, high = tiers
    lines = [
        "# hardneg experiment: does adding mined hard negatives help, and which tier?",
        "dataset: ../dataset",
        f"seeds: {seeds}",
        f"model: {model}",
        "n_resamples: 500",
        "baseline: {negatives: none}",
        "arms:",
        "  negatives:",
        "    none: {}",
        "    mined: {hard_negatives: ../mined}",
        f"    t{round(low * 100):02d}: {{hard_negatives: ../mined, hard_tier: {low}}}",
        f"    t{round(high * 100):02d}: {{hard_negatives: ../mined, hard_tier: {high}}}",
    ]
    if positives:
        lines += ["  positives:", "    all: {}", "    half: {fraction: 0.5}"]
    lines += [
        "eval:",
        "  iid: {split: group, test_size: 0.34}",
        'criteria: ["iid.recall >= 0.35", "iid.roc_auc > 0.6"]',
        "",
    ]
    return "\n".join(lines)


def run_experiment_step(root: Path, *, jobs: int = 1, progress=None) -> dict:
    """Write ``root/experiment/experiment.yaml`` (and ``experiment-full.yaml``) and run the small one."""
    from hardneg.experiment import run_experiment

    folder = root / "experiment"
    folder.mkdir(parents=True, exist_ok=True)
    scores = pd.read_parquet(root / "mined" / "candidates.parquet", columns=["score"])["score"]
    tiers = (_tier(float(scores.quantile(0.5))), _tier(float(scores.quantile(0.75))))
    small = folder / "experiment.yaml"
    small.write_text(experiment_text(DEMO_EXPERIMENT_SEEDS, positives=False, tiers=tiers))
    full = folder / "experiment-full.yaml"
    full.write_text(experiment_text(FULL_EXPERIMENT_SEEDS, positives=True, tiers=tiers))
    result = run_experiment(small, folder / "out", jobs=jobs, progress=progress)
    return {"file": small, "full_file": full, "result": result, "tiers": tiers}
