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

__all__ = ["EVENT_COLUMNS", "empty_events", "read_events_csv", "rising_edges", "select_events"]

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
    if len(t_ms) == 0:
        raise InputError(f"{path}: no events, only the header; add one line per event (recording,t_ms)")
    known = {r.id for r in recordings}
    unknown = ~np.isin(recording.astype(str), np.array(sorted(known), dtype=str))
    shown = ", ".join(sorted(known)[:8]) + (", ..." if len(known) > 8 else "")
    if unknown.all():
        raise InputError(
            f"{path}: no event is on one of the inputs (first: recording {recording[0]!r} at "
            f"{describe_row(path, 0)}; inputs: {shown}); the recording ids must equal the logs' file stems or "
            "--recording-col values"
        )
    events = pd.DataFrame(
        {
            "recording": pd.Series(recording.astype(str), dtype=object),
            "t_ms": t_ms,
            "end_ms": end_ms,
            "label": pd.Series(label, dtype=object),
            "event_id": np.arange(len(t_ms), dtype=np.int64),
        }
    )
    if unknown.any():
        # A subset of the recordings with the full events file is common: their events are set aside, counted.
        others = sorted(set(recording[unknown].astype(str)))
        named = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
        events = events[~unknown].reset_index(drop=True)
        n = int(unknown.sum())
        skipped = (
            f"{n} event{'s' if n != 1 else ''} on {len(others)} recording{'s' if len(others) != 1 else ''} that "
            f"{'are' if len(others) != 1 else 'is'} not among the inputs ({named})"
        )
        events.attrs["warnings"] = [f"{path}: {skipped} were skipped"]
    return events


def select_events(
    events: pd.DataFrame,
    *,
    positive_labels: Sequence[str] | None = None,
    negative_labels: Sequence[str] | None = None,
    source: str = "events",
) -> pd.DataFrame:
    """Mark which events are positives and which are labelled look-alikes (negatives); drop the rest.

    Parameters
    ----------
    events : DataFrame
        ``recording, t_ms, end_ms, label, event_id``.
    positive_labels : sequence of str, optional
        Labels of the positive events; by default every event whose label is not a negative label.
    negative_labels : sequence of str, optional
        Labels of events that anchor ``labelled`` negatives (another beat type, another species' call).
    source : str
        How the labels are named on the command line, for messages (``events`` or ``symbols``).

    Returns
    -------
    DataFrame
        The kept events with a boolean column ``negative``; ``attrs["warnings"]`` names requested labels
        that no event carries.

    Examples
    --------
    >>> events = pd.DataFrame({"recording": "r1", "t_ms": [1.0, 2.0, 3.0], "end_ms": [1.0, 2.0, 3.0],
    ...                        "label": ["V", "N", "A"], "event_id": [0, 1, 2]})
    >>> select_events(events, positive_labels=["V"], negative_labels=["N"])[["label", "negative"]].values.tolist()
    [['V', False], ['N', True]]
    """
    warnings = list(events.attrs.get("warnings", []))
    positive = tuple(positive_labels or ())
    negative = tuple(negative_labels or ())
    parameter = "negative_symbols" if source == "symbols" else "negative_labels"
    both = sorted(set(positive) & set(negative))
    if both:
        raise InputError(
            f"{parameter}: {both[0]!r} is also a positive label; a label is either an event or a look-alike",
            parameter=parameter,
        )
    labels = events["label"].astype(object).where(events["label"].notna(), None).to_numpy(dtype=object)
    as_text = np.array(["" if value is None else str(value) for value in labels], dtype=object)
    is_negative = np.isin(as_text, list(negative)) if negative else np.zeros(len(events), dtype=bool)
    is_positive = np.isin(as_text, list(positive)) if positive else ~is_negative
    present = set(as_text.tolist())
    if positive and len(events) and not np.isin(as_text, list(positive)).any():
        # no positive at all: say which labels there are, not "no positive window" later
        option = "event_symbols" if source == "symbols" else "event_labels"
        shown = sorted(present - {""})
        there = (
            f"the events carry {', '.join(map(repr, shown[:12]))}{', ...' if len(shown) > 12 else ''}"
            if shown
            else "the events have no label (an events file needs a label column)"
        )
        raise InputError(f"{option}: no event is labelled {', '.join(map(repr, positive))}; {there}", parameter=option)
    missing = [label for label in (*positive, *negative) if label not in present]
    if missing and len(events):
        warnings.append(f"no event is labelled {', '.join(map(repr, missing))}")
    kept = events[is_positive | is_negative].copy()
    kept["negative"] = is_negative[is_positive | is_negative]
    kept = kept.reset_index(drop=True)
    kept.attrs["warnings"] = warnings
    return kept


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
