"""Cross-validators that know about recordings, groups, events and time.

Every splitter here subclasses :class:`sklearn.model_selection.BaseCrossValidator`,
so it drops into ``cross_val_score``, ``GridSearchCV`` and friends. The ones
built from a dataset's ``index`` (:class:`TimeBlockedSplit`,
:class:`IntraGroupSplit`) read recordings, groups and times from it and expect
``X`` to hold one row per window **in index order** (row ``i`` = index row
``i``, which for a :class:`~hardneg.dataset.Dataset` is ``window_id`` ``i``).
They accept ``groups=`` like any group splitter, and check that it agrees with
the index's ``group`` column, which catches rows passed in another order.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import pandas as pd
from sklearn.model_selection import BaseCrossValidator

from hardneg.errors import InputError

#: Codes of a window's subset in one fold (a window absent from a fold is UNUSED).
UNUSED, TRAIN, VAL, TEST = -1, 0, 1, 2
SUBSET_NAMES = {TRAIN: "train", VAL: "val", TEST: "test"}


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


def check_n_splits(n_splits, who: str) -> int:
    """``n_splits`` must be an integer >= 2, as for any k-fold cross-validator."""
    if isinstance(n_splits, bool) or not isinstance(n_splits, numbers.Integral):
        raise InputError(f"{who}: n_splits must be an integer, got {n_splits!r} of type {type(n_splits).__name__}")
    if n_splits < 2:
        raise InputError(
            f"{who}: k-fold cross-validation needs at least one train/test split, set n_splits=2 or more; "
            f"got n_splits={n_splits}"
        )
    return int(n_splits)


def check_gap_ms(gap_ms, who: str) -> float | None:
    if gap_ms is None:
        return None
    if isinstance(gap_ms, bool) or not isinstance(gap_ms, numbers.Real) or not np.isfinite(gap_ms) or gap_ms < 0:
        raise InputError(f"{who}: --gap-ms must be a number >= 0, got {gap_ms!r}")
    return float(gap_ms)


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


def _resolve_gap_ms(index, gap_ms: float | None) -> float:
    """``gap_ms`` if given; else the dataset's default, or for a bare DataFrame the longest window's length."""
    if gap_ms is not None:
        return gap_ms
    meta = getattr(index, "meta", None)
    if meta is not None:
        return default_gap_ms(meta)
    frame = index
    return float((frame["end_ms"].to_numpy(np.float64) - frame["start_ms"].to_numpy(np.float64)).max())


def _n_samples(X, who: str) -> int:
    if X is None:
        raise InputError(f"{who}: X is None; pass the feature matrix (one row per window, in index order)")
    shape = getattr(X, "shape", None)
    return int(shape[0]) if shape is not None else len(X)


def _check_rows(X, frame: pd.DataFrame, who: str) -> None:
    n = _n_samples(X, who)
    if n != len(frame):
        raise InputError(
            f"{who}: X has {n} rows but the index has {len(frame)} windows; pass one row per window in index order "
            "(row i = window i)"
        )


def _check_groups_agree(groups, frame: pd.DataFrame, who: str) -> None:
    """``groups`` passed to ``split`` must partition the rows as the index's ``group`` column does."""
    if groups is None:
        return
    given = np.asarray(groups)
    if given.ndim != 1 or len(given) != len(frame):
        raise InputError(f"{who}: groups has {len(given)} entries but the index has {len(frame)} windows")
    given_codes = pd.factorize(pd.Series(given, dtype=object))[0]
    own_codes = pd.factorize(frame["group"].astype(str))[0]
    # The same partition up to renaming: each given label maps to one index group and back.
    pairs = pd.DataFrame({"given": given_codes, "own": own_codes}).drop_duplicates()
    if len(pairs) != given_codes.max() + 1 or len(pairs) != own_codes.max() + 1:
        first = _first_disagreement(given_codes, own_codes)
        raise InputError(
            f"{who}: groups does not match the index's group column (row {first}: {given[first]!r} vs "
            f"{frame['group'].iloc[first]!r}); pass groups=index['group'] with X in index order"
        )


def _first_disagreement(given_codes: np.ndarray, own_codes: np.ndarray) -> int:
    # Map each given code to the index code it first meets; the first row breaking either map disagrees.
    forward: dict[int, int] = {}
    backward: dict[int, int] = {}
    for row, (a, b) in enumerate(zip(given_codes.tolist(), own_codes.tolist())):
        if forward.setdefault(a, b) != b or backward.setdefault(b, a) != a:
            return row
    return 0


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


# ---------------------------------------------------------------------------------------------------------------------
# splitters


class _IndexSplitter(BaseCrossValidator):
    """Shared parts of the splitters that are built from a dataset index."""

    # Ask for ``groups`` under scikit-learn's metadata routing, as its group splitters do (GroupsConsumerMixin,
    # which is private): they are checked against the index.
    __metadata_request__split: ClassVar[dict] = {"groups": True}

    _columns: tuple[str, ...] = ()

    def _frame(self) -> pd.DataFrame:
        return check_index(self.index, self._columns, type(self).__name__)

    def get_n_splits(self, X=None, y=None, groups=None):
        """Returns the number of splitting iterations, ``n_splits``.

        Parameters
        ----------
        X, y, groups : object
            Always ignored, exist for API compatibility.

        Returns
        -------
        n_splits : int
        """
        return self.n_splits

    def __repr__(self) -> str:
        frame = self.index if isinstance(self.index, pd.DataFrame) else getattr(self.index, "index", None)
        size = f"<{len(frame)} windows>" if isinstance(frame, pd.DataFrame) else repr(self.index)
        params = {key: getattr(self, key) for key in sorted(self._param_names())}
        params["index"] = size
        body = ", ".join(f"{key}={value if key == 'index' else repr(value)}" for key, value in params.items())
        return f"{type(self).__name__}({body})"

    def _param_names(self) -> list[str]:
        return [name for name in ("gap_ms", "n_splits") if hasattr(self, name)]


class TimeBlockedSplit(_IndexSplitter):
    """Time-blocked k-fold per recording, with a purge gap around every test window.

    Each recording's windows, in start-time order, are cut into ``n_splits``
    contiguous runs of (nearly) equal size; fold ``k`` tests run ``k`` of every
    recording. The training set is every other window **except** those that
    overlap a test window, or come closer than ``gap_ms`` to one, on the same
    recording: neighbouring windows share samples and context, and keeping
    them would let the model look at the test stretch (the group-aware, purged
    time split asked for in scikit-learn#14257). Purged windows are in neither
    set of that fold.

    Measures how well the model predicts a held-out stretch of time in
    recordings whose other stretches it trained on; it is not generalisation
    to new recordings or groups.

    Parameters
    ----------
    index : pandas.DataFrame or Dataset
        The dataset's window index (columns ``recording``, ``start_ms``,
        ``end_ms``; ``group`` to check ``groups=``), or the Dataset itself.
        ``X`` passed to :meth:`split` has one row per window in this order.
    n_splits : int, default=5
        Number of folds, at least 2.
    gap_ms : float, default=None
        Purge gap in milliseconds. None: :func:`default_gap_ms` of the
        dataset (window length plus post-event zone) when ``index`` is a
        Dataset; for a bare DataFrame, the longest window's length (pass the
        Dataset, or ``gap_ms``, to include the post-event zone).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> index = pd.DataFrame({"recording": ["r"] * 6, "group": ["g"] * 6,
    ...                       "start_ms": [0.0, 100, 200, 1000, 1100, 1200]})
    >>> index["end_ms"] = index["start_ms"] + 100
    >>> cv = TimeBlockedSplit(index, n_splits=2, gap_ms=0.0)
    >>> for train, test in cv.split(np.zeros((6, 1))):
    ...     print(train, test)
    [3 4 5] [0 1 2]
    [0 1 2] [3 4 5]
    >>> [len(train) for train, _ in TimeBlockedSplit(index, n_splits=2, gap_ms=900.0).split(np.zeros((6, 1)))]
    [1, 1]
    """

    _columns = ("recording", "start_ms", "end_ms")

    def __init__(self, index, n_splits=5, gap_ms=None):
        self.index = index
        self.n_splits = check_n_splits(n_splits, "TimeBlockedSplit")
        self.gap_ms = check_gap_ms(gap_ms, "TimeBlockedSplit")

    def split(self, X, y=None, groups=None):
        """Generate indices to split data into training and test set.

        Parameters
        ----------
        X : array-like of shape (n_windows, n_features)
            One row per window of ``index``, in index order.
        y : array-like of shape (n_windows,), default=None
            Always ignored, exists for API compatibility.
        groups : array-like of shape (n_windows,), default=None
            Optional; checked against the index's ``group`` column.

        Yields
        ------
        train : ndarray
            The training set indices for that split (purged windows left out).
        test : ndarray
            The testing set indices for that split.
        """
        who = "TimeBlockedSplit"
        frame = self._frame()
        _check_rows(X, frame, who)
        if groups is not None and "group" in frame.columns:
            _check_groups_agree(groups, frame, who)
        gap = _resolve_gap_ms(self.index, self.gap_ms)
        blocks = time_blocks(frame, self.n_splits)
        codes = pd.factorize(frame["recording"].astype(str))[0]
        start = frame["start_ms"].to_numpy(np.float64)
        end = frame["end_ms"].to_numpy(np.float64)
        longest = int(np.bincount(codes).max())
        if longest < self.n_splits:  # then some block is empty in every recording
            raise InputError(
                f"{who}: Cannot have number of splits n_splits={self.n_splits} greater than the number of "
                f"windows in the longest recording: {longest}"
            )
        for fold in range(self.n_splits):
            test = blocks == fold
            train = ~test & ~within_gap(codes, start, end, ~test, test, gap)
            if not train.any():
                raise InputError(
                    f"{who}: fold {fold} has no training window left: every other window overlaps or lies within "
                    f"gap_ms={gap:g} of a test window; use a smaller --gap-ms or more splits"
                )
            yield np.flatnonzero(train), np.flatnonzero(test)


class IntraGroupSplit(_IndexSplitter):
    """K-fold within every group: each group's events, in time order, cut into ``n_splits`` blocks.

    Fold ``k`` tests block ``k`` of **every** group, so every group is in both
    the training and the test set of each fold — the seed report's
    "intra-video split". An event is all windows sharing ``(recording,
    event_id)`` (its positive and near windows), and they stay together; far and
    uniform windows go to the block their time falls in (see
    :func:`event_ranks`). No purge gap is applied.

    Measures how well the model separates events within groups it has seen;
    it is not generalisation to new groups.

    Parameters
    ----------
    index : pandas.DataFrame or Dataset
        The dataset's window index (columns ``group``, ``recording``,
        ``start_ms``, ``event_id``), or the Dataset itself. ``X`` passed to
        :meth:`split` has one row per window in this order.
    n_splits : int, default=5
        Number of folds, at least 2; every group needs at least that many events.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> index = pd.DataFrame({"group": ["a"] * 4 + ["b"] * 4, "recording": ["a"] * 4 + ["b"] * 4,
    ...                       "start_ms": [0.0, 10, 5000, 5010] * 2,
    ...                       "event_id": pd.array([0, 0, 1, 1] * 2, dtype="Int64")})
    >>> for train, test in IntraGroupSplit(index, n_splits=2).split(np.zeros((8, 1))):
    ...     print(train, test)
    [2 3 6 7] [0 1 4 5]
    [0 1 4 5] [2 3 6 7]
    """

    _columns = ("group", "recording", "start_ms", "event_id")

    def __init__(self, index, n_splits=5):
        self.index = index
        self.n_splits = check_n_splits(n_splits, "IntraGroupSplit")

    def split(self, X, y=None, groups=None):
        """Generate indices to split data into training and test set.

        Parameters
        ----------
        X : array-like of shape (n_windows, n_features)
            One row per window of ``index``, in index order.
        y : array-like of shape (n_windows,), default=None
            Always ignored, exists for API compatibility.
        groups : array-like of shape (n_windows,), default=None
            Optional; checked against the index's ``group`` column.

        Yields
        ------
        train : ndarray
            The training set indices for that split.
        test : ndarray
            The testing set indices for that split.
        """
        who = "IntraGroupSplit"
        frame = self._frame()
        _check_rows(X, frame, who)
        _check_groups_agree(groups, frame, who)
        group_codes, ranks, n_units = event_ranks(frame)
        check_events_per_group(frame, n_units, group_codes, self.n_splits, who)
        blocks = (ranks * self.n_splits) // n_units
        for fold in range(self.n_splits):
            test = blocks == fold
            yield np.flatnonzero(~test), np.flatnonzero(test)


class ExplicitGroupSplit(BaseCrossValidator):
    """One split whose test set is exactly the windows of the named groups.

    For fixed, published partitions such as MIT-BIH's inter-patient DS1/DS2
    split. Group names are compared as text, so ``100`` and ``"100"`` match.

    Measures how well the model generalises to the named groups, none of
    which it trained on.

    Parameters
    ----------
    test_groups : sequence
        Groups whose windows form the test set; the rest is training.

    Examples
    --------
    >>> import numpy as np
    >>> groups = np.array(["100", "100", "101", "103", "103"])
    >>> cv = ExplicitGroupSplit([100, 103])
    >>> [(train.tolist(), test.tolist()) for train, test in cv.split(np.zeros((5, 1)), groups=groups)]
    [([2], [0, 1, 3, 4])]
    """

    __metadata_request__split: ClassVar[dict] = {"groups": True}  # needs groups, like scikit-learn's group splitters

    def __init__(self, test_groups):
        self.test_groups = test_groups

    def get_n_splits(self, X=None, y=None, groups=None):
        """Returns the number of splitting iterations: always 1.

        Parameters
        ----------
        X, y, groups : object
            Always ignored, exist for API compatibility.

        Returns
        -------
        n_splits : int
        """
        return 1

    def split(self, X=None, y=None, groups=None):
        """Generate the one (train, test) pair.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), default=None
            Only its length is checked against ``groups``.
        y : array-like of shape (n_samples,), default=None
            Always ignored, exists for API compatibility.
        groups : array-like of shape (n_samples,)
            Group of each sample; required.

        Yields
        ------
        train : ndarray
        test : ndarray
        """
        if groups is None:
            raise InputError(
                "ExplicitGroupSplit: The 'groups' parameter should not be None; pass groups=dataset.groups"
            )
        test = explicit_test_mask(groups, self.test_groups, "ExplicitGroupSplit")
        if X is not None and _n_samples(X, "ExplicitGroupSplit") != len(test):
            raise InputError(f"ExplicitGroupSplit: X has {_n_samples(X, 'x')} rows but groups has {len(test)} entries")
        yield np.flatnonzero(~test), np.flatnonzero(test)


def explicit_test_mask(groups, test_groups, who: str) -> np.ndarray:
    """Boolean mask of the rows whose group (as text) is one of ``test_groups``; every name must exist."""
    names = [str(name).strip() for name in _as_list(test_groups)]
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


def _as_list(values) -> list:
    if values is None:
        return []
    if isinstance(values, str):
        return [part for part in values.split(",") if part.strip()]
    return list(values)


class SavedSplit(BaseCrossValidator):
    """Replay a split frame (from :func:`~hardneg.split.make_split` or :func:`~hardneg.split.load_split`).

    Yields one (train, test) pair per fold. Positions are window ids, so pass
    ``X`` with row ``i`` = window ``i`` (``Dataset.windows`` order). Training
    rows are repeated ``copies`` times (oversampled positives); validation rows
    are left out unless ``test_subset="val"``, which tunes on validation without
    touching the test set.

    Parameters
    ----------
    frame : pandas.DataFrame
        Split frame: ``fold``, ``window_id``, ``subset``, ``copies``.
    test_subset : {"test", "val"}, default="test"
        Which subset each fold yields as its test set.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> frame = pd.DataFrame({"fold": [0, 0, 0, 0], "window_id": [0, 1, 2, 3],
    ...                       "subset": ["train", "train", "val", "test"], "copies": [1, 3, 1, 1]})
    >>> [(train.tolist(), test.tolist()) for train, test in SavedSplit(frame).split(np.zeros((4, 1)))]
    [([0, 1, 1, 1], [3])]
    """

    def __init__(self, frame, test_subset="test"):
        self.frame = frame
        self.test_subset = test_subset

    def _checked(self) -> pd.DataFrame:
        from hardneg.split.store import check_split_frame

        if self.test_subset not in ("test", "val"):
            raise InputError(f"SavedSplit: test_subset must be 'test' or 'val', got {self.test_subset!r}")
        return check_split_frame(self.frame)

    def get_n_splits(self, X=None, y=None, groups=None):
        """Returns the number of folds in the frame.

        Parameters
        ----------
        X, y, groups : object
            Always ignored, exist for API compatibility.

        Returns
        -------
        n_splits : int
        """
        return int(self._checked()["fold"].nunique())

    def split(self, X, y=None, groups=None):
        """Generate (train, test) window ids per fold, in fold order.

        Parameters
        ----------
        X : array-like of shape (n_windows, n_features)
            Row ``i`` is window ``i``; must cover every window id in the frame.
        y, groups : array-like, default=None
            Always ignored, exist for API compatibility (the split is fixed).

        Yields
        ------
        train : ndarray
            Training window ids, each repeated ``copies`` times.
        test : ndarray
            Test (or validation) window ids.
        """
        frame = self._checked()
        n = _n_samples(X, "SavedSplit")
        largest = int(frame["window_id"].max())
        if largest >= n:
            raise InputError(
                f"SavedSplit: the split names window {largest} but X has {n} rows; pass X with row i = window i"
            )
        for fold, rows in frame.groupby("fold", sort=True):
            train = rows[rows["subset"] == "train"]
            test = rows.loc[rows["subset"] == self.test_subset, "window_id"].to_numpy(np.int64)
            if len(test) == 0 or len(train) == 0:
                raise InputError(
                    f"SavedSplit: fold {fold} has no {'train' if len(train) == 0 else self.test_subset} rows"
                )
            yield np.repeat(train["window_id"].to_numpy(np.int64), train["copies"].to_numpy(np.int64)), test
