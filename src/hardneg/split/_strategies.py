"""Named split strategies: one call turns a dataset into a split frame (holdout or k-fold) and its description.

A split frame is long format, one row per (fold, window) that is used:
``fold`` (int32, 0 for a holdout), ``window_id`` (int64), ``subset``
("train", "val" or "test") and ``copies`` (int32, > 1 only for oversampled
training positives). A window missing from a fold is unused there (purged).
:func:`make_split` checks what every strategy shares and hands the drawing to
the strategy registered under the name (:data:`SPLIT_STRATEGIES`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Real

import numpy as np
import pandas as pd

import hardneg.split._builtin  # noqa: F401  (registers the built-in strategies)
from hardneg._validation import Interval, Options, check_seed, validate_value
from hardneg._validation import rng as make_rng
from hardneg.errors import InputError
from hardneg.split._blocks import GAP_MS, N_SPLITS, SUBSET_NAMES, TRAIN, UNUSED, default_gap_ms, group_names
from hardneg.split._registry import SPLIT_STRATEGIES, STRATEGIES, SplitContext

__all__ = ["SPLIT_STRATEGIES", "STRATEGIES", "check_both_classes", "make_split", "oversample_positives", "split_counts"]

# A share of the rows that is neither nothing nor everything.
_FRACTION = Interval(Real, 0, 1, closed="neither")


def oversample_positives(train_ids, labels, target_fraction, rng) -> np.ndarray:
    """Copies per training window so that positives make up ``target_fraction`` of the training rows.

    Only positives get more than one copy; negatives keep one. The total
    number of positive rows is the smallest that reaches the target,
    ``ceil(f * n_neg / (1 - f))``, spread as evenly as possible over the
    positives (those that get one extra copy are drawn with ``rng``). A
    training set already at or above the target is left alone: this never
    removes anything. Apply it to the training subset only; validation and
    test must keep the real class balance.

    Parameters
    ----------
    train_ids : array-like of int, shape (n_train,)
        Window ids of the training subset.
    labels : array-like of {0, 1}, shape (n_windows,)
        Label of every window, indexed by window id (``Dataset.labels``).
    target_fraction : float
        Wanted share of positive rows, in (0, 1).
    rng : int or numpy.random.Generator
        Seed or generator for which positives get the remainder copies.

    Returns
    -------
    copies : ndarray of int32, shape (n_train,)

    Examples
    --------
    >>> import numpy as np
    >>> labels = np.array([1, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    >>> oversample_positives(np.arange(10), labels, 0.3, rng=0)
    array([4, 1, 1, 1, 1, 1, 1, 1, 1, 1], dtype=int32)
    """
    train_ids = np.asarray(train_ids, dtype=np.int64)
    validate_value("target_fraction", target_fraction, [_FRACTION])
    if len(train_ids) and (train_ids.min() < 0 or train_ids.max() >= len(labels)):
        raise InputError(
            f"oversample_positives: train ids reach {int(train_ids.max())} but labels has {len(labels)} entries; "
            "pass the labels of every window, indexed by window id"
        )
    rng = make_rng(rng)
    positive = labels[train_ids] == 1
    n_pos = int(positive.sum())
    n_neg = len(train_ids) - n_pos
    copies = np.ones(len(train_ids), dtype=np.int32)
    if n_pos == 0:
        raise InputError(
            f"oversampling positives to {target_fraction}: the training subset has no positive window to repeat"
        )
    if n_pos / (n_pos + n_neg) >= target_fraction:
        return copies  # already there; oversampling never removes anything
    # Smallest whole number of positive rows T with T / (T + n_neg) >= f; checked exactly against rounding.
    needed = math.ceil(target_fraction * n_neg / (1 - target_fraction))
    while needed > 0 and (needed - 1) / (needed - 1 + n_neg) >= target_fraction:
        needed -= 1
    while needed / (needed + n_neg) < target_fraction:
        needed += 1
    base, extra = divmod(needed, n_pos)
    positions = np.flatnonzero(positive)
    copies[positions] = base
    copies[rng.choice(positions, size=extra, replace=False)] += 1
    return copies


def make_split(
    dataset,
    strategy: str,
    *,
    test_size: float = 0.2,
    val_size: float = 0.2,
    n_splits: int | None = None,
    gap_ms: float | None = None,
    test_groups: Sequence | None = None,
    seed: int = 0,
    oversample_pos_to: float | None = None,
) -> tuple[pd.DataFrame, dict]:
    """Assign a dataset's windows to train/val/test, as one holdout or ``n_splits`` folds.

    ``test_size`` and ``val_size`` are shares of the whole dataset: of the
    windows for random and stratified, of the groups for group,
    stratified-group and explicit groups, of each group's events for
    intra-group and of each recording's windows (in time order) for time. With
    ``n_splits``, each fold's test set is that fold's part (``test_size`` is
    not used) and validation is drawn from the rest as the strategy draws test.

    Strategies (each is registered in :data:`SPLIT_STRATEGIES`, which says what it measures):

    - ``random``: windows at random (k-fold: :class:`~sklearn.model_selection.KFold`, shuffled).
    - ``stratified``: the same, keeping class balance (:class:`~sklearn.model_selection.StratifiedKFold`).
    - ``group``: whole groups (:class:`~sklearn.model_selection.GroupKFold`, shuffled); with
      ``test_groups``, exactly those groups are test and validation groups come from the rest.
    - ``stratified-group``: whole groups, the most class-balanced of several random draws.
    - ``logo``: one fold per group (:class:`~sklearn.model_selection.LeaveOneGroupOut`), whatever ``n_splits``
      says (so one ``n_splits`` can serve several strategies in a benchmark); ``parameters["n_splits"]`` records
      the number of folds made.
    - ``intra-group``: within each group, its last events in time are test and the ones before validation
      (k-fold: :class:`~hardneg.split.IntraGroupSplit`); every group is in train and test.
    - ``time``: the last ``test_size`` of each recording's windows in time are test, the ``val_size`` before
      them validation; training windows within ``gap_ms`` of a validation or test window, and validation
      windows within it of a test window, are purged (k-fold: :class:`~hardneg.split.TimeBlockedSplit`).

    Parameters
    ----------
    dataset : Dataset, path or pandas.DataFrame
        The dataset (or its directory), or a bare window index (then ``time`` needs ``gap_ms``).
    strategy : str
        A name in :data:`SPLIT_STRATEGIES`.
    test_size, val_size : float, default=0.2
        Shares for test (in (0, 1)) and validation (in [0, 1)); ``val_size=0`` makes no validation subset.
    n_splits : int, default=None
        Number of cross-validation folds; None makes one holdout (fold 0). Not used by ``logo``.
    gap_ms : float, default=None
        Purge gap for ``time``; None = :func:`~hardneg.split.default_gap_ms` of the dataset.
    test_groups : sequence, default=None
        With ``strategy="group"``: the test groups (compared as text).
    seed : int, default=0
        Same seed, same frame.
    oversample_pos_to : float, default=None
        Repeat training positives until they are this share of the training rows
        (:func:`oversample_positives`); validation and test are never touched.

    Returns
    -------
    frame : pandas.DataFrame
        Columns ``fold``, ``window_id``, ``subset``, ``copies``, sorted by fold and window id.
    info : dict
        ``name`` (the strategy until saved under another), ``strategy``, ``parameters``, ``gap_ms`` (float for
        time, else None), ``measures`` (one sentence) and ``counts`` per fold and subset.

    Examples
    --------
    A bare index of 24 windows: four groups (one recording each) of six windows a second apart.

    >>> index = pd.DataFrame({"window_id": range(24), "label": [1, 0, 0] * 8,
    ...                       "group": np.repeat(["a", "b", "c", "d"], 6),
    ...                       "recording": np.repeat(["r1", "r2", "r3", "r4"], 6),
    ...                       "start_ms": np.tile(np.arange(6) * 1000.0, 4)})
    >>> index["end_ms"] = index["start_ms"] + 500
    >>> frame, info = make_split(index, "group", seed=0)
    >>> frame.groupby("subset").size().to_dict(), info["counts"]["folds"][0]["test"]["groups"]
    ({'test': 6, 'train': 12, 'val': 6}, 1)
    >>> frame, info = make_split(index, "group", test_groups=["a"], val_size=0.25)
    >>> sorted(index.loc[frame.query("subset == 'test'").window_id, "group"].unique())
    ['a']
    >>> frame, info = make_split(index, "time", n_splits=3, gap_ms=0.0, oversample_pos_to=0.5)
    >>> frame.groupby("fold").size().tolist(), int(frame.copies.max()), info["gap_ms"]
    ([24, 24, 24], 2, 0.0)
    """
    frame_index, meta = _load(dataset)
    validate_value("strategy", strategy, [Options(SPLIT_STRATEGIES)])
    spec = SPLIT_STRATEGIES[strategy]
    test_size, val_size, n_splits, seed = _check_sizes(test_size, val_size, n_splits, seed)
    validate_value("gap_ms", gap_ms, [None, GAP_MS])
    gap_ms = None if gap_ms is None else float(gap_ms)
    spec.check_options(n_splits=n_splits, gap_ms=gap_ms, test_groups=test_groups)
    validate_value("oversample_pos_to", oversample_pos_to, [None, _FRACTION])

    index, labels = spec.check_index(frame_index)
    window_ids = index["window_id"].to_numpy(np.int64)
    # One independent stream each for the test draw, the validation draw and the oversampling copies.
    split_rng, val_rng, copies_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3))
    context = SplitContext(
        index, labels, strategy, test_size, val_size, n_splits, split_rng, val_rng,
        gap_ms=gap_ms, test_groups=test_groups, default_gap_ms=lambda: _gap_for(dataset, meta),
    )  # fmt: skip

    parts = []
    n_folds = 0
    for fold, codes in enumerate(spec.iter_folds(context)):
        n_folds += 1
        copies = np.ones(len(codes), dtype=np.int32)
        if oversample_pos_to is not None:
            train = np.flatnonzero(codes == TRAIN)
            copies[train] = oversample_positives(train, labels, oversample_pos_to, copies_rng)
        used = np.flatnonzero(codes != UNUSED)
        parts.append(
            pd.DataFrame(
                {
                    "fold": np.full(len(used), fold, dtype=np.int32),
                    "window_id": window_ids[used],
                    "subset": pd.array([SUBSET_NAMES[code] for code in codes[used]], dtype="str"),
                    "copies": copies[used],
                }
            )
        )
    used_gap = context.gap_ms
    frame = pd.concat(parts, ignore_index=True).sort_values(["fold", "window_id"], kind="stable", ignore_index=True)
    explicit = test_groups is not None
    parameters = {
        "test_size": None if n_splits is not None else test_size,
        "val_size": val_size,
        "n_splits": n_splits if strategy != "logo" else n_folds,
        "gap_ms": used_gap,
        "test_groups": sorted({str(name).strip() for name in group_names(test_groups)}) if explicit else None,
        "seed": seed,
        "oversample_pos_to": None if oversample_pos_to is None else float(oversample_pos_to),
    }
    info = {
        "name": strategy,
        "strategy": strategy,
        "parameters": parameters,
        "gap_ms": used_gap,
        "measures": spec.describe(parameters["test_groups"]),
        "counts": split_counts(frame, index),
    }
    return frame, info


def split_counts(frame: pd.DataFrame, index: pd.DataFrame) -> dict:
    """Windows, positives, groups, recordings and rows (copies) per fold and subset of a split frame."""
    by_id = index.set_index("window_id")
    folds = []
    for fold, rows in frame.groupby("fold", sort=True):
        entry: dict = {"fold": int(fold)}
        for subset in ("train", "val", "test"):
            part = rows[rows["subset"] == subset]
            ids = part["window_id"].to_numpy()
            labels = by_id["label"].reindex(ids).to_numpy() if len(ids) else np.zeros(0)
            copies = part["copies"].to_numpy()
            entry[subset] = {
                "windows": len(ids),
                "positives": int((labels == 1).sum()),
                "rows": int(copies.sum()),
                "positive_rows": int(copies[labels == 1].sum()),
                "groups": int(by_id["group"].reindex(ids).nunique()) if "group" in by_id else None,
                "recordings": int(by_id["recording"].reindex(ids).nunique()) if "recording" in by_id else None,
            }
        entry["unused"] = int(len(index) - len(rows))
        folds.append(entry)
    return {"windows": len(index), "positives": int((index["label"] == 1).sum()), "folds": folds}


# ---------------------------------------------------------------------------------------------------------------------
# inputs


def _load(dataset) -> tuple[pd.DataFrame, dict]:
    from hardneg.dataset import Dataset

    if isinstance(dataset, pd.DataFrame):
        return dataset, {}
    if isinstance(dataset, (str, bytes)) or hasattr(dataset, "__fspath__"):
        dataset = Dataset.load(dataset)
    if not isinstance(getattr(dataset, "index", None), pd.DataFrame):
        raise InputError(f"make_split: expected a Dataset, its directory or an index DataFrame, got {type(dataset)}")
    return dataset.index, getattr(dataset, "meta", {}) or {}


def _gap_for(dataset, meta: dict) -> float:
    if isinstance(dataset, pd.DataFrame):
        raise InputError(
            "gap_ms is needed for strategy time on a bare index (there is no meta.json to derive it from)",
            parameter="gap_ms",
        )
    return default_gap_ms(meta)


def check_both_classes(labels) -> None:
    """Refuse a one-class dataset, which ``hardneg split`` and ``hardneg bench`` cannot use: no split of it can
    measure a detector, and the strategies' own complaints (too few groups, empty folds) would hide why.

    :func:`make_split` itself splits one class (a sub-sample may hold one), so callers check first.

    Parameters
    ----------
    labels : array-like of 0 and 1
        The dataset's labels.

    Examples
    --------
    >>> check_both_classes(np.array([1, 1, 1]))
    Traceback (most recent call last):
    ...
    hardneg.errors.InputError: the dataset holds only positive windows (3) and no negative one: no detector can be \
trained or measured on one class; sample it again with negatives (--neg-mult above 0, or relax the filters its summary names), \
or add some with --hard-negatives
    """
    labels = np.asarray(labels)
    positives = int((labels == 1).sum())
    negatives = len(labels) - positives
    if positives and negatives:
        return
    if not len(labels):
        raise InputError("the dataset holds no windows; sample one with `hardneg sample`")
    if negatives == 0:
        todo = (
            "sample it again with negatives (--neg-mult above 0, or relax the filters its summary names), or add "
            "some with --hard-negatives"
        )
        raise InputError(
            f"the dataset holds only positive windows ({positives}) and no negative one: no detector can be trained "
            f"or measured on one class; {todo}"
        )
    raise InputError(
        f"the dataset holds only negative windows ({negatives}) and no positive one: no detector can be trained or "
        "measured on one class; sample it again with the events that mark positives (--events, --event-labels or "
        "--event-symbols)"
    )


def _check_sizes(test_size, val_size, n_splits, seed) -> tuple[float, float, int | None, int]:
    validate_value("test_size", test_size, [_FRACTION])
    validate_value("val_size", val_size, [Interval(Real, 0, 1, closed="left")])
    if n_splits is None and test_size + val_size >= 1:
        raise InputError(
            f"test_size {test_size} plus val_size {val_size} leave nothing for training; make their sum < 1 "
            "(lower either)",
            parameter="test_size",
        )
    validate_value("n_splits", n_splits, [None, N_SPLITS])
    if n_splits is not None:
        n_splits = int(n_splits)
        if val_size >= 1 - 1 / n_splits:
            raise InputError(
                f"val_size {val_size} leaves nothing for training once 1/{n_splits} of the data is a test fold; "
                f"make it < {1 - 1 / n_splits:.3g}",
                parameter="val_size",
            )
    return float(test_size), float(val_size), n_splits, check_seed(seed)
