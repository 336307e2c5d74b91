"""Vectorised interval tests: which windows touch any of a set of intervals."""

from __future__ import annotations

import numpy as np


def merge_intervals(lows: np.ndarray, highs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Union of intervals as sorted, disjoint ``(lows, highs)``; touching intervals merge.

    Examples
    --------
    >>> merge_intervals(np.array([5.0, 0.0, 20.0]), np.array([8.0, 5.0, 30.0]))
    (array([ 0., 20.]), array([ 8., 30.]))
    """
    lows = np.asarray(lows, dtype=np.float64)
    highs = np.asarray(highs, dtype=np.float64)
    if len(lows) == 0:
        return lows, highs
    order = np.argsort(lows, kind="stable")
    lows, highs = lows[order], highs[order]
    reach = np.maximum.accumulate(highs)
    starts_block = np.concatenate(([True], lows[1:] > reach[:-1]))
    block_first = np.flatnonzero(starts_block)
    return lows[block_first], np.maximum.reduceat(highs, block_first)


def intersects_any(query_lows: np.ndarray, query_highs: np.ndarray, lows: np.ndarray, highs: np.ndarray) -> np.ndarray:
    """For each query, whether some interval has ``low < query_high`` and ``high > query_low``.

    That is the overlap test for half-open windows ``[a, b)`` against half-open
    zones ``[low, high)``, and for open queries against closed intervals.
    ``lows, highs`` need not be sorted or disjoint.

    Examples
    --------
    >>> intersects_any(np.array([0.0, 4.0, 9.0]), np.array([4.0, 6.0, 12.0]), np.array([4.0]), np.array([9.0]))
    array([False,  True, False])
    """
    merged_lows, merged_highs = merge_intervals(lows, highs)
    query_lows = np.asarray(query_lows, dtype=np.float64)
    if len(merged_lows) == 0:
        return np.zeros(len(query_lows), dtype=bool)
    # First merged interval whose high exceeds the query's low; only it can overlap.
    candidate = np.searchsorted(merged_highs, query_lows, side="right")
    inside = candidate < len(merged_lows)
    result = np.zeros(len(query_lows), dtype=bool)
    result[inside] = merged_lows[candidate[inside]] < np.asarray(query_highs, dtype=np.float64)[inside]
    return result
