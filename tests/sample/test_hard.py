"""Mined windows back into the dataset as kind=hard negatives."""

import numpy as np
import pandas as pd
import pytest

from hardneg.errors import InputError
from hardneg.io import Recording
from hardneg.sample import SamplingConfig, sample_windows
from hardneg.mine._manifest import read_mined
from hardneg.sample._hard import HardNegatives


def recording(rec_id, n=3000, fs=100.0, nan_at=None, seed=0):
    rng = np.random.default_rng(seed)
    data = [rng.normal(0, 1, n) for _ in range(3)]
    if nan_at is not None:
        data[0][nan_at] = np.nan
    return Recording(rec_id, f"g_{rec_id}", 0.0, fs, ["x", "y", "z"], data, f"{rec_id}.csv")


def test_hard_windows_are_centred_checked_and_taken_from_the_raw_samples():
    main = recording("main", seed=1)
    pool = recording("pool", nan_at=2030, seed=2)
    events = pd.DataFrame({"recording": ["main"], "t_ms": [15000.0], "end_ms": [15000.0], "event_id": [0]})
    mined = pd.DataFrame(
        {
            "recording": ["pool", "pool", "pool", "main", "main", "nowhere"],
            # fits; holds the NaN at sample 2030; falls off the end; in main's zone; clear of it; unknown
            "start_ms": [5000.0, 19800.0, 29800.0, 14300.0, 25000.0, 0.0],
            "end_ms": [6000.0, 20800.0, 30800.0, 15300.0, 26000.0, 1000.0],
            "score": [0.9, 0.8, 0.7, 0.95, 0.6, 0.99],
        }
    )
    config = SamplingConfig(window_ms=500, lead_ms=100, neg_mult=1, neg_avoid_post_ms=1000)
    sampled = sample_windows([main], events, config, seed=0, hard=HardNegatives(mined, [pool]))
    counts = sampled.report["hard"]
    assert counts == {"requested": 6, "unknown_recording": 1, "outside_recording": 1, "contains_nan": 1,
                      "exclusion_zone": 1, "added": 2}  # fmt: skip
    hard = sampled.index[sampled.index["kind"] == "hard"].sort_values("start_ms")
    # centred on the mined window: (5000 + 6000) / 2 - 250 and (25000 + 26000) / 2 - 250
    assert hard["start_ms"].tolist() == [5250.0, 25250.0]
    assert hard["recording"].tolist() == ["pool", "main"]
    assert hard["group"].tolist() == ["g_pool", "g_main"]
    assert (hard["label"] == 0).all() and hard["event_id"].isna().all()
    windows = sampled.extract([main, pool])
    for row in hard.itertuples():
        source = pool if row.recording == "pool" else main
        first = int(round(row.start_ms / 10.0))
        expected = np.stack([values[first : first + 50] for values in source.data]).astype(np.float32)
        np.testing.assert_array_equal(windows[row.window_id], expected)


def test_read_mined_filters_by_tier_and_keeps_the_best(tmp_path):
    mined = tmp_path / "mined"
    mined.mkdir()
    pd.DataFrame(
        {"item": ["a", "a", "b", "c"], "group": ["g"] * 4, "start_ms": [0.0, 500.0, 0.0, 0.0],
         "end_ms": [500.0, 1000.0, 500.0, 500.0], "score": [0.9, 0.6, 0.99, 0.86]}
    ).to_parquet(mined / "candidates.parquet")  # fmt: skip
    pd.DataFrame({"item": ["a", "b", "c"], "group": ["g"] * 3, "path": ["a.csv", "b.csv", "c.csv"]}).to_parquet(
        mined / "items.parquet"
    )
    windows, _ = read_mined(mined, tier=0.85, max_windows=2)
    assert windows["recording"].tolist() == ["b", "a"]
    windows, _ = read_mined(mined)
    assert len(windows) == 4
    with pytest.raises(InputError, match="tier must be"):
        read_mined(mined, tier=1.5)
    with pytest.raises(InputError, match="hardneg mine"):
        read_mined(tmp_path)


def cli(*args):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "hardneg", *map(str, args)], capture_output=True, text=True)


def test_mined_pool_windows_join_the_dataset_end_to_end(tmp_path):
    from hardneg.dataset import Dataset
    from hardneg.demo._run import run_demo

    demo = run_demo(tmp_path / "demo", seed=0)
    world = demo.world
    model = tmp_path / "model"
    assert cli("train", demo.dataset.path, "--model", "et", "--out", model).returncode == 0
    mined = tmp_path / "mined"
    result = cli("mine", world.no_shot_logs[0], "--model", model, "--trust-model", "--window-ms", "500",
                 "--groups", world.groups, "--out", mined, "--quiet")  # fmt: skip
    assert result.returncode == 0, result.stderr
    candidates = pd.read_parquet(mined / "candidates.parquet")
    assert len(candidates) > 0
    out = tmp_path / "with-hard"
    result = cli("sample", *world.logs, "--events", world.events, "--groups", world.groups,
                 "--hard-negatives", mined, "--out", out)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "hard negatives:" in result.stdout
    dataset = Dataset.load(out)
    hard = dataset.index[dataset.index["kind"] == "hard"]
    assert len(hard) == len(candidates)  # the pool session has no events, so nothing is excluded
    pool_id = world.no_shot_logs[0].stem
    assert set(hard["recording"]) == {pool_id}
    groups = pd.read_csv(world.groups).set_index("recording")["group"]
    assert set(hard["group"]) == {groups[pool_id]}
    raw = pd.read_parquet(world.no_shot_logs[0])
    channels = dataset.meta["channels"]
    for row in hard.head(5).itertuples():
        first = int(np.searchsorted(raw["t_ms"].to_numpy(), row.start_ms - 1e-6))
        expected = raw[channels].to_numpy()[first : first + 50].T.astype(np.float32)
        np.testing.assert_array_equal(dataset.windows[row.window_id], expected)
