"""Candidate negative windows of one recording, filtered without a pass per window per event.

A candidate starts on a sample, so candidate start times form a sorted grid
``t0 + i * step``. Each event forbids (or marks) one contiguous run of
candidates, whose bounds are found by a search over that grid evaluated with
the definitions' own expressions (``start < zone_end``, ``end > zone_start``,
...), never by materialising one time per candidate. Work is O(candidates)
for the masks plus O(events) searches; memory is a few bytes per candidate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hardneg.io import SAMPLE_TOLERANCE, Recording
from hardneg.sample._masks import MaskIndex

__all__ = ["CandidatePool", "EventGeometry", "MaskIndex", "StartGrid", "event_geometry", "filter_candidates"]


@dataclass
class EventGeometry:
    """One recording's events, sorted by time, as the negative filters see them."""

    t_ms: np.ndarray  # event instants
    end_ms: np.ndarray  # event ends (= t_ms for instants)
    event_id: np.ndarray
    positive_start_ms: np.ndarray  # start of each event's positive window (sorted with t_ms)
    zone_start_ms: np.ndarray  # exclusion zone [start, end)
    zone_end_ms: np.ndarray


def event_geometry(events: pd.DataFrame, config) -> EventGeometry:
    """Positive windows and exclusion zones of one recording's events (sorted by time).

    The positive window is ``[t - lead - window, t - lead)`` (``align="end"``) or ``[t - window/2,
    t + window/2)`` (``"center"``); the zone is ``[window start, max(window end, t, end_ms) + post)``.
    """
    t_ms = events["t_ms"].to_numpy(np.float64)
    end_ms = events["end_ms"].to_numpy(np.float64)
    if config.align == "end":
        window_start = t_ms - config.lead_ms - config.window_ms
    else:
        window_start = t_ms - config.window_ms / 2.0
    window_end = window_start + config.window_ms
    zone_end = np.maximum(np.maximum(window_end, t_ms), end_ms) + config.neg_avoid_post_ms
    return EventGeometry(t_ms, end_ms, events["event_id"].to_numpy(np.int64), window_start, window_start, zone_end)


class StartGrid:
    """Candidate starts of one recording: every start sample, or a sorted subset of them.

    Positions ``0..count-1`` index the candidates. ``first_position`` finds,
    for each query, the first candidate whose start satisfies a predicate that
    turns from False to True as the start grows.
    """

    def __init__(self, recording: Recording, n_starts: int, starts: np.ndarray | None = None):
        self.t0_ms = recording.t0_ms
        self.step_ms = recording.step_ms
        self.n_starts = n_starts
        self.starts = starts
        self.count = n_starts if starts is None else len(starts)

    def sample_index(self, positions: np.ndarray) -> np.ndarray:
        return positions.astype(np.int64) if self.starts is None else self.starts[positions]

    def start_ms(self, sample_index: np.ndarray) -> np.ndarray:
        """Start time of the windows starting at these samples: exactly ``Recording.sample_time_ms``."""
        return self.t0_ms + np.asarray(sample_index, dtype=np.float64) * self.step_ms

    def first_position(
        self, predicate: Callable[[np.ndarray, np.ndarray], np.ndarray], guess_ms: np.ndarray
    ) -> np.ndarray:
        """For each query k, the first candidate position whose start makes ``predicate(start_ms, k)`` True.

        ``guess_ms`` is roughly the start time where the predicate turns True;
        the search then walks the exact predicate to its boundary.
        """
        queries = np.arange(len(guess_ms))
        sample = np.clip(np.ceil((np.asarray(guess_ms) - self.t0_ms) / self.step_ms), 0, self.n_starts).astype(np.int64)

        def holds(index: np.ndarray) -> np.ndarray:
            inside = index < self.n_starts
            result = np.zeros(len(index), dtype=bool)
            result[inside] = predicate(self.start_ms(index[inside]), queries[inside])
            return result

        for _ in range(64):  # float error moves the boundary by a sample or two at most
            back = (sample > 0) & holds(np.maximum(sample - 1, 0))
            forward = (sample < self.n_starts) & ~holds(sample)
            if not (back.any() or forward.any()):
                break
            sample = sample - back + forward
        if self.starts is None:
            return sample
        return np.searchsorted(self.starts, sample, side="left")


def _merged_runs(lows: np.ndarray, highs: np.ndarray) -> list[tuple[int, int]]:
    valid = lows < highs
    lows, highs = lows[valid], highs[valid]
    if len(lows) == 0:
        return []
    order = np.argsort(lows, kind="stable")
    lows, highs = lows[order], highs[order]
    reach = np.maximum.accumulate(highs)
    first = np.flatnonzero(np.concatenate(([True], lows[1:] > reach[:-1])))
    return list(zip(lows[first].tolist(), np.maximum.reduceat(highs, first).tolist()))


def filter_candidates(
    recording: Recording,
    starts: np.ndarray | None,
    n_starts: int,
    nan_free_by_start: np.ndarray | None,
    events: EventGeometry,
    *,
    window_ms: float,
    avoid_edges: str,
    edge_ms: float,
    near_max_ms: float,
    far_min_ms: float,
    removed: dict,
) -> dict:
    """Candidates that hold no NaN, keep off the edges and overlap no exclusion zone, with their near/far status.

    Parameters
    ----------
    starts : numpy.ndarray or None
        Candidate start samples (sorted, unique); None for every start ``0..n_starts-1``.
    nan_free_by_start : numpy.ndarray or None
        For every start sample, whether its window holds no NaN; None when the recording has no NaN.
    removed : dict
        Counters ``contains_nan``, ``edges``, ``exclusion_zone``, incremented in that order.

    Returns
    -------
    dict
        ``start_sample``: the surviving candidates' start samples (sorted), as a :class:`MaskIndex` over the
        candidates (``start_sample[rows]`` gives them, ``per_start[start_sample]`` selects from an array with a
        value per start sample), a byte per candidate rather than eight per survivor; ``far`` for every survivor;
        ``near_runs`` ``(first, stop)`` rows of the survivors that are near each of the events ``near_event``
        (times ``near_event_t``), one run per event.
    """
    grid = StartGrid(recording, n_starts, starts)
    count = grid.count
    # Times are compared with a 1e-9-sample tolerance, as sample positions are: at 360 Hz a start that
    # equals a zone end in exact arithmetic can come out one ulp below it.
    tolerance = SAMPLE_TOLERANCE * recording.step_ms
    if nan_free_by_start is None:
        keep = np.ones(count, dtype=bool)
    else:
        keep = nan_free_by_start.copy() if starts is None else nan_free_by_start[starts]
        removed["contains_nan"] += int(count - np.count_nonzero(keep))

    def end_of(start_ms):
        return start_ms + window_ms

    low, high = 0, count
    if avoid_edges in ("start", "all"):
        limit = np.array([recording.t0_ms + edge_ms])
        low = int(grid.first_position(lambda s, k: s >= limit[k] - tolerance, limit)[0])
    if avoid_edges in ("end", "all"):
        limit = np.array([recording.end_ms - edge_ms])
        high = int(grid.first_position(lambda s, k: end_of(s) > limit[k] + tolerance, limit - window_ms)[0])
    high = max(high, low)
    removed["edges"] += int(np.count_nonzero(keep[:low]) + np.count_nonzero(keep[high:]))
    keep[:low] = False
    keep[high:] = False

    # Zone [zs, ze) overlaps window [s, e) iff e > zs and s < ze: the candidates from the first with
    # e > zs up to (not including) the first with s >= ze.
    zone_low = grid.first_position(
        lambda s, k: end_of(s) > events.zone_start_ms[k] + tolerance, events.zone_start_ms - window_ms
    )
    zone_high = grid.first_position(lambda s, k: s >= events.zone_end_ms[k] - tolerance, events.zone_end_ms)
    before = np.count_nonzero(keep)
    for low_run, high_run in _merged_runs(zone_low, zone_high):
        keep[low_run:high_run] = False
    removed["exclusion_zone"] += int(before - np.count_nonzero(keep))

    # Far: no event [t, end] with t < e + far and end > s - far.
    far = np.ones(count, dtype=bool)
    far_low = grid.first_position(
        lambda s, k: end_of(s) + far_min_ms > events.t_ms[k] + tolerance, events.t_ms - far_min_ms - window_ms
    )
    far_high = grid.first_position(
        lambda s, k: s - far_min_ms >= events.end_ms[k] - tolerance, events.end_ms + far_min_ms
    )
    for low_run, high_run in _merged_runs(far_low, far_high):
        far[low_run:high_run] = False

    # Near: the candidate's end e satisfies ws[k-1] < e <= ws[k] (event k is next) and ws[k] - e <= near_max.
    positive_start = events.positive_start_ms
    upper = grid.first_position(lambda s, k: end_of(s) > positive_start[k] + tolerance, positive_start - window_ms)
    near_low = grid.first_position(
        lambda s, k: positive_start[k] - end_of(s) <= near_max_ms + tolerance, positive_start - near_max_ms - window_ms
    )
    near_low = np.maximum(near_low, np.concatenate(([0], upper[:-1])) if len(upper) else upper)
    survivors = MaskIndex(keep, values=starts)
    # The near candidates of event k are the survivors among positions near_low[k]..upper[k]-1: one run of rows.
    first_row = survivors.rank(near_low)
    stop_row = survivors.rank(np.maximum(upper, near_low))
    run = first_row < stop_row
    return {
        "start_sample": survivors,
        "far": far[keep],
        "near_runs": (first_row[run], stop_row[run]),
        "near_event": events.event_id[run],
        "near_event_t": events.t_ms[run],
    }


def _with_near_runs(part: dict) -> dict:
    """``part`` with its near candidates as runs of rows; ``near_rows`` (one row each) is accepted too."""
    if "near_runs" in part:
        return part
    rows = np.asarray(part["near_rows"], dtype=np.int64)
    return {**part, "near_runs": (rows, rows + 1)}


class _Pooled:
    """Several recordings' per-candidate values (arrays, :class:`MaskIndex` or lazy motion) read as one sequence."""

    def __init__(self, parts: list, offsets: np.ndarray):
        self._parts, self._offsets = parts, offsets
        self.dtype = np.result_type(*[part.dtype for part in parts])
        self._all: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self._offsets[-1])

    def __getitem__(self, positions: np.ndarray) -> np.ndarray:
        positions = np.asarray(positions, dtype=np.int64)
        part = np.searchsorted(self._offsets, positions, side="right") - 1
        out = np.empty(len(positions), dtype=self.dtype)
        for index in np.unique(part).tolist():
            rows = np.flatnonzero(part == index)
            out[rows] = self._parts[index][positions[rows] - self._offsets[index]]
        return out

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        if self._all is None:
            self._all = np.concatenate([np.asarray(part, dtype=self.dtype) for part in self._parts])
        return self._all if dtype is None else self._all.astype(dtype)

    def __ge__(self, other):
        return np.asarray(self) >= other

    def __le__(self, other):
        return np.asarray(self) <= other


class CandidatePool:
    """The surviving candidates of every recording, pooled: what the negative draws choose from.

    Per candidate it keeps a byte for being a survivor, one for its far flag
    and its motion (as an array, or for float32 data computed when read); near
    candidates are kept as one run of rows per event.
    """

    def __init__(self, parts: list[dict], recordings: list[Recording]):
        self._t0 = np.array([recording.t0_ms for recording in recordings])
        self._step = np.array([recording.step_ms for recording in recordings])
        parts = [_with_near_runs(part) for part in parts if len(part["start_sample"])]
        sizes = [len(part["start_sample"]) for part in parts]
        self._offsets = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
        self._part_recording = np.array([part["recording"] for part in parts], dtype=np.int64)

        def pooled(key, dtype):
            values = [part[key] for part in parts]
            if len(values) == 1:
                return values[0]
            if not values:
                return np.empty(0, dtype=dtype)
            if all(isinstance(value, np.ndarray) for value in values):
                return np.concatenate(values)
            return _Pooled(values, self._offsets)

        self.start_sample = pooled("start_sample", np.int64)
        self.motion = pooled("motion", np.float64)
        self.far = pooled("far", bool)
        self._near_first, self._near_stop = (
            np.concatenate([part["near_runs"][side] + offset for part, offset in zip(parts, self._offsets)])
            if parts
            else np.empty(0, dtype=np.int64)
            for side in (0, 1)
        )
        self._near_event = pooled("near_event", np.int64)
        self._near_event_t = pooled("near_event_t", np.float64)

    def __len__(self) -> int:
        return len(self.start_sample)

    def near_mask(self) -> np.ndarray:
        mask = np.zeros(len(self), dtype=bool)
        for first, stop in zip(self._near_first.tolist(), self._near_stop.tolist()):
            mask[first:stop] = True
        return mask

    def recording_index(self, positions: np.ndarray) -> np.ndarray:
        return self._part_recording[np.searchsorted(self._offsets, positions, side="right") - 1]

    def locate(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Recording index and start time (ms) of the candidates at ``positions``."""
        recording = self.recording_index(positions)
        return recording, self._t0[recording] + self.start_sample[positions].astype(np.float64) * self._step[recording]

    def near_event(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Event id (-1 if not near) and event time (NaN if not near) of the candidates at ``positions``."""
        positions = np.asarray(positions, dtype=np.int64)
        run = np.searchsorted(self._near_first, positions, side="right") - 1  # the last run starting at or before
        found = run >= 0
        found[found] = positions[found] < self._near_stop[run[found]]
        event = np.full(len(positions), -1, dtype=np.int64)
        event_t = np.full(len(positions), np.nan)
        event[found] = self._near_event[run[found]]
        event_t[found] = self._near_event_t[run[found]]
        return event, event_t
