"""The demo's experiment step: the small grid ran, its deltas follow from the runs, the full grid is written."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score

from hardneg.demo import run_demo
from hardneg.experiment import load_experiment


@pytest.fixture(scope="module")
def step(tmp_path_factory):
    return run_demo(tmp_path_factory.mktemp("demo") / "demo", seed=0, mine=True, experiment=True).experiment


def test_small_grid_ran_and_the_full_grid_is_a_valid_file(step):
    result = step["result"]
    assert [arm.name for arm in result.experiment.arms] == ["none", "mined", *(f"t{round(t * 100):02d}" for t in step["tiers"])]
    assert (result.runs["status"] == "done").all() and len(result.runs) == 4 * 3
    mined = pd.read_parquet(step["file"].parent.parent / "mined" / "candidates.parquet")["score"]
    low, high = step["tiers"]
    # each tier keeps windows: at most the median / upper quartile, cut down to 2 decimals
    assert low <= mined.quantile(0.5) < low + 0.01 and high <= mined.quantile(0.75) < high + 0.01
    full = load_experiment(step["full_file"])
    assert len(full.arms) == 8 and full.seeds == (0, 1, 2, 3, 4) and list(full.axes) == ["negatives", "positives"]


def test_deltas_follow_from_the_runs_predictions(step):
    """F1 recomputed with scikit-learn from each run's predictions and threshold, then paired by seed."""
    result = step["result"]
    out = result.out
    index = pd.read_parquet(step["file"].parent.parent / "dataset" / "index.parquet").set_index("window_id")
    f1 = {}
    for row in result.runs.itertuples():
        run = out / "runs" / row.arm / str(row.seed)
        threshold = json.loads((run / "metrics.json").read_text())["threshold"]
        predictions = pd.read_parquet(run / "iid.predictions.parquet")
        labels = index.loc[predictions["window_id"], "label"].to_numpy()
        f1[(row.arm, row.seed)] = f1_score(labels, (predictions["score"] >= threshold).astype(int))
    comparisons = result.tables["comparisons"].query("metric == 'f1'")
    assert sorted(comparisons["arm"]) == sorted(arm.name for arm in result.experiment.arms if arm.name != "none")
    for row in comparisons.itertuples():
        deltas = [f1[(row.arm, seed)] - f1[("none", seed)] for seed in range(3)]
        assert row.baseline == "none" and row.n_pairs == 3
        assert np.isclose(row.mean_delta, np.mean(deltas))
        assert row.ci_low <= row.mean_delta <= row.ci_high
        # 3 paired seeds can never reach p < 0.05 with a two-sided Wilcoxon test (smallest p 0.25)
        assert not row.reachable and row.label != "significant"
    report = (out / "report.md").read_text()
    assert "cannot go below p = 0.25" in report
