"""Random draws of negative windows with a minimum start separation, greedy in draw order."""

from __future__ import annotations

import bisect
from collections.abc import Callable

import numpy as np

__all__ = ["Locate", "SeparationGuard", "draw_with_replacement", "draw_without_replacement"]

#: Maps pool positions to (recording index, start time in ms) of those candidates.
Locate = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]

#: Pools up to this size are permuted whole; larger ones are sampled in prefixes.
_PERMUTE_WHOLE = 2_000_000


class SeparationGuard:
    """Remembers accepted negative starts per recording and refuses starts closer than ``min_sep_ms``.

    Examples
    --------
    >>> guard = SeparationGuard(200.0)
    >>> guard.accept_in_order(np.array([0, 0, 0]), np.array([0.0, 100.0, 300.0]), limit=10)
    array([ True, False,  True])
    """

    def __init__(self, min_sep_ms: float, tolerance_ms: float = 0.0):
        # Two starts exactly min_sep_ms apart may compute a hair closer; the tolerance keeps them.
        self.min_sep_ms = float(min_sep_ms) - float(tolerance_ms)
        self._accepted: dict[int, list[float]] = {}

    def _conflicts_with_accepted(self, recordings: np.ndarray, starts: np.ndarray) -> np.ndarray:
        conflict = np.zeros(len(starts), dtype=bool)
        for recording in np.unique(recordings):
            accepted = self._accepted.get(int(recording))
            if not accepted:
                continue
            accepted_sorted = np.asarray(accepted)
            rows = np.flatnonzero(recordings == recording)
            position = np.searchsorted(accepted_sorted, starts[rows])
            below = np.abs(starts[rows] - accepted_sorted[np.maximum(position - 1, 0)])
            above = np.abs(accepted_sorted[np.minimum(position, len(accepted_sorted) - 1)] - starts[rows])
            conflict[rows] = (below < self.min_sep_ms) | (above < self.min_sep_ms)
        return conflict

    def accept_in_order(self, recordings: np.ndarray, starts: np.ndarray, limit: int) -> np.ndarray:
        """Accept draws in order, each only if it keeps the separation; stop after ``limit`` acceptances."""
        accepted = np.zeros(len(starts), dtype=bool)
        if limit <= 0 or len(starts) == 0:
            return accepted
        if self.min_sep_ms <= 0:  # no separation asked (or only the tolerance left)
            accepted[: min(limit, len(starts))] = True
            return accepted
        # Vectorised first pass against what earlier draws accepted; the greedy pass then only
        # walks the survivors, whose count is about the number still needed.
        survivors = np.flatnonzero(~self._conflicts_with_accepted(recordings, starts))
        taken = 0
        for row in survivors:
            recording, start = int(recordings[row]), float(starts[row])
            accepted_starts = self._accepted.setdefault(recording, [])
            position = bisect.bisect_left(accepted_starts, start)
            if position > 0 and start - accepted_starts[position - 1] < self.min_sep_ms:
                continue
            if position < len(accepted_starts) and accepted_starts[position] - start < self.min_sep_ms:
                continue
            accepted_starts.insert(position, start)
            accepted[row] = True
            taken += 1
            if taken >= limit:
                break
        return accepted


def draw_without_replacement(
    rng: np.random.Generator, pool_size: int, need: int, locate: Locate, guard: SeparationGuard
) -> tuple[np.ndarray, int]:
    """Draw pool positions in a random order, keeping those the guard accepts, until ``need`` are kept.

    Returns the kept positions (in draw order) and how many draws the separation rejected.
    """
    if need <= 0 or pool_size == 0:
        return np.empty(0, dtype=np.int64), 0
    kept: list[np.ndarray] = []
    rejected = 0
    if pool_size <= _PERMUTE_WHOLE:
        order = rng.permutation(pool_size)
        rest = None
    else:
        prefix = min(pool_size, max(8 * need, 65_536))
        order = rng.choice(pool_size, size=prefix, replace=False)
        rest = order
    remaining = need
    chunk = max(2 * need, 4096)
    position = 0
    while remaining > 0:
        if position >= len(order):
            if rest is None:
                break
            # The random prefix ran out: continue with the rest of the pool in random order.
            unused = np.ones(pool_size, dtype=bool)
            unused[rest] = False
            order = rng.permutation(np.flatnonzero(unused))
            rest, position = None, 0
            continue
        block = order[position : position + chunk]
        position += len(block)
        accepted = guard.accept_in_order(*locate(block), remaining)
        last = int(np.flatnonzero(accepted)[-1]) + 1 if accepted.sum() >= remaining else len(block)
        rejected += int((~accepted[:last]).sum())
        kept.append(block[accepted])
        remaining -= int(accepted.sum())
    result = np.concatenate(kept) if kept else np.empty(0, dtype=np.int64)
    return result.astype(np.int64), rejected


def draw_with_replacement(
    rng: np.random.Generator, pool_size: int, need: int, locate: Locate, guard: SeparationGuard
) -> tuple[np.ndarray, int, int]:
    """Draw with replacement, drop repeats in draw order, keep the separation; repeat until ``need`` are kept.

    Each round draws twice what is still needed. Rounds go on until the count is met or every position of
    the pool has been drawn, so drawing with replacement never yields fewer windows than without; once fewer
    positions are left undrawn than a round would draw, they are taken in a random order.

    Returns the kept positions, how many draws were repeats and how many the separation rejected.

    Examples
    --------
    >>> guard = SeparationGuard(0.0)
    >>> locate = lambda rows: (np.zeros(len(rows), dtype=int), rows.astype(float))
    >>> kept, _, _ = draw_with_replacement(np.random.default_rng(0), 5, 5, locate, guard)
    >>> sorted(kept.tolist())  # a pool as large as the need: all of it, however many repeats the draws hold
    [0, 1, 2, 3, 4]
    """
    if need <= 0 or pool_size == 0:
        return np.empty(0, dtype=np.int64), 0, 0
    seen = np.zeros(pool_size, dtype=bool)
    kept: list[np.ndarray] = []
    duplicates = rejected = 0
    remaining = need
    while remaining > 0 and not seen.all():
        unseen = pool_size - int(seen.sum())
        if unseen <= 2 * remaining and kept:
            draws = rng.permutation(np.flatnonzero(~seen))  # the last few: every one, in a random order
        else:
            draws = rng.integers(0, pool_size, size=2 * remaining)
        _, first_seen = np.unique(draws, return_index=True)
        unique_in_order = draws[np.sort(first_seen)]
        fresh = unique_in_order[~seen[unique_in_order]]
        duplicates += len(draws) - len(fresh)
        seen[fresh] = True
        accepted = guard.accept_in_order(*locate(fresh), remaining)
        last = int(np.flatnonzero(accepted)[-1]) + 1 if accepted.sum() >= remaining else len(accepted)
        rejected += int((~accepted[:last]).sum())
        kept.append(fresh[accepted])
        remaining -= int(accepted.sum())
    return np.concatenate(kept).astype(np.int64), duplicates, rejected
