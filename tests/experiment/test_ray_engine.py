"""``engine="ray"``: each (arm, seed) a Ray task on a local instance, with the same tables as the local engine."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hardneg.dataset import write_dataset
from hardneg.experiment import run_experiment

pytest.importorskip("ray", reason="the ray extra is not installed (pip install 'hardneg[ray]')")


def test_ray_engine_writes_what_the_local_engine_writes(tmp_path):
    rng = np.random.default_rng(0)
    n = 240
    index = pd.DataFrame({"window_id": np.arange(n), "label": np.tile([1, 0, 0, 0], n // 4),
                          "recording": np.repeat([f"r{i}" for i in range(6)], 40),
                          "group": np.repeat([f"g{i}" for i in range(6)], 40),
                          "start_sample": np.tile(np.arange(40) * 50, 6)})  # fmt: skip
    index["start_ms"] = index["start_sample"] * 10.0
    index["end_ms"] = index["start_ms"] + 500.0
    windows = rng.normal(size=(n, 2, 50)).astype(np.float32) + index["label"].to_numpy()[:, None, None]
    write_dataset(tmp_path / "ds", windows, index, {"channels": ["a", "b"], "sample_rate_hz": 100.0})
    (tmp_path / "x.yaml").write_text(
        "dataset: ds\nseeds: 2\nmodel: logreg\nn_resamples: 100\nbaseline: {positives: all}\n"
        "arms: {positives: {all: {}, half: {fraction: 0.5}}}\neval: {iid: {split: group}}\n"
    )
    on_ray = run_experiment(tmp_path / "x.yaml", tmp_path / "ray", engine="ray")
    local = run_experiment(tmp_path / "x.yaml", tmp_path / "local", jobs=2)
    assert (on_ray.runs["status"] == "done").all() and len(on_ray.runs) == 4
    for name in ("results.parquet", "comparisons.parquet", "summary.parquet", "criteria.parquet"):
        assert (tmp_path / "ray" / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name
    assert not local.tables["comparisons"].empty
