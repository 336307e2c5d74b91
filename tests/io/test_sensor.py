"""Sensor-log reader (CSV and Parquet) checked against independent computations on the files it read.

Each test writes a small log with pandas/pyarrow, reads it with ``hardneg.io.read_sensor_logs``
and compares the Recordings and events with what the file says (arrays kept by the test, a
brute-force rising-edge loop, ``numpy.interp`` for resampling, ``numpy.argsort`` for sorting).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hardneg.errors import InputError
from hardneg.io import read_sensor_logs

# ---------------------------------------------------------------------------- helpers


def write_log(path: Path, columns: dict) -> Path:
    """Write ``columns`` (name -> sequence) as CSV or Parquet, by suffix, in dict order."""
    frame = pd.DataFrame(columns)
    if path.suffix == ".parquet":
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    else:
        frame.to_csv(path, index=False)
    return path


def grid(n: int, fs: float, t0: float = 0.0) -> np.ndarray:
    return t0 + np.arange(n, dtype=np.float64) * (1000.0 / fs)


def brute_force_rising_edges(markers) -> list[int]:
    """Index of every sample where the marker turns non-zero (NaN and 0 are 'off'; a log starting on is an edge)."""
    edges, previous_on = [], False
    for i, value in enumerate(markers):
        on = value is not None and not (isinstance(value, float) and np.isnan(value)) and value != 0
        if on and not previous_on:
            edges.append(i)
        previous_on = on
    return edges


def assert_on_grid(recording, times: np.ndarray) -> None:
    """The recording's sample i is the file's timestamp i (to float rounding), and maps back to sample i."""
    step = 1000.0 / recording.sample_rate_hz
    np.testing.assert_allclose(recording.times_ms(), times, rtol=0, atol=1e-9 * step)
    np.testing.assert_array_equal(recording.first_sample_at_or_after(times), np.arange(len(times)))


FORMATS = [".csv", ".parquet"]


# ---------------------------------------------------------------------------- one file per recording


@pytest.mark.parametrize("suffix", FORMATS)
def test_one_file_per_recording_ids_channels_values(tmp_path, suffix):
    rng = np.random.default_rng(1)
    expected = {}
    paths = []
    # file order s02 before s01: recordings come back in the order of the paths given
    for name, n, fs, t0 in (("s02", 120, 100.0, 1000.0), ("s01", 90, 100.0, 0.0)):
        t = grid(n, fs, t0)
        gx, ax = rng.standard_normal(n), rng.standard_normal(n)
        labels = rng.choice(["idle", "walk", "aim"], n)
        # columns in file order: t_ms, gx, label (text), ax -> channels gx, ax
        paths.append(write_log(tmp_path / f"{name}{suffix}", {"t_ms": t, "gx": gx, "label": labels, "ax": ax}))
        expected[name] = (t, fs, {"gx": gx, "ax": ax})

    recordings, events = read_sensor_logs(paths)

    assert [r.id for r in recordings] == ["s02", "s01"]
    assert len(events) == 0
    for recording, path in zip(recordings, paths):
        t, fs, channels = expected[recording.id]
        assert recording.group == recording.id
        assert Path(recording.source) == path
        assert recording.channels == ["gx", "ax"]
        assert recording.n_samples == len(t)
        assert recording.t0_ms == t[0]
        assert recording.sample_rate_hz == pytest.approx(fs, rel=1e-12)
        assert recording.end_ms == pytest.approx(t[-1], abs=1e-9)
        assert_on_grid(recording, t)
        for name, values in zip(recording.channels, recording.data):
            np.testing.assert_array_equal(np.asarray(values, dtype=np.float64), channels[name])


@pytest.mark.parametrize("suffix", FORMATS)
def test_recording_col_splits_in_order_of_first_appearance(tmp_path, suffix):
    rng = np.random.default_rng(2)
    # ids chosen so that first-appearance order (r2, r10, r1) differs from sorted order
    ids, n = ["r2", "r10", "r1"], 60
    per = {rid: (grid(n, 50.0, 200.0 * k), rng.standard_normal(n), rng.standard_normal(n)) for k, rid in enumerate(ids)}
    rows = []
    for i in range(n):  # rows of the three recordings interleaved
        for rid in ids:
            t, a, b = per[rid]
            rows.append({"session": rid, "t_ms": t[i], "a": a[i], "b": b[i]})
    frame = pd.DataFrame(rows)
    path = write_log(tmp_path / f"all{suffix}", {c: frame[c].to_numpy() for c in frame.columns})

    recordings, _ = read_sensor_logs([path], recording_col="session")

    assert [r.id for r in recordings] == ids
    for recording in recordings:
        t, a, b = per[recording.id]
        assert recording.channels == ["a", "b"]  # the recording column is not a channel
        assert recording.group == recording.id
        assert recording.sample_rate_hz == pytest.approx(50.0, rel=1e-12)
        assert_on_grid(recording, t)
        np.testing.assert_array_equal(recording.data[0], a)
        np.testing.assert_array_equal(recording.data[1], b)


def test_numeric_recording_ids_become_strings(tmp_path):
    n = 30
    frame = {"rec": np.repeat([7, 3], n), "t_ms": np.tile(grid(n, 100.0), 2), "x": np.arange(2 * n, dtype=float)}
    path = write_log(tmp_path / "ints.parquet", frame)
    recordings, _ = read_sensor_logs([path], recording_col="rec")
    assert [r.id for r in recordings] == ["7", "3"]
    np.testing.assert_array_equal(recordings[1].data[0], np.arange(n, 2 * n, dtype=float))


def test_missing_recording_col_is_named(tmp_path):
    path = write_log(tmp_path / "a.csv", {"t_ms": grid(5, 10.0), "x": np.zeros(5)})
    with pytest.raises(InputError, match=r"a\.csv.*--recording-col.*'session'"):
        read_sensor_logs([path], recording_col="session")


def test_same_stem_in_two_folders_is_refused(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    cols = {"t_ms": grid(5, 10.0), "x": np.zeros(5)}
    paths = [write_log(tmp_path / "a" / "s1.csv", cols), write_log(tmp_path / "b" / "s1.csv", cols)]
    with pytest.raises(InputError, match="s1"):
        read_sensor_logs(paths)


# ---------------------------------------------------------------------------- time column and unit


@pytest.mark.parametrize(
    ("unit", "scale", "step"),
    [("s", 1000.0, 0.004), ("us", 0.001, 4000.0), ("ms", 1.0, 4.0)],
)
def test_time_unit_converts_to_ms(tmp_path, unit, scale, step):
    n = 50
    t0 = 3.0 * step
    raw = t0 + np.arange(n) * step  # 250 Hz in the file's own unit
    x = np.sin(np.arange(n))
    path = write_log(tmp_path / "u.csv", {"time": raw, "x": x})

    (recording,), _ = read_sensor_logs([path], time_col="time", time_unit=unit)

    assert recording.channels == ["x"]  # the time column is not a channel
    assert recording.sample_rate_hz == pytest.approx(250.0, rel=1e-9)
    assert recording.t0_ms == pytest.approx(t0 * scale, abs=1e-9)
    assert_on_grid(recording, raw * scale)
    np.testing.assert_array_equal(recording.data[0], x)


def test_unknown_time_unit_is_refused():
    with pytest.raises(InputError, match="time_unit"):
        read_sensor_logs(["whatever.csv"], time_unit="h")


def test_missing_time_column_is_named(tmp_path):
    path = write_log(tmp_path / "s.csv", {"time": grid(5, 10.0), "x": np.zeros(5)})
    with pytest.raises(InputError, match=r"s\.csv.*--time-col 't_ms'"):
        read_sensor_logs([path])


# ---------------------------------------------------------------------------- channels


def test_auto_channels_skip_time_recording_group_marker_and_text(tmp_path):
    n = 40
    rng = np.random.default_rng(3)
    cols = {
        "ax": rng.standard_normal(n),
        "rec": ["s1"] * n,
        "t_ms": grid(n, 100.0),
        "subject": np.full(n, 5),  # numeric group column: not a channel
        "gy": rng.standard_normal(n),
        "shot": (rng.random(n) < 0.2).astype(np.int64),  # numeric marker column: not a channel
        "note": ["x"] * n,  # text column: ignored
        "gz": rng.integers(-5, 5, n),  # integer channel
    }
    path = write_log(tmp_path / "mix.csv", cols)
    (recording,), _ = read_sensor_logs([path], recording_col="rec", group_col="subject", event_col="shot")
    assert recording.channels == ["ax", "gy", "gz"]
    assert recording.group == "5"
    np.testing.assert_array_equal(recording.data[2], cols["gz"].astype(float))
    # without the roles, the numeric group and marker columns are ordinary channels
    (plain,), _ = read_sensor_logs([path], recording_col="rec")
    assert plain.channels == ["ax", "subject", "gy", "shot", "gz"]


@pytest.mark.parametrize("suffix", FORMATS)
def test_explicit_channels_keep_their_order(tmp_path, suffix):
    n = 20
    rng = np.random.default_rng(4)
    cols = {
        "t_ms": grid(n, 100.0),
        "ax": rng.standard_normal(n),
        "ay": rng.standard_normal(n),
        "az": rng.standard_normal(n),
    }
    path = write_log(tmp_path / f"c{suffix}", cols)
    (recording,), _ = read_sensor_logs([path], channels=["az", "ax"])
    assert recording.channels == ["az", "ax"]
    np.testing.assert_array_equal(recording.data[0], cols["az"])
    np.testing.assert_array_equal(recording.data[1], cols["ax"])


def test_explicit_channel_that_does_not_exist_is_named(tmp_path):
    path = write_log(tmp_path / "c.csv", {"t_ms": grid(5, 10.0), "ax": np.zeros(5)})
    with pytest.raises(InputError, match=r"c\.csv.*qq"):
        read_sensor_logs([path], channels=["ax", "qq"])


def test_logs_with_different_channels_are_refused(tmp_path):
    a = write_log(tmp_path / "a.csv", {"t_ms": grid(5, 10.0), "ax": np.zeros(5)})
    b = write_log(tmp_path / "b.csv", {"t_ms": grid(5, 10.0), "ay": np.zeros(5)})
    with pytest.raises(InputError, match=r"b\.csv.*--channels"):
        read_sensor_logs([a, b])


@pytest.mark.parametrize("bad_row", [0, 17, 38])
def test_one_non_numeric_value_in_a_channel_names_file_line_and_column(tmp_path, bad_row):
    n = 40
    ax = [f"{v:.3f}" for v in np.linspace(-1, 1, n)]
    ax[bad_row] = "oops"
    path = write_log(tmp_path / "typo.csv", {"t_ms": grid(n, 100.0), "label": ["walk"] * n, "ax": ax, "ay": np.ones(n)})
    with pytest.raises(InputError) as info:
        read_sensor_logs([path])
    message = str(info.value)
    assert "typo.csv" in message
    assert f"line {bad_row + 2}" in message  # header is line 1, data row 0 is line 2
    assert "'ax'" in message
    assert "oops" in message
    assert "\n" not in message


def test_one_non_numeric_value_in_a_parquet_channel_names_the_row(tmp_path):
    n = 30
    ax = [str(v) for v in range(n)]
    ax[11] = "n/a?"
    path = write_log(tmp_path / "typo.parquet", {"t_ms": grid(n, 100.0), "ax": ax})
    with pytest.raises(InputError, match=r"typo\.parquet.*'ax'.*row 11"):
        read_sensor_logs([path])


def test_text_column_named_as_channel_is_refused(tmp_path):
    n = 10
    path = write_log(tmp_path / "t.csv", {"t_ms": grid(n, 100.0), "label": ["walk"] * n, "ax": np.ones(n)})
    with pytest.raises(InputError, match=r"t\.csv.*'label'.*line 2"):
        read_sensor_logs([path], channels=["ax", "label"])


def test_empty_cell_in_a_channel_is_nan_not_an_error(tmp_path):
    n = 12
    path = tmp_path / "gap.csv"
    lines = ["t_ms,ax,ay"] + [f"{i * 10},{i}.5,{'' if i == 4 else i}" for i in range(n)]
    path.write_text("\n".join(lines) + "\n")
    (recording,), _ = read_sensor_logs([path])
    ay = recording.data[1]
    assert np.isnan(ay[4])
    expected = np.arange(n, dtype=float)
    np.testing.assert_array_equal(np.delete(ay, 4), np.delete(expected, 4))


# ---------------------------------------------------------------------------- groups


def test_group_col_sets_the_group(tmp_path):
    n = 20
    frame = pd.DataFrame(
        {
            "rec": np.repeat(["a", "b", "c"], n),
            "t_ms": np.tile(grid(n, 100.0), 3),
            "who": np.repeat(["ann", "bob", "ann"], n),
            "x": np.arange(3 * n, dtype=float),
        }
    )
    path = write_log(tmp_path / "g.csv", {c: frame[c].to_numpy() for c in frame.columns})
    recordings, _ = read_sensor_logs([path], recording_col="rec", group_col="who")
    assert {r.id: r.group for r in recordings} == {"a": "ann", "b": "bob", "c": "ann"}
    assert all(r.channels == ["x"] for r in recordings)


def test_group_col_that_changes_within_a_recording_is_refused(tmp_path):
    n = 20
    who = ["ann"] * n
    who[13] = "bob"
    path = write_log(tmp_path / "g.csv", {"t_ms": grid(n, 100.0), "who": who, "x": np.zeros(n)})
    with pytest.raises(InputError, match=r"g\.csv.*--group-col 'who'.*'g'"):
        read_sensor_logs([path], group_col="who")


def test_missing_group_col_is_named(tmp_path):
    path = write_log(tmp_path / "g.csv", {"t_ms": grid(5, 100.0), "x": np.zeros(5)})
    with pytest.raises(InputError, match=r"g\.csv.*--group-col 'who'"):
        read_sensor_logs([path], group_col="who")


def test_groups_csv_sets_groups_and_refuses_a_missing_recording(tmp_path):
    cols = {"t_ms": grid(10, 100.0), "x": np.zeros(10)}
    paths = [write_log(tmp_path / f"{name}.csv", cols) for name in ("100", "s2", "s3")]
    groups = tmp_path / "groups.csv"
    groups.write_text("recording,group\n100,p1\ns2,p1\ns3,7\n")
    recordings, _ = read_sensor_logs(paths, groups=groups)
    assert {r.id: r.group for r in recordings} == {"100": "p1", "s2": "p1", "s3": "7"}

    partial = tmp_path / "partial.csv"
    partial.write_text("recording,group\n100,p1\ns2,p1\n")
    with pytest.raises(InputError, match=r"partial\.csv.*s3"):
        read_sensor_logs(paths, groups=partial)


def test_groups_mapping(tmp_path):
    cols = {"t_ms": grid(10, 100.0), "x": np.zeros(10)}
    paths = [write_log(tmp_path / f"{name}.csv", cols) for name in ("a", "b")]
    recordings, _ = read_sensor_logs(paths, groups={"a": "G", "b": "G"})
    assert [r.group for r in recordings] == ["G", "G"]
    with pytest.raises(InputError, match="b"):
        read_sensor_logs(paths, groups={"a": "G"})


# ---------------------------------------------------------------------------- marker column -> events


@pytest.mark.parametrize("suffix", FORMATS)
def test_event_col_rising_edges_match_brute_force(tmp_path, suffix):
    rng = np.random.default_rng(5)
    paths, expected = [], []
    for name, n, t0 in (("s1", 400, 0.0), ("s2", 300, 5000.0)):
        t = grid(n, 200.0, t0)
        marker = rng.choice([0.0, 0.0, 0.0, 1.0, 2.0, np.nan], n)
        marker[0] = 1.0 if name == "s2" else 0.0  # a log starting 'on' has an edge at its first sample
        paths.append(write_log(tmp_path / f"{name}{suffix}", {"t_ms": t, "ax": rng.standard_normal(n), "shot": marker}))
        expected += [(name, t[i]) for i in brute_force_rising_edges(marker.tolist())]

    recordings, events = read_sensor_logs(paths, event_col="shot")

    assert all(r.channels == ["ax"] for r in recordings)
    assert list(events.columns[:5]) == ["recording", "t_ms", "end_ms", "label", "event_id"]
    assert list(zip(events["recording"], events["t_ms"])) == expected
    np.testing.assert_array_equal(events["end_ms"].to_numpy(), events["t_ms"].to_numpy())
    # ids are stable: 0..n-1 in input order (file order, then time)
    np.testing.assert_array_equal(events["event_id"].to_numpy(), np.arange(len(expected)))
    assert len(expected) > 20


def test_event_col_with_recording_col(tmp_path):
    n = 50
    frame = pd.DataFrame(
        {
            "rec": np.repeat(["b", "a"], n),
            "t_ms": np.tile(grid(n, 100.0), 2),
            "m": np.r_[np.zeros(n), np.zeros(n)],
            "x": np.arange(2 * n, dtype=float),
        }
    )
    frame.loc[[3, 4, 20, 60, 99], "m"] = 1
    path = write_log(tmp_path / "m.csv", {c: frame[c].to_numpy() for c in frame.columns})
    _, events = read_sensor_logs([path], recording_col="rec", event_col="m")
    assert events["recording"].tolist() == ["b", "b", "a", "a"]
    assert events["t_ms"].tolist() == [30.0, 200.0, 100.0, 490.0]
    assert events["event_id"].tolist() == [0, 1, 2, 3]


def test_missing_event_col_is_named(tmp_path):
    path = write_log(tmp_path / "e.csv", {"t_ms": grid(5, 100.0), "x": np.zeros(5)})
    with pytest.raises(InputError, match=r"e\.csv.*--event-col 'shot'"):
        read_sensor_logs([path], event_col="shot")


# ---------------------------------------------------------------------------- time order


@pytest.mark.parametrize("suffix", FORMATS)
def test_unsorted_timestamps_are_refused_with_the_line(tmp_path, suffix):
    n = 30
    t = grid(n, 100.0)
    t[[11, 12]] = t[[12, 11]]  # row 12 goes back in time
    path = write_log(tmp_path / f"u{suffix}", {"t_ms": t, "x": np.arange(n, dtype=float)})
    where = "line 14" if suffix == ".csv" else "row 12"
    with pytest.raises(InputError) as info:
        read_sensor_logs([path])
    message = str(info.value)
    assert f"u{suffix}" in message and where in message and "--sort-time" in message


def test_sort_time_permutes_rows_and_markers(tmp_path):
    rng = np.random.default_rng(6)
    n = 80
    t = grid(n, 100.0, 250.0)
    x = rng.standard_normal(n)
    marker = np.zeros(n)
    marker[[10, 11, 40, 70]] = 1  # edges at sorted samples 10, 40 and 70
    perm = rng.permutation(n)
    path = write_log(tmp_path / "shuffled.csv", {"t_ms": t[perm], "x": x[perm], "m": marker[perm]})
    with pytest.raises(InputError, match="decrease"):
        read_sensor_logs([path])

    (recording,), events = read_sensor_logs([path], sort_time=True, event_col="m")

    order = np.argsort(t[perm], kind="stable")
    np.testing.assert_array_equal(recording.data[0], x[perm][order])
    np.testing.assert_array_equal(recording.data[0], x)
    assert_on_grid(recording, t)
    assert events["t_ms"].tolist() == [t[10], t[40], t[70]]


@pytest.mark.parametrize("sort_time", [False, True])
def test_duplicate_timestamps_are_refused_with_the_line(tmp_path, sort_time):
    n = 30
    t = grid(n, 100.0)
    t[9] = t[8]
    path = write_log(tmp_path / "d.csv", {"t_ms": t, "x": np.zeros(n)})
    with pytest.raises(InputError) as info:
        read_sensor_logs([path], sort_time=sort_time)
    message = str(info.value)
    assert "d.csv" in message and "duplicate" in message
    assert "line 11" in message or "line 10" in message  # one of the two repeated rows (data rows 8, 9)
    assert "t_ms=80" in message


def test_missing_timestamp_is_named(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("t_ms,x\n0,1\n10,2\n,3\n30,4\n")
    with pytest.raises(InputError, match=r"m\.csv.*line 4"):
        read_sensor_logs([path])


@pytest.mark.parametrize(("row", "bad"), [(19, "inf"), (19, "1e400"), (0, "-inf")])
def test_non_finite_timestamp_is_refused_with_the_line(tmp_path, row, bad):
    """A non-finite time where it breaks no ordering (an infinite last or minus-infinite first row)."""
    n = 20
    lines = ["t_ms,ax"] + [f"{i * 10},{i}" for i in range(n)]
    lines[row + 1] = f"{bad},3"
    path = tmp_path / "inf.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as info:
        read_sensor_logs([path])
    assert "inf.csv" in str(info.value) and f"line {row + 2}" in str(info.value)


@pytest.mark.parametrize("suffix", FORMATS)
def test_datetime_time_column_is_converted_or_refused(tmp_path, suffix):
    """ISO datetimes in the time column are not milliseconds: read them as such, or say so; never guess a unit."""
    n = 50
    stamps = pd.date_range("2024-01-01", periods=n, freq="10ms")
    path = write_log(tmp_path / f"dt{suffix}", {"t": stamps, "ax": np.arange(n, dtype=float)})
    try:
        (recording,), _ = read_sensor_logs([path], time_col="t")
    except InputError as error:
        assert f"dt{suffix}" in str(error) and "'t'" in str(error)
    else:
        epoch_ms = stamps[0].value / 1e6
        # float64 epoch milliseconds resolve ~0.25 us, so a 0.5 s log pins the rate to ~1e-6
        assert recording.sample_rate_hz == pytest.approx(100.0, rel=1e-6)
        assert recording.t0_ms == pytest.approx(epoch_ms, abs=1e-3)


# ---------------------------------------------------------------------------- fixed grid and resampling


def test_jittered_timestamps_are_refused_with_a_resample_hint(tmp_path):
    rng = np.random.default_rng(7)
    n = 200
    t = grid(n, 100.0) + rng.uniform(-0.5, 0.5, n)
    path = write_log(tmp_path / "jitter.csv", {"t_ms": np.sort(t), "x": np.zeros(n)})
    with pytest.raises(InputError) as info:
        read_sensor_logs([path])
    message = str(info.value)
    assert "jitter.csv" in message and "--resample-hz" in message and "grid" in message
    hint = float(message.split("--resample-hz")[1].split()[0])
    assert 90 < hint < 110  # suggests a rate close to the log's


def test_tiny_rounding_in_timestamps_is_still_a_grid(tmp_path):
    # 360 Hz timestamps written with 6 decimals are off the exact grid by < 1e-6 ms
    n = 500
    t = np.round(grid(n, 360.0), 6)
    path = write_log(tmp_path / "ecg.csv", {"t_ms": t, "x": np.arange(n, dtype=float)})
    (recording,), _ = read_sensor_logs([path])
    assert recording.sample_rate_hz == pytest.approx(360.0, rel=1e-7)
    # the recording is the fixed grid through the file's endpoints; every row is its sample
    np.testing.assert_allclose(recording.times_ms(), t, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(recording.first_sample_at_or_after(recording.times_ms()), np.arange(n))
    np.testing.assert_array_equal(recording.data[0], np.arange(n, dtype=float))


@pytest.mark.parametrize("rate", [100.0, 64.0])
def test_resample_hz_interpolates_onto_the_grid(tmp_path, rate):
    rng = np.random.default_rng(8)
    n = 300
    t = np.sort(grid(n, 100.0, 17.0) + rng.uniform(-2.0, 2.0, n))
    a = np.cumsum(rng.standard_normal(n))
    b = np.sin(t / 50.0)
    path = write_log(tmp_path / "j.parquet", {"t_ms": t, "a": a, "b": b})

    (recording,), _ = read_sensor_logs([path], resample_hz=rate)

    step = 1000.0 / rate
    n_grid = int(np.floor((t[-1] - t[0]) / step + 1e-9)) + 1
    expected_grid = t[0] + np.arange(n_grid) * step
    assert recording.t0_ms == t[0]
    assert recording.sample_rate_hz == rate
    assert recording.n_samples == n_grid
    np.testing.assert_allclose(recording.times_ms(), expected_grid, rtol=0, atol=1e-9)
    assert recording.end_ms <= t[-1] + 1e-9
    np.testing.assert_allclose(recording.data[0], np.interp(expected_grid, t, a), rtol=0, atol=1e-12)
    np.testing.assert_allclose(recording.data[1], np.interp(expected_grid, t, b), rtol=0, atol=1e-12)


def test_resample_hz_keeps_marker_events_on_the_grid(tmp_path):
    rng = np.random.default_rng(9)
    n = 400
    t = np.sort(grid(n, 100.0) + rng.uniform(-1.0, 1.0, n))
    marker = np.zeros(n)
    marker[[50, 51, 52, 200, 333]] = 1
    path = write_log(tmp_path / "j.csv", {"t_ms": t, "x": np.zeros(n), "m": marker})
    (recording,), events = read_sensor_logs([path], resample_hz=100.0, event_col="m")
    edge_times = t[[50, 200, 333]]
    assert len(events) == 3
    np.testing.assert_allclose(events["t_ms"].to_numpy(), edge_times, rtol=0, atol=recording.step_ms / 2 + 1e-9)
    on_grid = (events["t_ms"].to_numpy() - recording.t0_ms) / recording.step_ms
    np.testing.assert_allclose(on_grid, np.round(on_grid), atol=1e-9)


def test_resample_hz_must_be_positive(tmp_path):
    with pytest.raises(InputError, match="resample_hz"):
        read_sensor_logs(["x.csv"], resample_hz=0.0)


# ---------------------------------------------------------------------------- broken files


def test_empty_file_is_named(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(InputError, match=r"empty\.csv.*empty"):
        read_sensor_logs([path])


def test_header_only_file_is_named(tmp_path):
    path = tmp_path / "header.csv"
    path.write_text("t_ms,ax,ay\n")
    with pytest.raises(InputError, match=r"header\.csv.*no (data )?rows"):
        read_sensor_logs([path])


def test_empty_parquet_is_named(tmp_path):
    path = write_log(tmp_path / "none.parquet", {"t_ms": np.zeros(0), "ax": np.zeros(0)})
    with pytest.raises(InputError, match=r"none\.parquet"):
        read_sensor_logs([path])


@pytest.mark.parametrize("damage", ["truncated", "garbage", "csv_in_parquet", "flipped_pages"])
def test_corrupt_parquet_is_named(tmp_path, damage):
    good = write_log(
        tmp_path / "good.parquet", {"t_ms": grid(2000, 100.0), "ax": np.random.default_rng(0).random(2000)}
    )
    data = good.read_bytes()
    if damage == "truncated":
        data = data[: len(data) // 2]
    elif damage == "garbage":
        data = b"PAR1" + bytes(range(256)) * 3
    elif damage == "csv_in_parquet":
        data = b"t_ms,ax\n0,1\n"
    else:
        footer = pq.ParquetFile(good).metadata.serialized_size + 8
        raw = bytearray(data)
        raw[4 : len(raw) - footer] = bytes(len(raw) - footer - 4)  # zero every data page
        data = bytes(raw)
    path = tmp_path / "broken.parquet"
    path.write_bytes(data)
    try:
        read_sensor_logs([path])
    except InputError as error:
        assert "broken.parquet" in str(error)
        assert "\n" not in str(error)
    else:  # zeroed pages may still decode (to zeros); then the data must be what the file says
        assert damage == "flipped_pages"


def test_ragged_csv_is_named(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("t_ms,ax\n0,1\n10,2,3\n20,3\n")
    with pytest.raises(InputError, match=r"ragged\.csv"):
        read_sensor_logs([path])


def test_missing_file_is_named(tmp_path):
    with pytest.raises(InputError, match=r"nothere\.csv"):
        read_sensor_logs([tmp_path / "nothere.csv"])


# ---------------------------------------------------------------------------- property: fixed-rate round trip


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    fs=st.sampled_from([1.0, 25.0, 100.0, 128.0, 250.0, 360.0, 1000.0, 1024.0]),
    t0=st.integers(-(10**6), 10**7).map(lambda v: v / 8.0),
    n=st.integers(2, 120),
    n_channels=st.integers(1, 4),
    suffix=st.sampled_from(FORMATS),
    seed=st.integers(0, 2**32 - 1),
)
def test_fixed_rate_logs_round_trip(tmp_path, fs, t0, n, n_channels, suffix, seed):
    rng = np.random.default_rng(seed)
    t = t0 + np.arange(n) * 1000.0 / fs
    values = {f"c{k}": rng.standard_normal(n) * 10.0 ** rng.integers(-3, 6) for k in range(n_channels)}
    path = write_log(tmp_path / f"log{suffix}", {"t_ms": t, **values})

    (recording,), events = read_sensor_logs([path])

    assert recording.id == "log"
    assert recording.channels == list(values)
    assert recording.n_samples == n
    assert recording.t0_ms == t[0]
    assert recording.sample_rate_hz == pytest.approx(fs, rel=1e-9)
    assert_on_grid(recording, t)
    for name, data in zip(recording.channels, recording.data):
        np.testing.assert_array_equal(data, values[name])  # bit-exact
    assert len(events) == 0
