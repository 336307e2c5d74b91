"""Window arithmetic shared by sampling and mining: samples per window, where windows start, and spans.

A window of ``window_ms`` at a sample rate holds the whole samples that fit
(:func:`samples_per_window`); the sampler and the mining pools both use it, so
a scorer trained on sampled windows is given windows of the length it was
trained on. :func:`plan_windows` lays windows over a stream of samples and
:class:`WindowSpan` says where the windows of one batch lie.

Examples
--------
>>> samples_per_window(600, 360.0)
216
>>> plan = plan_windows(1000, 100.0, window_ms=500, hop_ms=250, short_items="pad", path="s01.csv")
>>> plan.length, plan.count, plan.starts(0, 3).tolist()
(50, 39, [0, 25, 50])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from hardneg.errors import InputError
from hardneg.io._recording import SAMPLE_TOLERANCE

__all__ = ["WindowPlan", "WindowSpan", "plan_windows", "samples_per_window"]


def samples_per_window(window_ms: float, sample_rate_hz: float) -> int:
    """Samples a window holds: the whole samples that fit in ``window_ms`` at the rate.

    Examples
    --------
    >>> samples_per_window(600, 360.0), samples_per_window(500, 1000.0), samples_per_window(505, 100.0)
    (216, 500, 50)
    """
    return int(np.floor(window_ms * sample_rate_hz / 1000.0 + SAMPLE_TOLERANCE))


@dataclass(frozen=True)
class WindowPlan:
    """Where the windows of a stream lie, in samples.

    Attributes
    ----------
    length : int
        Samples per window.
    hop : float
        Samples per hop (need not be whole).
    count : int
        Windows: the full ones, or one zero-padded window for a short stream.
    padded : bool
        Whether the one window is zero-padded (a stream shorter than a window).
    """

    length: int
    hop: float
    count: int
    padded: bool

    def starts(self, first: int, stop: int) -> np.ndarray:
        """Start samples of windows ``first..stop-1``: the first sample at or after ``k * hop``."""
        return np.ceil(np.arange(first, stop, dtype=np.float64) * self.hop - SAMPLE_TOLERANCE).astype(np.int64)


def plan_windows(n_samples: int, rate: float, window_ms: float, hop_ms: float, short_items: str, path) -> WindowPlan:
    """Lay windows of ``window_ms`` every ``hop_ms`` over ``n_samples`` samples at ``rate`` Hz.

    Only windows whose samples all exist are planned; a stream shorter than one
    window gets one zero-padded window (``short_items="pad"``) or none
    (``"skip"``). ``path`` names the stream in errors.

    Raises
    ------
    InputError
        If a window holds no whole sample, or the hop is shorter than one sample.
    """
    length = samples_per_window(window_ms, rate)
    if length < 1:
        raise InputError(
            f"{path}: --window-ms {window_ms:g} holds no whole sample at {rate:g} Hz; use at least {1000.0 / rate:g}"
        )
    hop = hop_ms * rate / 1000.0
    if hop < 1.0 - SAMPLE_TOLERANCE:
        raise InputError(
            f"{path}: --hop-ms {hop_ms:g} is shorter than one sample at {rate:g} Hz; use at least {1000.0 / rate:g}"
        )
    if n_samples < length:
        return WindowPlan(length, hop, int(short_items == "pad" and n_samples > 0), short_items == "pad")
    count = int(np.floor((n_samples - length) / hop + SAMPLE_TOLERANCE)) + 1
    # Float error could put the last start one sample late; drop it rather than read past the end.
    while count and WindowPlan(length, hop, count, False).starts(count - 1, count)[0] + length > n_samples:
        count -= 1
    return WindowPlan(length, hop, count, False)


class WindowSpan(NamedTuple):
    """Where a batch's windows lie: start and end (ms) and, for video and images, the frame index."""

    start_ms: np.ndarray
    end_ms: np.ndarray
    frame: np.ndarray | None = None
