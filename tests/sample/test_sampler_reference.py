"""Every window `hardneg sample` writes obeys issue 2's definitions, checked against the raw samples.

The checks live in ``tests/helpers/reference.py`` (brute force, independent of the
implementation); the inputs are synthetic Parquet/CSV logs from ``tests/helpers/synth.py``:

* ``w1k``: 1 kHz IMU logs s1 (t0 = 1000 ms), s2 (NaN blocks), s3 (too short), Parquet;
* ``w1k_end``: the same with an interval event (``end_ms``) in the events CSV;
* ``w360``: 360 Hz IMU logs as CSV, ``t = i*1000/360``, half the events exactly on a sample;
* ``w360g``: the same with generic channels (``ch1..ch3``: the generic motion formula).
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from tests.helpers import reference, run, synth


@pytest.fixture(scope="module")
def w1k(tmp_path_factory):
    return synth.world_1khz(tmp_path_factory.mktemp("w1k"))


@pytest.fixture(scope="module")
def w1k_end(tmp_path_factory):
    return synth.world_1khz(tmp_path_factory.mktemp("w1k_end"), with_end=True)


@pytest.fixture(scope="module")
def w1k_csv(tmp_path_factory):
    return synth.world_1khz(tmp_path_factory.mktemp("w1k_csv"), fmt="csv")


@pytest.fixture(scope="module")
def w360(tmp_path_factory):
    return synth.world_360(tmp_path_factory.mktemp("w360"))


@pytest.fixture(scope="module")
def w360g(tmp_path_factory):
    return synth.world_360(tmp_path_factory.mktemp("w360g"), generic=True)


def _event_id(world, recording, t_ms):
    ev = world.events
    row = ev[(ev["recording"] == recording) & np.isclose(ev["t_ms"], t_ms)]
    assert len(row) == 1
    return int(row["event_id"].iloc[0])


def _check(world, out, params):
    return reference.check_dataset(out, world.logs, world.events, params)


# --------------------------------------------------------------------------- the exact command


def test_done_when_command_cli(w1k, tmp_path):
    """The second "Done when" bullet, verbatim, on Parquet logs t_ms,ax,ay,az,gx,gy,gz."""
    out = tmp_path / "ds"
    proc = run.sample_cli(w1k.log_paths, w1k.events_path, out, run.DONE_WHEN_OPTIONS)
    assert proc.returncode == 0, proc.stderr
    assert list(pq.read_schema(w1k.log_paths[0]).names) == ["t_ms", "ax", "ay", "az", "gx", "gy", "gz"]
    ref = _check(w1k, out, run.DONE_WHEN_PARAMS)
    # the scenario exercises the rules it claims to
    statuses = {e.event_id: e.status for e in ref.events}
    assert statuses[_event_id(w1k, "s1", 5600.0)] == "dropped_min_gap"
    assert statuses[_event_id(w1k, "s1", 6200.0)] == "dropped_min_gap"  # previous event (dropped) 600 ms before
    assert statuses[_event_id(w1k, "s1", 1300.0)] == "outside_recording"
    assert statuses[_event_id(w1k, "s1", 70000.0)] == "outside_recording"
    assert statuses[_event_id(w1k, "s2", 9700.0)] == "contains_nan"
    assert statuses[_event_id(w1k, "s3", 200.0)] == "outside_recording"
    assert ref.achieved["near"] > 0 and ref.achieved["far"] > 0
    assert ref.motion_threshold is not None and ref.pos_band is not None
    meta = json.loads((out / "meta.json").read_text())
    # inputs: names and content hashes of every input file
    by_name = {i["name"]: i for i in meta["inputs"]}
    for path in [*w1k.log_paths, w1k.events_path]:
        entry = by_name.get(path.name)
        assert entry is not None, f"meta.inputs lacks {path.name}: {list(by_name)}"
        assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert entry["bytes"] == path.stat().st_size
    # the CLI prints requested and achieved per kind
    counts = meta["counts"]["negatives"]
    printed = proc.stdout + proc.stderr
    for kind in ("near", "far"):
        assert kind in printed
        assert str(counts["requested"][kind]) in printed and str(counts["achieved"][kind]) in printed
    # ... and which constraint removed how many candidates
    cand = meta["counts"]["candidates"]
    for key, value in cand["removed"].items():
        assert str(value) in printed, f"summary does not show candidates removed by {key} ({value})"
    for kind, pool in meta["counts"]["pools"].items():
        for key, value in pool["removed"].items():
            assert str(value) in printed, f"summary does not show the {kind} pool's removal by {key} ({value})"


def test_done_when_command_api_matches_cli(w1k, tmp_path):
    """The Python API with the same options writes the same windows as the CLI."""
    out_cli, out_api = tmp_path / "cli", tmp_path / "api"
    proc = run.sample_cli(w1k.log_paths, w1k.events_path, out_cli, [*run.DONE_WHEN_OPTIONS, "--quiet"])
    assert proc.returncode == 0, proc.stderr
    run.sample_api(w1k.log_paths, w1k.events_path, out_api, run.DONE_WHEN_PARAMS)
    _check(w1k, out_api, run.DONE_WHEN_PARAMS)
    a = pq.read_table(out_cli / "index.parquet").to_pandas()
    b = pq.read_table(out_api / "index.parquet").to_pandas()
    pd.testing.assert_frame_equal(a, b)
    assert (out_cli / "windows.npy").read_bytes() == (out_api / "windows.npy").read_bytes()
    assert (
        json.loads((out_cli / "meta.json").read_text())["counts"]
        == json.loads((out_api / "meta.json").read_text())["counts"]
    )


def test_done_when_command_on_csv_logs(w1k_csv, tmp_path):
    out = tmp_path / "ds"
    proc = run.sample_cli(w1k_csv.log_paths, w1k_csv.events_path, out, [*run.DONE_WHEN_OPTIONS, "--quiet"])
    assert proc.returncode == 0, proc.stderr
    _check(w1k_csv, out, run.DONE_WHEN_PARAMS)


# --------------------------------------------------------------------------- every strategy and option, 1 kHz

CASES_1K = {
    "near": dict(neg_strategy="near", neg_mult=3),
    "far": dict(neg_strategy="far", neg_mult=3),
    "mixed": dict(neg_strategy="mixed", neg_mixed_near_frac=0.6, neg_mult=5),
    "uniform": dict(neg_strategy="uniform", neg_mult=6),
    "near-small-max": dict(neg_strategy="near", near_max_ms=300, neg_mult=2),
    "far-small-min": dict(neg_strategy="far", far_min_ms=800, neg_mult=4),
    "center": dict(align="center", window_ms=400, neg_strategy="mixed"),
    "center-uniform": dict(align="center", window_ms=400, neg_strategy="uniform", neg_avoid_post_ms=700),
    "lead0": dict(lead_ms=0, window_ms=250, neg_mult=3),
    "gap": dict(min_event_gap_ms=1000),
    "gap-large": dict(min_event_gap_ms=14000, neg_strategy="near"),
    "post": dict(neg_avoid_post_ms=2000, neg_strategy="uniform", neg_mult=8),
    "replacement": dict(neg_with_replacement=True, neg_mult=6),
    "replacement-sep": dict(neg_with_replacement=True, neg_min_sep_ms=300, neg_mult=6),
    "sep-no-replacement": dict(neg_min_sep_ms=400, neg_mult=6),
    "sep-large-shortfall": dict(neg_strategy="near", neg_min_sep_ms=2500, neg_mult=10),
    "hop": dict(neg_candidate_hop_ms=50, neg_mult=4),
    "hop-odd": dict(neg_candidate_hop_ms=37, neg_strategy="uniform"),
    "edges-start": dict(neg_avoid_edges="start", edge_ms=6000, neg_strategy="uniform", neg_mult=8),
    "edges-end": dict(neg_avoid_edges="end", edge_ms=6000, neg_strategy="uniform", neg_mult=8),
    "edges-all": dict(neg_avoid_edges="all", edge_ms=2500, neg_strategy="far", neg_mult=5),
    "min-motion": dict(neg_min_motion_quantile=0.7, neg_mult=4),
    "match-motion": dict(neg_match_pos_motion=True, neg_pos_motion_q=0.2),
    "motion-both-uniform": dict(neg_min_motion_quantile=0.3, neg_match_pos_motion=True, neg_strategy="uniform"),
    "accel-weight": dict(motion_accel_weight=2.5, neg_min_motion_quantile=0.5),
    "custom-cols": dict(gyro_cols=("ax", "ay", "az"), accel_cols=("gx", "gy", "gz"), neg_min_motion_quantile=0.4),
    "mixed-all-near": dict(neg_mixed_near_frac=1.0, neg_mult=2),
    "mixed-all-far": dict(neg_mixed_near_frac=0.0, neg_mult=2),
    "mult-zero": dict(neg_mult=0),
    "mult-fractional": dict(neg_mult=2.5, neg_mixed_near_frac=0.3),
    "seed-7": dict(seed=7, neg_min_sep_ms=100),
}


@pytest.mark.parametrize("case", list(CASES_1K))
def test_api_1khz(w1k, tmp_path, case):
    params = CASES_1K[case]
    run.sample_api(w1k.log_paths, w1k.events_path, tmp_path / "ds", params)
    ref = _check(w1k, tmp_path / "ds", params)
    strategy = params.get("neg_strategy", "mixed")
    if params.get("neg_mult", 4) > 0:
        expected = {"mixed": ("near", "far"), "near": ("near",), "far": ("far",), "uniform": ("uniform",)}[strategy]
        frac = params.get("neg_mixed_near_frac", 0.5)
        expected = tuple(
            k
            for k in expected
            if not (strategy == "mixed" and ((k == "near" and frac == 0) or (k == "far" and frac == 1)))
        )
        for kind in expected:
            assert ref.achieved[kind] > 0, f"{case}: no {kind} negative drawn, the case checks nothing"
    if case == "sep-large-shortfall":
        assert ref.achieved["near"] < ref.requested["near"]  # a shortfall, reported not filled
    if case in ("replacement", "replacement-sep"):
        pools = ref.meta["counts"]["pools"]
        assert sum(p["duplicates"] for p in pools.values()) >= 0


def test_min_gap_previous_event_kept_or_not(w1k, tmp_path):
    """Chain 5000, 5600, 6200 with gap 1000: 6200 is dropped (its previous event 5600 is 600 ms away)."""
    params = dict(min_event_gap_ms=1000, neg_mult=1)
    run.sample_api(w1k.log_paths, w1k.events_path, tmp_path / "ds", params)
    ref = _check(w1k, tmp_path / "ds", params)
    pos_ids = set(ref.index.loc[ref.index["kind"] == "pos", "event_id"].astype(int))
    assert _event_id(w1k, "s1", 5000.0) in pos_ids
    assert _event_id(w1k, "s1", 5600.0) not in pos_ids
    assert _event_id(w1k, "s1", 6200.0) not in pos_ids


@pytest.mark.parametrize("strategy", ["uniform", "mixed"])
def test_interval_events_exclusion_zone(w1k_end, tmp_path, strategy):
    """An event with end_ms (s1 16000-18000): its zone reaches max(w_end, t, end_ms) + post; a far
    negative keeps far_min_ms from the whole interval [t, end_ms]."""
    params = dict(neg_strategy=strategy, neg_mult=12, neg_avoid_post_ms=300, far_min_ms=1000)
    run.sample_api(w1k_end.log_paths, w1k_end.events_path, tmp_path / "ds", params)
    ref = _check(w1k_end, tmp_path / "ds", params)
    zone = next(e for e in ref.events if e.recording == "s1" and e.t == 16000.0)
    assert zone.zone_end == 18300.0


def test_requested_rounding_half_up(w1k, tmp_path):
    """requested near = floor(frac * total + 0.5): 0.5 of an odd total rounds up."""
    params = dict(neg_mult=1, neg_mixed_near_frac=0.5)
    run.sample_api(w1k.log_paths, w1k.events_path, tmp_path / "ds", params)
    ref = _check(w1k, tmp_path / "ds", params)
    total = len(ref.positives)
    assert total % 2 == 1, "the scenario needs an odd number of positives"
    assert ref.meta["counts"]["negatives"]["requested"]["near"] == (total + 1) // 2


def test_pools_reported_when_no_candidate_survives(w1k, tmp_path):
    """Edges 30 s from both ends of 60 s / 45 s recordings: no candidate is left; the run succeeds with
    0 negatives, and meta.json still says per kind what was requested, achieved and available (0)."""
    params = dict(neg_avoid_edges="all", edge_ms=30000, neg_strategy="mixed")
    run.sample_api(w1k.log_paths, w1k.events_path, tmp_path / "ds", params)
    ref = _check(w1k, tmp_path / "ds", params)
    assert ref.candidate_counts["remaining"] == 0 and not (ref.index["label"] == 0).any()


# --------------------------------------------------------------------------- 360 Hz (t = i*1000/360), CSV

CASES_360 = {
    "center-mixed": dict(align="center", window_ms=600, neg_strategy="mixed"),
    "end-near": dict(neg_strategy="near", neg_mult=3),
    "end-far-replacement": dict(neg_strategy="far", neg_with_replacement=True, neg_min_sep_ms=500),
    "uniform-min-motion": dict(neg_strategy="uniform", neg_mult=3, neg_min_motion_quantile=0.5),
    "hop-match": dict(neg_candidate_hop_ms=50, neg_match_pos_motion=True, neg_pos_motion_q=0.1),
    "edges-all": dict(neg_avoid_edges="all", edge_ms=1000, neg_strategy="uniform", neg_mult=10),
    "edges-start-odd": dict(neg_avoid_edges="start", edge_ms=1234.5, neg_strategy="uniform", neg_mult=10),
    "post": dict(neg_avoid_post_ms=1500, align="center", window_ms=600, neg_strategy="uniform", neg_mult=8),
}


@pytest.mark.parametrize("case", list(CASES_360))
def test_api_360hz(w360, tmp_path, case):
    params = CASES_360[case]
    run.sample_api(w360.log_paths, w360.events_path, tmp_path / "ds", params)
    ref = _check(w360, tmp_path / "ds", params)
    assert len(ref.positives) > 0 and (ref.index["label"] == 0).any()


@pytest.mark.parametrize("case", ["center-mixed", "hop-match"])
def test_api_360hz_generic_channels(w360g, tmp_path, case):
    params = CASES_360[case]
    run.sample_api(w360g.log_paths, w360g.events_path, tmp_path / "ds", params)
    ref = _check(w360g, tmp_path / "ds", params)
    assert ref.meta["channels"] == ["ch1", "ch2", "ch3"]


def test_360hz_positive_windows_on_sample_times(w360, tmp_path):
    """Events exactly on a sample: the window [t-300, t+300) holds the 216 samples from t-300 on (none lost)."""
    params = dict(align="center", window_ms=600, neg_mult=1)
    run.sample_api(w360.log_paths, w360.events_path, tmp_path / "ds", params)
    ref = _check(w360, tmp_path / "ds", params)
    assert ref.T == 216
    on_grid = 0
    for ev in ref.positives.values():
        j = ev.t * 360.0 / 1000.0
        if abs(j - round(j)) < 1e-6:
            on_grid += 1
            assert ev.first == round(j) - 108
    assert on_grid >= 3


def test_360hz_candidate_touching_exclusion_zone_is_kept(w360, tmp_path):
    """A candidate that starts on the sample where an on-grid event's zone ends only touches the zone.

    Event at t = j*1000/360 with align center, window 600: zone [t-300, t+300) covers samples
    j-108 .. j+107; the candidate starting on sample j+108 holds none of them and must stay a
    candidate (compare in sample units, 1e-9 tolerance). Comparing the float ms values directly
    loses it when i*(1000/360) rounds one ulp below j*1000/360 + 300.
    """
    params = dict(align="center", window_ms=600, neg_strategy="uniform", neg_mult=1)
    run.sample_api(w360.log_paths, w360.events_path, tmp_path / "ds", params)
    ref = reference.build_reference(w360.logs, w360.events, params)
    meta = json.loads((tmp_path / "ds" / "meta.json").read_text())
    assert meta["counts"]["candidates"]["remaining"] == ref.candidate_counts["remaining"], (
        f"brute force keeps {ref.candidate_counts['remaining']} candidates, the implementation "
        f"{meta['counts']['candidates']['remaining']}: removed by exclusion "
        f"{meta['counts']['candidates']['removed']} vs {ref.candidate_counts['removed']}"
    )


def test_360hz_edge_boundary_candidate_is_kept(tmp_path):
    """--neg-avoid-edges end, edge 500 ms = 180 samples, window 200 ms = 72 samples, 360 Hz, t0 = 500 ms.

    The candidate on sample 5507 of a 5760-sample recording ends at sample position 5579 =
    5759 - 180: exactly edge_ms before the last timestamp, so "within that distance" does not
    apply (the implementation keeps such windows at 1 kHz). In ms, 500 + 5507*(1000/360) + 200
    rounds to 15997.22222222222 while 500 + 5759*(1000/360) - 500 rounds to 15997.222222222219,
    and the window is dropped. Compare in sample units with the 1e-9 tolerance instead.
    (Built in memory: read from a file, the grid fit gives 360.00000000000006 Hz and the
    rounding happens to fall the other way.)
    """
    from hardneg.sample import write_sampled
    from hardneg.io import Recording
    from hardneg.sample import SamplingConfig, sample_windows

    fs, n, t0 = 360.0, 5760, 500.0
    t = t0 + np.arange(n) * (1000.0 / fs)
    ch = synth.imu_channels(n, fs, np.random.default_rng(0), ["u", "v"])
    rec = Recording("rec0", "rec0", t0, fs, ["u", "v"], [ch["u"], ch["v"]], "rec0.parquet")
    events = pd.DataFrame(
        {"recording": ["rec0"], "t_ms": [3000.4], "end_ms": [3000.4], "label": [None], "event_id": [0]}
    )
    params = dict(
        window_ms=200.0, lead_ms=0.0, neg_avoid_edges="end", edge_ms=500.0, neg_strategy="uniform", neg_mult=1
    )
    config = SamplingConfig(**params)
    sampled = sample_windows([rec], events, config, seed=0)
    write_sampled(tmp_path / "ds", sampled, [rec], meta={"parameters": {**config.to_dict(), "seed": 0}, "inputs": []})
    ref = reference.build_reference({"rec0": (t, ch)}, events, params)
    assert 5507 in set(ref.candidates["rec0"]["first"].tolist())
    assert sampled.report["candidates"]["removed"]["edges"] == ref.candidate_counts["removed"]["edges"], (
        f"edges removed {sampled.report['candidates']['removed']['edges']} candidates, brute force "
        f"{ref.candidate_counts['removed']['edges']} (sample 5507 ends exactly edge_ms before the last timestamp)"
    )
    reference.check_dataset(tmp_path / "ds", {"rec0": (t, ch)}, events, params)


# --------------------------------------------------------------------------- CLI variants


def test_cli_center_360_csv(w360, tmp_path):
    params = dict(align="center", window_ms=600, neg_strategy="mixed", seed=3)
    out = tmp_path / "ds"
    proc = run.sample_cli(w360.log_paths, w360.events_path, out, [*run.params_to_cli(params), "--quiet"])
    assert proc.returncode == 0, proc.stderr
    _check(w360, out, params)


def test_cli_uniform_hop_edges(w1k, tmp_path):
    params = dict(
        neg_strategy="uniform",
        neg_candidate_hop_ms=25,
        neg_avoid_edges="start",
        edge_ms=3000,
        neg_mult=5,
        neg_min_sep_ms=50,
        seed=11,
    )
    out = tmp_path / "ds"
    proc = run.sample_cli(w1k.log_paths, w1k.events_path, out, [*run.params_to_cli(params), "--quiet"])
    assert proc.returncode == 0, proc.stderr
    _check(w1k, out, params)
