"""The True entries of a boolean mask, addressed by rank without listing them (a byte per entry, not eight).

When every sample of a recording is a candidate start (48,000 a second for
audio), the list of surviving starts as int64 would take twice the memory of
the float32 recording itself; the mask and a count per block of it answer
the same questions: how many there are, the k-th one, and how many lie before
a position.
"""

from __future__ import annotations

import numpy as np

__all__ = ["MaskIndex"]


class MaskIndex:
    """Rank and select over a boolean mask; ``index[ranks]`` are the positions of the ``ranks``-th True entries.

    Parameters
    ----------
    mask : numpy.ndarray of bool
        Kept, not copied.
    values : numpy.ndarray, optional
        ``index[ranks]`` gives ``values[positions]`` instead of the positions.

    Examples
    --------
    >>> index = MaskIndex(np.array([False, True, True, False, True]))
    >>> len(index), index[np.array([2, 0])].tolist(), index.rank(np.array([0, 2, 5])).tolist()
    (3, [4, 1], [0, 1, 3])
    >>> MaskIndex(np.array([True, False, True]), values=np.array([10, 20, 30]))[np.array([1])].tolist()
    [30]
    """

    BLOCK = 1 << 16

    def __init__(self, mask: np.ndarray, values: np.ndarray | None = None):
        self.mask = np.asarray(mask, dtype=bool)
        self.values = values
        whole = len(self.mask) // self.BLOCK * self.BLOCK
        # count_nonzero by row, not np.add.reduceat(dtype=int64), which makes an int64 copy of the whole mask
        counts = np.count_nonzero(self.mask[:whole].reshape(-1, self.BLOCK), axis=1).astype(np.int64)
        if whole < len(self.mask):
            counts = np.append(counts, np.count_nonzero(self.mask[whole:]))
        self._before = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)  # True entries before each block
        self.count = int(self._before[-1])

    def __len__(self) -> int:
        return self.count

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.int64) if self.values is None else self.values.dtype

    def __array__(self, dtype=None, copy=None):
        """What ``per_position[index]`` selects with: the mask itself (then the selected values are in rank order,
        as from the positions), or, with ``values``, the selected values."""
        selector = self.mask if self.values is None else self.values[self.mask]
        return selector if dtype is None else selector.astype(dtype)

    def positions(self, ranks: np.ndarray) -> np.ndarray:
        """Positions (int64) of the True entries of rank ``ranks`` (0-based, any order)."""
        ranks = np.asarray(ranks, dtype=np.int64)
        out = np.empty(len(ranks), dtype=np.int64)
        if not len(ranks):
            return out
        if int(ranks.min()) < 0 or int(ranks.max()) >= self.count:
            raise IndexError(f"rank out of range for a mask with {self.count} True entries")
        block = np.searchsorted(self._before, ranks, side="right") - 1
        order = np.argsort(block, kind="stable")
        blocks = block[order]
        edges = np.concatenate(([0], np.flatnonzero(np.diff(blocks)) + 1, [len(blocks)]))
        for first, stop in zip(edges[:-1].tolist(), edges[1:].tolist()):
            b = int(blocks[first])
            rows = order[first:stop]
            found = np.flatnonzero(self.mask[b * self.BLOCK : (b + 1) * self.BLOCK])
            out[rows] = b * self.BLOCK + found[ranks[rows] - self._before[b]]
        return out

    def __getitem__(self, ranks: np.ndarray) -> np.ndarray:
        positions = self.positions(ranks)
        return positions if self.values is None else self.values[positions]

    def rank(self, positions: np.ndarray) -> np.ndarray:
        """How many True entries lie before each of ``positions`` (0..len(mask), any order)."""
        positions = np.asarray(positions, dtype=np.int64)
        block = positions // self.BLOCK
        out = self._before[np.minimum(block, len(self._before) - 1)].copy()
        inside = np.flatnonzero(positions % self.BLOCK != 0)
        if not len(inside):
            return out
        order = inside[np.argsort(block[inside], kind="stable")]
        blocks = block[order]
        edges = np.concatenate(([0], np.flatnonzero(np.diff(blocks)) + 1, [len(blocks)]))
        for first, stop in zip(edges[:-1].tolist(), edges[1:].tolist()):
            b = int(blocks[first])
            rows = order[first:stop]
            running = np.cumsum(self.mask[b * self.BLOCK : (b + 1) * self.BLOCK], dtype=np.int64)
            out[rows] += running[positions[rows] - b * self.BLOCK - 1]
        return out
