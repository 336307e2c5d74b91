"""Beat features for ECG beat classification: RR intervals and a few QRS morphology values.

A feature function for ``hardneg bench``::

    hardneg bench mitdb-beats --features examples/ecg_rr_features.py:features ...

The dataset is a beat-level one (``hardneg sample`` with ``--event-symbols`` and
``--negative-symbols``, ``--align center``): one window per annotated beat,
``kind`` ``pos`` or ``labelled``, the beat's time in the index column
``event_t_ms``. The feature set follows the idea of de Chazal, O'Dwyer and
Reilly (2004), "Automatic classification of heartbeats using ECG morphology
and heartbeat interval features", IEEE Trans. Biomed. Eng. 51(7):1196-1206:
timing relative to the patient's own rhythm, plus a handful of shape values.
It is a simplified reimplementation written for this example, not their code.

**RR features** (milliseconds, from the beat times in the index). The beats of
a recording are every ``pos`` and ``labelled`` window of that recording, sorted
by time; the RR intervals are taken between consecutive beats *of the
dataset*, so a beat whose window did not fit its recording (or whose symbol
was not asked for) is not counted. On a dataset without labelled negatives
(only ``--event-symbols V``), the intervals are those between V beats, not RR
intervals: build the beat-level dataset for these features.

- ``pre_rr``: time since the previous beat; the first beat of a recording
  takes its ``post_rr``.
- ``post_rr``: time to the next beat; the last beat takes its ``pre_rr``.
- ``local_rr``: mean ``pre_rr`` of the beat and the 9 beats before it (10
  intervals; fewer at the start of a recording).
- ``avg_rr``: the recording's mean RR interval, ``(last - first) / (n - 1)``.
- ``pre_avg``, ``post_avg``, ``post_pre``, ``pre_local``: the ratios
  ``pre_rr / avg_rr``, ``post_rr / avg_rr``, ``post_rr / pre_rr`` and
  ``pre_rr / local_rr``: a premature beat has a short ``pre_rr`` and a long
  ``post_rr`` (the compensatory pause) relative to its own patient's rhythm.

A recording with a single beat has no interval: its RR values are the median
of every interval in the dataset, its ratios 1. Windows that are not beats
(``near``, ``far``, ``uniform`` or ``hard`` negatives) take the RR values of
the recording's beat nearest to the window's centre (the dataset median when
the recording has no beat).

**Morphology features** (from the first channel of each window, in its units,
around the beat's sample ``c``, which is the window's centre for windows that
are not beats). The baseline is the window's median; ``x`` is the signal
minus the baseline.

- ``qrs_pp``: peak-to-peak amplitude within ``c`` ± 100 ms;
- ``r_amp``: the signed value of ``x`` at its largest absolute value there
  (the main deflection);
- ``qrs_width_ms``: the width of the main deflection: the run of samples
  around it where ``|x|`` stays at or above half its peak, in ms;
- ``qrs_rms``: the root mean square of ``x`` within ``c`` ± 100 ms;
- ``t_wave``: the mean of ``x`` from ``c`` + 150 ms to ``c`` + 300 ms (or the
  window's end): the repolarisation, often opposite and large after a
  ventricular beat;
- ``corr_median``: the correlation of the beat's ``c`` ± 100 ms segment with
  the recording's median beat (the sample-wise median of its beats' segments),
  which stands for the patient's dominant beat;
- ``pp_ratio``, ``width_ratio``: ``qrs_pp`` and ``qrs_width_ms`` divided by
  the recording's median of each.

``avg_rr``, the median beat and the two ratios to the record's medians use
every beat of the recording, test beats included, but never a label: like the
record-average RR of de Chazal et al., they describe the patient's own rhythm
and shape, which a monitor learns from the first minutes of a recording.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["BEAT_KINDS", "FEATURE_NAMES", "features", "rr_intervals"]

#: the window kinds that are beats: positives and labelled look-alikes
BEAT_KINDS = ("pos", "labelled")
#: the columns of :func:`features`, in order
FEATURE_NAMES = (
    "pre_rr",
    "post_rr",
    "local_rr",
    "avg_rr",
    "pre_avg",
    "post_avg",
    "post_pre",
    "pre_local",
    "qrs_pp",
    "r_amp",
    "qrs_width_ms",
    "qrs_rms",
    "t_wave",
    "corr_median",
    "pp_ratio",
    "width_ratio",
)
_LOCAL_BEATS = 10
_QRS_HALF_MS = 100.0
_T_WAVE_MS = (150.0, 300.0)


def rr_intervals(recording, t_ms) -> pd.DataFrame:
    """Pre-, post-, local and record-average RR intervals of beats, each recording on its own.

    Parameters
    ----------
    recording : array-like of shape (n,)
        The recording of each beat.
    t_ms : array-like of shape (n,)
        The time of each beat in ms, in any order.

    Returns
    -------
    pandas.DataFrame
        Columns ``pre_rr, post_rr, local_rr, avg_rr`` (ms), one row per beat
        in the input order. A recording's first beat takes its ``post_rr`` as
        ``pre_rr``, its last beat its ``pre_rr`` as ``post_rr``; a recording
        with one beat gets the median of every interval of the others (NaN
        when no recording has two beats).

    Examples
    --------
    >>> rr_intervals(["a", "a", "a", "b"], [0.0, 800.0, 1400.0, 50.0]).round(1)
       pre_rr  post_rr  local_rr  avg_rr
    0   800.0    800.0     800.0   700.0
    1   800.0    600.0     800.0   700.0
    2   600.0    600.0     733.3   700.0
    3   700.0    700.0     700.0   700.0
    """
    recording = np.asarray(recording).astype(str)
    t_ms = np.asarray(t_ms, dtype=np.float64)
    order = np.lexsort((t_ms, recording))
    rec, t = recording[order], t_ms[order]
    n = len(t)
    new = np.r_[True, rec[1:] != rec[:-1]] if n else np.zeros(0, dtype=bool)
    last = np.r_[new[1:], True] if n else new
    gap = np.diff(t, prepend=np.nan)
    gap[new] = np.nan  # no interval across recordings
    pre = gap.copy()
    post = np.r_[gap[1:], np.nan]
    post[last] = np.nan
    pre = np.where(np.isnan(pre), post, pre)
    post = np.where(np.isnan(post), pre, post)
    # Per-recording counts and spans, broadcast back by the recording's run id.
    run = np.cumsum(new) - 1
    starts = np.flatnonzero(new)
    counts = np.diff(np.r_[starts, n])
    span = t[np.r_[starts[1:], n] - 1] - t[starts] if n else np.zeros(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        avg = (span / (counts - 1))[run]
    # Local RR: mean of the last _LOCAL_BEATS pre-RR values of the recording, by a cumulative sum within it.
    position = np.arange(n) - starts[run] if n else np.zeros(0, dtype=int)
    width = np.minimum(position + 1, _LOCAL_BEATS)
    filled = np.nan_to_num(pre)
    cumulative = np.r_[0.0, np.cumsum(filled)]
    local = (cumulative[np.arange(n) + 1] - cumulative[np.arange(n) + 1 - width]) / width
    single = counts[run] < 2
    if single.any():
        intervals = gap[~np.isnan(gap)]
        fallback = float(np.median(intervals)) if len(intervals) else np.nan
        pre[single] = post[single] = local[single] = avg[single] = fallback
    table = np.empty((n, 4))
    table[order] = np.column_stack([pre, post, local, avg])
    return pd.DataFrame(table, columns=["pre_rr", "post_rr", "local_rr", "avg_rr"])


def features(windows, index: pd.DataFrame) -> pd.DataFrame:
    """RR-interval and QRS morphology features of each window of a beat-level ECG dataset.

    Parameters
    ----------
    windows : array-like of shape (n, channels, samples)
        The dataset's windows (float32); only the first channel is used.
    index : pandas.DataFrame
        The dataset's index, one row per window in the same order, with the
        columns ``recording``, ``kind``, ``start_ms``, ``end_ms`` and
        ``event_t_ms``.

    Returns
    -------
    pandas.DataFrame
        The columns :data:`FEATURE_NAMES` (described in the module's
        docstring), one finite row per window.

    Raises
    ------
    ValueError
        If ``windows`` and ``index`` disagree in length, or no recording holds
        two beats (no RR interval to compute).

    Examples
    --------
    Three beats of one recording at 360 Hz, 600-ms windows centred on each beat:

    >>> t = np.arange(216) / 360.0
    >>> beat = np.exp(-(((t - 0.3) / 0.01) ** 2)).astype(np.float32)
    >>> windows = np.stack([beat, beat, 2 * beat])[:, None, :]
    >>> index = pd.DataFrame({"recording": "100", "kind": ["labelled", "labelled", "pos"],
    ...                       "event_t_ms": [1000.0, 1800.0, 2300.0]})
    >>> index["start_ms"] = index["event_t_ms"] - 300.0
    >>> index["end_ms"] = index["event_t_ms"] + 300.0
    >>> table = features(windows, index)
    >>> table[["pre_rr", "post_rr", "avg_rr", "post_pre"]].round(3)
       pre_rr  post_rr  avg_rr  post_pre
    0   800.0    800.0   650.0     1.000
    1   800.0    500.0   650.0     0.625
    2   500.0    500.0   650.0     1.000
    >>> table[["qrs_pp", "pp_ratio", "corr_median"]].round(2)
       qrs_pp  pp_ratio  corr_median
    0     1.0       1.0          1.0
    1     1.0       1.0          1.0
    2     2.0       2.0          1.0
    """
    windows = np.asarray(windows)
    if windows.ndim != 3 or len(windows) != len(index):
        raise ValueError(
            f"windows must be (n, channels, samples) with one window per index row; "
            f"got shape {windows.shape} for {len(index)} rows"
        )
    recording = index["recording"].astype(str).to_numpy()
    is_beat = index["kind"].isin(BEAT_KINDS).to_numpy() & index["event_t_ms"].notna().to_numpy()
    start = index["start_ms"].to_numpy(np.float64)
    end = index["end_ms"].to_numpy(np.float64)
    centre = np.where(is_beat, index["event_t_ms"].to_numpy(np.float64), (start + end) / 2.0)
    if not is_beat.any() or rr_intervals(recording[is_beat], centre[is_beat]).isna().all(axis=None):
        raise ValueError("RR features need at least one recording with two beats (kind pos or labelled)")
    rr = _rr_for_windows(recording, centre, is_beat)
    with np.errstate(divide="ignore", invalid="ignore"):
        rr["pre_avg"] = rr["pre_rr"] / rr["avg_rr"]
        rr["post_avg"] = rr["post_rr"] / rr["avg_rr"]
        rr["post_pre"] = rr["post_rr"] / rr["pre_rr"]
        rr["pre_local"] = rr["pre_rr"] / rr["local_rr"]
    n_samples = windows.shape[2]
    rate_hz = n_samples / ((end - start) / 1000.0)
    beat_sample = np.clip(np.round((centre - start) * rate_hz / 1000.0).astype(int), 0, n_samples - 1)
    shape = _morphology(windows[:, 0, :].astype(np.float64), beat_sample, rate_hz, recording, is_beat)
    table = pd.concat([rr, shape], axis=1)[list(FEATURE_NAMES)]
    # Zero intervals (two beats at one time) or flat windows give inf/NaN ratios: neutral values instead.
    return table.replace([np.inf, -np.inf], np.nan).fillna({**dict.fromkeys(FEATURE_NAMES[4:8], 1.0)}).fillna(0.0)


def _rr_for_windows(recording: np.ndarray, centre: np.ndarray, is_beat: np.ndarray) -> pd.DataFrame:
    """RR values of every window: a beat's own, else those of its recording's beat nearest in time."""
    beats = rr_intervals(recording[is_beat], centre[is_beat])
    out = pd.DataFrame(np.nan, index=np.arange(len(recording)), columns=beats.columns)
    out.iloc[np.flatnonzero(is_beat)] = beats.to_numpy()
    others = np.flatnonzero(~is_beat)
    if len(others):
        beat_rows = pd.DataFrame({"recording": recording[is_beat], "t": centre[is_beat], "row": np.arange(len(beats))})
        probe = pd.DataFrame({"recording": recording[others], "t": centre[others], "at": others})
        nearest = pd.merge_asof(
            probe.sort_values("t"), beat_rows.sort_values("t"), on="t", by="recording", direction="nearest"
        )
        found = nearest["row"].notna().to_numpy()
        out.iloc[nearest["at"].to_numpy()[found]] = beats.to_numpy()[nearest["row"].to_numpy()[found].astype(int)]
        lone = nearest["at"].to_numpy()[~found]
        if len(lone):  # a recording without beats: the dataset's median interval
            out.iloc[lone] = float(np.median(beats["avg_rr"]))
    return out


def _morphology(
    signal: np.ndarray, beat_sample: np.ndarray, rate_hz: np.ndarray, recording: np.ndarray, is_beat: np.ndarray
) -> pd.DataFrame:
    """QRS amplitude, width, energy, T wave and likeness to the recording's median beat, one row per window."""
    n, n_samples = signal.shape
    rate = float(np.median(rate_hz)) if n else 1.0
    half = max(1, round(_QRS_HALF_MS * rate / 1000.0))
    x = signal - np.median(signal, axis=1, keepdims=True)
    offsets = np.arange(-half, half + 1)
    columns = beat_sample[:, None] + offsets[None, :]
    inside = (columns >= 0) & (columns < n_samples)
    rows = np.arange(n)[:, None]
    # Samples outside the window read as the baseline (0), so they move no maximum, minimum or run.
    qrs = np.where(inside, x[rows, np.clip(columns, 0, n_samples - 1)], 0.0)
    qrs_pp = qrs.max(axis=1) - qrs.min(axis=1)
    peak = np.abs(qrs).argmax(axis=1)
    r_amp = qrs[np.arange(n), peak]
    # The run of |x| >= half the peak that holds the peak: the last sample below before it, the first after.
    above = np.abs(qrs) >= 0.5 * np.abs(r_amp)[:, None]
    positions = np.broadcast_to(np.arange(qrs.shape[1]), qrs.shape)
    last_below = np.maximum.accumulate(np.where(above, -1, positions), axis=1)[np.arange(n), peak]
    first_below = np.minimum.accumulate(np.where(above, qrs.shape[1], positions)[:, ::-1], axis=1)[:, ::-1][
        np.arange(n), peak
    ]
    qrs_width_ms = (first_below - last_below - 1) * 1000.0 / rate
    qrs_rms = np.sqrt(np.mean(qrs**2, axis=1))
    t_from, t_to = (round(ms * rate / 1000.0) for ms in _T_WAVE_MS)
    t_columns = beat_sample[:, None] + np.arange(t_from, t_to)[None, :]
    t_inside = t_columns < n_samples
    t_sum = np.where(t_inside, x[rows, np.clip(t_columns, 0, n_samples - 1)], 0.0).sum(axis=1)
    t_wave = np.divide(t_sum, t_inside.sum(axis=1), out=np.zeros(n), where=t_inside.any(axis=1))
    table = pd.DataFrame(
        {"qrs_pp": qrs_pp, "r_amp": r_amp, "qrs_width_ms": qrs_width_ms, "qrs_rms": qrs_rms, "t_wave": t_wave}
    )
    # Per recording: the median beat (over its beats, or all its windows when it has none) and the median values.
    corr = np.zeros(n)
    pp_median = np.ones(n)
    width_median = np.ones(n)
    for _, members in pd.Series(np.arange(n)).groupby(recording):
        members = members.to_numpy()
        reference = members[is_beat[members]] if is_beat[members].any() else members
        template = np.median(qrs[reference], axis=0)
        corr[members] = _row_correlation(qrs[members], template)
        pp_median[members] = np.median(qrs_pp[reference])
        width_median[members] = np.median(qrs_width_ms[reference])
    table["corr_median"] = corr
    with np.errstate(divide="ignore", invalid="ignore"):
        table["pp_ratio"] = qrs_pp / pp_median
        table["width_ratio"] = qrs_width_ms / width_median
    return table


def _row_correlation(rows: np.ndarray, template: np.ndarray) -> np.ndarray:
    """Pearson correlation of each row with ``template`` (0 where either is flat)."""
    a = rows - rows.mean(axis=1, keepdims=True)
    b = template - template.mean()
    denominator = np.sqrt((a**2).sum(axis=1) * (b**2).sum())
    return np.divide(a @ b, denominator, out=np.zeros(len(rows)), where=denominator > 0)
