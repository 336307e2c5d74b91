"""Exact ties at the edges of the sampling rules, on small recordings built in memory.

Each case puts a window exactly on a boundary the README states ("What hardneg sample
guarantees"), with the expected windows and counts worked out by hand:

* a window ``[start, end)`` holds the samples with ``start <= t < end``: a positive whose
  last sample is the recording's last sample (``end == t_last + 1/fs``) is complete and
  kept, one sample later it is not;
* "no two negatives of a recording start closer than ``neg_min_sep_ms``": starts exactly
  that far apart are allowed, also at 360 Hz where ``i * 1000/360`` differences come out an
  ulp below the decimal.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from tests.helpers import reference

from hardneg.sample import write_sampled
from hardneg.io import Recording
from hardneg.sample import SamplingConfig, sample_windows
from hardneg.sample._draw import SeparationGuard


def _world(fs: float, n: int, t0: float = 0.0, seed: int = 0):
    rng = np.random.default_rng(seed)
    channels = {"u": rng.standard_normal(n), "v": rng.standard_normal(n)}
    recording = Recording("rec0", "g0", t0, fs, ["u", "v"], [channels["u"], channels["v"]], "rec0.parquet")
    t = t0 + np.arange(n, dtype=np.float64) * (1000.0 / fs)
    return recording, {"rec0": (t, channels)}


def _events(times):
    times = np.asarray(times, dtype=np.float64)
    return pd.DataFrame(
        {
            "recording": ["rec0"] * len(times),
            "t_ms": times,
            "end_ms": times,
            "label": [None] * len(times),
            "event_id": np.arange(len(times), dtype=np.int64),
        }
    )


def _sample_and_check(tmp_path, recording, logs, events, params, seed=0):
    """Sample, write, and run the brute-force reference over the written dataset."""
    config = SamplingConfig(**params)
    sampled = sample_windows([recording], events, config, seed=seed)
    out = tmp_path / "ds"
    meta = {"parameters": {**dataclasses.asdict(config), "seed": seed}, "inputs": []}
    write_sampled(out, sampled, [recording], meta=meta)
    reference.check_dataset(out, logs, events, {**params, "seed": seed}, groups={"rec0": recording.group})
    return sampled


# --------------------------------------------------------------------------- positives at the recording's ends


@pytest.mark.parametrize(
    ("fs", "n", "window_ms", "samples"),
    [
        # 100 Hz, 10 s: last sample at 9990 ms; window 500 ms = 50 samples, the last one starts on sample 950
        (100.0, 1000, 500.0, 50),
        # 360 Hz, 10 s: last sample at 9997.2 ms; window 500 ms = 180 samples, the last one starts on sample 3420
        (360.0, 3600, 500.0, 180),
        # 250 Hz, 4 s: window 333 ms = floor(83.25) = 83 samples, the last one starts on sample 917
        (250.0, 1000, 333.0, 83),
    ],
)
@pytest.mark.parametrize("align", ["end", "center"])
def test_positive_ending_on_the_last_sample_is_kept(tmp_path, fs, n, window_ms, samples, align):
    recording, logs = _world(fs, n)
    step = 1000.0 / fs
    lead = 100.0
    last_first = n - samples  # the window's samples last_first .. n - 1
    start = last_first * step
    beyond = start + step  # one sample later: its last sample would be sample n, past the end
    if align == "end":
        to_event = lead + window_ms  # t = start + lead + window
    else:
        to_event = window_ms / 2.0
    # event 0: window on samples 0..samples-1 (first sample of the recording); 1: ends on the last; 2: one too far
    events = _events([0.0 + to_event, start + to_event, beyond + to_event])
    params = dict(window_ms=window_ms, lead_ms=lead, align=align, neg_strategy="uniform", neg_mult=0)
    sampled = _sample_and_check(tmp_path, recording, logs, events, params)
    counts = sampled.report["events"]
    assert counts["used"] == 2 and counts["outside_recording"] == 1
    positives = sampled.index[sampled.index["label"] == 1].sort_values("event_id")
    assert positives["event_id"].tolist() == [0, 1]
    assert positives["start_sample"].tolist() == [0, last_first]
    windows = sampled.extract([recording])
    data = np.stack(recording.data).astype(np.float32)
    row = int(positives.index[positives["event_id"] == 1][0])
    assert windows.shape[2] == samples
    assert np.array_equal(windows[row], data[:, last_first:n])


def test_only_the_positive_ending_on_the_last_sample_makes_the_run(tmp_path):
    """With that positive the only one, dropping it would refuse the run (no positive window)."""
    recording, logs = _world(100.0, 1000)
    events = _events([10_000.0])  # align end, lead 0, window 500: [9500, 10000) = samples 950..999
    params = dict(window_ms=500.0, lead_ms=0.0, neg_strategy="uniform", neg_mult=2)
    sampled = _sample_and_check(tmp_path, recording, logs, events, params)
    assert sampled.report["positives"] == 1
    # candidates: starts 0..950 (951), those overlapping the zone [9500, 10000) removed: starts 9010..9500 ms
    assert sampled.report["candidates"]["total"] == 951
    assert sampled.report["candidates"]["removed"]["exclusion_zone"] == 50
    assert sampled.report["candidates"]["remaining"] == 901


# --------------------------------------------------------------------------- negatives exactly neg_min_sep_ms apart


def test_separation_guard_accepts_starts_exactly_min_sep_apart():
    guard = SeparationGuard(200.0)
    # within one call (the greedy pass) ...
    accepted = guard.accept_in_order(np.zeros(3, dtype=np.int64), np.array([400.0, 0.0, 200.0]), limit=10)
    assert accepted.tolist() == [True, True, True]
    # ... and against what earlier calls accepted (the vectorised pass)
    accepted = guard.accept_in_order(np.zeros(3, dtype=np.int64), np.array([600.0, 599.0, 800.0]), limit=10)
    assert accepted.tolist() == [True, False, True]
    # another recording is not constrained by this one
    assert guard.accept_in_order(np.ones(1, dtype=np.int64), np.array([100.0]), limit=10).tolist() == [True]


def test_separation_guard_tolerance_keeps_a_hair_closer_and_refuses_more():
    tolerance = 1e-8
    guard = SeparationGuard(200.0, tolerance_ms=tolerance)
    starts = np.array([0.0, 200.0 - tolerance / 2, 400.0 - 3 * tolerance, 600.0])
    accepted = guard.accept_in_order(np.zeros(4, dtype=np.int64), starts, limit=10)
    # 400 - 3e-8 is 200 - 3.5e-8 after the second start: more than the tolerance closer, refused
    assert accepted.tolist() == [True, True, False, True]


@pytest.mark.parametrize(
    ("fs", "n", "window_ms", "min_sep_ms", "hop_samples"),
    [
        # 100 Hz, 10 s, window 100 ms (10 samples): candidates every 20 samples (200 ms) on samples 0..980
        (100.0, 1000, 100.0, 200.0, 20),
        # 360 Hz, 10 s, window 100 ms (36 samples): candidates every 100 samples, 1000/3.6 ms apart, whose
        # differences i * (1000/360) come out an ulp below min_sep_ms for most pairs
        (360.0, 3600, 100.0, 100 * 1000.0 / 360.0, 100),
    ],
)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_negatives_exactly_min_sep_apart_are_allowed(tmp_path, fs, n, window_ms, min_sep_ms, hop_samples, seed):
    """The whole pool is requested, and the only way to draw it all is with every start min_sep_ms from the next."""
    recording, logs = _world(fs, n)
    step = 1000.0 / fs
    samples = int(round(window_ms * fs / 1000.0))
    candidate_samples = np.arange(0, n - samples + 1, hop_samples)
    # one event whose positive window [0, window_ms) (align end, lead 0) removes the candidate on sample 0 only
    events = _events([window_ms])
    pool = candidate_samples[1:]
    params = dict(
        window_ms=window_ms,
        lead_ms=0.0,
        neg_strategy="uniform",
        neg_mult=float(len(pool)),
        neg_candidate_hop_ms=min_sep_ms,
        neg_min_sep_ms=min_sep_ms,
    )
    sampled = _sample_and_check(tmp_path, recording, logs, events, params, seed=seed)
    report = sampled.report
    assert report["candidates"]["total"] == len(candidate_samples)
    assert report["candidates"]["remaining"] == len(pool)
    assert report["negatives"]["requested"] == {"uniform": len(pool)}
    assert report["pools"]["uniform"]["available"] == len(pool)
    assert report["pools"]["uniform"]["rejected_min_separation"] == 0
    negatives = sampled.index[sampled.index["label"] == 0]
    assert len(negatives) == len(pool)
    assert sorted(negatives["start_sample"].tolist()) == pool.tolist()
    gaps = np.diff(np.sort(negatives["start_ms"].to_numpy()))
    assert np.allclose(gaps, hop_samples * step, rtol=0, atol=1e-9)


def test_negatives_closer_than_min_sep_are_refused_and_counted(tmp_path):
    """The same pool with min_sep one sample more than the hop: exactly every other candidate fits.

    Candidates on samples 20, 40, ..., 980 (49) at 100 Hz; with neg_min_sep_ms 210 no two
    neighbours can both be taken, so at most 25 negatives. Whatever the draw order, every
    candidate is drawn (the request, 49, is never met), so rejections = 49 - kept exactly.
    """
    recording, logs = _world(100.0, 1000)
    events = _events([100.0])
    params = dict(
        window_ms=100.0,
        lead_ms=0.0,
        neg_strategy="uniform",
        neg_mult=49.0,
        neg_candidate_hop_ms=200.0,
        neg_min_sep_ms=210.0,
    )
    for seed in range(3):
        sampled = _sample_and_check(tmp_path / str(seed), recording, logs, events, params, seed=seed)
        kept = int((sampled.index["label"] == 0).sum())
        assert 17 <= kept <= 25  # greedy on a path: at least a third, at most every other
        assert sampled.report["pools"]["uniform"]["rejected_min_separation"] == 49 - kept
        starts = np.sort(sampled.index.loc[sampled.index["label"] == 0, "start_sample"].to_numpy())
        assert np.diff(starts).min() >= 40
        # maximal: no candidate left out that is 40+ samples from every kept start
        left_out = sorted(set(range(20, 981, 20)) - set(starts.tolist()))
        assert all(np.abs(starts - s).min() < 21 for s in left_out)
