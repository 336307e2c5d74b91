"""Sensor logs in CSV or Parquet: one file per recording, or one file with a recording column."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hardneg._progress import ProgressReporter, resolve
from hardneg.errors import InputError
from hardneg.io._events import EVENT_COLUMNS, empty_events, rising_edges
from hardneg.io._groups import resolve_groups
from hardneg.io._recording import Recording, check_unique_ids
from hardneg.io._tables import column_as_float, describe_row, is_temporal, open_columns

#: Multiplier from each supported time unit to milliseconds.
TIME_UNITS = {"ms": 1.0, "s": 1000.0, "us": 0.001}

#: A log is on a fixed grid when no timestamp is further than this many steps from it.
GRID_TOLERANCE_STEPS = 1e-3

# Rows per chunk of the grid check: a few float64 temporaries of this size, not of the whole log.
_GRID_CHECK_CHUNK = 1 << 20

#: Ends the message of a log without a requested channel; left out where that log is skipped instead.
_SKIP_HINT = "; pass --skip-bad-files to leave out logs without them"


def read_sensor_logs(
    paths: Sequence[str | Path],
    *,
    time_col: str = "t_ms",
    time_unit: str = "ms",
    recording_col: str | None = None,
    channels: Sequence[str] | None = None,
    group_col: str | None = None,
    groups: Mapping[str, str] | str | Path | None = None,
    event_col: str | None = None,
    resample_hz: float | None = None,
    sort_time: bool = False,
    allow_mixed_channels: bool = False,
    on_bad_file: Callable[[Path, str], None] | None = None,
    progress: ProgressReporter | None = None,
) -> tuple[list[Recording], pd.DataFrame]:
    """Read sensor logs into Recordings, and events from a marker column.

    Parameters
    ----------
    paths : sequence of path
        CSV or Parquet files. Without ``recording_col`` each file is one
        recording whose id is the file stem.
    time_col, time_unit : str
        The timestamp column and its unit (``ms``, ``s`` or ``us``).
    recording_col : str, optional
        Column holding the recording id when one file holds several recordings.
    channels : sequence of str, optional
        Channel columns, in this order. Default: every numeric column except the
        time, recording, group and marker columns, in file order.
    group_col : str, optional
        Column whose (per-recording constant) value is the recording's group.
    groups : mapping or path, optional
        ``recording -> group``, or a CSV with columns ``recording,group``.
        Without ``group_col`` or ``groups``, group = recording id.
    event_col : str, optional
        Marker column; an event at every rising edge of a non-zero value.
    resample_hz : float, optional
        Interpolate every recording onto a fixed grid at this rate. Needed for
        logs whose timestamps are not on a fixed grid (they are refused otherwise).
    sort_time : bool
        Sort rows by time instead of refusing a log whose timestamps decrease.
    allow_mixed_channels : bool
        Keep a log whose channel names differ from the first log's (the windows
        then stack channels by position) instead of refusing it.
    on_bad_file : callable, optional
        Called with ``(path, message)`` for a file that cannot be used, which is
        then left out; without it such a file raises :class:`InputError`.

    Returns
    -------
    recordings : list of Recording
    events : pandas.DataFrame
        Columns ``recording, t_ms, end_ms, label, event_id`` (empty without ``event_col``).

    Examples
    --------
    >>> import tempfile
    >>> log = pd.DataFrame({"t_ms": np.arange(0.0, 500.0, 10.0), "ax": 0.0, "ay": 0.0, "az": 9.8, "shot": 0})
    >>> log.loc[20:22, "shot"] = 1
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     log.to_parquet(f"{tmp}/s01.parquet")
    ...     recs, events = read_sensor_logs([f"{tmp}/s01.parquet"], event_col="shot")
    >>> recs[0].id, recs[0].channels, recs[0].sample_rate_hz, recs[0].n_samples
    ('s01', ['ax', 'ay', 'az'], 100.0, 50)
    >>> events[["recording", "t_ms", "event_id"]].values.tolist()
    [['s01', 200.0, 0]]
    """
    if time_unit not in TIME_UNITS:
        raise InputError(f"time_unit {time_unit!r} is not one of: {', '.join(TIME_UNITS)}", parameter="time_unit")
    if resample_hz is not None and not resample_hz > 0:
        raise InputError(f"resample_hz must be > 0, got {resample_hz}", parameter="resample_hz")
    if not paths:
        raise InputError("no input logs given; pass one or more CSV or Parquet files")
    recordings: list[Recording] = []
    event_frames: list[pd.DataFrame] = []
    channel_reference: tuple[str, list[str]] | None = None
    for path in resolve(progress).track(paths, total=len(paths), description="Reading logs"):
        path = Path(path)
        try:
            read = _read_log(
                path,
                time_col=time_col,
                time_scale=TIME_UNITS[time_unit],
                recording_col=recording_col,
                channels=channels,
                group_col=group_col,
                event_col=event_col,
                resample_hz=resample_hz,
                sort_time=sort_time,
            )
            for recording, _ in read:
                if (
                    not allow_mixed_channels
                    and channel_reference is not None
                    and recording.channels != channel_reference[1]
                ):
                    raise InputError(
                        f"{path}: channels {recording.channels} differ from {channel_reference[1]} in "
                        f"{channel_reference[0]}; name the channels every log shares with --channels, or pass "
                        "--allow-mixed-channels to stack them by position anyway"
                    )
        except InputError as error:
            if on_bad_file is None:
                raise
            on_bad_file(path, str(error).removesuffix(_SKIP_HINT))
            continue
        if channel_reference is None and read:
            channel_reference = (str(path), read[0][0].channels)
        for recording, events in read:
            recordings.append(recording)
            event_frames.append(events)
    if not recordings:
        raise InputError(f"none of the {len(paths)} logs could be read; see the errors above")
    check_unique_ids(recordings, hint="rename one file or use --recording-col")
    resolve_groups(recordings, groups)
    events = pd.concat(event_frames, ignore_index=True) if event_frames else empty_events()
    if event_col is not None:
        # Marker events get ids in input order, so they are stable across runs.
        events["event_id"] = np.arange(len(events), dtype=np.int64)
    return recordings, events[EVENT_COLUMNS]


def _read_log(path: Path, *, recording_col: str | None, **options) -> list[tuple[Recording, pd.DataFrame]]:
    """The recordings of one log file with their marker events."""
    # One recording per Parquet file: read column by column so the log is never held twice.
    table = open_columns(path, whole=recording_col is not None)
    if table.num_rows == 0:
        raise InputError(f"{path}: no data rows; remove the file or fill it")
    parts = _split_by_recording(table, path, recording_col)
    del table
    recordings = [
        _recording_from_table(part, path=path, recording_id=recording_id, recording_col=recording_col, **options)
        for recording_id, part in parts
    ]
    del parts
    pa.default_memory_pool().release_unused()  # the last column's Arrow buffers, kept for reuse otherwise
    return recordings


def _split_by_recording(table: pa.Table, path: Path, recording_col: str | None) -> list[tuple[str, pa.Table]]:
    if recording_col is None:
        return [(path.stem, table)]
    if recording_col not in table.column_names:
        raise InputError(
            f"{path}: --recording-col {recording_col!r} not found; columns are: {', '.join(table.column_names)}"
        )
    column = table.column(recording_col)
    if column.null_count:
        row = int(np.flatnonzero(column.is_null().to_numpy(zero_copy_only=False))[0])
        raise InputError(f"{path}: empty recording id in column {recording_col!r} at {describe_row(path, row)}")
    ids = pc.cast(column, pa.string()).to_numpy(zero_copy_only=False)
    unique_ids, first_rows, inverse = np.unique(ids, return_index=True, return_inverse=True)
    order = np.argsort(first_rows, kind="stable")  # recordings in order of first appearance
    parts = []
    for code in order:
        rows = np.flatnonzero(inverse == code)
        parts.append((str(unique_ids[code]), table.take(pa.array(rows))))
    return parts


def _recording_from_table(
    table: pa.Table,
    *,
    path: Path,
    recording_id: str,
    time_col: str,
    time_scale: float,
    recording_col: str | None,
    channels: Sequence[str] | None,
    group_col: str | None,
    event_col: str | None,
    resample_hz: float | None,
    sort_time: bool,
) -> tuple[Recording, pd.DataFrame]:
    names = table.column_names
    for option, column in (("--time-col", time_col), ("--group-col", group_col), ("--event-col", event_col)):
        if column is not None and column not in names:
            raise InputError(f"{path}: {option} {column!r} not found; columns are: {', '.join(names)}")
    if table.num_rows == 0:
        raise InputError(f"{path}: recording {recording_id!r} has no rows; remove the file or fill it")

    times = _numeric_column(table, time_col, path, what="time column")
    if time_scale != 1.0 and not is_temporal(table.schema.field(time_col).type):  # date-times are already ms
        times = times * time_scale
    reserved = {time_col, recording_col, group_col, event_col} - {None}
    channel_names = _choose_channels(table, path, channels, reserved)
    channel_data = [_numeric_column(table, name, path, what="channel") for name in channel_names]
    markers = _numeric_column(table, event_col, path, what="marker column") if event_col else None

    if not np.isfinite(times).all():
        row = int(np.flatnonzero(~np.isfinite(times))[0])
        raise InputError(
            f"{path}: missing or infinite time {times[row]} in column {time_col!r} at {describe_row(path, row)}; "
            "fix or drop that row"
        )
    # A log on a fixed grid is strictly increasing, so the costlier order checks run only off the grid.
    on_grid = _is_on_grid(times)
    if resample_hz is not None or not on_grid:
        order = _check_time_order(times, path, time_col, sort_time)
        if order is not None:
            times = times[order]
            channel_data = [values[order] for values in channel_data]
            markers = markers[order] if markers is not None else None
            on_grid = _is_on_grid(times)

    group = _constant_group(table, group_col, path, recording_id)
    t0, rate, channel_data, markers_on_grid = _on_fixed_grid(
        times, channel_data, markers, path, recording_id, time_col, resample_hz, on_grid
    )
    recording = Recording(
        id=recording_id,
        group=group if group is not None else recording_id,
        t0_ms=t0,
        sample_rate_hz=rate,
        channels=list(channel_names),
        data=channel_data,
        source=str(path),
    )
    events = empty_events()
    if markers_on_grid is not None:
        edge_index = rising_edges(markers_on_grid)
        t_ms = recording.sample_time_ms(edge_index) if resample_hz is not None else times[edge_index]
        events = pd.DataFrame(
            {
                "recording": pd.Series([recording_id] * len(edge_index), dtype=object),
                "t_ms": np.asarray(t_ms, dtype=np.float64),
                "end_ms": np.asarray(t_ms, dtype=np.float64),
                "label": pd.Series([event_col] * len(edge_index), dtype=object),
                "event_id": np.zeros(len(edge_index), dtype=np.int64),
            }
        )
    return recording, events


def _numeric_column(table, name: str, path: Path, *, what: str) -> np.ndarray:
    hint = "fix the value, or leave the column out with --channels" if what == "channel" else "fix the value"
    return column_as_float(
        table.column(name),
        path,
        name,
        what=what,
        hint=hint,
        temporal=what == "time column",
        keep_float32=what == "channel",
    )


def _looks_numeric(column: pa.ChunkedArray) -> bool:
    """A text column most of whose non-empty values parse as numbers is a channel with typos, not a label."""
    raw = pd.Series(column.to_numpy(zero_copy_only=False)).dropna().astype(str).str.strip()
    raw = raw[raw != ""]
    if raw.empty:
        return False
    parsed = pd.to_numeric(raw, errors="coerce")
    return bool(parsed.notna().mean() >= 0.5)


def _choose_channels(table: pa.Table, path: Path, channels: Sequence[str] | None, reserved: set[str]) -> list[str]:
    names = table.column_names
    if channels:
        missing = [name for name in channels if name not in names]
        if missing:
            raise InputError(
                f"{path}: channel column(s) {', '.join(missing)} not found; columns are: {', '.join(names)}{_SKIP_HINT}"
            )
        return list(channels)
    chosen = []
    for name in names:
        if name in reserved:
            continue
        column_type = table.schema.field(name).type
        if pa.types.is_integer(column_type) or pa.types.is_floating(column_type):
            chosen.append(name)
        elif (pa.types.is_string(column_type) or pa.types.is_large_string(column_type)) and _looks_numeric(
            table.column(name)
        ):
            chosen.append(name)  # _numeric_column will name the offending row
    if not chosen:
        raise InputError(f"{path}: no numeric channel columns besides the time column; name them with --channels")
    return chosen


def _check_time_order(times: np.ndarray, path: Path, time_col: str, sort_time: bool) -> np.ndarray | None:
    steps = np.diff(times)
    decreasing = np.flatnonzero(steps < 0)
    order = None
    if len(decreasing):
        row = int(decreasing[0]) + 1
        if not sort_time:
            raise InputError(
                f"{path}: timestamps in {time_col!r} decrease at {describe_row(path, row)} "
                f"({times[row]:g} after {times[row - 1]:g}); sort the file by time or pass --sort-time"
            )
        order = np.argsort(times, kind="stable")
        steps = np.diff(times[order])
    duplicates = np.flatnonzero(steps == 0)
    if len(duplicates):
        row = int(duplicates[0]) + 1
        if order is not None:
            row = int(order[row])
        raise InputError(
            f"{path}: duplicate timestamp {time_col}={times[row]:g} at {describe_row(path, row)}; "
            "remove the repeated rows"
        )
    return order


def _constant_group(table: pa.Table, group_col: str | None, path: Path, recording_id: str) -> str | None:
    if group_col is None:
        return None
    values = pc.cast(table.column(group_col), pa.string()).to_numpy(zero_copy_only=False)
    unique = pd.unique(pd.Series(values).dropna())
    if len(unique) != 1:
        raise InputError(
            f"{path}: --group-col {group_col!r} must hold one value per recording, recording {recording_id!r} "
            f"has {len(unique)} ({', '.join(map(str, unique[:5]))}); use a column that is constant per recording"
        )
    return str(unique[0])


def _on_fixed_grid(
    times: np.ndarray,
    channel_data: list[np.ndarray],
    markers: np.ndarray | None,
    path: Path,
    recording_id: str,
    time_col: str,
    resample_hz: float | None,
    on_grid: bool,
) -> tuple[float, float, list[np.ndarray], np.ndarray | None]:
    """Return ``(t0, rate, channels, markers)`` on a fixed sample grid, or refuse."""
    n = len(times)
    t0 = float(times[0])
    if resample_hz is not None:
        n_grid = int(np.floor((times[-1] - t0) * resample_hz / 1000.0 + 1e-9)) + 1
        grid = t0 + np.arange(n_grid) * (1000.0 / resample_hz)
        # np.interp computes in float64; a float32 channel goes back to float32 (one channel at a time).
        resampled = [np.interp(grid, times, values).astype(values.dtype, copy=False) for values in channel_data]
        grid_markers = None
        if markers is not None:
            # A marker is an instant: put each rising edge on the nearest grid sample.
            grid_markers = np.zeros(n_grid)
            edges = rising_edges(markers)
            grid_markers[
                np.clip(np.rint((times[edges] - t0) * resample_hz / 1000.0).astype(np.int64), 0, n_grid - 1)
            ] = 1
        return t0, float(resample_hz), resampled, grid_markers
    if n < 2:
        # One sample has no rate; the sampler counts it as too short for any window.
        return t0, 1.0, channel_data, markers
    step = (float(times[-1]) - t0) / (n - 1)
    if not on_grid:
        worst_row, worst = _largest_grid_deviation(times, t0, step)
        median_step = float(np.median(np.diff(times)))
        raise InputError(
            f"{path}: timestamps in {time_col!r} of recording {recording_id!r} are not on a fixed sample grid "
            f"(median step {median_step:g} ms, {worst:g} ms off the grid at {describe_row(path, worst_row)}); "
            f"pass --resample-hz {1000.0 / median_step:.6g} to interpolate onto one"
        )
    return t0, 1000.0 / step, channel_data, markers


def _is_on_grid(times: np.ndarray) -> bool:
    """True when every timestamp is within GRID_TOLERANCE_STEPS of the grid from the first to the last."""
    if len(times) < 2:
        return True
    step = (float(times[-1]) - float(times[0])) / (len(times) - 1)
    if not step > 0:
        return False
    return _largest_grid_deviation(times, float(times[0]), step)[1] <= GRID_TOLERANCE_STEPS * step


def _largest_grid_deviation(times: np.ndarray, t0: float, step: float) -> tuple[int, float]:
    worst, worst_row = 0.0, 0
    for begin in range(0, len(times), _GRID_CHECK_CHUNK):
        chunk = times[begin : begin + _GRID_CHECK_CHUNK]
        deviation = np.arange(begin, begin + len(chunk), dtype=np.float64)  # one buffer, worked on in place
        deviation *= step
        deviation += t0
        np.subtract(chunk, deviation, out=deviation)
        np.abs(deviation, out=deviation)
        row = int(np.argmax(deviation))
        if deviation[row] > worst:
            worst, worst_row = float(deviation[row]), begin + row
    return worst_row, worst
