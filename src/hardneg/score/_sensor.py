"""The ``sensor`` pool kind: a CSV or Parquet sensor log, or a WFDB record, read whole and cut into windows.

Examples
--------
>>> from pathlib import Path
>>> SensorPool.applies_to(Path("logs/s01.parquet")), SensorPool.applies_to(Path("mitdb/100.hea"))
(True, True)
>>> SensorPool.applies_to(Path("notes.txt"))
False
"""

from __future__ import annotations

import numpy as np

from hardneg.errors import InputError
from hardneg.io import Recording, WindowSpan, format_of, plan_windows
from hardneg.score._pools import PoolItem, PoolKind, register_pool_kind

__all__ = ["SENSOR_SUFFIXES", "SensorPool", "read_recording"]

#: Files a pool reads as sensor logs: only these, so that notes (``.txt``) in a pool folder are not taken for logs.
SENSOR_SUFFIXES = frozenset({".csv", ".parquet", ".hea"})


def read_recording(
    item: PoolItem, time_col: str = "t_ms", channels=None, reader_options: dict | None = None
) -> Recording:
    """The recording of a sensor item: a WFDB record (``.hea``) or a CSV/Parquet log, with the ``channels`` kept.

    ``reader_options`` are more options of :func:`hardneg.io.read_sensor_logs`
    (WFDB records take only ``annotation_extension``).
    """
    from hardneg.io import read_sensor_logs, read_wfdb_records

    reader_options = reader_options or {}
    channels = [str(c) for c in channels] if channels else None
    if format_of(item.path) == "wfdb":
        unknown = set(reader_options) - {"annotation_extension"}
        if unknown:
            raise InputError(f"{item.path}: option(s) {', '.join(sorted(unknown))} do not apply to WFDB records")
        recordings, _ = read_wfdb_records([item.path], event_symbols=None, channels=channels)
    else:
        try:
            recordings, _ = read_sensor_logs([item.path], time_col=time_col, channels=channels, **reader_options)
        except TypeError as error:  # an option read_sensor_logs does not take
            raise InputError(f"{item.path}: bad sensor reader option ({error})") from None
    return recordings[0]


@register_pool_kind
class SensorPool(PoolKind):
    """Sensor logs and WFDB records: ``(N, channels, samples)`` float32 windows gathered from the whole recording."""

    name = "sensor"
    suffixes = SENSOR_SUFFIXES
    timed = True

    @classmethod
    def batches(cls, item, *, window_ms, hop_ms, short_items, batch_size, time_col, channels, reader_options, **_):
        recording = read_recording(item, time_col, channels, reader_options)
        data = [np.asarray(values) for values in recording.data]
        n_samples = recording.n_samples
        if n_samples < 2:
            if short_items == "skip":
                return
            raise InputError(
                f"{item.path}: a single sample has no sample rate to cut windows by; remove the file or pass "
                "--short-items skip"
            )
        plan = plan_windows(n_samples, recording.sample_rate_hz, window_ms, hop_ms, short_items, item.path)
        if plan.padded:
            if plan.count:
                batch = np.zeros((1, len(data), plan.length), dtype=np.float32)
                for c, values in enumerate(data):
                    batch[0, c, :n_samples] = values
                start = np.array([recording.t0_ms])
                yield batch, WindowSpan(start, start + window_ms)
            return
        if not plan.count:
            return
        signal = _channels_first(data, n_samples)
        t0_ms, step_ms = recording.t0_ms, recording.step_ms
        del data, recording  # the float32 copy is the one the windows are cut from: let the read arrays go
        # every window as a view, (windows, channels, samples): a batch is one gather of its start rows
        windows = np.lib.stride_tricks.as_strided(
            signal,
            shape=(n_samples - plan.length + 1, len(signal), plan.length),
            strides=(signal.strides[1], signal.strides[0], signal.strides[1]),
            writeable=False,
        )
        for first in range(0, plan.count, batch_size):
            starts = plan.starts(first, min(first + batch_size, plan.count))
            batch = windows[starts]  # one copy, (N, channels, samples) C-contiguous
            start_ms = t0_ms + starts.astype(np.float64) * step_ms
            yield batch, WindowSpan(start_ms, start_ms + window_ms)


def _channels_first(data: list[np.ndarray], n_samples: int) -> np.ndarray:
    """The channels as one ``(channels, samples)`` float32 array, each converted once (no float64 detour)."""
    signal = np.empty((len(data), n_samples), dtype=np.float32)
    for c, values in enumerate(data):
        signal[c] = values
    return signal
