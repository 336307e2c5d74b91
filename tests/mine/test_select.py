"""Selection of mined windows: NMS, candidates, item aggregates, tiers and statistics against brute force."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hardneg.errors import InputError
from hardneg.mine import _select as select
from hardneg.mine._manifest import write_tiers
from hardneg.mine._select import (
    item_table,
    select_candidates,
    temporal_nms,
    tier_label,
)
from hardneg.mine._stats import QUANTILES, score_statistics, write_statistics

ITEMS = ["a", "b", "c,d", "e"]
SCORES = [0.0, 0.1, 0.25, 0.5, 0.5000001, 0.7, 0.85, 0.9, 0.99, 1.0]


# --------------------------------------------------------------------------------------------------- brute force


def brute_rank_key(row):
    return (-row["score"], row["start_ms"], row["end_ms"], row["_pos"])


def brute_nms(rows, nms_ms, max_per_item=None):
    """Rows (dicts with _pos) kept, sorted by item then start, equal starts in rank order."""
    out = []
    for item in sorted({r["item"] for r in rows}):
        ranked = sorted((r for r in rows if r["item"] == item), key=brute_rank_key)
        kept = []
        for r in ranked:
            if all(abs(r["start_ms"] - k["start_ms"]) >= nms_ms for k in kept):
                kept.append(r)
        if max_per_item is not None:
            kept = kept[:max_per_item]
        rank = {id(r): i for i, r in enumerate(kept)}
        out += sorted(kept, key=lambda r: (r["start_ms"], rank[id(r)]))
    return out


def brute_items(rows, topk):
    out = []
    for item in {r["item"] for r in rows}:
        mine = [r for r in rows if r["item"] == item]
        scores = [r["score"] for r in mine]
        best = max(scores)
        top = sorted(scores, reverse=True)[:topk]
        out.append(
            {
                "item": item,
                "group": mine[0]["group"],
                "n_windows": len(mine),
                "max_score": best,
                "mean_score": sum(scores) / len(scores),
                "topk_mean": sum(top) / len(top),
                "argmax_ms": min(r["start_ms"] for r in mine if r["score"] == best),
            }
        )
    out.sort(key=lambda r: (-r["max_score"], r["item"]))
    return out


def brute_histogram(values):
    edges = [i / 20 for i in range(21)]
    counts = [0] * 20
    for v in values:
        for i in range(20):
            if edges[i] <= v < edges[i + 1] or (i == 19 and v == 1.0):  # last bin closed
                counts[i] += 1
                break
    return counts


def brute_quantile(values, q):
    s = sorted(values)
    h = (len(s) - 1) * q
    lo = math.floor(h)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (h - lo) * (s[hi] - s[lo])


def to_rows(frame):
    rows = frame.to_dict("records")
    for i, r in enumerate(rows):
        r["_pos"] = i
    return rows


def frame_of(rows, columns=("item", "group", "start_ms", "end_ms", "score")):
    return pd.DataFrame({c: [r[c] for r in rows] for c in columns})


# --------------------------------------------------------------------------------------------------- strategies


@st.composite
def window_tables(draw, max_rows=40):
    n = draw(st.integers(0, max_rows))
    rows = []
    for _ in range(n):
        item = draw(st.sampled_from(ITEMS))
        start = draw(st.integers(0, 12)) * 50.0
        rows.append(
            {
                "item": item,
                "group": "g" + str(ITEMS.index(item) % 2),
                "start_ms": start,
                "end_ms": start + draw(st.sampled_from([100.0, 200.0])),
                "score": draw(st.one_of(st.sampled_from(SCORES), st.floats(0, 1, allow_nan=False))),
                "frame": draw(st.integers(0, 1000)),
            }
        )
    frame = pd.DataFrame(rows, columns=["item", "group", "start_ms", "end_ms", "score", "frame"])
    frame = frame.astype({"start_ms": "float64", "end_ms": "float64", "score": "float64", "frame": "int64"})
    if draw(st.booleans()):
        # Rows of each item together, as the engine's shards give them.
        frame = frame.sort_values("item", kind="stable").reset_index(drop=True)
    return frame


NMS = st.sampled_from([0.0, 1.0, 50.0, 100.0, 125.0, 250.0, 1000.0])
CAPS = st.one_of(st.none(), st.integers(1, 4))
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def expected_frame(frame, kept_rows):
    return frame.iloc[[r["_pos"] for r in kept_rows]].reset_index(drop=True)


# --------------------------------------------------------------------------------------------------- NMS


@FAST
@given(window_tables(), NMS, CAPS)
def test_temporal_nms_matches_brute_force(frame, nms_ms, cap):
    got = temporal_nms(frame, nms_ms, max_per_item=cap)
    want = expected_frame(frame, brute_nms(to_rows(frame), nms_ms, cap))
    pd.testing.assert_frame_equal(got, want)
    # The defining property, checked directly: no two kept windows of an item start closer than nms_ms.
    for _, part in got.groupby("item"):
        s = np.sort(part["start_ms"].to_numpy())
        assert (np.diff(s) >= nms_ms).all() or nms_ms == 0


@FAST
@given(window_tables(), NMS)
def test_temporal_nms_does_not_depend_on_row_order(frame, nms_ms):
    shuffled = frame.iloc[::-1].reset_index(drop=True)
    key = ["item", "start_ms", "end_ms", "score"]
    a = temporal_nms(frame, nms_ms)[key]
    b = temporal_nms(shuffled, nms_ms)[key]
    # Rows equal on every rank key are interchangeable; compare them as multisets.
    pd.testing.assert_frame_equal(a.sort_values(key).reset_index(drop=True), b.sort_values(key).reset_index(drop=True))


def test_nms_ties_go_to_the_earlier_start():
    frame = pd.DataFrame(
        {"item": ["x"] * 3, "group": ["g"] * 3, "start_ms": [200.0, 100.0, 300.0], "end_ms": [300.0, 200.0, 400.0],
         "score": [0.9, 0.9, 0.9]}
    )  # fmt: skip
    assert temporal_nms(frame, 150)["start_ms"].tolist() == [100.0, 300.0]
    assert temporal_nms(frame, 150, max_per_item=1)["start_ms"].tolist() == [100.0]
    # Exactly nms_ms apart is not "closer than": both kept.
    assert temporal_nms(frame, 100)["start_ms"].tolist() == [100.0, 200.0, 300.0]


def test_nms_zero_keeps_everything_and_carries_extra_columns():
    frame = pd.DataFrame(
        {"item": ["b", "a", "a"], "group": ["g", "h", "h"], "start_ms": [0.0, 5.0, 5.0], "end_ms": [1.0, 6.0, 7.0],
         "score": [0.6, 0.7, 0.8], "frame": np.array([3, 1, 2], dtype=np.int64)}
    )  # fmt: skip
    out = temporal_nms(frame, 0)
    assert out["item"].tolist() == ["a", "a", "b"]
    assert out["frame"].tolist() == [2, 1, 3]  # equal starts in rank order
    assert out["frame"].dtype == np.int64


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 400), min_size=0, max_size=600),
    st.sampled_from([0.0, 1.0, 3.0, 7.0, 40.0]),
)
def test_greedy_1d_matches_brute_force_beyond_one_block(starts, nms_ms):
    values = np.asarray(starts, dtype=np.float64)
    kept = []
    want = np.zeros(len(values), dtype=bool)
    for i, s in enumerate(starts):
        if all(abs(s - k) >= nms_ms for k in kept):
            kept.append(s)
            want[i] = True
    np.testing.assert_array_equal(select._greedy_1d(values, nms_ms), want)


def test_long_item_nms_matches_brute_force():
    rng = np.random.default_rng(3)
    n = 5000
    frame = pd.DataFrame(
        {"item": "long", "group": "g", "start_ms": np.arange(n) * 10.0, "end_ms": np.arange(n) * 10.0 + 20.0,
         "score": np.round(rng.random(n), 2)}
    )  # fmt: skip
    frame = frame.sample(frac=1.0, random_state=1).reset_index(drop=True)
    got = temporal_nms(frame, 45.0)
    want = expected_frame(frame, brute_nms(to_rows(frame), 45.0))
    pd.testing.assert_frame_equal(got, want)


# --------------------------------------------------------------------------------------------------- candidates


@FAST
@given(
    window_tables(),
    st.sampled_from([0.0, 0.5, 0.85]),
    st.one_of(st.none(), st.sampled_from([0.85, 0.99, 1.0])),
    NMS,
    CAPS,
)
def test_select_candidates_matches_brute_force(frame, low, high, nms_ms, cap):
    if high is not None and high < low:
        high = low
    candidates, counts = select_candidates(frame, min_score=low, max_score=high, nms_ms=nms_ms, max_per_item=cap)
    rows = to_rows(frame)
    band = [r for r in rows if r["score"] >= low and (high is None or r["score"] <= high)]
    uncapped = brute_nms(band, nms_ms)
    kept = brute_nms(band, nms_ms, cap)
    pd.testing.assert_frame_equal(candidates, expected_frame(frame, kept))
    above = [r for r in rows if high is not None and r["score"] > high]
    assert counts == {
        "windows": len(rows),
        "above_min_score": sum(r["score"] >= low for r in rows),
        "above_max_score": len(above),
        "items_above_max_score": len({r["item"] for r in above}),
        "in_band": len(band),
        "nms_suppressed": len(band) - len(uncapped),
        "max_per_item_dropped": len(uncapped) - len(kept),
        "candidates": len(kept),
    }


def test_max_score_cap_is_counted_and_does_not_suppress():
    frame = pd.DataFrame(
        {"item": ["a", "a", "b", "b"], "group": ["g"] * 4, "start_ms": [0.0, 100.0, 0.0, 1000.0],
         "end_ms": [500.0, 600.0, 500.0, 1500.0], "score": [0.999, 0.9, 0.995, 0.6]}
    )  # fmt: skip
    candidates, counts = select_candidates(frame, min_score=0.5, max_score=0.99, nms_ms=500)
    # a's 0.999 window is capped out, so it does not suppress the 0.9 window next to it.
    assert candidates[["item", "score"]].values.tolist() == [["a", 0.9], ["b", 0.6]]
    assert counts["above_max_score"] == 2 and counts["items_above_max_score"] == 2 and counts["in_band"] == 2


def test_empty_inputs():
    empty = pd.DataFrame({"item": pd.Series([], dtype=object), "group": pd.Series([], dtype=object),
                          "start_ms": [], "end_ms": [], "score": []})  # fmt: skip
    candidates, counts = select_candidates(empty, nms_ms=100)
    assert len(candidates) == 0 and list(candidates.columns) == list(empty.columns)
    assert counts["windows"] == 0 and counts["candidates"] == 0
    assert len(temporal_nms(empty, 10)) == 0
    items = item_table(empty)
    assert len(items) == 0 and list(items.columns) == list(select.ITEM_COLUMNS)
    assert items["n_windows"].dtype == np.int64
    stats = score_statistics(empty, items, (0.5,))
    assert stats["n_windows"] == 0 and stats["window_scores"]["quantiles"]["0.5"] is None
    assert stats["window_scores"]["histogram"]["counts"] == [0] * 20
    json.dumps(stats, allow_nan=False)
    # Nothing passes the band: empty candidates from a non-empty table.
    low = empty.assign()
    low.loc[0] = ["a", "g", 0.0, 1.0, 0.1]
    candidates, counts = select_candidates(low, nms_ms=100)
    assert len(candidates) == 0 and counts["windows"] == 1


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"nms_ms": -1}, "nms_ms"),
        ({"nms_ms": float("nan")}, "nms_ms"),
        ({"nms_ms": 10, "max_per_item": 0}, "max_per_item"),
        ({"nms_ms": 10, "min_score": 0.9, "max_score": 0.5}, "max_score"),
        ({"nms_ms": 10, "min_score": "high"}, "min_score"),
    ],
)
def test_bad_options_are_input_errors(kwargs, fragment):
    frame = pd.DataFrame({"item": ["a"], "group": ["g"], "start_ms": [0.0], "end_ms": [1.0], "score": [0.7]})
    with pytest.raises(InputError, match=fragment):
        select_candidates(frame, **kwargs)


def test_bad_tables_are_input_errors():
    frame = pd.DataFrame({"item": ["a", "a"], "group": ["g", "h"], "start_ms": [0.0, 1.0], "end_ms": [1.0, 2.0],
                          "score": [0.7, 0.2]})  # fmt: skip
    with pytest.raises(InputError, match="one group"):
        item_table(frame)
    with pytest.raises(InputError, match="score"):
        item_table(frame.drop(columns="score"))
    with pytest.raises(InputError, match="NaN"):
        select_candidates(frame.assign(score=[0.7, np.nan]), nms_ms=1)
    with pytest.raises(InputError, match="topk"):
        item_table(frame.assign(group="g"), topk=0)


# --------------------------------------------------------------------------------------------------- items


@FAST
@given(window_tables(), st.integers(1, 7))
def test_item_table_matches_brute_force(frame, topk):
    got = item_table(frame, topk=topk)
    want = brute_items(to_rows(frame), topk)
    assert got["item"].tolist() == [w["item"] for w in want]
    assert got["group"].tolist() == [w["group"] for w in want]
    assert got["n_windows"].tolist() == [w["n_windows"] for w in want]
    for column in ("max_score", "argmax_ms"):
        assert got[column].tolist() == [w[column] for w in want]
    for column in ("mean_score", "topk_mean"):
        np.testing.assert_allclose(got[column], [w[column] for w in want], rtol=1e-12, atol=1e-15)
    assert got["n_windows"].dtype == np.int64


def test_item_table_topk_over_buckets_of_lengths():
    # Items of very different lengths go through different padded blocks of the top-k reduction.
    rng = np.random.default_rng(7)
    lengths = [1, 2, 3, 5, 6, 9, 17, 33, 100, 257, 1000]
    frame = pd.concat(
        [
            pd.DataFrame({"item": f"i{n:04d}", "group": "g", "start_ms": np.arange(n) * 1.0,
                          "end_ms": np.arange(n) + 1.0, "score": np.round(rng.random(n), 3)})
            for n in lengths
        ]
    ).sample(frac=1.0, random_state=0).reset_index(drop=True)  # fmt: skip
    for topk in (1, 5, 40):
        got = item_table(frame, topk=topk).set_index("item")
        for w in brute_items(to_rows(frame), topk):
            assert got.loc[w["item"], "topk_mean"] == pytest.approx(w["topk_mean"], rel=1e-12)
            assert got.loc[w["item"], "argmax_ms"] == w["argmax_ms"]


def test_item_column_dtypes_agree():
    frame = pd.DataFrame({"item": ["b", "a", "b", "c"], "group": ["g", "h", "g", "g"], "start_ms": [0.0, 1.0, 2.0, 3.0],
                          "end_ms": [1.0, 2.0, 3.0, 4.0], "score": [0.2, 0.9, 0.4, 0.1]})  # fmt: skip
    reference = item_table(frame)
    for item in (frame["item"].astype(object), frame["item"].astype("category")):
        got = item_table(frame.assign(item=item))
        assert got["item"].astype(str).tolist() == reference["item"].astype(str).tolist()
        np.testing.assert_array_equal(got["topk_mean"], reference["topk_mean"])


def test_stable_code_order_beyond_16_bits():
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 200_000, 50_000)
    np.testing.assert_array_equal(select._stable_code_order(codes, 200_000), np.argsort(codes, kind="stable"))


# --------------------------------------------------------------------------------------------------- tiers


@FAST
@given(window_tables(), st.lists(st.sampled_from([0.0, 0.5, 0.85, 0.9, 0.99, 0.995, 1.0]), unique=True, max_size=4))
def test_write_tiers_matches_brute_force(tmp_path_factory, frame, tiers):
    out = tmp_path_factory.mktemp("tiers")
    items = item_table(frame)
    paths = write_tiers(items, out, tiers=tiers)
    assert [p.name for p in paths] == [f"conf_min_{tier_label(t)}.csv" for t in sorted(tiers)]
    previous = None
    for tier, path in zip(sorted(tiers), paths, strict=True):
        text = path.read_text()
        assert text.startswith("item,group,max_score\n")
        got = pd.read_csv(path, dtype={"item": str, "group": str}, keep_default_na=False)
        want = [w for w in brute_items(to_rows(frame), 5) if w["max_score"] >= tier]
        assert got["item"].tolist() == [w["item"] for w in want]
        assert got["group"].tolist() == [w["group"] for w in want]
        assert got["max_score"].tolist() == [w["max_score"] for w in want]
        if previous is not None:  # nested: a higher tier is a subset of every lower one
            assert set(got["item"]) <= previous
        previous = set(got["item"])
    assert sorted(os.listdir(out / "tiers")) == sorted(p.name for p in paths)  # no partial files left


def test_tiers_header_only_and_labels(tmp_path):
    items = pd.DataFrame({"item": ["b", "a", "c"], "group": ["g", "g", "h"], "max_score": [0.9, 0.9, 0.4]})
    paths = write_tiers(items, tmp_path)
    assert [p.name for p in paths] == ["conf_min_0.50.csv", "conf_min_0.85.csv", "conf_min_0.99.csv"]
    assert paths[0].read_text() == "item,group,max_score\na,g,0.9\nb,g,0.9\n"  # ties by item
    assert paths[2].read_text() == "item,group,max_score\n"
    empty = write_tiers(items.iloc[:0], tmp_path / "none", tiers=(0.5,))
    assert empty[0].read_text() == "item,group,max_score\n"
    assert tier_label(0.995) == "0.995" and tier_label(0.1) == "0.10"


@pytest.mark.parametrize("tiers", [(0.5, 0.50), (1.5,), (-0.1,), "0.5", (float("nan"),)])
def test_bad_tiers(tmp_path, tiers):
    items = pd.DataFrame({"item": ["a"], "group": ["g"], "max_score": [0.9]})
    with pytest.raises(InputError, match="tiers"):
        write_tiers(items, tmp_path, tiers=tiers)


def test_writes_are_atomic(tmp_path, monkeypatch):
    items = pd.DataFrame({"item": ["a"], "group": ["g"], "max_score": [0.9]})
    path = write_tiers(items, tmp_path, tiers=(0.5,))[0]
    before = path.read_bytes()

    def crash(src, dst):
        raise OSError("disk full")

    import hardneg._atomic

    monkeypatch.setattr(hardneg._atomic.os, "replace", crash)  # every atomic write goes through hardneg._atomic
    with pytest.raises(OSError):
        write_tiers(items.assign(max_score=0.95), tmp_path, tiers=(0.5,))
    assert path.read_bytes() == before  # the old file is untouched
    assert os.listdir(tmp_path / "tiers") == [path.name]  # and no partial file is left behind
    windows = pd.DataFrame({"item": ["a"], "group": ["g"], "start_ms": [0.0], "end_ms": [1.0], "score": [0.7]})
    with pytest.raises(OSError):
        write_statistics(score_statistics(windows, item_table(windows)), tmp_path / "stats")
    assert not (tmp_path / "stats").exists() or os.listdir(tmp_path / "stats") == []


# --------------------------------------------------------------------------------------------------- statistics


@FAST
@given(window_tables(), st.lists(st.sampled_from([0.0, 0.5, 0.85, 0.99, 1.0]), unique=True, max_size=3))
def test_score_statistics_match_brute_force(frame, tiers):
    items = item_table(frame)
    stats = score_statistics(frame, items, tiers)
    scores = frame["score"].tolist()
    maxima = items["max_score"].tolist()
    assert stats["n_windows"] == len(scores) and stats["n_items"] == len(maxima)
    for key, values in (("window_scores", scores), ("item_max_scores", maxima)):
        dist = stats[key]
        assert dist["histogram"]["counts"] == brute_histogram(values)
        assert dist["histogram"]["edges"] == [i / 20 for i in range(21)]
        assert dist["count"] == len(values)
        for q in QUANTILES:
            if values:
                assert dist["quantiles"][f"{q:g}"] == pytest.approx(brute_quantile(values, q), rel=1e-12, abs=1e-15)
            else:
                assert dist["quantiles"][f"{q:g}"] is None
        if values:
            assert dist["min"] == min(values) and dist["max"] == max(values)
    assert stats["tiers"] == [
        {
            "tier": t,
            "label": tier_label(t),
            "items": sum(m >= t for m in maxima),
            "windows": sum(s >= t for s in scores),
        }
        for t in sorted(tiers)
    ]
    top = brute_items(to_rows(frame), 5)[:20]
    assert [(r["item"], r["max_score"]) for r in stats["top_items"]] == [(w["item"], w["max_score"]) for w in top]
    json.dumps(stats, allow_nan=False)


def test_top_items_are_capped_at_twenty():
    n = 50
    frame = pd.DataFrame({"item": [f"i{i:02d}" for i in range(n)], "group": "g", "start_ms": 0.0, "end_ms": 1.0,
                          "score": np.linspace(0, 1, n)})  # fmt: skip
    stats = score_statistics(frame, item_table(frame), (0.5,))
    assert len(stats["top_items"]) == 20 and stats["top_items"][0]["item"] == "i49"


def test_write_statistics_files_and_determinism(tmp_path):
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"item": rng.choice(["a", "b", "c"], 300), "group": "g", "start_ms": np.arange(300.0),
                          "end_ms": np.arange(300.0) + 1, "score": rng.random(300)})  # fmt: skip
    stats = score_statistics(frame, item_table(frame), (0.5, 0.85, 0.99))
    stats["selection"] = {"candidates": 3, "above_max_score": 1}
    stats["excluded_groups"] = ["x"]
    first = write_statistics(stats, tmp_path / "one")
    second = write_statistics(stats, tmp_path / "two")
    assert [p.name for p in first] == ["stats.json", "stats.md", "score_distribution.png"]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes()
    assert json.loads(first[0].read_text()) == stats
    md = first[1].read_text()
    assert "## Tiers" in md and "| ≥ 0.85 |" in md and "selection: candidates 3" in md
    assert first[2].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --------------------------------------------------------------------------------------------------- size


def test_tiering_and_statistics_over_a_million_scores(tmp_path):
    # The time this takes is measured in benchmarks/bench_unit_timings.py (1 M) and bench_tiers.py (10 M).
    rng = np.random.default_rng(0)
    n, n_items = 1_000_000, 2_000
    codes = np.sort(rng.integers(0, n_items, n))
    names = np.array([f"rec_{i:05d}" for i in range(n_items)], dtype=object)
    frame = pd.DataFrame({"item": names[codes], "group": names[codes], "start_ms": np.arange(n) * 250.0,
                          "end_ms": np.arange(n) * 250.0 + 500.0, "score": rng.random(n)})  # fmt: skip
    items = item_table(frame)
    write_tiers(items, tmp_path)
    write_statistics(score_statistics(frame, items, (0.5, 0.85, 0.99)), tmp_path)
    assert items["n_windows"].sum() == n


def test_histogram_edges_are_exact_decimals():
    edges = [i / 20 for i in range(21)]
    values = edges + [np.nextafter(e, -1.0) for e in edges] + [np.nextafter(e, 2.0) for e in edges] + [-0.1, 1.5]
    frame = pd.DataFrame({"item": "a", "group": "g", "start_ms": np.arange(len(values), dtype=float),
                          "end_ms": np.arange(len(values)) + 1.0, "score": values})  # fmt: skip
    hist = score_statistics(frame, item_table(frame), ())["window_scores"]["histogram"]
    assert hist["counts"] == brute_histogram(values)
    assert hist["outside_0_1"] == 4  # -0.1, 1.5, just below 0 and just above 1
    assert hist["counts"][14] == 3  # 0.7 itself, just above it, and just below 0.75
