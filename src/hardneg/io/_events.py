"""Events: labelled instants or intervals on recordings."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hardneg._schema import EVENT_COLUMNS as _EVENT_COLUMNS
from hardneg.errors import InputError
from hardneg.io._recording import Recording
from hardneg.io._tables import column_as_float, describe_row, read_table, require_columns

EVENT_COLUMNS = list(_EVENT_COLUMNS)


def empty_events() -> pd.DataFrame:
    """An events table with no rows and the standard columns."""
    return pd.DataFrame(
        {
            "recording": pd.Series([], dtype=object),
            "t_ms": pd.Series([], dtype=np.float64),
            "end_ms": pd.Series([], dtype=np.float64),
            "label": pd.Series([], dtype=object),
            "event_id": pd.Series([], dtype=np.int64),
        }
    )


def rising_edges(markers: np.ndarray) -> np.ndarray:
    """Indices where a marker turns non-zero (NaN counts as zero; a log starting non-zero is an edge).

    Examples
    --------
    >>> rising_edges(np.array([0, 1, 1, 0, 2, 0, 0, 3]))
    array([1, 4, 7])
    """
    active = np.nan_to_num(np.asarray(markers, dtype=np.float64), nan=0.0) != 0
    previous = np.concatenate(([False], active[:-1]))
    return np.flatnonzero(active & ~previous)


def read_events_csv(path: str | Path, recordings: Sequence[Recording]) -> pd.DataFrame:
    """Read events from a CSV (or Parquet) with columns ``recording,t_ms`` and optional ``end_ms,label``.

    ``event_id`` is the event's 0-based data row in the file, so it stays the
    same however the events are filtered later.

    Examples
    --------
    >>> import tempfile
    >>> recordings = [Recording("s01", "s01", 0.0, 100.0, ["ax"], [np.zeros(500)], "s01.csv")]
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = Path(f"{tmp}/events.csv").write_text("recording,t_ms,label\\ns01,1200,shot\\ns01,3400,shot\\n")
    ...     events = read_events_csv(f"{tmp}/events.csv", recordings)
    >>> list(events.columns)
    ['recording', 't_ms', 'end_ms', 'label', 'event_id']
    >>> events.end_ms.tolist(), events.event_id.tolist()
    ([1200.0, 3400.0], [0, 1])
    """
    path = Path(path)
    table = read_table(path, string_columns=("recording", "label"))
    require_columns(table, path, ("recording", "t_ms"), "events need columns recording,t_ms (optional end_ms,label)")
    recording = pc.cast(table.column("recording"), pa.string()).to_numpy(zero_copy_only=False)
    t_ms = _event_times(table, "t_ms", path)
    end_ms = _event_times(table, "end_ms", path) if "end_ms" in table.column_names else t_ms.copy()
    end_ms = np.where(np.isnan(end_ms), t_ms, end_ms)
    label = (
        pc.cast(table.column("label"), pa.string()).to_numpy(zero_copy_only=False)
        if "label" in table.column_names
        else np.full(len(t_ms), None, dtype=object)
    )
    for row, value in enumerate(recording):
        if value is None or str(value).strip() == "":
            raise InputError(f"{path}: empty recording id at {describe_row(path, row)}")
    if np.isnan(t_ms).any():
        row = int(np.flatnonzero(np.isnan(t_ms))[0])
        raise InputError(f"{path}: missing t_ms at {describe_row(path, row)}; fill or drop that row")
    if (end_ms < t_ms).any():
        row = int(np.flatnonzero(end_ms < t_ms)[0])
        raise InputError(f"{path}: end_ms {end_ms[row]:g} is before t_ms {t_ms[row]:g} at {describe_row(path, row)}")
    known = {r.id for r in recordings}
    unknown = ~np.isin(recording.astype(str), np.array(sorted(known), dtype=str))
    if unknown.any():
        row = int(np.flatnonzero(unknown)[0])
        shown = ", ".join(sorted(known)[:8]) + (", ..." if len(known) > 8 else "")
        raise InputError(
            f"{path}: recording {recording[row]!r} at {describe_row(path, row)} is not among the inputs ({shown}); "
            "fix the id (it must equal a log's file stem or --recording-col value) or add its log"
        )
    return pd.DataFrame(
        {
            "recording": pd.Series(recording.astype(str), dtype=object),
            "t_ms": t_ms,
            "end_ms": end_ms,
            "label": pd.Series(label, dtype=object),
            "event_id": np.arange(len(t_ms), dtype=np.int64),
        }
    )


def _event_times(table: pa.Table, name: str, path: Path) -> np.ndarray:
    values = column_as_float(
        table.column(name),
        path,
        name,
        what="column",
        hint="event times are milliseconds on the recording's clock",
        temporal=True,
    )
    infinite = np.isinf(values)
    if infinite.any():
        row = int(np.flatnonzero(infinite)[0])
        raise InputError(f"{path}: infinite {name} at {describe_row(path, row)}; event times must be finite")
    return values
