"""Causal post-processing of a score timeline into detections, in batch and one score at a time.

A timeline is one score every ``hop_ms``; the score at ``t_ms`` covers
``[t_ms, t_ms + hop_ms)``. The chain, in order:

1. **smoothing**: a causal moving median over the last ``median_ms`` (fewer
   hops at the start), then an exponential moving average with time constant
   ``ema_ms`` (``alpha = 1 - exp(-hop_ms / ema_ms)``, started at the first value);
2. **hysteresis with patience**: the detector turns on at the hop where the
   smoothed score has been at or above ``threshold`` for ``patience``
   consecutive hops, and off at the first hop below ``off_threshold``
   (``threshold`` when not given); a detection runs from the hop that turned it
   on to the end of its last on hop;
3. **merge**: a detection that turns on less than ``min_off_ms`` after the
   previous one turned off joins it;
4. **minimum on-time**: detections shorter than ``min_on_ms`` are dropped;
5. **split**: a detection longer than ``max_on_ms`` is cut into pieces of
   that length (the last one shorter);
6. **refractory period**: a detection turning on less than
   ``refractory_ms`` after the last kept one turned on is dropped.

With the defaults a detection is a maximal run of hops at or above the
threshold, from the first such hop's time to the end of the last one.
:func:`detect` does it for a whole timeline (vectorised; only the merge,
split and refractory steps look at each *detection*), :class:`StreamingDetector`
one score at a time, as a device would; they give identical detections.

Examples
--------
>>> t = np.arange(10) * 100.0
>>> score = np.array([0.1, 0.8, 0.9, 0.2, 0.1, 0.7, 0.75, 0.9, 0.3, 0.1])
>>> detect(t, score, hop_ms=100.0, chain=PostProcessing(threshold=0.7))[["on_ms", "off_ms", "peak_ms"]].values.tolist()
[[100.0, 300.0, 200.0], [500.0, 800.0, 700.0]]
>>> streaming = StreamingDetector(PostProcessing(threshold=0.7), hop_ms=100.0)
>>> found = [d for ts, s in zip(t, score) for d in streaming.push(ts, s)] + streaming.flush()
>>> [(d.on_ms, d.off_ms) for d in found]
[(100.0, 300.0), (500.0, 800.0)]
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import asdict, dataclass
from numbers import Integral, Real
from typing import ClassVar, NamedTuple

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from hardneg._validation import Interval, validate_params
from hardneg.errors import InputError

__all__ = ["DETECTION_COLUMNS", "Detection", "PostProcessing", "StreamingDetector", "detect", "smooth"]

#: the columns of a detection table
DETECTION_COLUMNS = ("on_ms", "off_ms", "peak_ms", "peak_score")

_NON_NEGATIVE = Interval(Real, 0, None, closed="left")
_POSITIVE = Interval(Real, 0, None, closed="neither")


@dataclass(frozen=True)
class PostProcessing:
    """The post-processing chain; field names are the ``hardneg stream`` options with underscores.

    Examples
    --------
    >>> PostProcessing(threshold=0.7, off_threshold=0.4, ema_ms=80).to_dict()["off_threshold"]
    0.4
    >>> PostProcessing(threshold=0.4, off_threshold=0.7)
    Traceback (most recent call last):
    ...
    hardneg.errors.InputError: off_threshold 0.7 is above threshold 0.4; the detector would turn off while still on
    """

    threshold: float = 0.5
    off_threshold: float | None = None
    ema_ms: float | None = None
    median_ms: float | None = None
    patience: int = 1
    min_on_ms: float = 0.0
    min_off_ms: float = 0.0
    refractory_ms: float = 0.0
    max_on_ms: float | None = None

    _parameter_constraints: ClassVar[dict] = {
        "threshold": [Interval(Real, None, None, closed="neither")],
        "off_threshold": [None, Interval(Real, None, None, closed="neither")],
        "ema_ms": [None, _POSITIVE],
        "median_ms": [None, _POSITIVE],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "min_on_ms": [_NON_NEGATIVE],
        "min_off_ms": [_NON_NEGATIVE],
        "refractory_ms": [_NON_NEGATIVE],
        "max_on_ms": [None, _POSITIVE],
    }

    def __post_init__(self):
        validate_params(asdict(self), self._parameter_constraints)
        if self.off_threshold is not None and self.off_threshold > self.threshold:
            raise InputError(
                f"off_threshold {self.off_threshold:g} is above threshold {self.threshold:g}; the detector would "
                "turn off while still on",
                parameter="off_threshold",
            )

    @property
    def off(self) -> float:
        """The threshold below which the detector turns off."""
        return self.threshold if self.off_threshold is None else self.off_threshold

    def to_dict(self) -> dict:
        """The chain as stored beside its detections."""
        return asdict(self)


class Detection(NamedTuple):
    """One detection: on and off times (ms), and where and how high its smoothed score peaked."""

    on_ms: float
    off_ms: float
    peak_ms: float
    peak_score: float


def _ema_alpha(ema_ms: float, hop_ms: float) -> float:
    return 1.0 - math.exp(-hop_ms / ema_ms)


def _median_hops(median_ms: float, hop_ms: float) -> int:
    return max(1, math.floor(median_ms / hop_ms + 1e-9))


def smooth(score: np.ndarray, chain: PostProcessing, hop_ms: float) -> np.ndarray:
    """The chain's causal smoothing of one recording's scores (float64): moving median, then EMA."""
    values = np.asarray(score, dtype=np.float64)
    if chain.median_ms is not None and len(values):
        k = _median_hops(chain.median_ms, hop_ms)
        if k > 1:
            padded = np.concatenate((np.full(k - 1, np.nan), values))
            values = np.nanmedian(sliding_window_view(padded, k), axis=1)
    if chain.ema_ms is not None and len(values):
        from scipy.signal import lfilter

        alpha = _ema_alpha(chain.ema_ms, hop_ms)
        values, _ = lfilter([alpha], [1.0, alpha - 1.0], values, zi=[(1.0 - alpha) * values[0]])
    return values


def _on_states(smoothed: np.ndarray, chain: PostProcessing) -> np.ndarray:
    """Whether the detector is on at each hop: set after ``patience`` hops at or above, reset below ``off``."""
    above = smoothed >= chain.threshold
    # length of the run of hops at or above the threshold ending at each hop
    index = np.arange(len(above))
    last_below = np.maximum.accumulate(np.where(above, -1, index))
    run = index - last_below
    triggered = above & (run >= chain.patience)
    below = smoothed < chain.off
    event = np.where(triggered, 1, np.where(below, 0, -1))  # 1 set, 0 reset, -1 keep
    has_event = event >= 0
    last_event = np.maximum.accumulate(np.where(has_event, index, -1))
    return np.where(last_event >= 0, event[np.maximum(last_event, 0)], 0).astype(bool)


def detect(t_ms, score, *, hop_ms: float, chain: PostProcessing | None = None) -> pd.DataFrame:
    """Detections of one recording's score timeline (``t_ms`` every ``hop_ms``), as a table of DETECTION_COLUMNS."""
    chain = chain or PostProcessing()
    t_ms = np.asarray(t_ms, dtype=np.float64)
    smoothed = smooth(score, chain, hop_ms)
    if len(t_ms) != len(smoothed):
        raise InputError(f"t_ms and score differ in length ({len(t_ms)} and {len(smoothed)})", parameter="score")
    on = _on_states(smoothed, chain)
    edges = np.diff(np.concatenate(([0], on.astype(np.int8), [0])))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)  # hop ranges [start, stop)
    on_ms, off_ms = t_ms[starts], t_ms[stops - 1] + hop_ms
    if chain.min_off_ms > 0 and len(starts) > 1:
        joins = on_ms[1:] - off_ms[:-1] < chain.min_off_ms
        keep_start = np.concatenate(([True], ~joins))
        keep_stop = np.concatenate((~joins, [True]))
        starts, stops = starts[keep_start], stops[keep_stop]
        on_ms, off_ms = t_ms[starts], t_ms[stops - 1] + hop_ms
    if chain.min_on_ms > 0:
        long_enough = off_ms - on_ms >= chain.min_on_ms
        starts, stops = starts[long_enough], stops[long_enough]
    if chain.max_on_ms is not None and len(starts):
        starts, stops = _split(starts, stops, _pieces_hops(chain.max_on_ms, hop_ms))
    if chain.refractory_ms > 0 and len(starts) > 1:
        kept = _refractory(t_ms[starts], chain.refractory_ms)
        starts, stops = starts[kept], stops[kept]
    return _table(t_ms, smoothed, starts, stops, hop_ms)


def _pieces_hops(max_on_ms: float, hop_ms: float) -> int:
    return max(1, math.floor(max_on_ms / hop_ms + 1e-9))


def _split(starts: np.ndarray, stops: np.ndarray, hops: int) -> tuple[np.ndarray, np.ndarray]:
    """Each hop range cut into consecutive pieces of ``hops`` hops (the last one shorter)."""
    counts = (stops - starts + hops - 1) // hops
    first = np.repeat(starts, counts)
    within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    piece_start = first + within * hops
    return piece_start, np.minimum(piece_start + hops, np.repeat(stops, counts))


def _refractory(on_ms: np.ndarray, refractory_ms: float) -> np.ndarray:
    """Which detections survive: each must turn on at least ``refractory_ms`` after the last one kept."""
    kept = np.zeros(len(on_ms), dtype=bool)
    last = -np.inf
    for i, time in enumerate(on_ms):  # one step per detection, not per hop
        if time - last >= refractory_ms:
            kept[i], last = True, time
    return kept


def _table(t_ms, smoothed, starts, stops, hop_ms) -> pd.DataFrame:
    if len(starts) == 0:
        return pd.DataFrame({name: np.zeros(0) for name in DETECTION_COLUMNS})
    # peak of each range: the first hop holding the range's maximum (one step per detection, not per hop)
    peak_at = np.empty(len(starts), dtype=np.int64)
    for position, (start, stop) in enumerate(zip(starts, stops, strict=True)):
        peak_at[position] = start + int(np.argmax(smoothed[start:stop]))
    return pd.DataFrame(
        {
            "on_ms": t_ms[starts],
            "off_ms": t_ms[stops - 1] + hop_ms,
            "peak_ms": t_ms[peak_at],
            "peak_score": smoothed[peak_at],
        }
    )


class StreamingDetector:
    """The chain of :class:`PostProcessing`, fed one score at a time; gives the same detections as :func:`detect`.

    :meth:`push` returns the detections that became final with this score (a
    detection is final when no later score can merge it with another);
    :meth:`flush` returns the rest at the end of the recording. It keeps the
    smoothed scores of the detection it may still merge, and nothing else that
    grows with the recording.
    """

    def __init__(self, chain: PostProcessing, hop_ms: float):
        self.chain, self.hop_ms = chain, float(hop_ms)
        self._window: deque = deque(maxlen=_median_hops(chain.median_ms, hop_ms) if chain.median_ms else 1)
        self._alpha = _ema_alpha(chain.ema_ms, hop_ms) if chain.ema_ms else None
        self._carry = None  # the EMA's state, as scipy.signal.lfilter keeps it (so that both agree to the bit)
        self._run = 0  # consecutive hops at or above the threshold
        self._on = False
        self._on_ms = self._last_on_t = None  # when the run in progress turned on, and its last hop
        self._pending = None  # (on_ms, off_ms) of the finished detection a later run may still join
        self._hops: list[tuple[float, float]] = []  # (t_ms, smoothed) from the first unreleased on
        self._last_kept_on = -math.inf

    def push(self, t_ms: float, score: float) -> list[Detection]:
        """Feed the score at ``t_ms``; return the detections that became final."""
        t_ms = float(t_ms)
        value = self._smooth(float(score))
        done: list[Detection] = []
        self._run = self._run + 1 if value >= self.chain.threshold else 0
        if not self._on and value >= self.chain.threshold and self._run >= self.chain.patience:
            self._on, self._on_ms = True, t_ms
        elif self._on and value < self.chain.off:
            self._on = False
            self._finish(self._last_on_t + self.hop_ms, done)
        if self._on:
            self._last_on_t = t_ms
        if self._on or self._pending is not None:
            self._hops.append((t_ms, value))
        # no later run can join the pending detection once the gap already reaches min_off_ms
        if not self._on and self._pending is not None and t_ms - self._pending[1] >= self.chain.min_off_ms:
            done += self._release()
        return done

    def flush(self) -> list[Detection]:
        """The detections still held at the end of the recording."""
        done: list[Detection] = []
        if self._on:
            self._on = False
            self._finish(self._last_on_t + self.hop_ms, done)
        if self._pending is not None:
            done += self._release()
        return done

    def _smooth(self, value: float) -> float:
        if self.chain.median_ms:
            self._window.append(value)
            value = float(np.nanmedian(np.fromiter(self._window, dtype=np.float64)))
        if self._alpha is not None:
            if self._carry is None:
                self._carry = (1.0 - self._alpha) * value
            value = self._alpha * value + self._carry
            self._carry = -(self._alpha - 1.0) * value
        return value

    def _finish(self, off_ms: float, done: list[Detection]) -> None:
        """The run in progress ended at ``off_ms``: join it to the pending detection, or release that one."""
        if self._pending is not None and self._on_ms - self._pending[1] < self.chain.min_off_ms:
            self._pending = (self._pending[0], off_ms)
            return
        if self._pending is not None:
            done += self._release(keep_from=self._on_ms)
        self._pending = (self._on_ms, off_ms)

    def _release(self, keep_from: float | None = None) -> list[Detection]:
        """The pending detection is final: the minimum on-time, the split into pieces, the refractory period."""
        on_ms, off_ms = self._pending
        hops = [(t, v) for t, v in self._hops if on_ms <= t < off_ms]
        self._hops = [] if keep_from is None else [(t, v) for t, v in self._hops if t >= keep_from]
        self._pending = None
        if off_ms - on_ms < self.chain.min_on_ms:
            return []
        times = np.array([t for t, _ in hops])
        values = np.array([v for _, v in hops])
        cuts = [(0, len(hops))]
        if self.chain.max_on_ms is not None:
            size = _pieces_hops(self.chain.max_on_ms, self.hop_ms)
            cuts = [(k, min(k + size, len(hops))) for k in range(0, len(hops), size)]
        out = []
        for start, stop in cuts:
            if times[start] - self._last_kept_on < self.chain.refractory_ms:
                continue
            self._last_kept_on = times[start]
            peak = start + int(np.argmax(values[start:stop]))
            out.append(
                Detection(
                    float(times[start]), float(times[stop - 1]) + self.hop_ms, float(times[peak]), float(values[peak])
                )
            )
        return out
