"""Window statistics from cumulative sums: the motion score and NaN detection, O(1) per window."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hardneg.errors import InputError
from hardneg.io import Recording
from hardneg.sample._masks import MaskIndex

__all__ = ["DEFAULT_ACCEL", "DEFAULT_GYRO", "WindowStatistics", "find_columns", "motion_scores"]

DEFAULT_GYRO = ("gx", "gy", "gz")
DEFAULT_ACCEL = ("ax", "ay", "az")


def find_columns(channels: Sequence[str], wanted: Sequence[str] | None, default: Sequence[str], parameter: str):
    """Positions of the x,y,z columns named ``wanted`` (or ``default``, case-insensitive), or None.

    ``parameter`` is the name of the option ``wanted`` came from, for the message.
    """
    lowered = [name.lower() for name in channels]
    if wanted is not None:
        missing = [name for name in wanted if name not in channels]
        if missing:
            raise InputError(
                f"{parameter}: column(s) {', '.join(missing)} not among the channels ({', '.join(channels)})",
                parameter=parameter,
            )
        return [channels.index(name) for name in wanted]
    if all(name in lowered for name in default):
        return [lowered.index(name) for name in default]
    return None


class WindowStatistics:
    """Prefix sums over one recording that give each window's motion and NaN count in O(1).

    Motion, for IMU channels, is the mean over the window of ``gx²+gy²+gz²``
    plus ``accel_weight`` times the (population) variance over the window of
    ``sqrt(ax²+ay²+az²)``; with only one of the triples, only its term. With
    neither, it is the mean over the window of the sum over channels of the
    squared deviation from the window's channel mean (the sum of the channel
    variances).

    Examples
    --------
    >>> import numpy as np
    >>> from hardneg.io import Recording
    >>> rec = Recording("r", "r", 0.0, 1000.0, ["x"], [np.array([0.0, 2.0, 0.0, 2.0])], "r.csv")
    >>> WindowStatistics(rec, 2).motion(np.array([0, 1, 2]))
    array([1., 1., 1.])
    """

    def __init__(
        self,
        recording: Recording,
        samples_per_window: int,
        *,
        accel_weight: float = 0.1,
        gyro_cols: Sequence[str] | None = None,
        accel_cols: Sequence[str] | None = None,
    ):
        self.samples_per_window = int(samples_per_window)
        data = recording.data
        gyro = find_columns(recording.channels, gyro_cols, DEFAULT_GYRO, "gyro_cols")
        accel = find_columns(recording.channels, accel_cols, DEFAULT_ACCEL, "accel_cols")
        self.formula = "imu" if (gyro or accel) else "channel_variance"
        self._blocks = None
        if any(np.asarray(values).dtype != np.float64 for values in data):
            # float32 data (audio, float32 logs) is never copied whole into float64: the sums are taken in float64
            # over one block at a time (see _BlockStatistics), and the scores kept as float32.
            self._blocks = _BlockStatistics(data, self.samples_per_window, gyro, accel, float(accel_weight))
            self._terms, self._variance_channels, self._nan_prefix, self._spare = [], [], None, None
            return
        nan_mask = None
        for values in data:
            missing = np.isnan(values)
            if missing.any():
                nan_mask = missing if nan_mask is None else (nan_mask | missing)
        self._nan_prefix = None if nan_mask is None else np.concatenate(([0], np.cumsum(nan_mask, dtype=np.int64)))

        def clean(values: np.ndarray) -> np.ndarray:
            values = np.asarray(values, dtype=np.float64)
            return values if nan_mask is None else np.where(nan_mask, 0.0, values)

        # Each term: (weight, prefix sum of a per-sample mean or None, (sum, squares) prefix sums for a variance or None).
        # Buffers are filled in place: on a long log every fresh array costs real time, not just memory.
        self._terms: list[tuple[float, np.ndarray | None, tuple[np.ndarray, np.ndarray] | None]] = []
        n = recording.n_samples
        scratch = np.empty(n) if (gyro or accel) else None
        if gyro:
            prefix = np.empty(n + 1)
            prefix[0] = 0.0
            self._sum_of_squares([clean(data[index]) for index in gyro], prefix[1:], scratch)
            np.cumsum(prefix[1:], out=prefix[1:])
            self._terms.append((1.0, prefix, None))
        if accel:
            first = np.empty(n + 1)
            self._sum_of_squares([clean(data[index]) for index in accel], first[1:], scratch)
            np.sqrt(first[1:], out=first[1:])
            self._terms.append((float(accel_weight), None, self._variance_prefixes(first, nan_mask)))
        self._spare = scratch  # reused by every_window() for its results
        # Channel variances are built one channel at a time when needed, so many channels cost no more memory than one.
        self._variance_channels = [clean(values) for values in data] if self.formula == "channel_variance" else []
        self._nan_mask = nan_mask

    def _iter_terms(self):
        yield from self._terms
        for values in self._variance_channels:
            first = np.empty(len(values) + 1)
            first[1:] = values
            yield 1.0, None, self._variance_prefixes(first, self._nan_mask)

    @staticmethod
    def _sum_of_squares(columns: list[np.ndarray], out: np.ndarray, scratch: np.ndarray) -> None:
        np.square(columns[0], out=out, dtype=np.float64)
        for values in columns[1:]:
            np.square(values, out=scratch, dtype=np.float64)
            out += scratch

    @staticmethod
    def _variance_prefixes(first: np.ndarray, nan_mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Turn ``first[1:]`` (the per-sample values) into prefix sums of the centred values and their squares."""
        values = first[1:]
        # Centre on the recording mean first: mean(x²) - mean(x)² loses digits when |mean| >> std (gravity).
        finite = values if nan_mask is None else values[~nan_mask]
        values -= float(finite.mean()) if len(finite) else 0.0
        if nan_mask is not None:
            values[nan_mask] = 0.0
        second = np.empty_like(first)
        second[0] = 0.0
        np.square(values, out=second[1:])
        np.cumsum(second[1:], out=second[1:])
        first[0] = 0.0
        np.cumsum(values, out=values)
        return first, second

    def _window_sums(self, prefix: np.ndarray, starts: np.ndarray | None, out: np.ndarray | None = None) -> np.ndarray:
        length = self.samples_per_window
        if starts is None:  # every start: slices instead of a gather, several times faster
            return np.subtract(prefix[length:], prefix[: len(prefix) - length], out=out)
        starts = np.asarray(starts, dtype=np.int64)
        return np.subtract(prefix[starts + length], prefix[starts], out=out)

    def _finish_term(self, weight: float, term: np.ndarray, total: np.ndarray | None = None) -> np.ndarray:
        """``weight`` x the window mean (``term`` holds window sums) or, given the window sums ``total``, x the
        window variance (``term`` holds the sums of squares); computed in place in ``term``."""
        count = float(self.samples_per_window)
        if total is not None:
            total *= total
            total /= count
            term -= total
            np.maximum(term, 0.0, out=term)
        term *= weight / count
        return term

    def motion(self, starts: np.ndarray | None = None) -> np.ndarray:
        """Motion score of the windows starting at sample ``starts``; every start if None.

        float64, or float32 for float32 data (summed in float64, then rounded once).
        """
        if self._blocks is not None:
            return self._blocks.motion(starts)
        score = None
        for weight, mean_prefix, variance_prefixes in self._iter_terms():
            if mean_prefix is not None:
                term = self._finish_term(weight, self._window_sums(mean_prefix, starts))
            else:
                first, second = variance_prefixes
                term = self._finish_term(weight, self._window_sums(second, starts), self._window_sums(first, starts))
            if score is None:
                score = term
            else:
                score += term
        return score

    def every_window(self) -> tuple[np.ndarray, np.ndarray | None]:
        """Motion and NaN-freedom of the windows at every start ``0..n-T``, consuming the prefix sums.

        Same values as ``motion()`` and ``nan_free()``, but each result is written
        into a buffer that has just been used up, so the peak memory stays at the
        prefix sums' own. The object cannot be used afterwards.
        """
        if self._blocks is not None:
            # A float32 score per start would take as much memory as float32 data (audio: 48,000 a second), so
            # the scores are computed when read: usually only for the windows drawn.
            return LazyMotion(self._blocks), self._blocks.nan_free(None)
        length = self.samples_per_window
        terms = self._iter_terms()
        spare, self._spare = self._spare, None
        score = None

        def buffer(size: int) -> np.ndarray:
            nonlocal spare
            if spare is None:
                return np.empty(size)
            out, spare = spare[:size], None
            return out

        for weight, mean_prefix, variance_prefixes in terms:
            if mean_prefix is not None:
                n_starts = len(mean_prefix) - length
                term = self._finish_term(weight, self._window_sums(mean_prefix, None, out=buffer(n_starts)))
                spare = mean_prefix  # used up
            else:
                first, second = variance_prefixes
                n_starts = len(first) - length
                total = self._window_sums(first, None, out=buffer(n_starts))
                # first is used up: its memory takes the squares' window sums
                term = self._finish_term(weight, self._window_sums(second, None, out=first[:n_starts]), total)
                spare = second
                del total
            if score is None:
                score = term
            else:
                score += term
        del spare, terms
        self._terms, self._variance_channels = [], []
        nan_free = self.nan_free()
        self._nan_prefix = None
        return score, nan_free

    def nan_free(self, starts: np.ndarray | None = None) -> np.ndarray | None:
        """True where the window holds no NaN (every start if ``starts`` is None); None when the recording has none."""
        if self._blocks is not None:
            return self._blocks.nan_free(starts)
        if self._nan_prefix is None:
            return None
        return self._window_sums(self._nan_prefix, starts) == 0


class _BlockStatistics:
    """The statistics of :class:`WindowStatistics` for float32 data, in float64 one block of windows at a time.

    Every start's window sums come from prefix sums over its block only (plus
    the ``T - 1`` samples after it), so memory is a few blocks, not a float64
    copy of the recording; each block is centred on its own mean before the
    sums (the window variance does not depend on the shift, and the sums of
    squares keep their digits). Windows at given starts are summed directly.
    """

    BLOCK = 1 << 18  # starts per block: large enough that the per-block overhead is negligible
    GATHER = 1 << 21  # samples per channel gathered at once for windows at given starts

    def __init__(self, data, length: int, gyro, accel, accel_weight: float):
        self.data, self.length = data, length
        self.gyro, self.accel, self.accel_weight = gyro, accel, accel_weight
        self.has_nan = any(bool(np.isnan(values).any()) for values in data)

    def _terms(self, columns: list[np.ndarray]):
        """``(weight, per-sample values, is_variance)`` of each term, from float64 columns (NaN already 0)."""
        if self.gyro or self.accel:
            if self.gyro:
                yield 1.0, sum(np.square(columns[index]) for index in self.gyro), False
            if self.accel:
                yield self.accel_weight, np.sqrt(sum(np.square(columns[index]) for index in self.accel)), True
        else:
            for values in columns:
                yield 1.0, values, True

    def _columns(self, part) -> tuple[list[np.ndarray], np.ndarray | None]:
        columns = [np.asarray(values[part], dtype=np.float64) for values in self.data]
        missing = None
        if self.has_nan:
            missing = np.zeros(columns[0].shape, dtype=bool)
            for values in columns:
                missing |= np.isnan(values)
            for values in columns:
                values[missing] = 0.0
        return columns, missing

    def _block(self, begin: int, stop: int, motion: bool = True) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Motion (float64; None unless ``motion``) and NaN-freedom of the windows starting at ``begin..stop-1``."""
        length = self.length
        part = slice(begin, stop + length - 1)
        if not motion:
            missing = np.zeros(part.stop - begin, dtype=bool)
            for values in self.data:
                missing |= np.isnan(values[part])
            columns = []
        else:
            columns, missing = self._columns(part)

        def window_sums(values: np.ndarray) -> np.ndarray:
            prefix = np.empty(len(values) + 1)
            prefix[0] = 0.0
            np.cumsum(values, out=prefix[1:])
            return prefix[length:] - prefix[:-length]

        score = np.zeros(stop - begin) if motion else None
        for weight, values, is_variance in self._terms(columns) if motion else ():
            if not is_variance:
                score += weight * (window_sums(values) / length)
                continue
            finite = values if missing is None else values[~missing]
            values = values - (float(finite.mean()) if len(finite) else 0.0)
            if missing is not None:
                values[missing] = 0.0
            total = window_sums(values)
            variance = window_sums(np.square(values)) - total * total / length
            score += weight * (np.maximum(variance, 0.0) / length)
        nan_free = None if missing is None else window_sums(missing.astype(np.float64)) == 0
        return score, nan_free

    def every_window(self) -> tuple[np.ndarray, np.ndarray | None]:
        n_starts = len(self.data[0]) - self.length + 1
        motion = np.empty(n_starts, dtype=np.float32)
        nan_free = np.empty(n_starts, dtype=bool) if self.has_nan else None
        for begin in range(0, n_starts, self.BLOCK):
            stop = min(begin + self.BLOCK, n_starts)
            score, clean = self._block(begin, stop)
            motion[begin:stop] = score
            if nan_free is not None:
                nan_free[begin:stop] = clean
        return motion, nan_free

    def _at(self, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Motion (float64) and NaN-freedom of the windows at ``starts``, summed window by window."""
        starts = np.asarray(starts, dtype=np.int64)
        length = self.length
        score = np.zeros(len(starts))
        nan_free = np.ones(len(starts), dtype=bool)
        per_batch = max(1, self.GATHER // length)
        for begin in range(0, len(starts), per_batch):
            rows = slice(begin, begin + per_batch)
            index = starts[rows, None] + np.arange(length)
            columns, missing = self._columns(index)
            for weight, values, is_variance in self._terms(columns):
                if is_variance:
                    values = values - values.mean(axis=1, keepdims=True)
                    score[rows] += weight * np.square(values).mean(axis=1)
                else:
                    score[rows] += weight * values.mean(axis=1)
            if missing is not None:
                nan_free[rows] = ~missing.any(axis=1)
        return score, nan_free

    def motion(self, starts: np.ndarray | None) -> np.ndarray:
        if starts is None:
            return self.every_window()[0]
        return self._at(starts)[0].astype(np.float32)

    def nan_free(self, starts: np.ndarray | None) -> np.ndarray | None:
        if not self.has_nan:
            return None
        if starts is None:
            n_starts = len(self.data[0]) - self.length + 1
            nan_free = np.empty(n_starts, dtype=bool)
            for begin in range(0, n_starts, self.BLOCK):
                stop = min(begin + self.BLOCK, n_starts)
                nan_free[begin:stop] = self._block(begin, stop, motion=False)[1]
            return nan_free
        return self._at(starts)[1]


class LazyMotion:
    """The motion scores of one float32 recording's windows, computed when read instead of held per start.

    ``scores[starts]`` (an int array) computes those windows' scores (float32);
    ``scores[selection]`` (a :class:`~hardneg.sample._masks.MaskIndex` of
    starts) is the same object restricted to the selected starts, addressed by
    rank; ``np.asarray(scores)`` computes every score once and keeps it (for
    quantiles and comparisons). Returned by :meth:`WindowStatistics.every_window`
    for float32 data.
    """

    dtype = np.dtype(np.float32)

    def __init__(self, blocks: _BlockStatistics, selection: MaskIndex | None = None):
        self._blocks = blocks
        self._selection = selection
        self._all: np.ndarray | None = None

    def __len__(self) -> int:
        if self._selection is not None:
            return len(self._selection)
        return len(self._blocks.data[0]) - self._blocks.length + 1

    def __getitem__(self, index) -> np.ndarray | LazyMotion:
        if isinstance(index, MaskIndex):
            if self._selection is not None:
                raise TypeError("a selection of a selection is not supported")
            return LazyMotion(self._blocks, index)
        positions = np.asarray(index, dtype=np.int64)
        if self._all is not None:
            return self._all[positions]
        starts = positions if self._selection is None else self._selection[positions]
        return self._blocks.motion(starts)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        if self._all is None:
            every = self._blocks.every_window()[0]
            selection = self._selection
            if selection is None:
                self._all = every
            elif selection.values is not None:  # a grid of starts (a hop): a few of them
                self._all = every[np.asarray(selection)]
            else:
                # Moved forward in place, block by block: a gathered copy would double the largest array here.
                kept, step = 0, self._blocks.BLOCK
                for begin in range(0, len(every), step):
                    chosen = every[begin : begin + step][selection.mask[begin : begin + step]]
                    every[kept : kept + len(chosen)] = chosen
                    kept += len(chosen)
                self._all = every[:kept]
        return self._all if dtype is None else self._all.astype(dtype)

    def __ge__(self, other):
        return np.asarray(self) >= other

    def __le__(self, other):
        return np.asarray(self) <= other


def motion_scores(
    recording: Recording,
    start_samples: np.ndarray,
    samples_per_window: int,
    *,
    accel_weight: float = 0.1,
    gyro_cols: Sequence[str] | None = None,
    accel_cols: Sequence[str] | None = None,
) -> np.ndarray:
    """Motion score of windows of ``samples_per_window`` samples starting at ``start_samples``.

    Examples
    --------
    >>> import numpy as np
    >>> from hardneg.io import Recording
    >>> rec = Recording("r", "r", 0.0, 100.0, ["gx", "gy", "gz"], [np.ones(10)] * 3, "r.csv")
    >>> motion_scores(rec, np.array([0, 5]), 5)
    array([3., 3.])
    """
    statistics = WindowStatistics(
        recording, samples_per_window, accel_weight=accel_weight, gyro_cols=gyro_cols, accel_cols=accel_cols
    )
    return statistics.motion(start_samples)
