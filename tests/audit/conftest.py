"""Builders for the audit tests: small in-memory datasets, hand-made split frames and predictions.

Every builder is independent of the audit code: indexes and frames are laid
out by hand so that the right verdict is known before a check runs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hardneg.dataset import Dataset


class Build:
    """Namespace of builders, handed to tests by the ``build`` fixture."""

    @staticmethod
    def grid_index(
        n_recordings: int = 6,
        per_recording: int = 60,
        spacing_ms: float = 1000.0,
        window_ms: float = 500.0,
        prevalence=0.2,
        groups=None,
        seed: int = 0,
    ) -> pd.DataFrame:
        """Windows every ``spacing_ms`` on each recording; labels drawn with the per-recording ``prevalence``."""
        rng = np.random.default_rng(seed)
        rows = []
        prevalences = np.broadcast_to(np.asarray(prevalence, dtype=float), (n_recordings,))
        for r in range(n_recordings):
            labels = (rng.random(per_recording) < prevalences[r]).astype(np.int8)
            for i in range(per_recording):
                rows.append(
                    {
                        "recording": f"rec{r}",
                        "group": groups[r] if groups is not None else f"g{r}",
                        "start_ms": i * spacing_ms,
                        "end_ms": i * spacing_ms + window_ms,
                        "label": labels[i],
                    }
                )
        return pd.DataFrame(rows)

    @staticmethod
    def dataset(
        index: pd.DataFrame,
        windows: np.ndarray | None = None,
        *,
        channels: int = 2,
        samples: int = 40,
        seed: int = 0,
        window_ms: float | None = None,
        neg_avoid_post_ms: float = 0.0,
        recordings: list[dict] | None = None,
    ) -> Dataset:
        """A Dataset in memory: ``index`` completed with the usual columns, random windows unless given."""
        index = index.reset_index(drop=True).copy()
        n = len(index)
        index.insert(0, "window_id", np.arange(n, dtype=np.int64))
        index["label"] = index["label"].astype(np.int8)
        index["kind"] = np.where(index["label"] == 1, "pos", "far")
        index["event_id"] = pd.array([pd.NA] * n, dtype="Int64")
        if windows is None:
            windows = np.random.default_rng(seed).standard_normal((n, channels, samples)).astype(np.float32)
        if window_ms is None:
            window_ms = float((index["end_ms"] - index["start_ms"]).median())
        meta = {
            "parameters": {"window_ms": window_ms, "neg_avoid_post_ms": neg_avoid_post_ms},
            "sample_rate_hz": 100.0,
            "recordings": recordings if recordings is not None else [],
        }
        return Dataset(None, index, windows, meta)

    @staticmethod
    def frame(subsets, fold=0, window_ids=None, copies=None) -> pd.DataFrame:
        subsets = np.asarray(subsets)
        ids = np.arange(len(subsets)) if window_ids is None else np.asarray(window_ids)
        return pd.DataFrame(
            {
                "fold": np.full(len(subsets), fold, dtype=np.int32),
                "window_id": ids.astype(np.int64),
                "subset": subsets,
                "copies": np.ones(len(subsets), dtype=np.int32) if copies is None else np.asarray(copies, np.int32),
            }
        )

    @staticmethod
    def random_subsets(n: int, seed: int = 0, test: float = 0.2, val: float = 0.2) -> np.ndarray:
        u = np.random.default_rng([seed, 1]).random(n)  # not grid_index's stream: subsets independent of labels
        return np.where(u < test, "test", np.where(u < test + val, "val", "train"))

    @staticmethod
    def group_subsets(groups, test_groups, val_groups=()) -> np.ndarray:
        groups = np.asarray(groups)
        out = np.full(len(groups), "train", dtype=object)
        out[np.isin(groups, list(val_groups))] = "val"
        out[np.isin(groups, list(test_groups))] = "test"
        return out.astype(str)

    @staticmethod
    def predictions(scores, window_ids=None, fold=None) -> pd.DataFrame:
        scores = np.asarray(scores, dtype=np.float64)
        frame = pd.DataFrame(
            {"window_id": np.arange(len(scores)) if window_ids is None else np.asarray(window_ids), "score": scores}
        )
        if fold is not None:
            frame["fold"] = fold
        return frame


@pytest.fixture
def build():
    return Build
