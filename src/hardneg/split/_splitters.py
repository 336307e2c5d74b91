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

from typing import ClassVar

import numpy as np
import pandas as pd
from sklearn.model_selection import BaseCrossValidator

from hardneg._validation import validate_params
from hardneg.errors import InputError
from hardneg.split._blocks import (
    GAP_MS,
    N_SPLITS,
    check_events_per_group,
    check_index,
    default_gap_ms,
    event_ranks,
    explicit_test_mask,
    time_blocks,
    within_gap,
)

__all__ = ["ExplicitGroupSplit", "IntraGroupSplit", "SavedSplit", "TimeBlockedSplit"]


# ---------------------------------------------------------------------------------------------------------------------
# checks


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
    _parameter_constraints: ClassVar[dict] = {"n_splits": [N_SPLITS], "gap_ms": [None, GAP_MS]}

    def __init__(self, index, n_splits=5, gap_ms=None):
        validate_params({"n_splits": n_splits, "gap_ms": gap_ms}, self._parameter_constraints)
        self.index = index
        self.n_splits = int(n_splits)
        self.gap_ms = None if gap_ms is None else float(gap_ms)

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
    the training and the test set of each fold — what video teams call an
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
    _parameter_constraints: ClassVar[dict] = {"n_splits": [N_SPLITS]}

    def __init__(self, index, n_splits=5):
        validate_params({"n_splits": n_splits}, self._parameter_constraints)
        self.index = index
        self.n_splits = int(n_splits)

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
        from hardneg.split._store import check_split_frame

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
