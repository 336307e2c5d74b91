"""The rows one scored subset adds to ``results.parquet`` and ``scores.parquet``, for fitted and external models."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hardneg.metrics import metric_rows

__all__ = ["subset_rows"]


def subset_rows(keys: dict, fold: int, subset: str, ids, score, threshold: float, labels, groups, kinds):
    """Every metric of one (fold, subset) at ``threshold``, and its scores with label, group, kind and threshold.

    Examples
    --------
    >>> import numpy as np
    >>> keys = {"model": "et", "features": "rich", "split": "group", "seed": 0}
    >>> results, scores = subset_rows(keys, 0, "test", np.array([0, 2]), np.array([0.2, 0.9]), 0.5,
    ...                               np.array([0, 0, 1]), np.array(["a", "a", "b"]), np.array(["near", "far", "pos"]))
    >>> [row["value"] for row in results if row["metric"] == "roc_auc"], scores["kind"].tolist()
    ([1.0], ['near', 'pos'])
    """
    results = [
        {**keys, "fold": int(fold), "subset": subset, "metric": metric, "value": float(value)}
        for metric, value in metric_rows(labels[ids], score, threshold).items()
    ]
    scores = pd.DataFrame(
        {
            **{key: [value] * len(ids) for key, value in keys.items()},
            "fold": np.full(len(ids), int(fold)),
            "subset": subset,
            "window_id": ids,
            "label": labels[ids],
            "group": groups[ids],
            "kind": kinds[ids],
            "score": score,
            "threshold": np.full(len(ids), float(threshold)),
        }
    )
    return results, scores
