"""Labelled look-alike events as negatives: one window per event, aligned like a positive, capped with the seed.

A look-alike (another beat type, another species' call, an aiming hold without
a shot) gives a ``kind = labelled`` negative. It is kept even when its window
overlaps a positive's window or exclusion zone, unless
``labelled_avoid_positives``; ``labelled_neg_max`` caps how many are kept, in
total or per recording, drawn after every other kind.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hardneg.io import Recording
from hardneg.sample._candidates import EventGeometry, event_geometry
from hardneg.sample._config import SamplingConfig

__all__ = ["LABELLED_COUNTS", "cap_labelled", "labelled_windows"]


#: what happened to the labelled look-alike events, in the report's ``labelled`` section
LABELLED_COUNTS = ("events", "outside_recording", "contains_nan", "overlap_positive", "capped", "kept")


def labelled_windows(
    recording: Recording,
    recording_index: int,
    events: pd.DataFrame,
    positive: EventGeometry,
    length: int,
    motion_by_start: np.ndarray,
    nan_free_by_start: np.ndarray | None,
    config: SamplingConfig,
    counts: dict,
) -> dict:
    """One window per labelled look-alike, aligned like a positive; kept next to positives unless asked not to."""
    geometry = event_geometry(events, config)
    start_ms = geometry.positive_start_ms
    first_sample = recording.first_sample_at_or_after(start_ms)
    fits = (first_sample >= 0) & (first_sample + length <= recording.n_samples)
    has_nan = np.zeros(len(start_ms), dtype=bool)
    if nan_free_by_start is not None:
        has_nan[fits] = ~nan_free_by_start[first_sample[fits]]
    overlap = np.zeros(len(start_ms), dtype=bool)
    if config.labelled_avoid_positives and len(positive.zone_start_ms):
        # zones sorted by start: those starting before the window ends; the furthest-reaching one decides
        order = np.argsort(positive.zone_start_ms, kind="stable")
        zone_start, reach = positive.zone_start_ms[order], np.maximum.accumulate(positive.zone_end_ms[order])
        before = np.searchsorted(zone_start, start_ms + config.window_ms, side="left")
        overlap = (before > 0) & (reach[np.maximum(before - 1, 0)] > start_ms)
    keep = fits & ~has_nan & ~overlap
    counts["outside_recording"] += int((~fits).sum())
    counts["contains_nan"] += int((fits & has_nan).sum())
    counts["overlap_positive"] += int((fits & ~has_nan & overlap).sum())
    return {
        "recording": np.full(int(keep.sum()), recording_index, dtype=np.int64),
        "start_ms": start_ms[keep],
        "end_ms": start_ms[keep] + config.window_ms,
        "label": np.zeros(int(keep.sum()), dtype=np.int8),
        "kind": np.full(int(keep.sum()), "labelled", dtype=object),
        "event_id": geometry.event_id[keep],
        "event_t_ms": geometry.t_ms[keep],
        "motion": motion_by_start[first_sample[keep]],
        "start_sample": first_sample[keep].astype(np.int64),
    }


def cap_labelled(part: dict, config: SamplingConfig, rng, counts: dict) -> dict:
    """At most ``labelled_neg_max`` labelled negatives, in total or per recording, drawn with the seed."""
    n = len(part.get("start_ms", ()))
    limit = config.labelled_neg_max
    if not n or limit is None:
        counts["kept"] = n
        return part
    keys = rng.random(n)
    if config.labelled_neg_scope == "total":
        keep = np.zeros(n, dtype=bool)
        keep[np.argsort(keys, kind="stable")[:limit]] = True
    else:
        # rank within each recording by the random key: one sort, no loop over recordings
        order = np.lexsort((keys, part["recording"]))
        recording = part["recording"][order]
        first = np.searchsorted(recording, recording, side="left")
        keep = np.zeros(n, dtype=bool)
        keep[order[np.arange(n) - first < limit]] = True
    counts["capped"] = int(n - keep.sum())
    counts["kept"] = int(keep.sum())
    return {key: value[keep] for key, value in part.items()}
