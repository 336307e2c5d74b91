"""The float32 path of sampling: motion summed in float64 by block, candidates as masks, windows equal to the input.

Motion tolerance: the float32 path sums in float64 over blocks of at most
2**18 + T samples (centred on the block's mean for variances), then rounds each
score to float32 once. The rounding is at most 2**-24 (6e-8) of the score; the
float64 sums add ~1e-12 relative for these data (unit-scale values, windows of
tens of samples). rtol 2e-7 leaves room for both and still fails on a wrong
formula, a window off by one sample, or a float32 accumulation (~1e-5 here).
"""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hardneg.io import Recording, read_sensor_logs
from hardneg.sample import SamplingConfig, WindowStatistics, sample_windows, write_sampled
from hardneg.sample._masks import MaskIndex

RTOL = 2e-7
IMU = ["ax", "ay", "az", "gx", "gy", "gz"]


def brute_motion(columns, channels, start, length, accel_weight=0.1):
    """The motion score of one window, by definition, in float64."""
    window = {
        name: np.asarray(values[start : start + length], dtype=np.float64) for name, values in zip(channels, columns)
    }
    if set(IMU) <= set(channels):
        gyro = np.mean(sum(window[name] ** 2 for name in ("gx", "gy", "gz")))
        magnitude = np.sqrt(sum(window[name] ** 2 for name in ("ax", "ay", "az")))
        return gyro + accel_weight * np.mean((magnitude - magnitude.mean()) ** 2)
    return sum(np.mean((values - values.mean()) ** 2) for values in window.values())


def imu_recording(n=3000, seed=0, rate=100.0):
    rng = np.random.default_rng(seed)
    data = [(rng.normal(9.81 if name == "az" else 0.0, 0.5, n)).astype(np.float32) for name in IMU]
    return Recording("s01", "s01", 0.0, rate, list(IMU), data, "s01.parquet")


@pytest.mark.parametrize("kind", ["imu", "channel_variance"])
def test_float32_motion_matches_a_float64_brute_force(kind, monkeypatch):
    from hardneg.sample import _motion

    monkeypatch.setattr(_motion._BlockStatistics, "BLOCK", 700)  # several blocks, and one that ends short
    if kind == "imu":
        recording = imu_recording()
    else:
        rng = np.random.default_rng(1)
        data = [rng.uniform(-0.5, 0.5, 3000).astype(np.float32) + 0.2, rng.normal(0, 0.1, 3000).astype(np.float32)]
        recording = Recording("clip", "clip", 0.0, 8000.0, ["ch0", "ch1"], data, "clip.wav")
    length = 37
    statistics = WindowStatistics(recording, length)
    assert statistics.formula == ("imu" if kind == "imu" else "channel_variance")
    motion, nan_free = statistics.every_window()
    assert nan_free is None
    n_starts = recording.n_samples - length + 1
    assert len(motion) == n_starts
    every = np.asarray(motion)
    assert every.dtype == np.float32
    expected = np.array([brute_motion(recording.data, recording.channels, s, length) for s in range(n_starts)])
    np.testing.assert_allclose(every, expected, rtol=RTOL)
    # read at chosen starts (computed window by window), the last one ending on the last sample
    starts = np.array([n_starts - 1, 0, 699, 700, 1234])
    np.testing.assert_allclose(WindowStatistics(recording, length).motion(starts), expected[starts], rtol=RTOL)
    np.testing.assert_allclose(
        WindowStatistics(recording, length).every_window()[0][starts], expected[starts], rtol=RTOL
    )


def test_float32_nan_windows_match_a_brute_force(monkeypatch):
    from hardneg.sample import _motion

    monkeypatch.setattr(_motion._BlockStatistics, "BLOCK", 500)
    recording = imu_recording(n=2000)
    recording.data[4][[10, 499, 500, 1999]] = np.nan  # across a block boundary, and the last sample
    length = 25
    _, nan_free = WindowStatistics(recording, length).every_window()
    present = ~np.isnan(np.vstack(recording.data)).any(axis=0)
    expected = np.array([present[s : s + length].all() for s in range(2000 - length + 1)])
    np.testing.assert_array_equal(nan_free, expected)
    assert not nan_free[-1]
    starts = np.array([0, 1975, 480, 1000])
    np.testing.assert_array_equal(WindowStatistics(recording, length).nan_free(starts), expected[starts])
    clean = np.flatnonzero(expected)
    motion = WindowStatistics(recording, length).motion(clean[:50])
    brute = [brute_motion(recording.data, recording.channels, s, length) for s in clean[:50]]
    np.testing.assert_allclose(motion, brute, rtol=RTOL)


@pytest.mark.parametrize("n", [0, 1, 7, 65536, 65537, 200_003])
def test_mask_index_against_flatnonzero(n):
    rng = np.random.default_rng(n)
    mask = rng.random(n) < 0.3
    mask[: n // 2] &= rng.random(n // 2) < 0.01  # sparse blocks and dense ones
    index, positions = MaskIndex(mask), np.flatnonzero(mask)
    assert len(index) == len(positions)
    if len(positions):
        ranks = np.concatenate([rng.integers(0, len(positions), 500), [0, len(positions) - 1]])
        np.testing.assert_array_equal(index[ranks], positions[ranks])
    points = np.concatenate([rng.integers(0, n + 1, 500), [0, n]])
    np.testing.assert_array_equal(index.rank(points), np.searchsorted(positions, points))
    values = np.arange(n) * 3
    np.testing.assert_array_equal(values[index], values[mask])
    with pytest.raises(IndexError):
        index[np.array([len(positions)])]


def write_log(path, data, channels, rate=100.0):
    n = len(data[0])
    columns = {"t_ms": pa.array(np.arange(n) * (1000.0 / rate), pa.float64())}
    columns.update({name: pa.array(values, pa.float32()) for name, values in zip(channels, data)})
    pq.write_table(pa.table(columns), path)


def test_windows_from_a_float32_log_equal_its_values_up_to_the_last_sample(tmp_path):
    recording = imu_recording(n=2000)
    path = tmp_path / "s01.parquet"
    write_log(path, recording.data, IMU)
    recordings, _ = read_sensor_logs([path])
    # the last event's window [19500, 20000) ms ends on the last sample (t = 19990 ms)
    events = pd.DataFrame({"recording": ["s01"] * 3, "t_ms": [4000.0, 11000.0, 20000.0]})
    config = SamplingConfig(window_ms=500.0, lead_ms=0.0, neg_strategy="mixed", neg_mult=3)
    sampled = sample_windows(recordings, events, config, seed=0)
    dataset = write_sampled(tmp_path / "ds", sampled, recordings)
    table = pq.read_table(path)  # independent read of the values
    values = np.vstack([table.column(name).to_numpy() for name in IMU])
    starts = dataset.index["start_sample"].to_numpy()
    assert dataset.windows.dtype == np.float32
    assert int(starts.max()) + 50 == 2000  # the boundary window is there
    for row, start in enumerate(starts):
        np.testing.assert_array_equal(dataset.windows[row], values[:, start : start + 50])
    expected = [brute_motion(list(values), IMU, start, 50) for start in starts]
    np.testing.assert_allclose(dataset.index["motion"].to_numpy(), expected, rtol=RTOL)


@pytest.mark.parametrize(
    "options",
    [
        {"neg_strategy": "mixed", "neg_mult": 4},
        {"neg_strategy": "uniform", "neg_mult": 3, "neg_min_sep_ms": 200.0},
        {"neg_strategy": "far", "neg_mult": 2, "neg_with_replacement": True, "neg_candidate_hop_ms": 30.0},
        {"neg_strategy": "mixed", "neg_mult": 4, "neg_min_motion_quantile": 0.3, "neg_match_pos_motion": True},
    ],
)
def test_float32_recordings_sample_like_their_float64_copies(options):
    """The mask/lazy path (float32) and the array path (float64) draw the same windows from the same values."""
    rng = np.random.default_rng(5)
    as32 = [
        Recording(f"c{i}", f"c{i}", 0.0, 1000.0, ["ch0"], [rng.normal(0, 0.2 + 0.1 * i, 20_000).astype(np.float32)],
                  f"c{i}.wav")
        for i in range(3)
    ]  # fmt: skip
    as64 = [Recording(r.id, r.group, r.t0_ms, r.sample_rate_hz, r.channels, [r.data[0].astype(np.float64)], r.source)
            for r in as32]  # fmt: skip
    events = pd.DataFrame(
        {"recording": ["c0", "c0", "c1", "c2", "c2"], "t_ms": [3000.0, 9000.0, 12000.0, 5000.0, 19990.0]}
    )
    config = SamplingConfig(window_ms=250.0, **options)
    index32 = sample_windows(as32, events, config, seed=3).index
    index64 = sample_windows(as64, events, config, seed=3).index
    assert len(index32) > 5
    pd.testing.assert_frame_equal(index32.drop(columns="motion"), index64.drop(columns="motion"))
    np.testing.assert_allclose(index32["motion"], index64["motion"], rtol=RTOL)
