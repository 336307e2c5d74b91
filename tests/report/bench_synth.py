"""Synthetic bench results, scores and audits for the report tests.

Values are drawn so that each combination's mean is known in advance: the random split
scores higher than the group split (the inflation the report must show) and every model
beats the baselines.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

METRICS = (
    "average_precision",
    "roc_auc",
    "f1",
    "precision",
    "recall",
    "f1_at_val_threshold",
    "precision_at_val_threshold",
    "recall_at_val_threshold",
    "balanced_accuracy",
    "macro_f1",
    "ece",
    "brier",
)
MODELS = ("logreg", "et", "mlp")
BASELINES = ("prior", "stratified", "majority")
FEATURES = ("summary", "rich")
SPLITS = ("random", "group", "time")
#: Mean test AP per split and model; baselines sit at the prevalence.
LEVEL = {"random": 0.95, "group": 0.70, "time": 0.75}
MODEL_SHIFT = {"logreg": -0.05, "et": 0.02, "mlp": 0.0, "prior": None, "stratified": None, "majority": None}


def make_results(n_seeds=5, n_folds=2, splits=SPLITS, models=MODELS + BASELINES, features=FEATURES, seed=0):
    """Long results frame: one row per model, features, split, seed, fold, subset, metric."""
    rng = np.random.default_rng(seed)
    rows = []
    for split in splits:
        for model in models:
            for feat in features:
                for s in range(n_seeds):
                    for fold in range(n_folds):
                        for subset in ("val", "test"):
                            for metric in METRICS:
                                if MODEL_SHIFT.get(model) is None:
                                    centre = 0.2 if metric != "roc_auc" else 0.5
                                    if model == "stratified":
                                        centre -= 0.02
                                else:
                                    centre = LEVEL[split] + MODEL_SHIFT[model] + (0.01 if feat == "rich" else 0.0)
                                    if metric in ("ece", "brier"):
                                        centre = 1.0 - centre
                                value = float(np.clip(centre + rng.normal(0, 0.02), 0, 1))
                                rows.append((model, feat, split, s, fold, subset, metric, value))
    frame = pd.DataFrame(rows, columns=["model", "features", "split", "seed", "fold", "subset", "metric", "value"])
    return frame.astype({"seed": "int64", "fold": "int64"})


def make_scores(
    n_windows=200, n_seeds=3, n_folds=2, splits=SPLITS, models=MODELS + BASELINES, features=FEATURES, n_groups=8, seed=0
):
    """Scores frame: every combination scores the same windows; models separate the classes."""
    rng = np.random.default_rng(seed)
    labels = (rng.random(n_windows) < 0.25).astype(np.int64)
    groups = np.array([f"g{i % n_groups:02d}" for i in range(n_windows)])
    parts = []
    for split in splits:
        for model in models:
            for feat in features:
                for s in range(n_seeds):
                    for fold in range(n_folds):
                        if model == "prior" or model == "majority":
                            score = np.full(n_windows, 0.25 if model == "prior" else 0.0)
                        elif model == "stratified":
                            score = (rng.random(n_windows) < 0.25).astype(float)
                        else:
                            sep = 2.5 if split == "random" else 1.2
                            logit = sep * (labels - 0.5) * 2 + rng.normal(0, 1, n_windows)
                            score = 1 / (1 + np.exp(-logit))
                        parts.append(
                            pd.DataFrame(
                                {
                                    "model": model,
                                    "features": feat,
                                    "split": split,
                                    "seed": s,
                                    "fold": fold,
                                    "subset": "test",
                                    "window_id": np.arange(n_windows, dtype=np.int64),
                                    "label": labels,
                                    "group": groups,
                                    "score": score,
                                }
                            )
                        )
    return pd.concat(parts, ignore_index=True)


def check(name, verdict, explanation="", **numbers):
    return {"check": name, "verdict": verdict, "numbers": numbers, "explanation": explanation}


def make_audits():
    """random fails group_confound; group passes; time warns."""
    return {
        "random": {
            "split": "random",
            "verdict": "FAIL",
            "checks": [
                check("group_overlap", "WARN", "Every test group also appears in train.", shared_groups=8),
                check(
                    "group_confound",
                    "FAIL",
                    "The patient alone predicts the label with ROC AUC 0.97; the score is inflated.",
                    group_auc=0.9712,
                    group_id_accuracy=0.88,
                ),
                check("class_balance", "PASS", "Balanced enough.", test_pos_rate=0.25),
            ],
        },
        "group": {
            "split": "group",
            "verdict": "PASS",
            "checks": [
                check("group_overlap", "PASS", "No group in two subsets.", shared_groups=0),
                check("group_confound", "PASS", "Groups do not predict the label.", group_auc=0.52),
                check("class_balance", "PASS", "Balanced enough.", test_pos_rate=0.24),
            ],
        },
        "time": {
            "split": "time",
            "verdict": "WARN",
            "checks": [
                check("group_overlap", "WARN", "Groups shared across time blocks.", shared_groups=8),
                check("placement_shortcut", "WARN", "Placement predicts the label a little.", auc=0.61),
            ],
        },
    }


META = {
    "dataset": "/data/mitdb_v",
    "counts": {"windows": 200, "positives": 50, "negatives": 150, "groups": 8},
    "models": list(MODELS),
    "features": list(FEATURES),
    "splits": {
        "random": {"strategy": "random", "measures": "windows shuffled; groups shared"},
        "group": {"strategy": "group", "measures": "new patients"},
        "time": {"strategy": "time", "measures": "later in the same recordings"},
    },
    "seeds": list(range(5)),
    "jobs": 2,
    "timings": {"total": 12.5},
}
