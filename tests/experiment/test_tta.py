"""Test-time augmentation: clips cut from the recordings against a plain loop, and their aggregation."""

from __future__ import annotations

import importlib.util
import os

import numpy as np
import pandas as pd
import pytest

from hardneg.dataset import Dataset, write_dataset
from hardneg.experiment import TTA, clip_windows, run_experiment, tta_scores
from hardneg.io import Recording
from tests.experiment.conftest import write_experiment


def _log_data(world, recording: str, channels) -> np.ndarray:
    """A session's samples (channels x samples) read straight from its log file."""
    log = pd.read_parquet(world.world.logs[0].parent / f"{recording}.parquet")
    return log[list(channels)].to_numpy().T.astype(np.float32)


def _plain_clips(world, dataset: Dataset, ids, tta: TTA):
    """Each window's clips by a loop: starts every ``spacing_ms`` around the window's, inside the recording."""
    rate = dataset.meta["sample_rate_hz"]
    length = dataset.windows.shape[2]
    channels = dataset.meta["channels"]
    clips, valid = [], []
    for window_id in ids:
        row = dataset.index.iloc[window_id]
        data = _log_data(world, row["recording"], channels)
        own = []
        for k in range(tta.clips):
            offset = (k - (tta.clips - 1) / 2) * tta.spacing_ms * rate / 1000.0
            assert offset == int(offset)  # the tests use spacings on the sample grid
            start = int(row["start_sample"] + offset)
            if start >= 0 and start + length <= data.shape[1]:
                clips.append(data[:, start : start + length])
                own.append(True)
            else:
                clips.append(np.asarray(dataset.windows[window_id], dtype=np.float32))
                own.append(False)
        if not any(own):  # no clip fits: the window itself, once
            own[0] = True
        valid += own
    return np.stack(clips), np.array(valid)


@pytest.mark.parametrize(
    "tta",
    [TTA(5, 50.0), TTA(4, 20.0), TTA(3, 20000.0), TTA(2, 50000.0)],
    ids=["5 clips 50 ms", "4 clips 20 ms", "3 clips 20 s (edges)", "2 clips 50 s (none fit)"],
)
def test_clip_windows_equals_a_plain_loop_over_the_recordings(world, tta):
    dataset = Dataset.load(world.dataset)
    ids = np.arange(len(dataset.index))[::3]
    windows, rows, valid = clip_windows(dataset, ids, tta)
    expected, expected_valid = _plain_clips(world, dataset, ids, tta)
    np.testing.assert_array_equal(rows, np.repeat(ids, tta.clips))
    np.testing.assert_array_equal(valid, expected_valid)
    np.testing.assert_array_equal(windows, expected)
    if tta.clips % 2:  # the centre clip is the window itself
        np.testing.assert_array_equal(windows[tta.clips // 2 :: tta.clips], dataset.windows[ids])
    if tta.spacing_ms > 1000:
        assert not valid.all()  # the edges were exercised
    if tta.clips == 2 and tta.spacing_ms == 50000.0:
        assert (valid.reshape(-1, 2).sum(axis=1) >= 1).all()
        assert (~valid.reshape(-1, 2)[:, 1]).any()


def test_clip_boundaries_at_the_first_and_last_sample(tmp_path):
    signal = np.arange(100.0)
    starts = [1, 2, 88, 90]
    index = pd.DataFrame({
        "window_id": range(4), "label": [1, 0, 1, 0], "recording": "r", "group": "r", "start_sample": starts,
        "start_ms": [10.0 * s for s in starts], "end_ms": [10.0 * s + 100 for s in starts],
    })  # fmt: skip
    windows = np.stack([signal[s : s + 10] for s in starts])[:, None, :]
    dataset = write_dataset(tmp_path / "ds", windows, index, {"channels": ["x"], "sample_rate_hz": 100.0})
    recording = Recording("r", "r", 0.0, 100.0, ["x"], [signal], "r.csv")
    clips, _rows, valid = clip_windows(dataset, np.arange(4), TTA(3, 20.0), {"r": recording})
    assert valid.reshape(4, 3).tolist() == [
        [False, True, True],  # would start at sample -1
        [True, True, True],  # starts exactly at sample 0
        [True, True, True],  # ends exactly on the last sample (90 + 10 == 100)
        [True, True, False],  # would end past it
    ]
    for w, start in enumerate(starts):
        for k, offset in enumerate((-2, 0, 2)):
            if valid[3 * w + k]:
                np.testing.assert_array_equal(clips[3 * w + k, 0], signal[start + offset : start + offset + 10])


def _window_mean(windows, rows):
    return np.asarray(windows, dtype=np.float64).mean(axis=(1, 2))


@pytest.mark.parametrize("aggregate", ["mean", "max"])
def test_tta_scores_aggregate_the_valid_clips_like_a_hand_loop(world, aggregate):
    dataset = Dataset.load(world.dataset)
    ids = np.arange(len(dataset.index))[::2]
    tta = TTA(3, 20000.0, aggregate)
    found, n_scored = tta_scores(dataset, ids, tta, _window_mean)
    clips, valid = _plain_clips(world, dataset, ids, tta)
    expected = []
    for w in range(len(ids)):
        scores = [clips[w * 3 + k].astype(np.float64).mean() for k in range(3) if valid[w * 3 + k]]
        expected.append(max(scores) if aggregate == "max" else sum(scores) / len(scores))
    np.testing.assert_allclose(found, expected, rtol=1e-12)
    assert n_scored == int(valid.sum()) < 3 * len(ids)


def test_one_clip_scores_like_no_tta(world):
    dataset = Dataset.load(world.dataset)
    ids = np.arange(len(dataset.index))
    found, n_scored = tta_scores(dataset, ids, TTA(1, 50.0), _window_mean)
    np.testing.assert_array_equal(found, _window_mean(dataset.windows[ids], ids))
    assert n_scored == len(ids)


FACTORY = """\
import numpy as np


class Spread:
    \"\"\"Scores a window by the spread of its gyroscope channels: no fitting, so clips can be scored by hand.\"\"\"

    def fit(self, x, y):
        return self

    def predict_proba(self, x):
        value = np.asarray(x, dtype=np.float64)[:, 3:, :].std(axis=2).mean(axis=1)
        p = 1.0 / (1.0 + np.exp(-(value - 0.5) * 4.0))
        return np.column_stack([1.0 - p, p])


def make(seed):
    return Spread()


make.input = "windows"
"""


def _experiment(folder, name, tta: str) -> str:
    return f"""\
dataset: shots
seeds: 2
model: spread.py:make
n_resamples: 200
eval:
  iid: {{split: group{tta}}}
"""


def test_an_experiment_with_tta_scores_the_mean_of_its_clips(world, tmp_path):
    folder = tmp_path / "plan"
    folder.mkdir()
    os.symlink(world.dataset, folder / "shots")
    (folder / "spread.py").write_text(FACTORY)
    variants = {
        "plain": "",
        "one": ", tta: {clips: 1, spacing_ms: 50}",
        "mean": ", tta: {clips: 5, spacing_ms: 50, aggregate: mean}",
        "max": ", tta: {clips: 5, spacing_ms: 50, aggregate: max}",
    }
    scores = {}
    for name, tta in variants.items():
        path = write_experiment(folder, _experiment(folder, name, tta), f"{name}.yaml")
        result = run_experiment(path, tmp_path / name)
        assert set(result.runs["status"]) == {"done"}
        scores[name] = {
            seed: pd.read_parquet(tmp_path / name / "runs" / "default" / str(seed) / "iid.predictions.parquet")
            for seed in (0, 1)
        }
    spec = importlib.util.spec_from_file_location("spread", folder / "spread.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = module.make(0)
    dataset = Dataset.load(world.dataset)
    for seed in (0, 1):
        plain = scores["plain"][seed]
        pd.testing.assert_frame_equal(scores["one"][seed], plain)
        assert scores["mean"][seed]["window_id"].tolist() == plain["window_id"].tolist()
        assert not np.allclose(scores["mean"][seed]["score"], plain["score"])
        assert (scores["max"][seed]["score"] >= scores["mean"][seed]["score"] - 1e-12).all()
        ids = plain["window_id"].to_numpy()[:6]
        clips, valid = _plain_clips(world, dataset, ids, TTA(5, 50.0))
        for w, window_id in enumerate(ids):
            own = clips[w * 5 : w * 5 + 5][valid[w * 5 : w * 5 + 5]]
            each = model.predict_proba(own)[:, 1]
            row = plain["window_id"].tolist().index(window_id)
            assert scores["mean"][seed]["score"].iloc[row] == pytest.approx(each.mean(), rel=1e-9)
            assert scores["max"][seed]["score"].iloc[row] == pytest.approx(each.max(), rel=1e-9)
            assert plain["score"].iloc[row] == pytest.approx(model.predict_proba(dataset.windows[[window_id]])[0, 1])
    report = (tmp_path / "mean" / "report.md").read_text()
    assert "mean of 5 clips 50 ms apart" in report
