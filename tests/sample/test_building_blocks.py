"""Unit checks of the sampler's building blocks against brute-force loops."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from hardneg.io import Recording
from hardneg.sample._draw import SeparationGuard, draw_with_replacement, draw_without_replacement
from hardneg.sample._candidates import StartGrid
from hardneg.sample._motion import WindowStatistics


@settings(max_examples=60, deadline=None)
@given(
    rate=st.sampled_from([100.0, 360.0, 1000.0, 44100.0 / 441]),
    t0=st.floats(-1000, 1000),
    queries=st.lists(st.floats(-2000, 4000), min_size=1, max_size=8),
    hop=st.sampled_from([None, 3]),
    side=st.sampled_from(["left", "right"]),
)
def test_start_grid_first_position_matches_a_scan(rate, t0, queries, hop, side):
    recording = Recording("r", "r", t0, rate, ["x"], [np.zeros(300)], "r.csv")
    n_starts = 251
    starts = None if hop is None else np.arange(0, n_starts, hop)
    grid = StartGrid(recording, n_starts, starts)
    values = np.array(queries)
    if side == "left":
        found = grid.first_position(lambda s, k: s >= values[k], values)
    else:
        found = grid.first_position(lambda s, k: s + 500.0 > values[k], values - 500.0)
    samples = np.arange(n_starts) if starts is None else starts
    times = recording.sample_time_ms(samples)
    for k, value in enumerate(values):
        holds = times >= value if side == "left" else times + 500.0 > value
        expected = int(np.argmax(holds)) if holds.any() else len(samples)
        assert found[k] == expected


def _greedy_reference(recordings, starts, min_sep, limit):
    accepted = []
    for recording, start in zip(recordings, starts):
        if len(accepted) >= limit:
            break
        if all(r != recording or abs(s - start) >= min_sep for r, s in accepted):
            accepted.append((recording, start))
    return accepted


@settings(max_examples=60, deadline=None)
@given(
    starts=st.lists(st.integers(0, 2000), min_size=1, max_size=80),
    min_sep=st.sampled_from([0.0, 1.0, 50.0, 200.0]),
    limit=st.integers(1, 40),
    split=st.integers(0, 79),
)
def test_separation_guard_is_greedy_in_draw_order(starts, min_sep, limit, split):
    starts = np.array(starts, dtype=float)
    recordings = np.arange(len(starts)) % 2
    guard = SeparationGuard(min_sep)
    # Two batches must behave like one sequential pass.
    first = guard.accept_in_order(recordings[:split], starts[:split], limit)
    second = guard.accept_in_order(recordings[split:], starts[split:], limit - int(first.sum()))
    accepted = np.concatenate([first, second])
    got = list(zip(recordings[accepted].tolist(), starts[accepted].tolist()))
    assert got == _greedy_reference(recordings.tolist(), starts.tolist(), min_sep, limit)


def test_draw_without_replacement_is_a_random_order_prefix_and_respects_separation():
    rng = np.random.default_rng(3)
    starts = np.arange(1000, dtype=float) * 10.0
    recordings = np.zeros(1000, dtype=np.int32)
    chosen, rejected = draw_without_replacement(
        rng, 1000, 50, lambda p: (recordings[p], starts[p]), SeparationGuard(35.0)
    )
    assert len(chosen) == 50 and len(set(chosen.tolist())) == 50
    picked = np.sort(starts[chosen])
    assert np.all(np.diff(picked) >= 35.0)
    assert rejected >= 0
    again, _ = draw_without_replacement(
        np.random.default_rng(3), 1000, 50, lambda p: (recordings[p], starts[p]), SeparationGuard(35.0)
    )
    assert np.array_equal(chosen, again)


def test_draw_without_replacement_exhausts_a_large_pool_past_its_prefix():
    # 3 million candidates but only 3 can be taken 1e6 apart: the prefix runs dry, the rest is walked.
    pool = 3_000_000
    starts = np.arange(pool, dtype=float)
    recordings = np.zeros(pool, dtype=np.int32)
    chosen, _ = draw_without_replacement(
        np.random.default_rng(0), pool, 10, lambda p: (recordings[p], starts[p]), SeparationGuard(1e6)
    )
    picked = np.sort(starts[chosen])
    assert 2 <= len(chosen) <= 3
    assert np.all(np.diff(picked) >= 1e6)


def test_draw_with_replacement_drops_repeats_in_draw_order():
    rng = np.random.default_rng(0)
    starts = np.arange(5, dtype=float)
    chosen, duplicates, rejected = draw_with_replacement(
        rng, 5, 4, lambda p: (np.zeros(len(p), np.int32), starts[p]), SeparationGuard(0)
    )
    assert len(set(chosen.tolist())) == len(chosen) == 4
    assert duplicates == 8 - len(np.unique(np.random.default_rng(0).integers(0, 5, size=8)))
    assert rejected == 0


def _brute_motion(channels, names, start, length, weight):
    window = {name: np.asarray(values[start : start + length], dtype=float) for name, values in zip(names, channels)}
    if {"gx", "ax"} <= set(window):
        gyro = np.mean(window["gx"] ** 2 + window["gy"] ** 2 + window["gz"] ** 2)
        accel = np.var(np.sqrt(window["ax"] ** 2 + window["ay"] ** 2 + window["az"] ** 2))
        return gyro + weight * accel
    return sum(np.mean((values - values.mean()) ** 2) for values in window.values())


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), length=st.integers(1, 30), imu=st.booleans(), weight=st.floats(0, 2))
def test_motion_matches_the_formula(seed, length, imu, weight):
    rng = np.random.default_rng(seed)
    names = ["ax", "ay", "az", "gx", "gy", "gz"] if imu else ["ecg", "resp"]
    n = 60
    channels = [rng.normal(9.8 if name == "az" else 0.0, rng.uniform(0.01, 3.0), n) for name in names]
    recording = Recording("r", "r", 0.0, 100.0, names, channels, "r.parquet")
    statistics = WindowStatistics(recording, length, accel_weight=weight)
    starts = np.arange(n - length + 1)
    expected = [_brute_motion(channels, names, s, length, weight) for s in starts]
    np.testing.assert_allclose(statistics.motion(starts), expected, rtol=1e-7, atol=1e-9)
    assert statistics.formula == ("imu" if imu else "channel_variance")


def test_nan_free_marks_windows_with_nan():
    values = np.arange(10, dtype=float)
    values[4] = np.nan
    recording = Recording("r", "r", 0.0, 10.0, ["x"], [values], "r.csv")
    statistics = WindowStatistics(recording, 3)
    starts = np.arange(8)
    expected = [not np.isnan(values[s : s + 3]).any() for s in starts]
    assert statistics.nan_free(starts).tolist() == expected
    finite = statistics.motion(starts)[np.array(expected)]
    assert np.all(np.isfinite(finite))


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), length=st.integers(1, 20), imu=st.booleans(), with_nan=st.booleans())
def test_every_window_equals_motion_and_nan_free(seed, length, imu, with_nan):
    rng = np.random.default_rng(seed)
    names = ["ax", "ay", "az", "gx", "gy", "gz"] if imu else ["ecg", "resp", "spo2"]
    channels = [rng.normal(0, 1, 40) for _ in names]
    if with_nan:
        channels[1][rng.integers(0, 40)] = np.nan
    recording = Recording("r", "r", 0.0, 100.0, names, channels, "r.parquet")
    starts = np.arange(40 - length + 1)
    expected_motion = WindowStatistics(recording, length).motion(starts)
    expected_nan_free = WindowStatistics(recording, length).nan_free(starts)
    motion, nan_free = WindowStatistics(recording, length).every_window()
    np.testing.assert_allclose(motion, expected_motion, rtol=1e-12, atol=1e-12)
    if with_nan:
        assert nan_free.tolist() == expected_nan_free.tolist()
    else:
        assert nan_free is None and expected_nan_free is None
