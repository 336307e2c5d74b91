"""Exact ties in mining's selection: scores equal to a threshold, and NMS between windows of equal score.

The rules (hardneg.mine._select's docstrings): a window is a candidate when
``min_score <= score <= max_score``; an item is in a tier when its ``max_score >= tier``;
``score_statistics`` counts items and windows the same way; NMS ranks windows by score
descending, then the earlier start, then the earlier end, then input order, and
suppresses starts closer than ``nms_ms`` (exactly ``nms_ms`` apart is not closer).
Every expected value here is written out by hand.
"""

from __future__ import annotations

import pandas as pd
import pytest

from hardneg.mine._manifest import tier_path, write_tiers
from hardneg.mine._select import item_table, select_candidates, temporal_nms
from hardneg.mine._stats import score_statistics


def _windows(rows):
    """``rows``: (item, start_ms, end_ms, score); groups are ``g_<item>``."""
    return pd.DataFrame(
        {
            "item": [r[0] for r in rows],
            "group": [f"g_{r[0]}" for r in rows],
            "start_ms": [float(r[1]) for r in rows],
            "end_ms": [float(r[2]) for r in rows],
            "score": [float(r[3]) for r in rows],
        }
    )


# --------------------------------------------------------------------------------------------------- thresholds


@pytest.mark.parametrize("min_score", [0.5, 0.85, 0.3, 0.7])
def test_window_scoring_exactly_min_score_is_a_candidate(min_score):
    below = min_score - 1e-12
    windows = _windows(
        [("a", 0, 100, min_score), ("a", 1000, 1100, below), ("b", 0, 100, min_score), ("b", 1000, 1100, 0.99)]
    )
    candidates, counts = select_candidates(windows, min_score=min_score, nms_ms=500)
    assert list(zip(candidates["item"], candidates["start_ms"])) == [("a", 0.0), ("b", 0.0), ("b", 1000.0)]
    assert counts["above_min_score"] == 3 and counts["in_band"] == 3 and counts["candidates"] == 3


def test_window_scoring_exactly_max_score_stays_in_the_band():
    windows = _windows([("a", 0, 100, 0.9), ("a", 1000, 1100, 0.9000001), ("a", 2000, 2100, 0.5)])
    candidates, counts = select_candidates(windows, min_score=0.5, max_score=0.9, nms_ms=500)
    assert candidates["start_ms"].tolist() == [0.0, 2000.0]
    assert counts["above_max_score"] == 1 and counts["items_above_max_score"] == 1 and counts["in_band"] == 2


def test_band_of_one_value_keeps_exactly_that_score():
    windows = _windows([("a", 0, 100, 0.7), ("a", 1000, 1100, 0.69999), ("a", 2000, 2100, 0.70001)])
    candidates, counts = select_candidates(windows, min_score=0.7, max_score=0.7, nms_ms=0)
    assert candidates["score"].tolist() == [0.7]
    assert counts == {
        "windows": 3,
        "above_min_score": 2,
        "above_max_score": 1,
        "items_above_max_score": 1,
        "in_band": 1,
        "nms_suppressed": 0,
        "max_per_item_dropped": 0,
        "candidates": 1,
    }


TIERS = (0.5, 0.85, 0.99)
# item max scores: each exactly on a tier, or just below one
TIE_ITEMS = pd.DataFrame(
    {
        "item": ["on50", "on85", "on99", "below50", "below85", "one"],
        "group": ["g1", "g2", "g3", "g4", "g5", "g6"],
        "max_score": [0.5, 0.85, 0.99, 0.49999999, 0.84999999, 1.0],
    }
)


def test_item_whose_max_score_equals_a_tier_is_in_that_tier(tmp_path):
    paths = write_tiers(TIE_ITEMS, tmp_path, tiers=TIERS)
    assert paths == [tier_path(tmp_path, t) for t in TIERS]
    listed = [pd.read_csv(p)["item"].tolist() for p in paths]
    assert listed == [
        ["one", "on99", "on85", "below85", "on50"],
        ["one", "on99", "on85"],
        ["one", "on99"],
    ]


def test_score_statistics_count_scores_equal_to_a_tier():
    # one window per item, so window scores and item max scores are the same values
    windows = pd.DataFrame(
        {
            "item": TIE_ITEMS["item"],
            "group": TIE_ITEMS["group"],
            "start_ms": 0.0,
            "end_ms": 1.0,
            "score": TIE_ITEMS["max_score"],
        }
    )
    stats = score_statistics(windows, item_table(windows), tiers=TIERS)
    assert [(t["label"], t["items"], t["windows"]) for t in stats["tiers"]] == [
        ("0.50", 5, 5),
        ("0.85", 3, 3),
        ("0.99", 2, 2),
    ]
    # the histogram puts a score equal to an edge in the bin it opens: 0.5 in [0.50, 0.55), 0.85 in [0.85, 0.90)
    counts = stats["window_scores"]["histogram"]["counts"]
    assert counts[10] == 1 and counts[9] == 1  # 0.5 ; 0.49999999
    assert counts[17] == 1 and counts[16] == 1  # 0.85 ; 0.84999999
    assert counts[19] == 2  # 0.99 and 1.0 (last bin closed)


# --------------------------------------------------------------------------------------------------- NMS ties


# Equal scores, overlapping; the later start has the EARLIER end, so a tie broken by end (or by row order when the
# later start comes first) keeps the wrong one.
EARLY = ("x", 100, 600, 0.8)  # starts first, ends last
LATE = ("x", 200, 400, 0.8)  # starts 100 ms later, ends 200 ms earlier


@pytest.mark.parametrize("rows", [[EARLY, LATE], [LATE, EARLY]], ids=["early-first", "late-first"])
def test_nms_tie_keeps_the_earlier_start_not_the_earlier_end(rows):
    kept = temporal_nms(_windows(rows), 500)
    assert list(zip(kept["start_ms"], kept["end_ms"])) == [(100.0, 600.0)]
    capped = temporal_nms(_windows(rows), 0, max_per_item=1)
    assert list(zip(capped["start_ms"], capped["end_ms"])) == [(100.0, 600.0)]


@pytest.mark.parametrize("reverse", [False, True])
def test_nms_tie_chain_resolves_from_the_earliest_start(reverse):
    """Equal scores 150 ms apart with NMS 200: earliest start first, so 0, 300, 600 survive (not 150, 450)."""
    rows = [("x", s, 1000 - s, 0.6) for s in (0, 150, 300, 450, 600)]  # ends fall as starts rise
    if reverse:
        rows = rows[::-1]
    kept = temporal_nms(_windows(rows), 200)
    assert kept["start_ms"].tolist() == [0.0, 300.0, 600.0]


@pytest.mark.parametrize("reverse", [False, True])
def test_nms_tie_with_items_interleaved(reverse):
    """Rows of two items alternate (the path that sorts rows by item first); each item keeps its earlier start."""
    rows = [
        ("x", 300, 350, 0.9),
        ("y", 50, 900, 0.4),
        ("x", 250, 800, 0.9),
        ("y", 120, 130, 0.4),
        ("x", 900, 950, 0.95),
    ]
    if reverse:
        rows = rows[::-1]
    kept = temporal_nms(_windows(rows), 100)
    assert list(zip(kept["item"], kept["start_ms"], kept["end_ms"])) == [
        ("x", 250.0, 800.0),
        ("x", 900.0, 950.0),
        ("y", 50.0, 900.0),
    ]


def test_nms_equal_score_and_start_goes_to_the_earlier_end_then_input_order():
    rows = [("x", 100, 700, 0.5), ("x", 100, 300, 0.5), ("x", 100, 300, 0.5)]
    frame = _windows(rows)
    frame["tag"] = ["long", "short-1st", "short-2nd"]
    assert temporal_nms(frame, 50)["tag"].tolist() == ["short-1st"]
    assert temporal_nms(frame.iloc[::-1].reset_index(drop=True), 50)["tag"].tolist() == ["short-2nd"]


def test_nms_starts_exactly_nms_ms_apart_are_both_kept():
    rows = [("x", 0, 100, 0.9), ("x", 250, 350, 0.8), ("x", 499.999, 600, 0.7)]
    kept = temporal_nms(_windows(rows), 250)
    assert kept["start_ms"].tolist() == [0.0, 250.0]


def test_candidates_tie_at_min_score_and_in_nms():
    """Both ties at once: two windows scoring exactly min_score overlap; the earlier start is the candidate."""
    rows = [("x", 400, 500, 0.5), ("x", 300, 900, 0.5), ("x", 5000, 5100, 0.4999)]
    candidates, counts = select_candidates(_windows(rows), min_score=0.5, nms_ms=250)
    assert list(zip(candidates["start_ms"], candidates["end_ms"])) == [(300.0, 900.0)]
    assert counts["in_band"] == 2 and counts["nms_suppressed"] == 1
