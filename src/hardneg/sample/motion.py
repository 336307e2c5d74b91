"""Window statistics from cumulative sums: the motion score and NaN detection, O(1) per window."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hardneg.errors import InputError
from hardneg.io.recording import Recording

DEFAULT_GYRO = ("gx", "gy", "gz")
DEFAULT_ACCEL = ("ax", "ay", "az")


def _prefix_sum(values: np.ndarray) -> np.ndarray:
    """Cumulative sum with a leading zero, so a window sum is ``c[s + T] - c[s]``."""
    out = np.empty(len(values) + 1, dtype=np.float64)
    out[0] = 0.0
    np.cumsum(values, out=out[1:])
    return out


def find_columns(channels: Sequence[str], wanted: Sequence[str] | None, default: Sequence[str], option: str):
    """Positions of the x,y,z columns named ``wanted`` (or ``default``, case-insensitive), or None."""
    lowered = [name.lower() for name in channels]
    if wanted is not None:
        missing = [name for name in wanted if name not in channels]
        if missing:
            raise InputError(f"{option}: column(s) {', '.join(missing)} not among the channels ({', '.join(channels)})")
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
        nan_mask = None
        for values in data:
            missing = np.isnan(values)
            if missing.any():
                nan_mask = missing if nan_mask is None else (nan_mask | missing)
        self._nan_prefix = None if nan_mask is None else np.concatenate(([0], np.cumsum(nan_mask, dtype=np.int64)))

        def clean(values: np.ndarray) -> np.ndarray:
            values = np.asarray(values, dtype=np.float64)
            return values if nan_mask is None else np.where(nan_mask, 0.0, values)

        gyro = find_columns(recording.channels, gyro_cols, DEFAULT_GYRO, "--gyro-cols")
        accel = find_columns(recording.channels, accel_cols, DEFAULT_ACCEL, "--accel-cols")
        self.formula = "imu" if (gyro or accel) else "channel_variance"
        # Each term: (weight, mean prefix sum or None, (sum, squares) prefix sums for a variance or None)
        self._terms: list[tuple[float, np.ndarray | None, tuple[np.ndarray, np.ndarray] | None]] = []
        if gyro:
            squared = np.zeros(recording.n_samples)
            for index in gyro:
                squared += np.square(clean(data[index]))
            self._terms.append((1.0, _prefix_sum(squared), None))
            del squared
        if accel:
            magnitude = np.zeros(recording.n_samples)
            for index in accel:
                magnitude += np.square(clean(data[index]))
            np.sqrt(magnitude, out=magnitude)
            self._terms.append((float(accel_weight), None, self._variance_prefixes(magnitude, nan_mask)))
            del magnitude
        if self.formula == "channel_variance":
            for values in data:
                self._terms.append((1.0, None, self._variance_prefixes(clean(values).copy(), nan_mask)))

    @staticmethod
    def _variance_prefixes(values: np.ndarray, nan_mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        # Centre on the recording mean first: mean(x²) - mean(x)² loses digits when |mean| >> std (gravity).
        finite = values if nan_mask is None else values[~nan_mask]
        values -= float(finite.mean()) if len(finite) else 0.0
        if nan_mask is not None:
            values[nan_mask] = 0.0
        first = _prefix_sum(values)
        np.square(values, out=values)
        return first, _prefix_sum(values)

    def motion(self, starts: np.ndarray) -> np.ndarray:
        """Motion score of the windows starting at sample ``starts`` (float64)."""
        starts = np.asarray(starts, dtype=np.int64)
        stops = starts + self.samples_per_window
        count = float(self.samples_per_window)
        score = np.zeros(len(starts))
        for weight, mean_prefix, variance_prefixes in self._terms:
            if mean_prefix is not None:
                score += weight * ((mean_prefix[stops] - mean_prefix[starts]) / count)
            else:
                first, second = variance_prefixes
                total = first[stops] - first[starts]
                variance = (second[stops] - second[starts] - total * total / count) / count
                score += weight * np.maximum(variance, 0.0)
        return score

    def nan_free(self, starts: np.ndarray) -> np.ndarray | None:
        """True where the window holds no NaN; None when the recording has no NaN at all."""
        if self._nan_prefix is None:
            return None
        starts = np.asarray(starts, dtype=np.int64)
        return (self._nan_prefix[starts + self.samples_per_window] - self._nan_prefix[starts]) == 0


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
