"""Brute-force reference checker for a ``hardneg sample`` dataset directory.

Everything here is computed independently of ``hardneg``: the dataset is read
with pyarrow / numpy / json only, and every rule of issue 2 (sections 3 and 4)
is recomputed from the *raw* samples with plain loops and direct per-window
numpy (no cumulative sums, nothing imported from ``hardneg.sample``).

Entry point: :func:`check_dataset`. It raises ``AssertionError`` listing every
violated rule (up to a limit) and otherwise returns a :class:`Reference` with
what it computed (expected positives, pools, counts), so tests can also assert
that a scenario actually exercised a rule (a dropped event, a near negative...).

Rules and the readings chosen where the issue text leaves room (each one is
flagged ``READING`` below so a disagreement can be argued against the text):

* Samples of a window ``[start, end)`` on a fixed-rate recording:
  ``first = ceil((start - t0) * fs / 1000 - 1e-9)``, ``T = floor(window_ms * fs / 1000 + 1e-9)``,
  samples ``first .. first + T - 1``; a window exists only if ``first >= 0`` and
  ``first + T <= n``. Every one of those samples also has ``start <= t < end`` (checked
  in ms with a 1e-9-sample tolerance).
* Positives: one per kept event; ``align end``: ``[t - lead - window, t - lead)``,
  ``align center``: ``[t - window/2, t + window/2)``.
* ``min_event_gap_ms``: events of a recording in time order; an event is dropped when
  ``t - t_previous < gap`` where the previous event is the immediately preceding event
  of that recording *whether or not that one was kept* (the issue: "drop an event whose
  previous event on the same recording is closer than this").
* Event accounting order (READING, for the per-reason counts only): dropped_min_gap,
  then outside_recording (window lacks samples), then contains_nan; the rest are used.
* Exclusion zone of every event (kept, dropped, outside): ``[w_start, max(w_end, t, end_ms) + post)``
  (``end_ms`` included as the lead's brief asks; equals the issue's ``max(w_end, t)``
  when events have no ``end_ms``). Overlap of half-open intervals; touching is allowed.
* Edges: ``start``: ``start >= first_ts + edge_ms``; ``end``: ``end <= last_ts - edge_ms``.
* Near: the negative's event is the first event of the same recording (any event, kept
  or not: the issue defines "the event's positive window" for dropped events too, in the
  exclusion-zone rule) whose positive-window start is ``>= end``; near iff
  ``w_start - end <= near_max``; ``event_id`` is that event's id.
* Far: no event of the recording (kept or not) within ``far_min`` of the window: no
  ``[t, end_ms]`` meets ``(start - far_min, end + far_min)`` (for instant events: no event
  time ``t`` with ``start - far_min < t < end + far_min``).
* far pool = far-qualifying and *not* near-qualifying, in every strategy ("a window that
  qualifies as near is labelled near", so no window labelled far may qualify as near).
* uniform: every allowed candidate. READING: kind is ``uniform`` with a null event_id;
  a uniform-strategy window labelled ``near`` is accepted only if it obeys the near rule.
* Candidates: every sample (or sample ``ceil(k * hop * fs / 1000 - 1e-9)``, k = 0, 1, ...;
  for hops that are a whole number of samples this is every ``hop_samples``-th sample
  from the recording's first sample) with ``first + T <= n``, minus NaN / edges /
  exclusion (removal counted in that order).
* Motion: IMU formula when gyro or accel columns are present, generic formula otherwise;
  population variance.
* ``neg_min_motion_quantile q``: keep ``motion >= np.quantile(motion of all candidates,
  pooled over recordings, q)``. ``neg_match_pos_motion``: keep
  ``quantile(pos, q) <= motion <= quantile(pos, 1 - q)``.
* Requested counts: ``total = round_half_up(neg_mult * positives)``; mixed:
  ``near = round_half_up(frac * total)``, ``far = total - near``; other strategies: all of
  ``total`` for their kind. The issue does not say how to round; half-up
  (``floor(x + 0.5)``) is what the implementation documents and what is pinned here
  (Python's ``round`` would give banker's rounding: frac 0.5 of 5 -> 2, not 3).
* Achieved <= requested per kind; with ``neg_min_sep_ms == 0`` and no replacement the draw
  cannot lose a candidate, so achieved == min(requested, available) per kind.
* Separation, both sides: no two negatives of a recording start closer than ``neg_min_sep_ms``
  (lower bound), and, without replacement, a kind that falls short has left out only candidates
  that some negative starts closer than that to (starts exactly ``neg_min_sep_ms`` apart are
  allowed, so such a candidate must have been taken). ``rejected_min_separation`` is at most
  ``available - achieved`` and equals it when the kind falls short (the whole pool was drawn).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

#: tolerance in samples for every time comparison (the issue's 1e-9)
TOL = 1e-9

DEFAULTS: dict[str, Any] = dict(
    window_ms=500.0,
    lead_ms=100.0,
    align="end",
    min_event_gap_ms=0.0,
    neg_strategy="mixed",
    neg_mult=4,
    neg_mixed_near_frac=0.5,
    near_max_ms=3000.0,
    far_min_ms=3000.0,
    neg_avoid_post_ms=0.0,
    neg_avoid_edges="none",
    edge_ms=1000.0,
    neg_candidate_hop_ms=None,
    neg_min_motion_quantile=None,
    neg_match_pos_motion=False,
    neg_pos_motion_q=0.05,
    neg_min_sep_ms=None,  # half the window (the documented default)
    neg_with_replacement=False,
    motion_accel_weight=0.1,
    gyro_cols=None,
    accel_cols=None,
    seed=0,
)

KINDS = ("near", "far", "uniform")
INDEX_COLUMNS = ("window_id", "recording", "group", "start_ms", "end_ms", "label", "kind", "event_id", "motion")


# --------------------------------------------------------------------------- failures


class _Failures:
    def __init__(self, limit: int = 40):
        self.items: list[str] = []
        self.limit = limit
        self.total = 0

    def add(self, msg: str) -> None:
        self.total += 1
        if len(self.items) < self.limit:
            self.items.append(msg)

    def check(self, cond: bool, msg: str) -> bool:
        if not cond:
            self.add(msg)
        return bool(cond)

    def raise_if_any(self, where: str) -> None:
        if self.total:
            more = f"\n  ... and {self.total - len(self.items)} more" if self.total > len(self.items) else ""
            raise AssertionError(f"{where}: {self.total} rule violation(s):\n  " + "\n  ".join(self.items) + more)


# --------------------------------------------------------------------------- recordings


@dataclass
class RefRecording:
    id: str
    group: str
    t: np.ndarray  # raw timestamps (ms)
    data: np.ndarray  # (C, n) float64, channels in input order
    channels: list[str]

    def __post_init__(self):
        self.t = np.asarray(self.t, dtype=np.float64)
        n = len(self.t)
        if n > 1:
            self.fs = round((n - 1) * 1000.0 / (self.t[-1] - self.t[0]), 6)
            grid = self.t[0] + np.arange(n) * 1000.0 / self.fs
            dev = np.max(np.abs(grid - self.t)) / (1000.0 / self.fs)
            assert dev < 1e-6, f"test data for {self.id} is not on a fixed grid (deviation {dev} steps)"
        else:
            self.fs = float("nan")

    @property
    def n(self) -> int:
        return len(self.t)

    @property
    def t0(self) -> float:
        return float(self.t[0])

    @property
    def last(self) -> float:
        return float(self.t[-1])

    @property
    def step(self) -> float:
        return 1000.0 / self.fs

    @property
    def tol_ms(self) -> float:
        return TOL * self.step

    def first_at_or_after(self, x: float) -> int:
        return int(math.ceil((x - self.t0) * self.fs / 1000.0 - TOL))

    def sample_time(self, i):
        return self.t0 + np.asarray(i, dtype=np.float64) * 1000.0 / self.fs


def _samples_per_window(window_ms: float, fs: float) -> int:
    return int(math.floor(window_ms * fs / 1000.0 + TOL))


# --------------------------------------------------------------------------- motion (brute force)


def _motion_channels(channels: list[str], params: dict) -> tuple[list[int], list[int]]:
    gyro_names = params.get("gyro_cols") or ["gx", "gy", "gz"]
    accel_names = params.get("accel_cols") or ["ax", "ay", "az"]
    if isinstance(gyro_names, str):
        gyro_names = [c.strip() for c in gyro_names.split(",")]
    if isinstance(accel_names, str):
        accel_names = [c.strip() for c in accel_names.split(",")]
    gyro = [channels.index(c) for c in gyro_names] if all(c in channels for c in gyro_names) else []
    accel = [channels.index(c) for c in accel_names] if all(c in channels for c in accel_names) else []
    return gyro, accel


def motion_brute(rec: RefRecording, starts: np.ndarray, T: int, params: dict) -> np.ndarray:
    """Motion of the windows starting at sample ``starts`` (T samples), computed directly."""
    starts = np.asarray(starts, dtype=np.int64)
    out = np.empty(len(starts), dtype=np.float64)
    if len(starts) == 0:
        return out
    gyro, accel = _motion_channels(rec.channels, params)
    w = float(params["motion_accel_weight"])
    chunk = max(1, 1_000_000 // max(T, 1))
    offs = np.arange(T)
    for lo in range(0, len(starts), chunk):
        idx = starts[lo : lo + chunk, None] + offs[None, :]  # (k, T)
        if gyro or accel:
            m = np.zeros(idx.shape[0])
            if gyro:
                g = rec.data[gyro][:, idx]  # (3, k, T)
                m = m + np.mean(g[0] ** 2 + g[1] ** 2 + g[2] ** 2, axis=-1)
            if accel:
                a = rec.data[accel][:, idx]
                mag = np.sqrt(a[0] ** 2 + a[1] ** 2 + a[2] ** 2)  # (k, T)
                dev = mag - mag.mean(axis=-1, keepdims=True)
                m = m + w * np.mean(dev**2, axis=-1)
        else:
            x = rec.data[:, idx]  # (C, k, T)
            dev = x - x.mean(axis=-1, keepdims=True)
            m = np.mean(np.sum(dev**2, axis=0), axis=-1)
        out[lo : lo + chunk] = m
    return out


def motion_of_window_loop(rec: RefRecording, first: int, T: int, params: dict) -> float:
    """Same formula, written as plain Python over one window (used to cross-check motion_brute)."""
    gyro, accel = _motion_channels(rec.channels, params)
    w = float(params["motion_accel_weight"])
    if gyro or accel:
        total = 0.0
        if gyro:
            total += sum(sum(float(rec.data[c, i]) ** 2 for c in gyro) for i in range(first, first + T)) / T
        if accel:
            mags = [math.sqrt(sum(float(rec.data[c, i]) ** 2 for c in accel)) for i in range(first, first + T)]
            mu = sum(mags) / T
            total += w * sum((m - mu) ** 2 for m in mags) / T
        return total
    total = 0.0
    for c in range(rec.data.shape[0]):
        vals = [float(v) for v in rec.data[c, first : first + T]]
        mu = sum(vals) / T
        total += sum((v - mu) ** 2 for v in vals) / T
    return total


# --------------------------------------------------------------------------- reference model


@dataclass
class EventRef:
    event_id: int
    recording: str
    t: float
    end: float
    w_start: float
    w_end: float
    zone_start: float
    zone_end: float
    status: str = "used"  # used | dropped_min_gap | outside_recording | contains_nan
    first: int | None = None


@dataclass
class Reference:
    params: dict
    recordings: dict[str, RefRecording]
    T: int
    events: list[EventRef]
    positives: dict[int, EventRef]  # event_id -> event (kept)
    pos_motion: dict[int, float]
    candidates: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    candidate_counts: dict = field(default_factory=dict)
    pools: dict[str, dict] = field(default_factory=dict)
    requested: dict[str, int] = field(default_factory=dict)
    achieved: dict[str, int] = field(default_factory=dict)
    motion_threshold: float | None = None
    pos_band: tuple[float, float] | None = None
    index: pd.DataFrame | None = None
    meta: dict | None = None


def _params(params: dict) -> dict:
    p = dict(DEFAULTS)
    p.update({k: v for k, v in params.items()})
    if p["neg_min_sep_ms"] is None:
        p["neg_min_sep_ms"] = float(p["window_ms"]) / 2.0
    for k in (
        "window_ms",
        "lead_ms",
        "min_event_gap_ms",
        "near_max_ms",
        "far_min_ms",
        "neg_avoid_post_ms",
        "edge_ms",
        "neg_min_sep_ms",
    ):
        p[k] = float(p[k])
    return p


def _build_events(events: pd.DataFrame, recs: dict[str, RefRecording], p: dict, T: int) -> list[EventRef]:
    w, lead, post = p["window_ms"], p["lead_ms"], p["neg_avoid_post_ms"]
    out: list[EventRef] = []
    for row in events.itertuples(index=False):
        t = float(row.t_ms)
        end = float(row.end_ms) if "end_ms" in events.columns and not pd.isna(row.end_ms) else t
        if p["align"] == "end":
            ws, we = t - lead - w, t - lead
        elif p["align"] == "center":
            ws, we = t - w / 2.0, t + w / 2.0
        else:  # pragma: no cover
            raise ValueError(p["align"])
        out.append(EventRef(int(row.event_id), str(row.recording), t, end, ws, we, ws, max(we, t, end) + post))
    # min event gap: previous event of the same recording, kept or not
    gap = p["min_event_gap_ms"]
    by_rec: dict[str, list[EventRef]] = {}
    for ev in out:
        by_rec.setdefault(ev.recording, []).append(ev)
    for evs in by_rec.values():
        evs.sort(key=lambda e: (e.t, e.event_id))
        for prev, ev in zip(evs, evs[1:]):
            if ev.t - prev.t < gap:
                ev.status = "dropped_min_gap"
    for ev in out:
        if ev.status != "used":
            continue
        rec = recs.get(ev.recording)
        if rec is None:
            raise AssertionError(f"event {ev.event_id} names recording {ev.recording!r} missing from the test's logs")
        first = rec.first_at_or_after(ev.w_start)
        ev.first = first
        if first < 0 or first + T > rec.n:
            ev.status = "outside_recording"
            continue
        if np.isnan(rec.data[:, first : first + T]).any():
            ev.status = "contains_nan"
    return out


def _candidate_starts(rec: RefRecording, T: int, hop_ms) -> np.ndarray:
    last_first = rec.n - T
    if last_first < 0:
        return np.zeros(0, dtype=np.int64)
    if hop_ms is None:
        return np.arange(last_first + 1, dtype=np.int64)
    hop_samples = float(hop_ms) * rec.fs / 1000.0
    k = 0
    out = []
    while True:
        i = int(math.ceil(k * hop_samples - TOL))
        if i > last_first:
            break
        out.append(i)
        k += 1
    return np.asarray(sorted(set(out)), dtype=np.int64)


def round_half_up(x: float) -> int:
    return int(math.floor(x + 0.5))


def _near_event(rec_events: list[EventRef], e: float, tol: float):
    """First event (smallest w_start, then event_id) with w_start >= e; brute-force scan."""
    best = None
    for ev in rec_events:
        if ev.w_start >= e - tol and (best is None or (ev.w_start, ev.event_id) < (best.w_start, best.event_id)):
            best = ev
    return best


def build_reference(
    logs: dict, events: pd.DataFrame, params: dict, *, groups: dict | None = None, with_candidates: bool = True
) -> Reference:
    p = _params(params)
    recs: dict[str, RefRecording] = {}
    for rid, spec in logs.items():
        t, chans = spec[0], spec[1]
        names = list(chans)
        data = np.vstack([np.asarray(chans[c], dtype=np.float64) for c in names]) if names else np.zeros((0, len(t)))
        recs[str(rid)] = RefRecording(str(rid), (groups or {}).get(str(rid), str(rid)), t, data, names)
    fss = {r.fs for r in recs.values() if r.n > 1}
    assert len(fss) == 1, f"reference expects one sample rate per dataset, got {fss}"
    fs = fss.pop()
    T = _samples_per_window(p["window_ms"], fs)
    evs = _build_events(events, recs, p, T)
    positives = {e.event_id: e for e in evs if e.status == "used"}
    pos_motion = {}
    for e in positives.values():
        pos_motion[e.event_id] = float(motion_brute(recs[e.recording], np.array([e.first]), T, p)[0])
    ref = Reference(p, recs, T, evs, positives, pos_motion)

    total = round_half_up(float(p["neg_mult"]) * len(positives))
    strat = p["neg_strategy"]
    if strat == "mixed":
        near = round_half_up(float(p["neg_mixed_near_frac"]) * total)
        ref.requested = {"near": near, "far": total - near, "uniform": 0}
    else:
        ref.requested = {k: (total if k == strat else 0) for k in KINDS}
    if with_candidates:
        _build_candidates(ref)
    return ref


def _build_candidates(ref: Reference) -> None:
    p, T = ref.params, ref.T
    counts = {"total": 0, "removed": {"contains_nan": 0, "edges": 0, "exclusion_zone": 0}, "remaining": 0}
    edges = p["neg_avoid_edges"]
    for rid, rec in ref.recordings.items():
        starts = _candidate_starts(rec, T, p["neg_candidate_hop_ms"])
        counts["total"] += len(starts)
        if len(starts) == 0:
            ref.candidates[rid] = {"first": starts, "start": np.zeros(0), "end": np.zeros(0)}
            continue
        tol = rec.tol_ms
        s = rec.sample_time(starts)
        e = s + p["window_ms"]
        isnan = np.isnan(rec.data).any(axis=0)
        win_nan = np.lib.stride_tricks.sliding_window_view(isnan, T).any(axis=1)[starts]
        edge_bad = np.zeros(len(starts), dtype=bool)
        if edges in ("start", "all"):
            edge_bad |= s < rec.t0 + p["edge_ms"] - tol
        if edges in ("end", "all"):
            edge_bad |= e > rec.last - p["edge_ms"] + tol
        zone_bad = np.zeros(len(starts), dtype=bool)
        for ev in ref.events:  # brute force over every event of the recording
            if ev.recording != rid:
                continue
            zone_bad |= (s < ev.zone_end - tol) & (ev.zone_start < e - tol)
        keep = ~win_nan
        counts["removed"]["contains_nan"] += int(win_nan.sum())
        eb = keep & edge_bad
        counts["removed"]["edges"] += int(eb.sum())
        keep &= ~edge_bad
        zb = keep & zone_bad
        counts["removed"]["exclusion_zone"] += int(zb.sum())
        keep &= ~zone_bad
        counts["remaining"] += int(keep.sum())
        first = starts[keep]
        cs, ce = s[keep], e[keep]
        all_events = [ev for ev in ref.events if ev.recording == rid]
        near_id = np.full(len(first), -1, dtype=np.int64)
        near_ok = np.zeros(len(first), dtype=bool)
        # near: first kept event with w_start >= end (vectorised over candidates, loop over events)
        best_ws = np.full(len(first), np.inf)
        for ev in sorted(all_events, key=lambda x: (x.w_start, x.event_id)):
            m = (ev.w_start >= ce - tol) & (ev.w_start < best_ws)
            best_ws[m] = ev.w_start
            near_id[m] = ev.event_id
        near_ok = np.isfinite(best_ws) & (best_ws - ce <= p["near_max_ms"] + tol)
        far_ok = np.ones(len(first), dtype=bool)
        for ev in all_events:
            far_ok &= ~((cs - p["far_min_ms"] + tol < ev.end) & (ev.t < ce + p["far_min_ms"] - tol))
        ref.candidates[rid] = {
            "first": first,
            "start": cs,
            "end": ce,
            "near": near_ok,
            "near_event": np.where(near_ok, near_id, -1),
            "far": far_ok,
            "motion": None,
        }
    ref.candidate_counts = counts
    # motion of candidates only when a motion filter needs it
    need_motion = p["neg_min_motion_quantile"] is not None or p["neg_match_pos_motion"]
    if need_motion:
        for rid, c in ref.candidates.items():
            c["motion"] = motion_brute(ref.recordings[rid], c["first"], T, p)
        allm = np.concatenate([c["motion"] for c in ref.candidates.values()] + [np.zeros(0)])
        if p["neg_min_motion_quantile"] is not None and len(allm):
            ref.motion_threshold = float(np.quantile(allm, float(p["neg_min_motion_quantile"])))
        if p["neg_match_pos_motion"] and ref.pos_motion:
            pm = np.array(list(ref.pos_motion.values()))
            q = float(p["neg_pos_motion_q"])
            ref.pos_band = (float(np.quantile(pm, q)), float(np.quantile(pm, 1 - q)))
    # pools per kind
    strat = p["neg_strategy"]
    kinds = {"mixed": ("near", "far"), "near": ("near",), "far": ("far",), "uniform": ("uniform",)}[strat]
    for kind in kinds:
        pool = {
            "qualifying": 0,
            "removed": {"min_motion_quantile": 0, "match_pos_motion": 0},
            "available": 0,
            "masks": {},
        }
        for rid, c in ref.candidates.items():
            if len(c["first"]) == 0:
                pool["masks"][rid] = np.zeros(0, dtype=bool)
                continue
            if kind == "near":
                q = c["near"].copy()
            elif kind == "far":
                q = c["far"] & ~c["near"]
            else:
                q = np.ones(len(c["first"]), dtype=bool)
            pool["qualifying"] += int(q.sum())
            if ref.motion_threshold is not None:
                bad = q & (c["motion"] < ref.motion_threshold)
                pool["removed"]["min_motion_quantile"] += int(bad.sum())
                q &= ~bad
            if ref.pos_band is not None:
                lo, hi = ref.pos_band
                bad = q & ((c["motion"] < lo) | (c["motion"] > hi))
                pool["removed"]["match_pos_motion"] += int(bad.sum())
                q &= ~bad
            pool["available"] += int(q.sum())
            pool["masks"][rid] = q
        ref.pools[kind] = pool


# --------------------------------------------------------------------------- the checker


def _close(a: float, b: float, atol: float) -> bool:
    return abs(float(a) - float(b)) <= atol


def check_dataset(
    dataset_dir,
    logs: dict,
    events: pd.DataFrame,
    params: dict,
    *,
    groups: dict | None = None,
    check_counts: bool = True,
    check_meta_parameters: bool = True,
) -> Reference:
    """Check every window of the dataset at ``dataset_dir`` against the raw samples.

    Parameters
    ----------
    dataset_dir : path of the dataset (index.parquet, windows.npy, meta.json)
    logs : {recording_id: (t_ms array, {channel: values})}, channels in input order
    events : DataFrame with recording, t_ms, end_ms (optional), event_id (every event given to hardneg)
    params : the sampling options (SamplingConfig field names) and ``seed``; missing ones take the issue's defaults
    groups : {recording_id: group}; default group = recording id
    """
    dataset_dir = Path(dataset_dir)
    f = _Failures()
    ref = build_reference(logs, events, params, groups=groups)
    p, T = ref.params, ref.T

    meta = json.loads((dataset_dir / "meta.json").read_text())
    index = pq.read_table(dataset_dir / "index.parquet").to_pandas()
    windows = np.load(dataset_dir / "windows.npy", mmap_mode="r")
    ref.index, ref.meta = index, meta

    # ---- layout
    for col in INDEX_COLUMNS:
        f.check(col in index.columns, f"index.parquet lacks column {col!r} (has {list(index.columns)})")
    f.raise_if_any(str(dataset_dir))
    N = len(index)
    f.check(list(index["window_id"]) == list(range(N)), "window_id is not 0..N-1 in row order")
    first_rec = next(iter(ref.recordings.values()))
    C = len(first_rec.channels)
    f.check(windows.dtype == np.float32, f"windows.npy dtype {windows.dtype}, expected float32")
    f.check(windows.shape == (N, C, T), f"windows.npy shape {windows.shape}, expected {(N, C, T)}")
    f.check(
        meta.get("channels") == first_rec.channels,
        f"meta channels {meta.get('channels')} != input order {first_rec.channels}",
    )
    f.check(meta.get("samples_per_window") == T, f"meta samples_per_window {meta.get('samples_per_window')} != {T}")
    if "sample_rate_hz" in meta:
        f.check(
            _close(meta["sample_rate_hz"], first_rec.fs, 1e-6 * first_rec.fs),
            f"meta sample_rate_hz {meta['sample_rate_hz']} != {first_rec.fs}",
        )
    f.raise_if_any(str(dataset_dir))
    if N:
        f.check(not np.isnan(np.asarray(windows)).any(), "windows.npy contains NaN")

    labels = set(map(int, index["label"]))
    f.check(labels <= {0, 1}, f"labels outside 0/1: {labels}")

    # ---- every window: samples, start_sample, group, motion
    for row in index.itertuples(index=False):
        wid = int(row.window_id)
        where = f"window {wid} ({row.kind}, rec {row.recording}, start {row.start_ms!r})"
        rec = ref.recordings.get(str(row.recording))
        if not f.check(rec is not None, f"{where}: unknown recording"):
            continue
        f.check(str(row.group) == rec.group, f"{where}: group {row.group!r} != {rec.group!r}")
        first = rec.first_at_or_after(float(row.start_ms))
        if not f.check(
            0 <= first and first + T <= rec.n, f"{where}: window lacks samples (first={first}, T={T}, n={rec.n})"
        ):
            continue
        if "start_sample" in index.columns:
            f.check(int(row.start_sample) == first, f"{where}: start_sample {row.start_sample} != {first}")
        tol = rec.tol_ms
        ts = rec.t[first : first + T]
        f.check(
            ts[0] >= row.start_ms - tol and ts[-1] < row.end_ms + tol,
            f"{where}: sample times [{ts[0]}, {ts[-1]}] not in [start, end)",
        )
        expect = rec.data[:, first : first + T].astype(np.float32)
        got = np.asarray(windows[wid])
        if not np.array_equal(got, expect):
            bad = np.argwhere(got != expect)
            f.add(
                f"{where}: windows.npy row differs from raw samples {first}..{first + T - 1} at (channel, sample) {bad[:3].tolist()}"
            )
        m = float(motion_brute(rec, np.array([first]), T, p)[0])
        f.check(
            bool(np.isclose(row.motion, m, rtol=1e-6, atol=1e-12)),
            f"{where}: motion {row.motion!r} != brute force {m!r}",
        )

    # ---- positives
    pos = index[index["kind"] == "pos"]
    f.check((pos["label"].astype(int) == 1).all(), "a pos window has label != 1")
    f.check((index.loc[index["kind"] != "pos", "label"].astype(int) == 0).all(), "a negative window has label != 0")
    pos_ids = [int(x) for x in pos["event_id"]]
    f.check(len(pos_ids) == len(set(pos_ids)), f"more than one positive for an event: {sorted(pos_ids)}")
    missing = sorted(set(ref.positives) - set(pos_ids))
    extra = sorted(set(pos_ids) - set(ref.positives))
    status = {e.event_id: e.status for e in ref.events}
    f.check(not missing, f"kept events without a positive window: {missing}")
    f.check(
        not extra,
        f"positive windows for events that must be skipped: {[(i, status.get(i, 'unknown event')) for i in extra]}",
    )
    for row in pos.itertuples(index=False):
        ev = ref.positives.get(int(row.event_id))
        if ev is None:
            continue
        rec = ref.recordings[ev.recording]
        where = f"positive window {row.window_id} (event {ev.event_id}, t={ev.t})"
        f.check(str(row.recording) == ev.recording, f"{where}: recording {row.recording} != {ev.recording}")
        f.check(
            _close(row.start_ms, ev.w_start, 1e-9 * max(1.0, abs(ev.w_start))),
            f"{where}: start_ms {row.start_ms!r} != {ev.w_start!r}",
        )
        f.check(
            _close(row.end_ms, ev.w_end, 1e-9 * max(1.0, abs(ev.w_end))),
            f"{where}: end_ms {row.end_ms!r} != {ev.w_end!r}",
        )

    # ---- negatives
    neg = index[index["kind"] != "pos"]
    strat = p["neg_strategy"]
    allowed_kinds = {"mixed": {"near", "far"}, "near": {"near"}, "far": {"far"}, "uniform": {"uniform", "near"}}[strat]
    kinds_seen = set(neg["kind"])
    f.check(kinds_seen <= allowed_kinds, f"strategy {strat}: negative kinds {kinds_seen} not within {allowed_kinds}")
    seen: dict[str, list[tuple[float, int]]] = {}
    for row in neg.itertuples(index=False):
        rid = str(row.recording)
        rec = ref.recordings.get(rid)
        if rec is None:
            continue
        tol = rec.tol_ms
        s, e = float(row.start_ms), float(row.end_ms)
        where = f"negative window {row.window_id} ({row.kind}, rec {rid}, [{s!r}, {e!r}))"
        first = rec.first_at_or_after(s)
        f.check(
            _close(s, rec.sample_time(first), 1e-6),
            f"{where}: start is not on a sample (nearest {rec.sample_time(first)})",
        )
        f.check(_close(e - s, p["window_ms"], 1e-6), f"{where}: end - start = {e - s} != window_ms")
        if p["neg_candidate_hop_ms"] is not None:
            grid = _candidate_starts(rec, T, p["neg_candidate_hop_ms"])
            f.check(
                first in set(grid.tolist()),
                f"{where}: start sample {first} not on the hop grid of {p['neg_candidate_hop_ms']} ms",
            )
        # NaN
        f.check(not np.isnan(rec.data[:, first : first + T]).any(), f"{where}: contains NaN")
        # edges
        if p["neg_avoid_edges"] in ("start", "all"):
            f.check(s >= rec.t0 + p["edge_ms"] - tol, f"{where}: within edge_ms of the first timestamp {rec.t0}")
        if p["neg_avoid_edges"] in ("end", "all"):
            f.check(e <= rec.last + tol - p["edge_ms"], f"{where}: within edge_ms of the last timestamp {rec.last}")
        # exclusion zones of every event (kept or not)
        for ev in ref.events:
            if ev.recording == rid and s < ev.zone_end - tol and ev.zone_start < e - tol:
                f.add(
                    f"{where}: overlaps exclusion zone [{ev.zone_start}, {ev.zone_end}) of event {ev.event_id} ({ev.status})"
                )
        # near / far / uniform
        rec_events = [ev for ev in ref.events if ev.recording == rid]
        nev = _near_event(rec_events, e, tol)
        is_near = nev is not None and nev.w_start - e <= p["near_max_ms"] + tol
        is_far = all(not (s - p["far_min_ms"] + tol < ev.end and ev.t < e + p["far_min_ms"] - tol) for ev in rec_events)
        if row.kind == "near":
            if f.check(
                is_near,
                f"{where}: labelled near but its end is not within near_max_ms before a positive window start (next: {None if nev is None else (nev.event_id, nev.w_start)})",
            ):
                f.check(
                    not pd.isna(row.event_id) and int(row.event_id) == nev.event_id,
                    f"{where}: near event_id {row.event_id} != {nev.event_id}",
                )
        elif row.kind == "far":
            f.check(is_far, f"{where}: labelled far but an event time lies within far_min_ms")
            f.check(
                not is_near, f"{where}: labelled far but qualifies as near (near event {nev.event_id if nev else None})"
            )
            f.check(pd.isna(row.event_id), f"{where}: far negative has event_id {row.event_id}")
        elif row.kind == "uniform":
            f.check(pd.isna(row.event_id), f"{where}: uniform negative has event_id {row.event_id}")
        # motion filters (brute-force motion, tolerance for cumulative-sum rounding)
        m = float(motion_brute(rec, np.array([first]), T, p)[0])
        slack = 1e-6 * max(abs(m), 1e-12)
        if ref.motion_threshold is not None:
            f.check(
                m >= ref.motion_threshold - slack,
                f"{where}: motion {m} below the {p['neg_min_motion_quantile']}-quantile {ref.motion_threshold}",
            )
        if ref.pos_band is not None:
            lo, hi = ref.pos_band
            f.check(lo - slack <= m <= hi + slack, f"{where}: motion {m} outside the positives' band [{lo}, {hi}]")
        # membership of the brute-force pool of its kind
        c = ref.candidates.get(rid)
        pool = ref.pools.get(str(row.kind))
        if c is not None and pool is not None:
            pos_in = np.searchsorted(c["first"], first)
            in_cand = pos_in < len(c["first"]) and c["first"][pos_in] == first
            f.check(in_cand, f"{where}: not among the brute-force candidates (NaN/edge/exclusion filters)")
        seen.setdefault(rid, []).append((s, int(row.window_id)))

    # uniqueness and separation, per recording, across kinds
    for rid, lst in seen.items():
        lst.sort()
        starts = [x[0] for x in lst]
        for a, b in zip(lst, lst[1:]):
            f.check(
                b[0] - a[0] > 1e-6 * ref.recordings[rid].step,
                f"duplicate negatives on {rid} at {a[0]} (windows {a[1]}, {b[1]})",
            )
            if p["neg_min_sep_ms"] > 0:
                f.check(
                    b[0] - a[0] >= p["neg_min_sep_ms"] - ref.recordings[rid].tol_ms,
                    f"negatives {a[1]} and {b[1]} on {rid} start {b[0] - a[0]} ms apart < neg_min_sep_ms {p['neg_min_sep_ms']}",
                )
        del starts

    # ---- achieved vs requested
    achieved = {k: int((neg["kind"] == k).sum()) for k in KINDS}
    ref.achieved = achieved
    if strat == "uniform":
        got_total = achieved["uniform"] + achieved["near"]
        f.check(
            got_total <= ref.requested["uniform"],
            f"uniform: {got_total} negatives > requested {ref.requested['uniform']}",
        )
    else:
        for k in KINDS:
            f.check(
                achieved[k] <= ref.requested[k],
                f"{k}: achieved {achieved[k]} > requested {ref.requested[k]} (a shortfall must not be filled from another kind either)",
            )
    if p["neg_min_sep_ms"] == 0 and not p["neg_with_replacement"] and strat != "uniform":
        for k, pool in ref.pools.items():
            f.check(
                achieved[k] == min(ref.requested[k], pool["available"]),
                f"{k}: achieved {achieved[k]} != min(requested {ref.requested[k]}, available {pool['available']}) with no separation and no replacement",
            )
    if p["neg_min_sep_ms"] == 0 and not p["neg_with_replacement"] and strat == "uniform":
        pool = ref.pools["uniform"]
        f.check(
            len(neg) == min(ref.requested["uniform"], pool["available"]),
            f"uniform: {len(neg)} negatives != min(requested, available {pool['available']})",
        )

    if p["neg_min_sep_ms"] > 0 and not p["neg_with_replacement"]:
        _check_separation_is_greedy(ref, neg, f)

    if check_counts:
        _check_counts(ref, meta, index, f)
    if check_meta_parameters:
        _check_meta(ref, meta, f)
    f.raise_if_any(str(dataset_dir))
    return ref


def _drawn_from_pool(ref: Reference, kind: str) -> int:
    """Negatives drawn from the pool of ``kind``: uniform draws that qualify as near are labelled near."""
    if kind == "uniform":
        return ref.achieved["uniform"] + ref.achieved["near"]
    return ref.achieved[kind]


def _check_separation_is_greedy(ref: Reference, neg: pd.DataFrame, f: _Failures) -> None:
    """The separation refuses only starts closer than ``neg_min_sep_ms``: an upper bound on what it may drop.

    Without replacement a kind that falls short of its request has drawn its whole pool, so
    every pool candidate left out was refused, and the guard refuses a start only when a
    negative already accepted starts closer than ``neg_min_sep_ms`` (up to the 1e-9-sample
    tolerance, in favour of keeping). A left-out candidate with no negative that close breaks
    the rule "no two negatives start closer than that" from the other side: starts exactly
    ``neg_min_sep_ms`` apart are allowed. Near is drawn first, so a near candidate can only
    have been refused because of a near negative.
    """
    p = ref.params
    for kind, pool in ref.pools.items():
        if _drawn_from_pool(ref, kind) >= ref.requested[kind]:
            continue  # the draw stopped early: who was never drawn is up to the random order
        blockers = neg[neg["kind"] == "near"] if kind == "near" else neg
        for rid, mask in pool["masks"].items():
            c = ref.candidates[rid]
            rec = ref.recordings[rid]
            taken = blockers.loc[blockers["recording"].astype(str) == rid, "start_ms"].to_numpy(np.float64)
            taken_first = {rec.first_at_or_after(float(s)) for s in taken}
            for first, start in zip(c["first"][mask].tolist(), c["start"][mask].tolist()):
                if first in taken_first:
                    continue
                nearest = float(np.min(np.abs(taken - start))) if taken.size else math.inf
                f.check(
                    nearest < p["neg_min_sep_ms"] - rec.tol_ms,
                    f"{kind}: requested {ref.requested[kind]}, drew {_drawn_from_pool(ref, kind)}, yet candidate "
                    f"sample {first} on {rid} (start {start!r}) was left out with the nearest negative {nearest!r} ms "
                    f"away, not closer than neg_min_sep_ms {p['neg_min_sep_ms']}",
                )


def _check_counts(ref: Reference, meta: dict, index: pd.DataFrame, f: _Failures) -> None:
    counts = meta.get("counts")
    if not f.check(isinstance(counts, dict), "meta.json has no counts"):
        return
    p = ref.params
    f.check(
        counts.get("recordings") == len(ref.recordings),
        f"counts.recordings {counts.get('recordings')} != {len(ref.recordings)}",
    )
    short = sorted(r.id for r in ref.recordings.values() if r.n < ref.T)
    f.check(
        sorted(counts.get("recordings_too_short", [])) == short,
        f"counts.recordings_too_short {counts.get('recordings_too_short')} != {short}",
    )
    ev = counts.get("events", {})
    exp = {"total": len(ref.events), "used": len(ref.positives)}
    for k in ("dropped_min_gap", "outside_recording", "contains_nan"):
        exp[k] = sum(1 for e in ref.events if e.status == k)
    for k, v in exp.items():
        f.check(
            ev.get(k) == v,
            f"counts.events.{k} = {ev.get(k)}, expected {v} (statuses: {[(e.event_id, e.status) for e in ref.events if e.status != 'used']})",
        )
    npos = int((index["kind"] == "pos").sum())
    f.check(
        counts.get("positives") == npos == len(ref.positives),
        f"counts.positives {counts.get('positives')}, index {npos}, reference {len(ref.positives)}",
    )
    f.check(counts.get("windows") == len(index), f"counts.windows {counts.get('windows')} != {len(index)}")
    negs = counts.get("negatives", {})
    req, ach = negs.get("requested", {}), negs.get("achieved", {})
    for k in KINDS:
        f.check(
            int(req.get(k, 0)) == ref.requested[k],
            f"counts.negatives.requested.{k} = {req.get(k, 0)}, expected {ref.requested[k]} (total = round_half_up(neg_mult*positives), near = round_half_up(frac*total))",
        )
        f.check(
            int(ach.get(k, 0)) == ref.achieved[k],
            f"counts.negatives.achieved.{k} = {ach.get(k, 0)}, index has {ref.achieved[k]}",
        )
    cand = counts.get("candidates", {})
    rc = ref.candidate_counts
    f.check(
        cand.get("total") == rc["total"], f"counts.candidates.total {cand.get('total')} != brute force {rc['total']}"
    )
    f.check(
        cand.get("remaining") == rc["remaining"],
        f"counts.candidates.remaining {cand.get('remaining')} != brute force {rc['remaining']}",
    )
    for k, v in rc["removed"].items():
        f.check(
            cand.get("removed", {}).get(k) == v,
            f"counts.candidates.removed.{k} {cand.get('removed', {}).get(k)} != brute force {v} (removal order NaN, edges, exclusion)",
        )
    pools = counts.get("pools", {})
    for kind, pool in ref.pools.items():
        got = pools.get(kind)
        if not f.check(isinstance(got, dict), f"counts.pools lacks {kind!r} (has {list(pools)})"):
            continue
        f.check(
            got.get("qualifying") == pool["qualifying"],
            f"counts.pools.{kind}.qualifying {got.get('qualifying')} != brute force {pool['qualifying']}",
        )
        for k, v in pool["removed"].items():
            f.check(
                got.get("removed", {}).get(k, 0) == v,
                f"counts.pools.{kind}.removed.{k} {got.get('removed', {}).get(k)} != brute force {v}",
            )
        f.check(
            got.get("available") == pool["available"],
            f"counts.pools.{kind}.available {got.get('available')} != brute force {pool['available']}",
        )
        for k in ("rejected_min_separation", "duplicates"):
            f.check(
                isinstance(got.get(k), int) and got.get(k) >= 0,
                f"counts.pools.{kind}.{k} = {got.get(k)!r}, expected a count",
            )
        if p["neg_min_sep_ms"] == 0:
            f.check(
                got.get("rejected_min_separation") == 0,
                f"counts.pools.{kind}.rejected_min_separation = {got.get('rejected_min_separation')} with neg_min_sep_ms 0",
            )
        if not p["neg_with_replacement"]:
            f.check(
                got.get("duplicates") == 0,
                f"counts.pools.{kind}.duplicates = {got.get('duplicates')} without replacement",
            )
        _check_rejections(ref, kind, pool, got, f)


def _check_rejections(ref: Reference, kind: str, pool: dict, got: dict, f: _Failures) -> None:
    """``rejected_min_separation`` bounded by the draws made, and exact when the pool was drawn whole.

    Every draw is accepted, refused by the separation or (with replacement) a repeat of a position
    drawn before. Each position is judged once, so at most ``available`` are, and all of them when
    the kind falls short: with replacement the draws go on until the count is met or every position
    was drawn, so drawing with replacement never yields fewer than without.
    """
    rejected, duplicates = got.get("rejected_min_separation"), got.get("duplicates")
    if not (isinstance(rejected, int) and isinstance(duplicates, int)):
        return  # reported by the type checks above
    drawn, requested, available = _drawn_from_pool(ref, kind), ref.requested[kind], pool["available"]
    if ref.params["neg_with_replacement"]:
        f.check(duplicates >= 0, f"counts.pools.{kind}.duplicates = {duplicates} < 0")
    f.check(
        drawn + rejected <= available,
        f"counts.pools.{kind}: {drawn} kept + {rejected} rejected_min_separation > {available} available",
    )
    if drawn < requested:
        f.check(
            drawn + rejected == available,
            f"counts.pools.{kind}: fell short ({drawn} of {requested}), so the whole pool of {available} was drawn, "
            f"but {drawn} kept + {rejected} rejected_min_separation != {available}",
        )


def _check_meta(ref: Reference, meta: dict, f: _Failures) -> None:
    params = meta.get("parameters")
    if not f.check(isinstance(params, dict), "meta.json has no parameters"):
        return
    for k, v in ref.params.items():
        if k not in params:
            f.add(f"meta.parameters lacks {k!r}")
            continue
        got = params[k]
        if isinstance(v, float) or (isinstance(v, int) and not isinstance(v, bool) and isinstance(got, float)):
            f.check(
                got is not None and _close(got, v, 1e-12 * max(1.0, abs(v))),
                f"meta.parameters.{k} = {got!r}, expected {v!r}",
            )
        elif isinstance(v, (list, tuple)):
            f.check(list(got) == list(v), f"meta.parameters.{k} = {got!r}, expected {v!r}")
        else:
            f.check(got == v, f"meta.parameters.{k} = {got!r}, expected {v!r}")
    recs = meta.get("recordings")
    if f.check(isinstance(recs, list), "meta.recordings is not a list"):
        by_id = {r.get("id"): r for r in recs}
        for rid, rec in ref.recordings.items():
            r = by_id.get(rid)
            if not f.check(r is not None, f"meta.recordings lacks {rid}"):
                continue
            f.check(r.get("group") == rec.group, f"meta.recordings[{rid}].group {r.get('group')} != {rec.group}")
            f.check(r.get("n_samples") == rec.n, f"meta.recordings[{rid}].n_samples {r.get('n_samples')} != {rec.n}")
            f.check(
                _close(r.get("t0_ms", float("nan")), rec.t0, 1e-6),
                f"meta.recordings[{rid}].t0_ms {r.get('t0_ms')} != {rec.t0}",
            )
            f.check(
                _close(r.get("end_ms", float("nan")), rec.last, 1e-6),
                f"meta.recordings[{rid}].end_ms {r.get('end_ms')} != {rec.last}",
            )
            f.check(
                r.get("channels") == rec.channels,
                f"meta.recordings[{rid}].channels {r.get('channels')} != {rec.channels}",
            )
    for k in ("inputs", "versions"):
        f.check(k in meta, f"meta.json lacks {k!r}")
    vers = meta.get("versions", {})
    for k in ("python", "hardneg", "numpy", "pandas", "pyarrow"):
        f.check(k in vers, f"meta.versions lacks {k}")
