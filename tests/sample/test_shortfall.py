"""Shortfall lines name the constraint that removed the most; negatives start half a window apart by default."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hardneg import SamplingConfig
from hardneg.io import Recording
from hardneg.sample import sample_windows
from hardneg.sample._shortfall import shortfall_warnings
from tests.helpers.run import run_cli


def _recordings(n=2, seconds=120, rate=100.0):
    samples = int(seconds * rate)
    rng = np.random.default_rng(3)
    return [
        Recording(f"r{i}", f"g{i}", 0.0, rate, ["ax"], [rng.normal(size=samples)], f"r{i}.csv") for i in range(n)
    ]


def _events(times=(20000.0, 50000.0, 80000.0, 110000.0)):
    rows = [(f"r{i}", t) for i in range(2) for t in times]
    return pd.DataFrame(
        {
            "recording": [r for r, _ in rows],
            "t_ms": [t for _, t in rows],
            "end_ms": [t for _, t in rows],
            "event_id": np.arange(len(rows)),
        }
    )


def _starts_by_recording(index):
    negatives = index[index["label"] == 0]
    return {rec: np.sort(group["start_ms"].to_numpy()) for rec, group in negatives.groupby("recording")}


def test_default_separation_is_half_the_window_and_zero_allows_overlap():
    config = SamplingConfig(window_ms=500, neg_strategy="uniform", neg_mult=40)
    assert config.neg_min_sep_ms == 250.0 and config.to_dict()["neg_min_sep_ms"] == 250.0
    index = sample_windows(_recordings(), _events(), config, seed=0).index
    gaps = np.concatenate([np.diff(starts) for starts in _starts_by_recording(index).values()])
    assert gaps.min() >= 250.0 - 1e-6  # brute force over every neighbouring pair
    overlapping = sample_windows(
        _recordings(), _events(), SamplingConfig(window_ms=500, neg_strategy="uniform", neg_mult=40, neg_min_sep_ms=0),
        seed=0,
    ).index  # fmt: skip
    gaps0 = np.concatenate([np.diff(starts) for starts in _starts_by_recording(overlapping).values()])
    assert gaps0.min() < 250.0  # 320 draws among 23,000 starts: some land closer without the rule


def test_separation_exactly_half_the_window_is_allowed():
    # a grid of candidates exactly 250 ms apart (--neg-candidate-hop-ms): every one may be taken
    config = SamplingConfig(window_ms=500, neg_strategy="uniform", neg_mult=1000, neg_candidate_hop_ms=250)
    index = sample_windows(_recordings(n=1, seconds=30), _events((15000.0,)).iloc[:1], config, seed=0).index
    starts = np.sort(index.loc[index["label"] == 0, "start_ms"].to_numpy())
    assert len(starts) > 50 and np.allclose(np.diff(starts).min(), 250.0)


def _report(available, requested, achieved, rejected, removed=None, candidate_removed=None):
    return {
        "candidates": {"total": 10_000, "remaining": 9_000, "removed": candidate_removed or {"edges": 1_000}},
        "pools": {
            "near": {
                "qualifying": 5_000, "available": available, "removed": removed or {}, "duplicates": 0,
                "rejected_min_separation": rejected,
            }
        },  # fmt: skip
        "negatives": {
            "requested": {"near": requested},
            "achieved": {"near": achieved},
            "shortfall": {"near": requested - achieved},
        },
    }


def test_a_pool_large_enough_fell_short_by_the_separation():
    (line,) = shortfall_warnings(_report(300, 80, 50, 250), {"neg_min_sep_ms": 250.0})
    assert line.startswith("near negatives: 50 of 80 requested (short by 30)")
    assert "250 draws started within neg_min_sep_ms (250 ms)" in line and "lower neg_min_sep_ms" in line


def test_the_pool_boundary_available_equal_to_requested_blames_the_separation():
    (line,) = shortfall_warnings(_report(80, 80, 79, 1), {"neg_min_sep_ms": 100.0})
    assert "lower neg_min_sep_ms" in line
    (line,) = shortfall_warnings(_report(79, 80, 79, 0, removed={"match_pos_motion": 10}), {})
    assert "only 79 candidates were left" in line


def test_a_small_pool_names_the_filters_that_removed_the_most_in_order():
    report = _report(300, 800, 300, 0, removed={"match_pos_motion": 4_000, "min_motion_quantile": 700})
    (line,) = shortfall_warnings(report, {})
    # the near zone removed 9,000 - 5,000 = 4,000 (tied with the motion band, listed first as it came first)
    assert "(removed by the near zone 4000, neg_match_pos_motion 4000, neg_avoid_edges 1000)" in line
    assert "relax near_max_ms, or lower neg_mult" in line


def test_no_line_when_nothing_is_short():
    assert shortfall_warnings(_report(300, 80, 80, 5), {}) == []


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--neg-strategy", "near", "--neg-mult", "10", "--neg-min-sep-ms", "3000"], "lower --neg-min-sep-ms"),
        (["--neg-strategy", "near", "--neg-mult", "400", "--near-max-ms", "300"], "relax --near-max-ms"),
    ],
)
def test_cli_shortfall_lines_name_the_flag_to_relax(tmp_path, options, expected):
    for recording in _recordings():
        pd.DataFrame({"t_ms": recording.times_ms(), "ax": recording.data[0]}).to_parquet(tmp_path / f"{recording.id}.parquet")
    _events().drop(columns="event_id").to_csv(tmp_path / "events.csv", index=False)
    result = run_cli(
        ["sample", tmp_path / "r0.parquet", tmp_path / "r1.parquet", "--events", tmp_path / "events.csv",
         "--out", tmp_path / "ds", "-q", *options]
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("warning: near negatives")]
    assert len(lines) == 1 and expected in lines[0], result.stderr
