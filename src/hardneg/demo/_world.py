"""A small synthetic IMU world: shooters, sessions, shots and aiming holds.

The world imitates a wrist/gun IMU team that wants to detect the moment just
before a shot. Each session is a tiling of activity segments (idle, walking,
raising the gun, an aiming hold, the recoil of a shot, lowering the gun). The
ground truth of every segment is written next to the logs, so tests and the
``hardneg demo`` command can check where sampled windows really came from.

The key ingredient is the ``aim_no_shot`` hold: the shooter raises the gun,
aims, and lowers it again without firing. During the hold it is drawn from the
same generator as the hold that precedes a shot, so it is the *hard negative*
that a detector trained on easy negatives (idle, walking) confuses with the
pre-shot interval. The only systematic difference is that a shooter steadies
(tremor fades to 35-50 %) during the last ~1 s before pulling the trigger.
A detector trained on easy negatives has little reason to look at tremor;
one shown the no-shot holds as negatives learns that cue, which is what
hard-negative mining is for (``hardneg demo`` shows it).

Layout of a world (``generate_world(root)``)::

    root/
      logs/s01.parquet ...   one file per shot session (t_ms, ax, ay, az, gx, gy, gz)
      pool/p01.parquet ...   sessions with aiming holds but no shots at all
      events.csv             recording,t_ms,end_ms,label   (shots of logs/ only)
      groups.csv             recording,group               (every session -> shooter)
      holds.csv              recording,start_ms,end_ms,kind (every segment, all sessions)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from hardneg.errors import InputError

__all__ = ["CHANNELS", "SEGMENT_KINDS", "WorldFiles", "generate_world"]

#: Column order of every log file.
CHANNELS = ("ax", "ay", "az", "gx", "gy", "gz")

#: Every ``kind`` that can appear in ``holds.csv``. "raise" and "lower" are
#: the transitions into and out of an aiming hold; they are listed so that the
#: segments tile each session without gaps.
SEGMENT_KINDS = ("idle", "walk", "raise", "aim", "aim_no_shot", "recoil", "lower")

GRAVITY = 9.81  # m/s^2
# Sensor full scale of a typical wrist IMU (+-16 g, +-2000 deg/s): recoil
# spikes saturate, as they do on real hardware.
ACCEL_FULL_SCALE = 16 * GRAVITY
GYRO_FULL_SCALE = math.radians(2000.0)

# Sensor white noise (per axis, per sample) and arm length from shoulder to
# the sensor, used for the linear acceleration of arm swings and raises.
ACCEL_NOISE = 0.03  # m/s^2
GYRO_NOISE = 0.003  # rad/s
ARM_LENGTH_M = 0.6

MIN_SHOT_GAP_S = 3.0  # guaranteed by the segment minima below; also checked
HOLD_MIN_S, HOLD_MAX_S = 1.5, 5.0
RECOIL_MIN_S, RECOIL_MAX_S = 0.05, 0.15
STEADY_S = 1.0  # length of the pre-shot steadying ramp
P_NO_SHOT = 0.25  # share of holds in shot sessions that end without a shot
MIN_NO_SHOT_HOLDS = 2  # per shot session, when it has room for them
P_WALK = 0.35  # share of bouts that start with a walk


@dataclass(frozen=True)
class WorldFiles:
    """Paths of a generated world.

    Parameters
    ----------
    root : pathlib.Path
        The world's directory.
    logs : list of pathlib.Path
        One Parquet log per shot session, ``root/logs/<id>.parquet``; the stem
        is the recording id (``"s01"``, ``"s02"``...).
    events : pathlib.Path
        ``events.csv`` with columns ``recording, t_ms, end_ms, label``: one
        row per shot, ``t_ms`` the recoil onset (a sample time), ``end_ms``
        the end of the recoil segment, ``label`` ``"shot"``.
    groups : pathlib.Path
        ``groups.csv`` with columns ``recording, group``; the group is the
        shooter (``"shooter_a"``...), with several sessions per shooter. The
        pool sessions are listed too.
    holds : pathlib.Path
        ``holds.csv`` with columns ``recording, start_ms, end_ms, kind``: every
        segment of every session (pool included), half-open
        ``[start_ms, end_ms)`` on the sample grid, tiling the session. Kinds
        are those of :data:`SEGMENT_KINDS`.
    no_shot_logs : list of pathlib.Path
        ``root/pool/<id>.parquet`` (``"p01"``...): sessions with aiming holds
        (``aim_no_shot``) but no shots, absent from ``events.csv``; a pool for
        hard-negative mining.
    """

    root: Path
    logs: list[Path]
    events: Path
    groups: Path
    holds: Path
    no_shot_logs: list[Path]


@dataclass(frozen=True)
class _Shooter:
    """Per-shooter style: what makes one shooter's sessions look alike."""

    name: str
    tremor_rms: float  # rad/s, gyro RMS of tremor on the pitch axis
    tremor_hz: float  # centre of the physiological tremor band
    hold_mean_s: float
    idle_pitch: float  # rad; arm hanging, barrel down
    idle_roll: float
    aim_pitch: float  # rad; near level
    aim_cant: float  # rad; roll of the gun while aiming
    steady_factor: float  # tremor multiplier reached at the shot onset
    recoil_accel: float  # m/s^2, peak of the backward accel spike
    recoil_flip: float  # rad, muzzle flip
    step_hz: float  # walking cadence
    arm_swing: float  # rad, pitch amplitude of arm swing while walking


def _make_shooter(seed: int, index: int) -> _Shooter:
    # Keyed on (seed, index) only, so a shooter's style does not change when
    # the number of sessions does.
    rng = np.random.default_rng([seed, 1, index])
    return _Shooter(
        name=f"shooter_{_letters(index)}",
        tremor_rms=float(rng.uniform(0.035, 0.045)),
        tremor_hz=float(rng.uniform(8.5, 11.5)),
        hold_mean_s=float(rng.uniform(2.0, 3.5)),
        idle_pitch=math.radians(float(rng.uniform(-85.0, -60.0))),
        idle_roll=math.radians(float(rng.uniform(-15.0, 15.0))),
        aim_pitch=math.radians(float(rng.uniform(-4.0, 4.0))),
        aim_cant=math.radians(float(rng.uniform(-12.0, 12.0))),
        steady_factor=float(rng.uniform(0.35, 0.5)),
        recoil_accel=float(rng.uniform(50.0, 120.0)),
        recoil_flip=float(rng.uniform(0.06, 0.15)),
        step_hz=float(rng.uniform(1.7, 2.2)),
        arm_swing=float(rng.uniform(0.25, 0.45)),
    )


def _letters(index: int) -> str:
    """0 -> 'a', 25 -> 'z', 26 -> 'aa' (spreadsheet-style)."""
    out = ""
    index += 1
    while index:
        index, r = divmod(index - 1, 26)
        out = chr(ord("a") + r) + out
    return out


# ---------------------------------------------------------------------------
# Timeline planning


def _plan_session(rng, shooter: _Shooter, n: int, fs: float, with_shots: bool):
    """Plan a session as a list of ``(kind, n_samples)`` tiling ``n`` samples.

    A session is idle, then bouts of [walk, idle,] raise, hold, [recoil,]
    lower, idle. The minima add up to more than :data:`MIN_SHOT_GAP_S`
    between two recoil onsets (recoil + lower + idle + raise + hold >= 3.65 s),
    so the 3 s gap holds by construction.
    """

    def ns(seconds):
        return max(1, int(round(seconds * fs)))

    plan = [["idle", ns(rng.uniform(2.0, 5.0))]]
    used = plan[0][1]
    while True:
        bout = []
        if rng.random() < P_WALK:
            bout += [["walk", ns(rng.uniform(3.0, 8.0))], ["idle", ns(rng.uniform(1.0, 3.0))]]
        hold_s = float(np.clip(rng.normal(shooter.hold_mean_s, 0.8), HOLD_MIN_S, HOLD_MAX_S))
        shot = with_shots and rng.random() >= P_NO_SHOT
        bout += [["raise", ns(rng.uniform(0.6, 1.1))], ["aim" if shot else "aim_no_shot", ns(hold_s)]]
        if shot:
            bout.append(["recoil", ns(rng.uniform(RECOIL_MIN_S, RECOIL_MAX_S))])
        bout += [["lower", ns(rng.uniform(0.5, 0.9))], ["idle", ns(rng.uniform(1.5, 5.0))]]
        size = sum(k for _, k in bout)
        if used + size > n:
            break
        plan += bout
        used += size
    # Whatever is left goes to the final idle, so the session ends at rest.
    plan[-1][1] += n - used
    # Every shot session gets a few hard negatives, even on an unlucky draw:
    # turn random shots into aborted holds (the recoil's samples go to the
    # lowering, so the tiling and the spacing of other shots are unchanged).
    shots = [i for i, (kind, _) in enumerate(plan) if kind == "aim"]
    no_shots = sum(kind == "aim_no_shot" for kind, _ in plan)
    if with_shots and no_shots < MIN_NO_SHOT_HOLDS and len(shots) >= 2 * MIN_NO_SHOT_HOLDS:
        for i in sorted(rng.choice(shots, MIN_NO_SHOT_HOLDS - no_shots, replace=False), reverse=True):
            plan[i][0] = "aim_no_shot"
            plan[i + 2][1] += plan[i + 1][1]  # [aim, recoil, lower] -> [aim_no_shot, lower]
            del plan[i + 1]
    return [(kind, k) for kind, k in plan]


# ---------------------------------------------------------------------------
# Signal helpers (all vectorised over a segment)


def _band_noise(rng, m: int, fs: float, f_lo: float, f_hi: float) -> np.ndarray:
    """Unit-RMS Gaussian noise restricted to ``[f_lo, f_hi]`` Hz (zeros if the band is empty)."""
    spec = np.fft.rfft(rng.standard_normal(m))
    freqs = np.fft.rfftfreq(m, d=1.0 / fs)
    spec[(freqs < f_lo) | (freqs > f_hi)] = 0.0
    x = np.fft.irfft(spec, n=m)
    rms = float(np.sqrt(np.mean(x * x))) if m else 0.0
    return x / rms if rms > 0 else np.zeros(m)


def _rate_gain(x: np.ndarray, fs: float, rate_rms: float) -> float:
    """Gain that gives an angle signal a derivative (the gyro reading) of RMS ``rate_rms``."""
    if x.size < 2:
        return 0.0
    d = np.gradient(x) * fs
    r = float(np.sqrt(np.mean(d * d)))
    return rate_rms / r if r > 0 else 0.0


def _rate_scaled(x: np.ndarray, fs: float, rate_rms: float) -> np.ndarray:
    """``x`` scaled so that its derivative has RMS ``rate_rms``."""
    return x * _rate_gain(x, fs, rate_rms)


def _taper(m: int, fs: float, ramp_s: float) -> np.ndarray:
    """Ones with raised-cosine ramps at both ends, so additive terms start and end at zero."""
    w = np.ones(m)
    k = min(int(round(ramp_s * fs)), m // 2)
    if k > 0:
        ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(k) / k)
        w[:k] = ramp
        w[m - k :] = ramp[::-1]
    return w


def _min_jerk(m: int) -> np.ndarray:
    """Minimum-jerk profile 0 -> 1 over ``m`` samples: how people move an arm from rest to rest."""
    tau = np.arange(1, m + 1) / m
    return tau**3 * (10 - 15 * tau + 6 * tau * tau)


# ---------------------------------------------------------------------------
# Session synthesis


def _synthesize(rng, shooter: _Shooter, plan, fs: float):
    """Turn a plan into ``(t_ms, channels dict, segments)``; one loop step per segment."""
    n = sum(k for _, k in plan)
    # Orientation is split into a slow "posture" part (arm movements, drift),
    # which also drives the arm's linear acceleration, and a fast part
    # (tremor, recoil flip) that rotates the sensor in the hand.
    pitch, roll, yaw = np.zeros(n), np.zeros(n), np.zeros(n)
    pitch_f, roll_f, yaw_f = np.zeros(n), np.zeros(n), np.zeros(n)
    up_acc = np.zeros(n)  # vertical body bounce (walking), along gravity
    lin = np.zeros((3, n))  # linear accel in the sensor frame (recoil, sway)

    cur = np.array([shooter.idle_pitch, shooter.idle_roll, 0.0])
    segments = []
    s = 0
    for kind, m in plan:
        e = s + m
        t = np.arange(m) / fs
        if kind == "idle":
            # Gun at rest by the side: a slow, tiny sway returning to the rest posture.
            sway = _taper(m, fs, 0.3)
            for j, arr in enumerate((pitch, roll, yaw)):
                arr[s:e] = cur[j] + sway * _rate_scaled(_band_noise(rng, m, fs, 0.05, 0.5), fs, 0.004)
        elif kind == "walk":
            # Arm swings at the stride frequency (half the step rate); the body
            # bounces at the step rate. Cadence wanders a little, via the phase.
            env = _taper(m, fs, 0.5)
            f_step = shooter.step_hz * (1.0 + 0.03 * _band_noise(rng, m, fs, 0.0, 0.3))
            phase = 2 * np.pi * np.cumsum(f_step) / fs + rng.uniform(0, 2 * np.pi)
            pitch[s:e] = cur[0] + env * shooter.arm_swing * np.sin(phase / 2)
            roll[s:e] = cur[1] + env * 0.08 * np.sin(phase / 2 + 0.7)
            yaw[s:e] = cur[2] + env * 0.3 * shooter.arm_swing * np.sin(phase / 2 + 1.3)
            bounce = rng.uniform(1.5, 3.0)
            up_acc[s:e] = env * bounce * (np.cos(phase) + 0.35 * np.cos(2 * phase + 0.4))
            lin[1, s:e] += env * 0.4 * bounce * np.sin(phase / 2)
        elif kind in ("raise", "lower"):
            if kind == "raise":
                target = np.array(
                    [
                        shooter.aim_pitch + math.radians(rng.normal(0, 1.5)),
                        shooter.aim_cant + math.radians(rng.normal(0, 2.0)),
                        cur[2] + rng.uniform(-0.4, 0.4),  # a new target direction
                    ]
                )
            else:
                target = np.array(
                    [
                        shooter.idle_pitch + math.radians(rng.normal(0, 3.0)),
                        shooter.idle_roll + math.radians(rng.normal(0, 3.0)),
                        cur[2] + rng.uniform(-0.1, 0.1),
                    ]
                )
            prof = _min_jerk(m)
            for j, arr in enumerate((pitch, roll, yaw)):
                arr[s:e] = cur[j] + (target[j] - cur[j]) * prof
            cur = target
        elif kind in ("aim", "aim_no_shot"):
            # Posture: slow drift plus breathing sway, starting from the
            # raise's end so the angle is continuous.
            breath_hz = rng.uniform(0.2, 0.33)
            for j, arr in enumerate((pitch, roll, yaw)):
                drift = rng.normal(0, 0.002) * t
                breath = rng.uniform(0.0005, 0.0015) * np.sin(2 * np.pi * breath_hz * t)
                arr[s:e] = cur[j] + drift + breath
            # Tremor: band-limited 8-12 Hz, a fresh draw per hold with the
            # shooter's amplitude, the same generator for both hold kinds. It
            # fades in over the first 0.15 s and out over the 0.15 s *after*
            # the hold (into the recoil or the lowering), so the hold's last
            # samples carry full tremor, as a real hand does.
            ext = min(n, e + int(round(0.15 * fs)))
            env = _taper(2 * m, fs, 0.15)[:m]
            env = np.concatenate([env, (0.5 + 0.5 * np.cos(np.pi * np.arange(1, ext - e + 1) / (ext - e + 1)))])
            if kind == "aim":
                # Steadying before the trigger pull: tremor fades to
                # steady_factor over the last STEADY_S seconds of the hold.
                k = min(int(round(STEADY_S * fs)), m)
                env[m - k : m] *= 1.0 - (1.0 - shooter.steady_factor) * _min_jerk(k)
                env[m:] *= shooter.steady_factor
            level = shooter.tremor_rms * float(np.exp(rng.normal(0, 0.15)))
            f0 = shooter.tremor_hz
            for arr, scale in ((pitch_f, 1.0), (yaw_f, 0.8), (roll_f, 0.6)):
                x = _band_noise(rng, ext - s, fs, f0 - 1.5, f0 + 1.5)
                # Gain from the hold part only, so the hold has the intended level.
                arr[s:ext] += env * x * _rate_gain(x[:m], fs, level * scale)
        elif kind == "recoil":
            # Backward accel spike with a ringing rebound, starting exactly at
            # the onset sample, and a muzzle flip that peaks after ~tau and
            # settles within ~0.4 s (it may run into the following "lower").
            tau_a = max(m / fs / 4.0, 0.5 / fs)
            ring = np.exp(-t / tau_a)
            f_ring = rng.uniform(25.0, 40.0)
            amp = shooter.recoil_accel * float(np.exp(rng.normal(0, 0.15)))
            lin[0, s:e] += -amp * ring * np.cos(2 * np.pi * f_ring * t)
            lin[2, s:e] += 0.4 * amp * ring * np.sin(2 * np.pi * f_ring * t)
            tail = min(n, s + int(round(0.4 * fs)))
            tt = np.arange(tail - s) / fs
            tau = rng.uniform(0.02, 0.035)
            flip = shooter.recoil_flip * float(np.exp(rng.normal(0, 0.15)))
            kick = (tt / tau) * np.exp(1.0 - tt / tau)
            pitch_f[s:tail] += flip * kick
            yaw_f[s:tail] += 0.2 * flip * rng.choice([-1.0, 1.0]) * kick
            for j, arr in enumerate((pitch, roll, yaw)):
                arr[s:e] = cur[j]
        else:  # pragma: no cover - the plan only holds the kinds above
            raise AssertionError(kind)
        if kind in ("idle", "walk", "aim", "aim_no_shot"):
            cur = np.array([pitch[e - 1], roll[e - 1], yaw[e - 1]])
        segments.append((kind, s, e))
        s = e

    # Gyro = rate of the total orientation (small-angle Euler rates).
    gx = np.gradient(roll + roll_f) * fs
    gy = np.gradient(pitch + pitch_f) * fs
    gz = np.gradient(yaw + yaw_f) * fs
    # Arm lever: the sensor sits ARM_LENGTH_M from the shoulder along the
    # barrel, so posture changes add tangential and centripetal acceleration.
    w = np.gradient(pitch) * fs
    lin[2] += ARM_LENGTH_M * np.gradient(w) * fs
    lin[0] += -ARM_LENGTH_M * w * w
    # The accelerometer reads specific force: +g (plus body bounce) along world
    # up, seen in the rotated sensor frame.
    th, ph = pitch + pitch_f, roll + roll_f
    g = GRAVITY + up_acc
    ax = g * np.sin(th) + lin[0]
    ay = g * np.cos(th) * np.sin(ph) + lin[1]
    az = g * np.cos(th) * np.cos(ph) + lin[2]

    bias = rng.normal(0, 0.003, size=3)  # per-session gyro bias
    noise_a = rng.normal(0, ACCEL_NOISE, size=(3, n))
    noise_g = rng.normal(0, GYRO_NOISE, size=(3, n))
    chans = {}
    for j, (name, x) in enumerate(zip(("ax", "ay", "az"), (ax, ay, az))):
        chans[name] = np.clip(x + noise_a[j], -ACCEL_FULL_SCALE, ACCEL_FULL_SCALE).astype(np.float32)
    for j, (name, x) in enumerate(zip(("gx", "gy", "gz"), (gx, gy, gz))):
        chans[name] = np.clip(x + bias[j] + noise_g[j], -GYRO_FULL_SCALE, GYRO_FULL_SCALE).astype(np.float32)
    t_ms = np.arange(n) * (1000.0 / fs)
    return t_ms, chans, segments


def _write_log(path: Path, t_ms: np.ndarray, chans: dict) -> None:
    cols = {"t_ms": pa.array(t_ms, type=pa.float64())}
    cols.update({c: pa.array(chans[c], type=pa.float32()) for c in CHANNELS})
    # Written from a bare Arrow table (no pandas metadata) with fixed options,
    # so the same seed gives byte-identical files.
    pq.write_table(pa.table(cols), path, compression="snappy")


def _write_csv(path: Path, rows: list, columns: list) -> None:
    pd.DataFrame(rows, columns=columns).to_csv(path, index=False, lineterminator="\n")


def generate_world(
    out_dir,
    *,
    seed: int = 0,
    n_sessions: int = 6,
    session_minutes: float = 4.0,
    sample_rate_hz: float = 100.0,
    n_no_shot_sessions: int = 2,
) -> WorldFiles:
    """Write a synthetic wrist/gun IMU world to ``out_dir``.

    Shot sessions ``s01``... go to ``out_dir/logs/``, no-shot sessions
    ``p01``... to ``out_dir/pool/``, and ``events.csv``, ``groups.csv`` and
    ``holds.csv`` to ``out_dir`` (see :class:`WorldFiles`). Sessions are shared
    round-robin among ``max(min(2, n_sessions), ceil(n_sessions / 2))``
    shooters (``shooter_a``...), each with their own tremor, hold length,
    posture and recoil. A default session holds roughly 10-25 shots at least
    3 s apart plus at least two ``aim_no_shot`` holds.

    Existing files of the same names are overwritten; other files in
    ``out_dir`` are left alone.

    Parameters
    ----------
    out_dir : str or pathlib.Path
        Directory to write; created if missing.
    seed : int, default 0
        Same seed, same arguments -> byte-identical files.
    n_sessions : int, default 6
        Number of shot sessions (at least 1).
    session_minutes : float, default 4.0
        Length of every session.
    sample_rate_hz : float, default 100.0
        Sample rate; ``t_ms = np.arange(n) * (1000.0 / sample_rate_hz)``.
        Below ~25 Hz the 8-12 Hz tremor is above Nyquist and is left out.
    n_no_shot_sessions : int, default 2
        Number of pool sessions without shots (0 for none).

    Returns
    -------
    WorldFiles
        Paths of everything written.

    Raises
    ------
    hardneg.errors.InputError
        If an argument is out of range.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> world = generate_world(tempfile.mkdtemp(), seed=1, n_sessions=2, session_minutes=1.0)
    >>> [p.name for p in world.logs]
    ['s01.parquet', 's02.parquet']
    >>> list(pd.read_parquet(world.logs[0]).columns)
    ['t_ms', 'ax', 'ay', 'az', 'gx', 'gy', 'gz']
    >>> sorted(pd.read_csv(world.events)["label"].unique())
    ['shot']
    """
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"demo world: seed must be a non-negative integer, got {seed!r}")
    if not isinstance(n_sessions, (int, np.integer)) or n_sessions < 1:
        raise InputError(f"demo world: n_sessions must be an integer >= 1, got {n_sessions!r}")
    if not isinstance(n_no_shot_sessions, (int, np.integer)) or n_no_shot_sessions < 0:
        raise InputError(f"demo world: n_no_shot_sessions must be an integer >= 0, got {n_no_shot_sessions!r}")
    if not (math.isfinite(session_minutes) and session_minutes > 0):
        raise InputError(f"demo world: session_minutes must be a positive number, got {session_minutes!r}")
    if not (math.isfinite(sample_rate_hz) and sample_rate_hz > 0):
        raise InputError(f"demo world: sample_rate_hz must be a positive number, got {sample_rate_hz!r}")
    fs = float(sample_rate_hz)
    n = int(round(session_minutes * 60.0 * fs))
    if n < 2:
        raise InputError(
            f"demo world: a {session_minutes} min session at {fs} Hz has fewer than 2 samples; make it longer"
        )

    root = Path(out_dir)
    (root / "logs").mkdir(parents=True, exist_ok=True)
    if n_no_shot_sessions:
        (root / "pool").mkdir(parents=True, exist_ok=True)

    n_shooters = max(min(2, n_sessions), math.ceil(n_sessions / 2))
    shooters = [_make_shooter(seed, i) for i in range(n_shooters)]
    step = 1000.0 / fs

    sessions = [(f"s{i + 1:02d}", root / "logs", True, 2, i) for i in range(n_sessions)]
    sessions += [(f"p{i + 1:02d}", root / "pool", False, 3, i) for i in range(n_no_shot_sessions)]

    logs, pool, event_rows, group_rows, hold_rows = [], [], [], [], []
    for sid, folder, with_shots, stream, i in sessions:
        shooter = shooters[i % n_shooters]
        # One independent stream per session: adding sessions does not change
        # the earlier ones.
        rng = np.random.default_rng([seed, stream, i])
        plan = _plan_session(rng, shooter, n, fs, with_shots)
        t_ms, chans, segments = _synthesize(rng, shooter, plan, fs)
        path = folder / f"{sid}.parquet"
        _write_log(path, t_ms, chans)
        (logs if with_shots else pool).append(path)
        group_rows.append((sid, shooter.name))
        for kind, s, e in segments:
            # Times as i * step, the same float expression as t_ms, so an
            # event's t_ms equals the onset sample's timestamp exactly.
            hold_rows.append((sid, s * step, e * step, kind))
            if kind == "recoil":
                event_rows.append((sid, s * step, e * step, "shot"))

    events = root / "events.csv"
    groups = root / "groups.csv"
    holds = root / "holds.csv"
    _write_csv(events, event_rows, ["recording", "t_ms", "end_ms", "label"])
    _write_csv(groups, group_rows, ["recording", "group"])
    _write_csv(holds, hold_rows, ["recording", "start_ms", "end_ms", "kind"])
    return WorldFiles(root=root, logs=logs, events=events, groups=groups, holds=holds, no_shot_logs=pool)
