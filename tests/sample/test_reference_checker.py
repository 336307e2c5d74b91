"""The brute-force checker is not vacuous: each kind of corrupted dataset is caught.

A valid dataset is written once, copied, corrupted in one way, and the checker must
raise naming the broken rule.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.helpers import reference, run, synth

PARAMS = dict(neg_strategy="mixed", neg_mult=4, neg_min_sep_ms=300, min_event_gap_ms=1000, seed=1)


@pytest.fixture(scope="module")
def valid(tmp_path_factory):
    root = tmp_path_factory.mktemp("valid")
    world = synth.world_1khz(root / "world")
    run.sample_api(world.log_paths, world.events_path, root / "ds", PARAMS)
    reference.check_dataset(root / "ds", world.logs, world.events, PARAMS)  # the untouched dataset passes
    return world, root / "ds"


def _copy(valid, tmp_path):
    world, ds = valid
    out = tmp_path / "ds"
    shutil.copytree(ds, out)
    index = pq.read_table(out / "index.parquet").to_pandas()
    windows = np.load(out / "windows.npy")
    meta = json.loads((out / "meta.json").read_text())
    return world, out, index, windows, meta


def _save(out, index=None, windows=None, meta=None):
    if index is not None:
        pq.write_table(pa.Table.from_pandas(index, preserve_index=False), out / "index.parquet")
    if windows is not None:
        np.save(out / "windows.npy", windows)
    if meta is not None:
        (out / "meta.json").write_text(json.dumps(meta))


def _expect(world, out, needle):
    with pytest.raises(AssertionError, match=needle):
        reference.check_dataset(out, world.logs, world.events, PARAMS)


def _move_negative(world, index, windows, row, first):
    """Re-point negative ``row`` to start on sample ``first`` of its recording, keeping data and motion consistent."""
    rid = index.at[row, "recording"]
    t, ch = world.logs[rid]
    data = np.vstack([ch[c] for c in ch])
    T = windows.shape[2]
    index.at[row, "start_ms"] = t[first]
    index.at[row, "end_ms"] = t[first] + 500.0
    index.at[row, "start_sample"] = first
    windows[row] = data[:, first : first + T].astype(np.float32)
    rec = reference.RefRecording(rid, rid, t, data, list(ch))
    index.at[row, "motion"] = reference.motion_brute(rec, np.array([first]), T, reference._params(PARAMS))[0]


def test_sample_value_changed(valid, tmp_path):
    world, out, index, windows, meta = _copy(valid, tmp_path)
    windows[3, 2, 17] += 0.5
    _save(out, windows=windows)
    _expect(world, out, "differs from raw samples")


def test_negative_moved_into_exclusion_zone(valid, tmp_path):
    world, out, index, windows, meta = _copy(valid, tmp_path)
    row = int(index.index[(index["kind"] == "far") & (index["recording"] == "s1")][0])
    t, _ = world.logs["s1"]
    first = int(np.searchsorted(t, 30000.0 - 300.0))  # inside [t - 600, t) of the event at 30000
    _move_negative(world, index, windows, row, first)
    _save(out, index=index, windows=windows)
    _expect(world, out, "overlaps exclusion zone")


def test_far_relabelled_near(valid, tmp_path):
    world, out, index, windows, meta = _copy(valid, tmp_path)
    far = index.index[index["kind"] == "far"]
    index.loc[far, "kind"] = "near"
    _save(out, index=index)
    _expect(world, out, "labelled near but")


def test_near_with_wrong_event_id(valid, tmp_path):
    world, out, index, windows, meta = _copy(valid, tmp_path)
    row = index.index[index["kind"] == "near"][0]
    index.loc[row, "event_id"] = int(index.loc[row, "event_id"]) + 1
    _save(out, index=index)
    _expect(world, out, "near event_id")


def test_motion_off(valid, tmp_path):
    world, out, index, windows, meta = _copy(valid, tmp_path)
    index.loc[5, "motion"] = index.loc[5, "motion"] * (1 + 1e-4)
    _save(out, index=index)
    _expect(world, out, "motion .* != brute force")


def test_positive_missing(valid, tmp_path):
    world, out, index, windows, meta = _copy(valid, tmp_path)
    row = int(index.index[index["kind"] == "pos"][0])
    keep = np.ones(len(index), dtype=bool)
    keep[row] = False
    index = index[keep].reset_index(drop=True)
    index["window_id"] = np.arange(len(index))
    _save(out, index=index, windows=windows[keep])
    _expect(world, out, "kept events without a positive window")


def test_positive_shifted(valid, tmp_path):
    world, out, index, windows, meta = _copy(valid, tmp_path)
    row = index.index[index["kind"] == "pos"][0]
    index.loc[row, "start_ms"] += 0.5
    index.loc[row, "end_ms"] += 0.5
    _save(out, index=index)
    _expect(world, out, "start_ms")


def test_negatives_too_close(valid, tmp_path):
    world, out, index, windows, meta = _copy(valid, tmp_path)
    negs = index.index[(index["kind"] == "far") & (index["recording"] == "s1")]
    a, b = int(negs[0]), int(negs[1])
    _move_negative(world, index, windows, b, int(index.at[a, "start_sample"]) + 50)
    _save(out, index=index, windows=windows)
    _expect(world, out, "neg_min_sep_ms")


def test_counts_wrong(valid, tmp_path):
    world, out, index, windows, meta = _copy(valid, tmp_path)
    meta["counts"]["negatives"]["achieved"]["near"] += 1
    meta["counts"]["candidates"]["removed"]["edges"] += 1
    _save(out, meta=meta)
    _expect(world, out, "achieved.near")


def test_window_id_out_of_order(valid, tmp_path):
    world, out, index, windows, meta = _copy(valid, tmp_path)
    index.loc[[0, 1], "window_id"] = [1, 0]
    _save(out, index=index)
    _expect(world, out, "window_id")


def test_motion_formula_cross_check():
    """motion_brute (per-window numpy) equals the formula written as plain Python loops."""
    rng = np.random.default_rng(3)
    for channels in (synth.IMU_CHANNELS, ["u", "v", "w"]):
        n, T = 400, 37
        t = np.arange(n) * 10.0
        ch = synth.imu_channels(n, 100.0, rng, channels)
        rec = reference.RefRecording("r", "r", t, np.vstack([ch[c] for c in channels]), list(channels))
        params = reference._params({"motion_accel_weight": 0.3})
        starts = np.array([0, 5, 100, n - T])
        fast = reference.motion_brute(rec, starts, T, params)
        slow = [reference.motion_of_window_loop(rec, int(s), T, params) for s in starts]
        np.testing.assert_allclose(fast, slow, rtol=1e-12)
