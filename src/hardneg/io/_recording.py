"""The Recording: one continuous, fixed-rate stream of samples."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hardneg.errors import InputError

#: Tolerance, in samples, when a time is converted to a sample position, so
#: that 360 Hz times such as 1000/360 ms do not lose a sample to rounding.
SAMPLE_TOLERANCE = 1e-9


@dataclass
class Recording:
    """One continuous stream on a fixed sample grid.

    Sample ``i`` lies at ``t0_ms + i * 1000 / sample_rate_hz``. The recording
    spans its first to its last timestamp.

    Parameters
    ----------
    id : str
        Recording id (a file stem, a ``--recording-col`` value, a WFDB record name).
    group : str
        Session, subject, patient, recorder...; defaults to ``id``.
    t0_ms : float
        Time of the first sample on the recording's own clock.
    sample_rate_hz : float
        Samples per second.
    channels : list of str
        Channel names, in input order.
    data : list of numpy.ndarray
        One 1-D array per channel, all of length ``n_samples``. Kept as separate
        arrays so that columns read from Arrow are used without a copy.
    source : str
        The file it was read from.

    Examples
    --------
    >>> import numpy as np
    >>> rec = Recording("s1", "s1", 0.0, 100.0, ["x"], [np.arange(5.0)], "s1.csv")
    >>> rec.end_ms, rec.n_samples
    (40.0, 5)
    >>> rec.first_sample_at_or_after(np.array([0.0, 5.0, 10.0]))
    array([0, 1, 1])
    """

    id: str
    group: str
    t0_ms: float
    sample_rate_hz: float
    channels: list[str]
    data: list[np.ndarray]
    source: str

    @property
    def n_samples(self) -> int:
        return len(self.data[0]) if self.data else 0

    @property
    def step_ms(self) -> float:
        return 1000.0 / self.sample_rate_hz

    @property
    def end_ms(self) -> float:
        """Time of the last sample."""
        return self.t0_ms + (self.n_samples - 1) * self.step_ms

    def times_ms(self) -> np.ndarray:
        """Timestamps of every sample (float64)."""
        return self.t0_ms + np.arange(self.n_samples, dtype=np.float64) * self.step_ms

    def sample_time_ms(self, index: np.ndarray | int) -> np.ndarray:
        """Time of sample ``index`` (vectorised)."""
        return self.t0_ms + np.asarray(index, dtype=np.float64) * self.step_ms

    def first_sample_at_or_after(self, time_ms: np.ndarray | float) -> np.ndarray:
        """Index of the first sample with ``t >= time_ms``, compared in sample units.

        The comparison allows ``SAMPLE_TOLERANCE`` samples of rounding error, so a
        time that equals a sample's time up to float error selects that sample.
        """
        position = (np.asarray(time_ms, dtype=np.float64) - self.t0_ms) * (self.sample_rate_hz / 1000.0)
        return np.ceil(position - SAMPLE_TOLERANCE).astype(np.int64)


def check_unique_ids(recordings, *, hint: str = "rename one file") -> None:
    """Refuse two recordings with one id (events and groups are keyed by it), naming both sources and ``hint``."""
    seen: dict[str, str] = {}
    for recording in recordings:
        if recording.id in seen:
            raise InputError(
                f"recording id {recording.id!r} comes from both {seen[recording.id]} and {recording.source}; {hint}"
            )
        seen[recording.id] = recording.source


def channel_layouts(recordings) -> str | None:
    """The recordings of each channel layout, in words, when there is more than one layout; else None.

    Examples
    --------
    >>> from types import SimpleNamespace as R
    >>> channel_layouts([R(id="100", channels=["MLII", "V5"]), R(id="114", channels=["V5", "MLII"])])
    'MLII,V5 in 1 (100); V5,MLII in 1 (114)'
    >>> channel_layouts([R(id="100", channels=["MLII"])]) is None
    True
    """
    layouts: dict[str, list[str]] = {}
    for recording in recordings:
        layouts.setdefault(",".join(recording.channels), []).append(recording.id)
    if len(layouts) < 2:
        return None
    return "; ".join(
        f"{names} in {len(ids)} ({', '.join(ids[:3])}{', ...' if len(ids) > 3 else ''})"
        for names, ids in layouts.items()
    )


def check_channel_names(recordings, *, allow_mixed: bool = False) -> None:
    """Refuse recordings whose channel names differ, since windows would stack different channels by position.

    The message groups the recordings by their channel names, in input order, and
    says how to choose channels by name or to stack them by position anyway
    (``allow_mixed``, which turns the refusal off).

    Examples
    --------
    >>> import numpy as np
    >>> def record(name, channels):
    ...     return Recording(name, name, 0.0, 360.0, channels, [np.zeros(3)] * len(channels), f"{name}.hea")
    >>> check_channel_names([record("100", ["MLII", "V5"]), record("101", ["MLII", "V5"])])
    >>> mixed = [record("100", ["MLII", "V5"]), record("101", ["MLII", "V1"]), record("114", ["V5", "MLII"])]
    >>> check_channel_names(mixed)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    hardneg.errors.InputError: channel names differ ...: MLII,V5 in 1 (100); MLII,V1 in 1 (101); V5,MLII in 1 (114); ...
    >>> check_channel_names(mixed, allow_mixed=True)
    """
    if allow_mixed:
        return
    described = channel_layouts(recordings)
    if described:
        raise InputError(
            f"channel names differ across recordings, and windows would stack different channels by position: "
            f"{described}; pass --channels NAME[,NAME] to pick channels by name, or --allow-mixed-channels to stack "
            "them by position anyway"
        )
