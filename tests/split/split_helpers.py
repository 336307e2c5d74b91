"""Synthetic window indexes and brute-force references for the split tests (independent of hardneg.split).

An index here has the dataset's columns ``window_id, recording, group, start_ms, end_ms, label, kind, event_id``:
per event one positive window (label 1) and a few near windows (label 0) sharing its ``event_id``, plus far windows
without an event. Times are multiples of 10 ms so that ties, touching windows and gaps of exactly ``gap_ms`` occur.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import strategies as st

WINDOW_MS = 500.0


def make_index(recordings: list[dict], window_ms: float = WINDOW_MS) -> pd.DataFrame:
    """``recordings``: dicts ``{"recording", "group", "events": [t_ms, ...], "near": [[offset_ms, ...], ...],
    "far": [start_ms, ...]}``; near offsets are how long before its event a near window starts."""
    rows = []
    for rec in recordings:
        for event_id, t in enumerate(rec["events"]):
            rows.append((rec["recording"], rec["group"], t - window_ms + 100.0, 1, "pos", event_id))
            for offset in rec.get("near", [[]] * len(rec["events"]))[event_id]:
                rows.append((rec["recording"], rec["group"], t - offset, 0, "near", event_id))
        for start in rec.get("far", []):
            rows.append((rec["recording"], rec["group"], float(start), 0, "far", None))
    frame = pd.DataFrame(rows, columns=["recording", "group", "start_ms", "label", "kind", "event_id"])
    # Dataset order: by recording (in the given order), then time.
    order = {rec["recording"]: i for i, rec in enumerate(recordings)}
    frame["_rec"] = frame["recording"].map(order)
    frame = frame.sort_values(["_rec", "start_ms"], kind="stable").drop(columns="_rec").reset_index(drop=True)
    frame.insert(0, "window_id", np.arange(len(frame), dtype=np.int64))
    frame["start_ms"] = frame["start_ms"].astype(np.float64)
    frame["end_ms"] = frame["start_ms"] + window_ms
    frame["label"] = frame["label"].astype(np.int8)
    frame["event_id"] = pd.array(frame["event_id"], dtype="Int64")
    return frame[["window_id", "recording", "group", "start_ms", "end_ms", "label", "kind", "event_id"]]


@st.composite
def indexes(draw, min_groups=1, max_groups=4, max_recordings=2, min_events=0, max_events=6, max_far=6):
    """Random small indexes: groups of 1..max_recordings recordings, events with near windows, far windows."""
    n_groups = draw(st.integers(min_groups, max_groups))
    recordings = []
    for g in range(n_groups):
        for r in range(draw(st.integers(1, max_recordings))):
            n_events = draw(st.integers(min_events, max_events))
            events = sorted(draw(st.lists(st.integers(1, 600), min_size=n_events, max_size=n_events, unique=True)))
            events = [100.0 * e for e in events]
            near = [[10.0 * o for o in draw(st.lists(st.integers(60, 300), max_size=2, unique=True))] for _ in events]
            far = [10.0 * f for f in draw(st.lists(st.integers(0, 6000), max_size=max_far))]
            if not events and not far:
                far = [0.0]  # every recording has at least one window, so every drawn group exists
            recordings.append({"recording": f"g{g}r{r}", "group": f"g{g}", "events": events, "near": near, "far": far})
    return make_index(recordings)


def regular_index(n_groups=4, recordings_per_group=2, events_per_recording=8, far_per_recording=10, seed=0):
    """A larger, fixed index with enough of everything for cross-validation with a real classifier."""
    rng = np.random.default_rng(seed)
    recordings = []
    for g in range(n_groups):
        for r in range(recordings_per_group):
            events = np.sort(rng.choice(np.arange(10, 600), size=events_per_recording, replace=False)) * 100.0
            near = [[float(o) for o in rng.choice([800.0, 1500.0, 2500.0], size=2, replace=False)] for _ in events]
            far = (rng.choice(np.arange(0, 6000), size=far_per_recording, replace=False) * 10.0).tolist()
            recordings.append(
                {"recording": f"g{g}r{r}", "group": f"g{g}", "events": events.tolist(), "near": near, "far": far}
            )
    return make_index(recordings)


def features_for(index: pd.DataFrame, seed=0) -> np.ndarray:
    """Three noisy features, one of them informative about the label, so a classifier has something to learn."""
    rng = np.random.default_rng(seed)
    labels = index["label"].to_numpy()
    return np.column_stack(
        [labels + rng.normal(0, 0.8, len(index)), rng.normal(size=len(index)), rng.normal(size=len(index))]
    )


# ---------------------------------------------------------------------------------------------------------------------
# brute-force references


def pairs_within_gap(index: pd.DataFrame, a, b, gap_ms: float) -> list[tuple[int, int]]:
    """Every (i, j), i in ``a``, j in ``b``, same recording, whose intervals widened by ``gap_ms`` overlap."""
    rec = index["recording"].to_numpy()
    start = index["start_ms"].to_numpy()
    end = index["end_ms"].to_numpy()
    found = []
    for i in a:
        for j in b:
            if rec[i] == rec[j] and start[i] < end[j] + gap_ms and start[j] < end[i] + gap_ms:
                found.append((int(i), int(j)))
    return found


def count_pairs_within_gap(index: pd.DataFrame, a, b, gap_ms: float) -> int:
    """The same all-pairs test as :func:`pairs_within_gap`, by numpy broadcasting, for real-sized datasets."""
    rec = pd.factorize(index["recording"])[0]
    start = index["start_ms"].to_numpy()
    end = index["end_ms"].to_numpy()
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    total = 0
    for chunk in np.array_split(a, max(1, len(a) // 2000)):
        hit = (
            (rec[chunk, None] == rec[None, b])
            & (start[chunk, None] < end[None, b] + gap_ms)
            & (start[None, b] < end[chunk, None] + gap_ms)
        )
        total += int(hit.sum())
    return total


def ordered_units(index: pd.DataFrame) -> dict:
    """Per group: its events (or windows, without events) in time order, and the unit each window belongs to.

    Written as plain loops over tuples, independently of hardneg's vectorised version: recordings of a group in
    order of first appearance, an event starts at its earliest window, a window without an event belongs to the
    last event starting at or before it (the first event if none does).
    """
    rec_order = {rec: i for i, rec in enumerate(dict.fromkeys(index["recording"]))}
    out = {}
    for group, rows in index.groupby("group", sort=False):
        events = {}
        for row in rows.itertuples():
            if not pd.isna(row.event_id):
                key = (row.recording, int(row.event_id))
                first_row = events.get(key, (None, None, row.Index))[2]
                current = events.get(key, (rec_order[row.recording], np.inf, row.Index))
                events[key] = (current[0], min(current[1], row.start_ms), min(first_row, row.Index))
        unit_of = {}
        if events:
            order = sorted(events, key=lambda key: events[key])
            position = {key: rank for rank, key in enumerate(order)}
            for row in rows.itertuples():
                if not pd.isna(row.event_id):
                    unit_of[row.Index] = position[(row.recording, int(row.event_id))]
                else:
                    mine = (rec_order[row.recording], row.start_ms)
                    before = [rank for key, rank in position.items() if events[key][:2] <= mine]
                    unit_of[row.Index] = max(before) if before else 0
            n_units = len(order)
        else:
            order = sorted(rows.itertuples(), key=lambda row: (rec_order[row.recording], row.start_ms, row.Index))
            unit_of = {row.Index: rank for rank, row in enumerate(order)}
            n_units = len(order)
        out[group] = {"unit_of": unit_of, "n_units": n_units}
    return out


def subsets_of(frame: pd.DataFrame, fold: int = 0) -> dict[str, np.ndarray]:
    rows = frame[frame["fold"] == fold]
    return {name: rows.loc[rows["subset"] == name, "window_id"].to_numpy() for name in ("train", "val", "test")}
