"""float32 inputs stay float32: channels of a float32 log and audio samples, checked against independent reads."""

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hardneg.io import read_sensor_logs
from hardneg.io._tables import LazyParquet


def write_float32_log(path, n=3000, rate_hz=200.0, seed=0, nulls=False, row_group_size=None):
    rng = np.random.default_rng(seed)
    t_ms = np.arange(n) * (1000.0 / rate_hz)
    columns = {"t_ms": pa.array(t_ms, pa.float64())}
    for k, name in enumerate(["ax", "ay", "az", "gx", "gy", "gz"]):
        values = (rng.normal(9.81 if name == "az" else 0.0, 0.3, n) + 1e-3 * k).astype(np.float32)
        mask = (np.arange(n) % 97 == 5) if (nulls and name == "gy") else None
        columns[name] = pa.array(values, pa.float32(), mask=mask)
    pq.write_table(pa.table(columns), path, row_group_size=row_group_size)


def test_float32_log_channels_stay_float32_and_equal_the_file(tmp_path):
    path = tmp_path / "s01.parquet"
    write_float32_log(path)
    (recording,), _ = read_sensor_logs([path])
    table = pq.read_table(path)  # the independent read
    assert recording.channels == ["ax", "ay", "az", "gx", "gy", "gz"]
    for name, values in zip(recording.channels, recording.data):
        assert values.dtype == np.float32
        np.testing.assert_array_equal(values, table.column(name).to_numpy())
    # the timestamps are still float64: the grid is the file's own
    assert recording.t0_ms == 0.0 and recording.sample_rate_hz == pytest.approx(200.0, rel=1e-12)
    assert recording.n_samples == 3000


def test_float32_log_read_column_by_column_with_nulls(tmp_path, monkeypatch):
    """Large files are read one column at a time, in several row groups; a null becomes NaN, still float32."""
    monkeypatch.setattr(LazyParquet, "WHOLE_READ_BYTES", 0)
    path = tmp_path / "s01.parquet"
    write_float32_log(path, nulls=True, row_group_size=700)
    (recording,), _ = read_sensor_logs([path])
    table = pq.read_table(path)
    for name, values in zip(recording.channels, recording.data):
        assert values.dtype == np.float32
        expected = table.column(name).to_numpy(zero_copy_only=False).astype(np.float32)
        np.testing.assert_array_equal(values, expected)  # NaN where null: assert_array_equal matches NaN to NaN
    gy = recording.data[recording.channels.index("gy")]
    assert np.isnan(gy).sum() == len(range(5, 3000, 97))


def test_float64_log_channels_stay_float64(tmp_path):
    path = tmp_path / "s01.parquet"
    write_float32_log(path)
    table = pq.read_table(path)
    table = table.cast(pa.schema([(name, pa.float64()) for name in table.column_names]))
    pq.write_table(table, path)
    (recording,), _ = read_sensor_logs([path])
    assert all(values.dtype == np.float64 for values in recording.data)


def test_resampled_float32_log_stays_float32(tmp_path):
    path = tmp_path / "s01.parquet"
    write_float32_log(path, n=500)
    (recording,), _ = read_sensor_logs([path], resample_hz=150.0)
    table = pq.read_table(path)
    times = table.column("t_ms").to_numpy()
    grid = np.arange(recording.n_samples) * (1000.0 / 150.0)
    for name, values in zip(recording.channels, recording.data):
        assert values.dtype == np.float32
        expected = np.interp(grid, times, table.column(name).to_numpy().astype(np.float64)).astype(np.float32)
        np.testing.assert_array_equal(values, expected)


def test_float_wav_samples_stay_float32_and_equal_the_file(tmp_path):
    soundfile = pytest.importorskip("soundfile")
    from hardneg.io._audio import read_audio_recordings

    rng = np.random.default_rng(3)
    samples = rng.uniform(-0.9, 0.9, (4800, 2)).astype(np.float32)
    soundfile.write(str(tmp_path / "clip.wav"), samples, 48000, subtype="FLOAT")
    (recording,) = read_audio_recordings([tmp_path / "clip.wav"])
    again, _ = soundfile.read(str(tmp_path / "clip.wav"), dtype="float32", always_2d=True)
    for index, values in enumerate(recording.data):
        assert values.dtype == np.float32 and values.flags["C_CONTIGUOUS"]
        np.testing.assert_array_equal(values, again[:, index])
        np.testing.assert_array_equal(values, samples[:, index])  # a float WAV holds the values exactly
