"""Building blocks of the splits: subset codes, index checks, ranks in time, purge gaps, explicit test groups.

Both the scikit-learn cross-validators (:mod:`hardneg.split._splitters`) and the
named strategies (:mod:`hardneg.split._builtin`) are made of these.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral, Real

import numpy as np
import pandas as pd

from hardneg._validation import Interval
from hardneg.errors import InputError

__all__ = [
    "GAP_MS",
    "N_SPLITS",
    "SUBSET_NAMES",
    "TEST",
    "TRAIN",
    "UNUSED",
    "VAL",
    "check_events_per_group",
    "check_index",
    "default_gap_ms",
    "event_ranks",
    "explicit_test_mask",
    "group_names",
    "recording_ranks",
    "short_groups_note",
    "time_blocks",
    "within_gap",
]

#: Codes of a window's subset in one fold (a window absent from a fold is UNUSED).
UNUSED, TRAIN, VAL, TEST = -1, 0, 1, 2
SUBSET_NAMES = {TRAIN: "train", VAL: "val", TEST: "test"}

#: What ``n_splits`` may be wherever it is given: k-fold needs at least one train/test split.
N_SPLITS = Interval(Integral, 2, None, closed="left")
#: What a purge gap may be, in milliseconds.
GAP_MS = Interval(Real, 0, None, closed="left")


# ---------------------------------------------------------------------------------------------------------------------
# checks


def check_index(index, columns: Sequence[str], who: str) -> pd.DataFrame:
    """Return the index DataFrame of ``index`` (a DataFrame or a Dataset) after checking ``columns`` exist.

    Parameters
    ----------
    index : pandas.DataFrame or Dataset
        A dataset's window index, or the dataset itself.
    columns : sequence of str
        Columns the caller needs.
    who : str
        Name used in the message (a class or a strategy).

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> import pandas as pd
    >>> check_index(pd.DataFrame({"recording": ["a"]}), ["recording", "start_ms"], "TimeBlockedSplit")
    Traceback (most recent call last):
    ...
    hardneg.errors.InputError: TimeBlockedSplit: the index has no column 'start_ms'; ...
    """
    frame = getattr(index, "index", None) if not isinstance(index, pd.DataFrame) else index
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"{who}: index must be a dataset's index DataFrame or a Dataset, got {type(index).__name__}")
    for column in columns:
        if column not in frame.columns:
            raise InputError(
                f"{who}: the index has no column {column!r}; pass Dataset.index (columns: "
                f"{', '.join(map(str, frame.columns))})"
            )
    if len(frame) == 0:
        raise InputError(f"{who}: the index has no windows")
    for column in ("start_ms", "end_ms"):
        if column in columns and not np.isfinite(frame[column].to_numpy(dtype=np.float64)).all():
            raise InputError(f"{who}: column {column!r} holds missing or infinite times; every window needs both")
    return frame


def default_gap_ms(dataset_meta: dict) -> float:
    """The purge gap a dataset needs: its window length plus its post-event zone (``neg_avoid_post_ms``).

    A training window closer than this to a test window can share samples with
    it, or sit in the stretch right after a test event that the sampler kept
    negatives out of, which a model can learn to recognise.

    Parameters
    ----------
    dataset_meta : dict
        ``Dataset.meta`` (``meta.json``); reads ``meta["parameters"]``.

    Returns
    -------
    float
        Milliseconds.

    Examples
    --------
    >>> default_gap_ms({"parameters": {"window_ms": 500.0, "neg_avoid_post_ms": 2000.0}})
    2500.0
    """
    parameters = (dataset_meta or {}).get("parameters") or {}
    window_ms = parameters.get("window_ms")
    if window_ms is None:
        raise InputError(
            "the dataset's meta.json has no parameters.window_ms to derive the purge gap from; pass --gap-ms"
        )
    return float(window_ms) + float(parameters.get("neg_avoid_post_ms") or 0.0)


# ---------------------------------------------------------------------------------------------------------------------
# building blocks shared with make_split


def recording_ranks(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per window: its recording's code, its rank by start time within the recording, and the recording's size.

    Ties in ``start_ms`` are broken by row order, so the ranks are a permutation of ``0..n_r-1``.
    """
    codes = pd.factorize(frame["recording"].astype(str))[0]
    start = frame["start_ms"].to_numpy(np.float64)
    order = np.lexsort((np.arange(len(frame)), start, codes))
    sizes = np.bincount(codes)
    first = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    ranks = np.empty(len(frame), dtype=np.int64)
    ranks[order] = np.arange(len(frame)) - first[codes[order]]
    return codes, ranks, sizes[codes]


def time_blocks(frame: pd.DataFrame, n_splits: int) -> np.ndarray:
    """Block ``0..n_splits-1`` of each window: its recording's windows in start order cut into equal-count runs."""
    _, ranks, sizes = recording_ranks(frame)
    return (ranks * n_splits) // sizes


def within_gap(
    recording_codes: np.ndarray,
    start_ms: np.ndarray,
    end_ms: np.ndarray,
    candidates: np.ndarray,
    protected: np.ndarray,
    gap_ms: float,
) -> np.ndarray:
    """Which ``candidates`` overlap, or come closer than ``gap_ms`` to, a ``protected`` window of their recording.

    Window ``i`` is within the gap of window ``j`` when
    ``start[i] < end[j] + gap`` and ``start[j] < end[i] + gap``: the two
    intervals, each widened by ``gap``, overlap. With ``gap_ms=0`` this is plain
    overlap (windows that only touch are kept).

    Parameters
    ----------
    recording_codes, start_ms, end_ms : ndarray of shape (n_windows,)
    candidates, protected : ndarray of bool, shape (n_windows,)
    gap_ms : float

    Returns
    -------
    ndarray of bool, shape (n_windows,)
        True for each candidate to purge.

    Examples
    --------
    >>> import numpy as np
    >>> rec = np.zeros(3, int); start = np.array([0.0, 600.0, 2000.0]); end = start + 500
    >>> within_gap(rec, start, end, np.array([True, False, True]), np.array([False, True, False]), 200.0)
    array([ True, False, False])
    """
    purge = np.zeros(len(start_ms), dtype=bool)
    for code in np.unique(recording_codes[protected]):
        same = recording_codes == code
        guard = np.flatnonzero(same & protected)
        guard = guard[np.argsort(start_ms[guard], kind="stable")]
        guard_start = start_ms[guard]
        # Prefix maximum of the widened ends: among the protected windows that start before a candidate's widened
        # end, the one reaching furthest decides whether the candidate is touched.
        reach = np.maximum.accumulate(end_ms[guard] + gap_ms)
        rows = np.flatnonzero(same & candidates)
        before = np.searchsorted(guard_start, end_ms[rows] + gap_ms, side="left")
        hit = before > 0
        hit[hit] = reach[before[hit] - 1] > start_ms[rows[hit]]
        purge[rows[hit]] = True
    return purge


def event_ranks(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Order each group's events in time and attach every window to one.

    An event is the set of windows sharing ``(recording, event_id)`` (its
    positive and near windows); it starts at its earliest window. A group's
    recordings are taken one after another in the order they first appear in
    the index. A window without an event (far, uniform) is attached to the last
    event that starts at or before it, or the group's first event if none does,
    so it lands in the block its time falls in. A group without any event uses
    its windows as the units instead.

    Returns
    -------
    group_codes : ndarray of int, shape (n_windows,)
    ranks : ndarray of int, shape (n_windows,)
        Rank ``0..E-1`` of the event (unit) each window belongs to within its group.
    n_units : ndarray of int, shape (n_windows,)
        ``E``, the number of events (units) in the window's group.
    """
    n = len(frame)
    group_codes = pd.factorize(frame["group"].astype(str))[0]
    rec_codes = pd.factorize(frame["recording"].astype(str))[0]
    start = frame["start_ms"].to_numpy(np.float64)
    event_id = frame["event_id"]
    has_event = event_id.notna().to_numpy()
    unit = np.full(n, -1, dtype=np.int64)
    if has_event.any():
        keys = pd.DataFrame({"rec": rec_codes[has_event], "event": event_id[has_event].astype("int64").to_numpy()})
        unit[has_event] = pd.MultiIndex.from_frame(keys).factorize()[0]
    ranks = np.zeros(n, dtype=np.int64)
    n_units = np.zeros(n, dtype=np.int64)
    positions = np.arange(n)
    for code in range(group_codes.max() + 1):
        rows = np.flatnonzero(group_codes == code)
        event_rows = rows[has_event[rows]]
        if len(event_rows) == 0:
            # No events: each window is its own unit, in (recording order, start) order.
            order = rows[np.lexsort((positions[rows], start[rows], rec_codes[rows]))]
            ranks[order] = np.arange(len(order))
            n_units[rows] = len(rows)
            continue
        units = pd.DataFrame({"unit": unit[event_rows], "rec": rec_codes[event_rows], "start": start[event_rows]})
        firsts = units.groupby("unit", sort=True).agg(rec=("rec", "first"), start=("start", "min")).reset_index()
        firsts = firsts.sort_values(["rec", "start", "unit"], kind="stable").reset_index(drop=True)
        unit_rank = pd.Series(np.arange(len(firsts)), index=firsts["unit"].to_numpy())
        ranks[event_rows] = unit_rank.loc[unit[event_rows]].to_numpy()
        n_units[rows] = len(firsts)
        free = rows[~has_event[rows]]
        if len(free):
            # Rank of the last event starting at or before each free window; a group's recordings play one after
            # another, so before a recording's first event comes the previous recording's last event.
            event_rec = firsts["rec"].to_numpy()
            event_start = firsts["start"].to_numpy()
            for rec in np.unique(rec_codes[free]):
                mine = free[rec_codes[free] == rec]
                earlier = int(np.count_nonzero(event_rec < rec))
                in_rec = event_start[event_rec == rec]  # sorted: firsts is ordered by (rec, start)
                local = np.searchsorted(in_rec, start[mine], side="right")
                ranks[mine] = np.clip(earlier + local - 1, 0, None)
    return group_codes, ranks, n_units


def check_events_per_group(frame: pd.DataFrame, n_units: np.ndarray, group_codes: np.ndarray, need: int, who: str):
    """Every group needs at least ``need`` events (or windows, for a group without events)."""
    short = n_units < need
    if short.any():
        row = int(np.flatnonzero(short)[0])
        group = frame["group"].iloc[row]
        raise InputError(
            f"{who}: Cannot have number of splits n_splits={need} greater than the number of events in group "
            f"{group!r}: {int(n_units[row])}{short_groups_note(frame, n_units, group_codes, short)}; every group must "
            "be in train and test, so use fewer splits or leave such groups out of the dataset"
        )


def short_groups_note(frame: pd.DataFrame, n_units: np.ndarray, group_codes: np.ndarray, short: np.ndarray) -> str:
    """`` (N groups are short: a (1), b (2), ...)`` when more than one group is, so one run names them all."""
    rows = np.flatnonzero(short)
    first_rows = rows[np.unique(group_codes[rows], return_index=True)[1]]
    if len(first_rows) < 2:
        return ""
    first_rows = np.sort(first_rows)
    listed = ", ".join(f"{frame['group'].iloc[row]} ({int(n_units[row])})" for row in first_rows[:12])
    more = ", ..." if len(first_rows) > 12 else ""
    return f" ({len(first_rows)} groups are short: {listed}{more})"


def explicit_test_mask(groups, test_groups, who: str) -> np.ndarray:
    """Boolean mask of the rows whose group (as text) is one of ``test_groups``; every name must exist."""
    names = [str(name).strip() for name in group_names(test_groups)]
    if not names:
        raise InputError(f"{who}: --test-groups is empty; name at least one group")
    text = pd.Series(np.asarray(groups), dtype=object).astype(str).to_numpy()
    present = pd.unique(text)
    missing = sorted(set(names) - set(present))
    if missing:
        listed = ", ".join(sorted(present)[:20]) + (", ..." if len(present) > 20 else "")
        raise InputError(f"{who}: --test-groups {','.join(missing)} not among the dataset's groups ({listed})")
    test = np.isin(text, names)
    if test.all():
        raise InputError(f"{who}: --test-groups names every group ({len(present)}); leave some for training")
    return test


def group_names(values) -> list:
    """``values`` as a list: None is empty, a string is split on commas (``"100,103"``)."""
    if values is None:
        return []
    if isinstance(values, str):
        return [part for part in values.split(",") if part.strip()]
    return list(values)
