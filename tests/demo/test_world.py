"""Tests of the synthetic IMU world (hardneg.demo._world); its speed is timed in benchmarks/bench_unit_timings.py."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hardneg.demo._world import CHANNELS, SEGMENT_KINDS, WorldFiles, generate_world
from hardneg.errors import InputError

FS = 100.0
STEP = 1000.0 / FS
N = int(4.0 * 60 * FS)  # samples of a default session


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> WorldFiles:
    return generate_world(tmp_path_factory.mktemp("world"))


@pytest.fixture(scope="module")
def tables(world):
    """All logs (shot and pool sessions) by recording id, plus the three CSVs."""
    logs = {p.stem: pd.read_parquet(p) for p in world.logs + world.no_shot_logs}
    events = pd.read_csv(world.events, dtype={"recording": str})
    groups = pd.read_csv(world.groups, dtype={"recording": str})
    holds = pd.read_csv(world.holds, dtype={"recording": str})
    return logs, events, groups, holds


def _idx(t_ms: float) -> int:
    return int(round(t_ms / STEP))


def _gyro_energy(df: pd.DataFrame) -> np.ndarray:
    g = df[["gx", "gy", "gz"]].to_numpy(np.float64)
    return (g * g).sum(axis=1)


def _mean_energy(energy: np.ndarray, rows: pd.DataFrame) -> float:
    """Mean gyro energy over the samples of all segments in ``rows``."""
    parts = [energy[_idx(r.start_ms) : _idx(r.end_ms)] for r in rows.itertuples()]
    return float(np.concatenate(parts).mean())


# --- files, columns, dtypes ------------------------------------------------


def test_layout_and_columns(world):
    assert [p.name for p in world.logs] == [f"s{i:02d}.parquet" for i in range(1, 7)]
    assert [p.name for p in world.no_shot_logs] == ["p01.parquet", "p02.parquet"]
    assert all(p.parent == world.root / "logs" for p in world.logs)
    assert all(p.parent == world.root / "pool" for p in world.no_shot_logs)
    for p in world.logs + world.no_shot_logs + [world.events, world.groups, world.holds]:
        assert p.is_file(), p
    for p in world.logs + world.no_shot_logs:
        schema = pq.read_schema(p)
        assert schema.names == ["t_ms", *CHANNELS]
        assert schema.field("t_ms").type == pa.float64()
        for c in CHANNELS:
            assert schema.field(c).type in (pa.float32(), pa.float64())
    assert list(pd.read_csv(world.events).columns) == ["recording", "t_ms", "end_ms", "label"]
    assert list(pd.read_csv(world.groups).columns) == ["recording", "group"]
    assert list(pd.read_csv(world.holds).columns) == ["recording", "start_ms", "end_ms", "kind"]


def test_time_on_fixed_grid(tables):
    logs, *_ = tables
    for rid, df in logs.items():
        t = df["t_ms"].to_numpy()
        assert len(t) == N, rid
        assert np.all(np.diff(t) > 0), rid
        # The exact expression of the spec, bit for bit.
        assert np.array_equal(t, np.arange(N) * (1000.0 / FS)), rid
        assert np.isfinite(df[list(CHANNELS)].to_numpy()).all(), rid


def test_signals_are_physical(tables):
    logs, _, _, holds = tables
    for rid, df in logs.items():
        a = df[["ax", "ay", "az"]].to_numpy(np.float64)
        mag = np.linalg.norm(a, axis=1)
        rest = holds[(holds.recording == rid) & (holds.kind == "idle")]
        idx = np.concatenate([np.arange(_idx(r.start_ms), _idx(r.end_ms)) for r in rest.itertuples()])
        # At rest the accelerometer reads gravity only.
        assert abs(np.median(mag[idx]) - 9.81) < 0.2, rid
        # Posture: barrel down at rest (gravity mostly on x), level when
        # aiming (gravity mostly on z).
        aim = holds[(holds.recording == rid) & holds.kind.isin(["aim", "aim_no_shot"])]
        aidx = np.concatenate([np.arange(_idx(r.start_ms), _idx(r.end_ms)) for r in aim.itertuples()])
        assert np.median(np.abs(a[idx, 0])) > np.median(np.abs(a[idx, 2])), rid
        assert np.median(np.abs(a[aidx, 2])) > 8.5, rid


# --- events and segments ---------------------------------------------------


def test_events_inside_recordings_and_apart(world, tables):
    logs, events, _, _ = tables
    assert set(events.label) == {"shot"}
    shot_ids = {p.stem for p in world.logs}
    assert set(events.recording) == shot_ids  # pool sessions have no events
    for rid, ev in events.groupby("recording"):
        t = ev.t_ms.to_numpy()
        last = logs[rid]["t_ms"].iloc[-1]
        assert np.all((t >= 0) & (t <= last)), rid
        assert np.all(np.diff(np.sort(t)) >= 3000.0), rid
        assert 10 <= len(t) <= 25, (rid, len(t))
        # Onsets are sample times, exactly.
        assert set(t) <= set(logs[rid]["t_ms"]), rid
        assert np.all(ev.end_ms.to_numpy() > t), rid


def test_events_are_the_recoil_segments(tables):
    _, events, _, holds = tables
    recoil = holds[holds.kind == "recoil"]
    ev_set = set(zip(events.recording, events.t_ms, events.end_ms))
    assert ev_set == set(zip(recoil.recording, recoil.start_ms, recoil.end_ms))
    dur = recoil.end_ms - recoil.start_ms
    assert dur.between(50 - STEP / 2, 150 + STEP / 2).all()


def test_holds_tile_every_session(tables):
    logs, _, _, holds = tables
    assert set(holds.kind) <= set(SEGMENT_KINDS)
    assert set(holds.recording) == set(logs)
    for rid, h in holds.groupby("recording", sort=False):
        s, e = h.start_ms.to_numpy(), h.end_ms.to_numpy()
        assert s[0] == 0.0 and e[-1] == N * STEP, rid
        assert np.array_equal(s[1:], e[:-1]), rid  # no gaps, no overlaps
        assert np.all(e > s), rid
        kinds = list(h.kind)
        for i, k in enumerate(kinds):
            if k == "recoil":
                assert kinds[i - 1] == "aim" and kinds[i + 1] == "lower", rid
            if k in ("aim", "aim_no_shot"):
                assert kinds[i - 1] == "raise", rid
                assert 1500 - STEP <= e[i] - s[i] <= 5000 + STEP, rid
            if k == "aim_no_shot":
                assert kinds[i + 1] == "lower", rid


def test_shot_sessions_also_hold_without_shooting_and_pool_never_shoots(world, tables):
    _, _, _, holds = tables
    for p in world.logs:
        kinds = set(holds.kind[holds.recording == p.stem])
        assert {"aim", "aim_no_shot", "recoil", "idle", "walk"} <= kinds, p.stem
    for p in world.no_shot_logs:
        kinds = set(holds.kind[holds.recording == p.stem])
        assert "aim_no_shot" in kinds, p.stem
        assert not kinds & {"aim", "recoil"}, p.stem


def test_shot_onset_is_a_spike(tables):
    logs, events, _, _ = tables
    pre, post = int(500 / STEP), int(150 / STEP)
    for ev in events.itertuples():
        df = logs[ev.recording]
        i = _idx(ev.t_ms)
        a = np.linalg.norm(df[["ax", "ay", "az"]].to_numpy(np.float64), axis=1)
        g = np.sqrt(_gyro_energy(df))
        base = np.median(a[i - pre : i])
        a_pre = np.abs(a[i - pre : i] - base).max()
        a_post = np.abs(a[i : i + post] - base).max()
        g_pre, g_post = g[i - pre : i].max(), g[i : i + post].max()
        assert a_post > 20 * a_pre and a_post > 20.0, (ev.recording, ev.t_ms, a_pre, a_post)
        assert g_post > 5 * g_pre and g_post > 1.0, (ev.recording, ev.t_ms, g_pre, g_post)
        # The spike starts at the onset sample itself, not before.
        assert abs(a[i] - base) > 20 * a_pre, (ev.recording, ev.t_ms)


def test_hold_without_shot_looks_like_hold_before_shot(tables):
    logs, _, groups, holds = tables
    aim_by_shooter = {}
    for rid, h in holds.groupby("recording"):
        if rid.startswith("p"):
            continue
        e = _gyro_energy(logs[rid])
        aim = _mean_energy(e, h[h.kind == "aim"])
        no_shot = _mean_energy(e, h[h.kind == "aim_no_shot"])
        idle = _mean_energy(e, h[h.kind == "idle"])
        walk = _mean_energy(e, h[h.kind == "walk"])
        assert 0.5 <= no_shot / aim <= 2.0, (rid, no_shot / aim)
        # Easy negatives are not like the hold: far stiller, or far livelier.
        assert idle / aim < 0.5, (rid, idle / aim)
        assert walk / aim > 2.0, (rid, walk / aim)
        aim_by_shooter.setdefault(groups.set_index("recording").group[rid], []).append(aim)
    # Pool holds match the same shooter's pre-shot holds too.
    for rid, h in holds.groupby("recording"):
        if not rid.startswith("p"):
            continue
        shooter = groups.set_index("recording").group[rid]
        no_shot = _mean_energy(_gyro_energy(logs[rid]), h[h.kind == "aim_no_shot"])
        ratio = no_shot / np.mean(aim_by_shooter[shooter])
        assert 0.5 <= ratio <= 2.0, (rid, ratio)


def test_steadying_before_the_shot_is_subtle(world, tables):
    """Shooters steady (less tremor) in the last 500 ms before a shot, not before lowering.

    Each hold's last 500 ms are compared with its own middle (from 0.3 s after
    its start to 0.8 s before its end), so per-hold tremor levels cancel out.
    """
    logs, _, _, holds = tables
    ratios = {"aim": [], "aim_no_shot": []}
    for rid, df in logs.items():
        e = _gyro_energy(df)
        for r in holds[(holds.recording == rid) & holds.kind.isin(list(ratios))].itertuples():
            s, end = _idx(r.start_ms), _idx(r.end_ms)
            last = e[end - int(500 / STEP) : end].mean()
            middle = e[s + int(300 / STEP) : end - int(800 / STEP)].mean()
            ratios[r.kind].append(last / middle)
    assert 0.2 < np.median(ratios["aim"]) < 0.75
    assert 0.75 < np.median(ratios["aim_no_shot"]) < 1.3


def test_groups_map_every_session_to_a_shooter(world, tables):
    _, _, groups, _ = tables
    ids = [p.stem for p in world.logs + world.no_shot_logs]
    assert sorted(groups.recording) == sorted(ids)
    assert groups.recording.is_unique
    assert groups.group.str.startswith("shooter_").all()
    sessions_per_shooter = groups[groups.recording.str.startswith("s")].groupby("group").size()
    assert len(sessions_per_shooter) >= 2
    assert (sessions_per_shooter >= 2).all()


# --- determinism, speed, arguments -----------------------------------------


def _all_bytes(w: WorldFiles) -> dict:
    paths = w.logs + w.no_shot_logs + [w.events, w.groups, w.holds]
    return {p.relative_to(w.root).as_posix(): p.read_bytes() for p in paths}


def test_same_seed_same_bytes_other_seed_differs(tmp_path, world):
    a = _all_bytes(generate_world(tmp_path / "a", seed=0))
    assert a == _all_bytes(world)  # the module world was made with seed 0 too
    b = _all_bytes(generate_world(tmp_path / "b", seed=1))
    assert a.keys() == b.keys()
    for name in a:
        if name != "groups.csv":  # same session -> shooter mapping by design
            assert a[name] != b[name], name


def test_adding_sessions_keeps_earlier_ones(tmp_path):
    small = generate_world(tmp_path / "a", seed=5, n_sessions=2, session_minutes=0.5, n_no_shot_sessions=1)
    big = generate_world(tmp_path / "b", seed=5, n_sessions=3, session_minutes=0.5, n_no_shot_sessions=2)
    big_files = {q.name: q for q in big.logs + big.no_shot_logs}
    for p in small.logs + small.no_shot_logs:
        assert p.read_bytes() == big_files[p.name].read_bytes(), p.name


@pytest.mark.parametrize("fs", [50.0, 250.0, 360.0])
def test_other_sample_rates(tmp_path, fs):
    w = generate_world(tmp_path, seed=2, n_sessions=2, session_minutes=1.0, sample_rate_hz=fs, n_no_shot_sessions=0)
    ev = pd.read_csv(w.events, dtype={"recording": str})
    for p in w.logs:
        t = pd.read_parquet(p)["t_ms"].to_numpy()
        assert np.array_equal(t, np.arange(int(round(60 * fs))) * (1000.0 / fs))
        # Event times round-trip through the CSV onto exact sample times.
        assert set(ev.t_ms[ev.recording == p.stem]) <= set(t)


def test_low_sample_rate_still_works(tmp_path):
    # The 8-12 Hz tremor is above Nyquist here and is simply left out.
    w = generate_world(tmp_path, n_sessions=1, session_minutes=1.0, sample_rate_hz=20.0, n_no_shot_sessions=0)
    df = pd.read_parquet(w.logs[0])
    assert len(df) == 1200 and np.isfinite(df.to_numpy()).all()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_sessions": 0},
        {"n_no_shot_sessions": -1},
        {"session_minutes": 0.0},
        {"session_minutes": float("nan")},
        {"sample_rate_hz": -1.0},
        {"seed": -3},
        {"seed": 1.5},
    ],
)
def test_bad_arguments(tmp_path, kwargs):
    with pytest.raises(InputError):
        generate_world(tmp_path, **kwargs)
