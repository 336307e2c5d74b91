"""Named split strategies: one call turns a dataset into a split frame (holdout or k-fold) and its description.

A split frame is long format, one row per (fold, window) that is used:
``fold`` (int32, 0 for a holdout), ``window_id`` (int64), ``subset``
("train", "val" or "test") and ``copies`` (int32, > 1 only for oversampled
training positives). A window missing from a fold is unused there (purged).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupKFold, KFold, LeaveOneGroupOut, StratifiedKFold, StratifiedShuffleSplit

from hardneg.errors import InputError
from hardneg.sample.config import check_choice
from hardneg.split.splitters import (
    SUBSET_NAMES,
    TEST,
    TRAIN,
    UNUSED,
    VAL,
    check_events_per_group,
    check_gap_ms,
    check_index,
    default_gap_ms,
    event_ranks,
    explicit_test_mask,
    recording_ranks,
    short_groups_note,
    time_blocks,
    within_gap,
)

#: Strategy name -> what a score on it measures (one sentence, shown in reports next to every number).
STRATEGIES: dict[str, str] = {
    "random": (
        "how well the model recognises windows from the recordings and groups it trained on, often right next to "
        "its training windows: an optimistic upper bound, not generalisation to new recordings or groups"
    ),
    "stratified": (
        "the same as random with each subset keeping the dataset's class balance: windows from recordings and "
        "groups the model trained on, an optimistic upper bound, not generalisation to new ones"
    ),
    "group": "how well the model generalises to groups (subjects, sessions, patients) it has never seen",
    "stratified-group": (
        "how well the model generalises to groups it has never seen, with whole groups drawn so that each subset "
        "keeps the class balance as closely as groups allow"
    ),
    "logo": (
        "how well the model generalises to each unseen group on its own (one fold per group left out), so the "
        "spread across folds shows which groups are hard"
    ),
    "intra-group": (
        "how well the model separates events within groups it has seen (each group's later events tested after "
        "training on its earlier ones), not generalisation to new groups"
    ),
    "time": (
        "how well the model predicts a held-out stretch of time in recordings whose other stretches it trained on, "
        "with a purge gap so no training window overlaps or sits near a test window; not generalisation to new "
        "recordings or groups"
    ),
}

#: Strategies whose split depends on the seed (the others only through validation draws and oversampling).
RANDOM_STRATEGIES = ("random", "stratified", "group", "stratified-group")

# How many random group draws the stratified-group strategy compares (the best class balance wins).
_GROUP_DRAWS = 64


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
    labels = np.asarray(labels)
    if (
        isinstance(target_fraction, bool)
        or not isinstance(target_fraction, numbers.Real)
        or not 0 < target_fraction < 1
    ):
        raise InputError(f"--oversample-pos-to must be in (0, 1), got {target_fraction!r}")
    if len(train_ids) and (train_ids.min() < 0 or train_ids.max() >= len(labels)):
        raise InputError(
            f"oversample_positives: train ids reach {int(train_ids.max())} but labels has {len(labels)} entries; "
            "pass the labels of every window, indexed by window id"
        )
    rng = np.random.default_rng(rng)
    positive = labels[train_ids] == 1
    n_pos = int(positive.sum())
    n_neg = len(train_ids) - n_pos
    copies = np.ones(len(train_ids), dtype=np.int32)
    if n_pos == 0:
        raise InputError(f"--oversample-pos-to {target_fraction}: the training subset has no positive window to repeat")
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

    Strategies (what each measures is in :data:`STRATEGIES`):

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
        One of :data:`STRATEGIES`.
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
    >>> frame, info = make_split(dataset, "group", seed=0)  # doctest: +SKIP
    >>> frame.groupby("subset").size()  # doctest: +SKIP
    >>> frame, info = make_split(dataset, "group", test_groups=["100", "103"], val_size=0.1)  # doctest: +SKIP
    >>> frame, info = make_split(dataset, "time", n_splits=5, oversample_pos_to=0.3)  # doctest: +SKIP
    """
    frame_index, meta = _load(dataset)
    check_choice("--strategy", strategy, tuple(STRATEGIES))
    test_size, val_size, n_splits, seed = _check_sizes(strategy, test_size, val_size, n_splits, seed)
    gap_ms = check_gap_ms(gap_ms, "make_split")
    if gap_ms is not None and strategy != "time":
        raise InputError(f"--gap-ms applies to --strategy time only, not {strategy}; leave it out")
    if test_groups is not None and strategy != "group":
        raise InputError(f"--test-groups applies to --strategy group only, not {strategy}")
    if test_groups is not None and n_splits is not None:
        raise InputError("--test-groups makes one fixed split; leave out --n-splits")
    if oversample_pos_to is not None and (
        isinstance(oversample_pos_to, bool)
        or not isinstance(oversample_pos_to, numbers.Real)
        or not 0 < oversample_pos_to < 1
    ):
        raise InputError(f"--oversample-pos-to must be in (0, 1), got {oversample_pos_to!r}")

    columns = ["window_id", "label"]
    if strategy in ("group", "stratified-group", "logo", "intra-group"):
        columns.append("group")
    if strategy == "time":
        columns += ["recording", "start_ms", "end_ms"]
    if strategy == "intra-group":
        columns += ["recording", "start_ms", "event_id"]
    index = check_index(frame_index, columns, f"strategy {strategy}")
    labels = _check_labels(index)
    window_ids = index["window_id"].to_numpy(np.int64)
    if pd.Series(window_ids).duplicated().any():
        raise InputError("the index repeats window ids; every window needs its own window_id")

    split_rng, val_rng, copies_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3))
    context = _Context(index, labels, strategy, test_size, val_size, n_splits, val_rng)
    used_gap = None
    if strategy in ("random", "stratified"):
        folds = _window_folds(context, split_rng, stratify=strategy == "stratified")
    elif strategy == "group" and test_groups is not None:
        test = explicit_test_mask(index["group"], test_groups, "strategy group")
        folds = [_with_group_val(context, np.where(test, TEST, TRAIN))]
    elif strategy in ("group", "stratified-group", "logo"):
        folds = _group_folds(context, split_rng)
    elif strategy == "intra-group":
        folds = _intra_group_folds(context)
    else:
        used_gap = gap_ms if gap_ms is not None else _gap_for(dataset, meta)
        folds = _time_folds(context, used_gap)

    parts = []
    for fold, codes in enumerate(folds):
        _check_fold(codes, fold, strategy, val_size, used_gap)
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
    frame = pd.concat(parts, ignore_index=True).sort_values(["fold", "window_id"], kind="stable", ignore_index=True)
    explicit = test_groups is not None
    parameters = {
        "test_size": None if n_splits is not None else test_size,
        "val_size": val_size,
        "n_splits": n_splits if strategy != "logo" else len(folds),
        "gap_ms": used_gap,
        "test_groups": sorted({str(name).strip() for name in _names(test_groups)}) if explicit else None,
        "seed": seed,
        "oversample_pos_to": None if oversample_pos_to is None else float(oversample_pos_to),
    }
    info = {
        "name": strategy,
        "strategy": strategy,
        "parameters": parameters,
        "gap_ms": used_gap,
        "measures": _measures(strategy, parameters["test_groups"]),
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
        raise InputError("--strategy time on a bare index needs --gap-ms (there is no meta.json to derive it from)")
    return default_gap_ms(meta)


def _check_sizes(strategy, test_size, val_size, n_splits, seed):
    for option, value, low_open in (("--test-size", test_size, True), ("--val-size", val_size, False)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
            raise InputError(f"{option} must be a number, got {value!r}")
        if not ((0 < value) if low_open else (0 <= value)) or not value < 1:
            raise InputError(f"{option} must be in {'(' if low_open else '['}0, 1), got {value}")
    if n_splits is None and test_size + val_size >= 1:
        raise InputError(
            f"--test-size {test_size} plus --val-size {val_size} leave nothing for training; make their sum < 1"
        )
    if n_splits is not None:
        if isinstance(n_splits, bool) or not isinstance(n_splits, numbers.Integral) or n_splits < 2:
            raise InputError(f"--n-splits must be an integer >= 2, got {n_splits!r}")
        n_splits = int(n_splits)
        if val_size >= 1 - 1 / n_splits:
            raise InputError(
                f"--val-size {val_size} leaves nothing for training once 1/{n_splits} of the data is a test fold; "
                f"make it < {1 - 1 / n_splits:.3g}"
            )
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise InputError(f"--seed must be an integer >= 0, got {seed!r}")
    return float(test_size), float(val_size), n_splits, int(seed)


def _check_labels(index: pd.DataFrame) -> np.ndarray:
    labels = index["label"].to_numpy()
    if pd.isna(index["label"]).any() or not np.isin(labels, (0, 1)).all():
        raise InputError("the index's label column must hold 0 and 1 only")
    return labels.astype(np.int8)


def _names(test_groups) -> list:
    if test_groups is None:
        return []
    if isinstance(test_groups, str):
        return [part for part in test_groups.split(",") if part.strip()]
    return list(test_groups)


def _measures(strategy: str, test_groups: list[str] | None) -> str:
    if test_groups:
        shown = ", ".join(test_groups[:8]) + (f" and {len(test_groups) - 8} more" if len(test_groups) > 8 else "")
        return f"how well the model generalises to the chosen test groups ({shown}), none of which it trained on"
    return STRATEGIES[strategy]


def _check_fold(codes: np.ndarray, fold: int, strategy: str, val_size: float, gap: float | None) -> None:
    for code, name in ((TRAIN, "train"), (TEST, "test")) + (((VAL, "val"),) if val_size > 0 else ()):
        if not (codes == code).any():
            hint = f" after purging gap_ms={gap:g}; use a smaller --gap-ms" if gap is not None else ""
            raise InputError(
                f"strategy {strategy}: fold {fold} has no {name} windows{hint}; change --test-size, --val-size or "
                "--n-splits"
            )


class _Context:
    """What every strategy needs: the index, labels, sizes and the validation generator."""

    def __init__(self, index, labels, strategy, test_size, val_size, n_splits, val_rng):
        self.index = index
        self.labels = labels
        self.strategy = strategy
        self.test_size = test_size
        self.val_size = val_size
        self.n_splits = n_splits
        self.val_rng = val_rng
        self.n = len(index)


def _sk_seed(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**31 - 1))


def _ceil_share(share: float, total: int) -> int:
    # scikit-learn's rounding for test_size (ceil), guarded against 0.2 * 10 = 2.0000000000000004.
    return math.ceil(round(share * total, 9))


# ---------------------------------------------------------------------------------------------------------------------
# random and stratified (windows)


def _window_folds(ctx: _Context, rng: np.random.Generator, stratify: bool) -> list[np.ndarray]:
    X = np.zeros((ctx.n, 1))
    y = ctx.labels
    if stratify:
        counts = np.bincount(y, minlength=2)
        need = 2 if ctx.n_splits is None else ctx.n_splits
        if counts.min() < need:
            raise InputError(
                f"strategy stratified: n_splits={need} cannot be greater than the number of members in each class "
                f"(positives {counts[1]}, negatives {counts[0]}); use strategy random or fewer splits"
            )
    if ctx.n_splits is None:
        n_test = _ceil_share(ctx.test_size, ctx.n)
        n_val = _ceil_share(ctx.val_size, ctx.n)
        if n_test + n_val >= ctx.n:
            raise InputError(f"strategy {ctx.strategy}: {ctx.n} windows are too few for train, val and test")
        if stratify:
            test = _stratified_pick(np.arange(ctx.n), y, n_test, rng)
        else:
            test = rng.permutation(ctx.n)[:n_test]
        codes = np.full(ctx.n, TRAIN, dtype=np.int8)
        codes[test] = TEST
        return [_with_window_val(ctx, codes, stratify)]
    if ctx.n_splits > ctx.n:
        raise InputError(
            f"Cannot have number of splits n_splits={ctx.n_splits} greater than the number of samples: "
            f"n_samples={ctx.n}"
        )
    if stratify:
        splitter = StratifiedKFold(ctx.n_splits, shuffle=True, random_state=_sk_seed(rng))
    else:
        splitter = KFold(ctx.n_splits, shuffle=True, random_state=_sk_seed(rng))
    folds = []
    for _, test in splitter.split(X, y):
        codes = np.full(ctx.n, TRAIN, dtype=np.int8)
        codes[test] = TEST
        folds.append(_with_window_val(ctx, codes, stratify))
    return folds


def _stratified_pick(candidates: np.ndarray, y: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """``size`` of ``candidates`` drawn with scikit-learn's StratifiedShuffleSplit."""
    splitter = StratifiedShuffleSplit(n_splits=1, test_size=size, random_state=_sk_seed(rng))
    try:
        _, picked = next(splitter.split(np.zeros((len(candidates), 1)), y[candidates]))
    except ValueError as error:  # e.g. a class with a single member left: say which strategy hit it
        raise InputError(f"strategy stratified: {error}") from None
    return candidates[picked]


def _with_window_val(ctx: _Context, codes: np.ndarray, stratify: bool) -> np.ndarray:
    if ctx.val_size == 0:
        return codes
    train = np.flatnonzero(codes == TRAIN)
    n_val = _ceil_share(ctx.val_size, ctx.n)
    if n_val >= len(train):
        raise InputError(f"strategy {ctx.strategy}: --val-size {ctx.val_size} leaves no training windows")
    if stratify:
        val = _stratified_pick(train, ctx.labels, n_val, ctx.val_rng)
    else:
        val = ctx.val_rng.choice(train, size=n_val, replace=False)
    codes = codes.copy()
    codes[val] = VAL
    return codes


# ---------------------------------------------------------------------------------------------------------------------
# group, stratified-group, logo


def _group_folds(ctx: _Context, rng: np.random.Generator) -> list[np.ndarray]:
    group_codes, names = pd.factorize(ctx.index["group"].astype(str), sort=True)
    n_groups = len(names)
    if ctx.strategy == "logo":
        if n_groups < 2:
            raise InputError(f"strategy logo: The groups parameter contains fewer than 2 unique groups ({n_groups})")
        splits = LeaveOneGroupOut().split(np.zeros((ctx.n, 1)), groups=group_codes)
        return [_with_group_val(ctx, _codes_from_test(ctx.n, test)) for _, test in splits]
    if ctx.n_splits is not None and ctx.n_splits > n_groups:
        raise InputError(
            f"Cannot have number of splits n_splits={ctx.n_splits} greater than the number of groups: {n_groups}"
        )
    if ctx.strategy == "group":
        if ctx.n_splits is None:
            n_test = _ceil_share(ctx.test_size, n_groups)
            _check_group_room(ctx, n_groups, n_test)
            test_groups = rng.permutation(n_groups)[:n_test]
            return [_with_group_val(ctx, _codes_from_test(ctx.n, np.flatnonzero(np.isin(group_codes, test_groups))))]
        splitter = GroupKFold(ctx.n_splits, shuffle=True, random_state=_sk_seed(rng))
        splits = splitter.split(np.zeros((ctx.n, 1)), groups=group_codes)
        return [_with_group_val(ctx, _codes_from_test(ctx.n, test)) for _, test in splits]
    # stratified-group: whole groups, the most class-balanced of several random draws, so the seed matters.
    counts = _class_counts_per_group(group_codes, ctx.labels, n_groups)
    if ctx.n_splits is None:
        n_test = _ceil_share(ctx.test_size, n_groups)
        _check_group_room(ctx, n_groups, n_test)
        best = _best_draw(rng, counts, lambda order: [order[:n_test]])
        return [_with_group_val(ctx, _codes_from_test(ctx.n, np.flatnonzero(np.isin(group_codes, best[0]))))]
    best = _best_draw(rng, counts, lambda order: np.array_split(order, ctx.n_splits))
    return [_with_group_val(ctx, _codes_from_test(ctx.n, np.flatnonzero(np.isin(group_codes, part)))) for part in best]


def _check_group_room(ctx: _Context, n_groups: int, n_test: int) -> None:
    n_val = _ceil_share(ctx.val_size, n_groups)
    if n_test + n_val >= n_groups:
        raise InputError(
            f"strategy {ctx.strategy}: {n_groups} groups are too few for {n_test} test, {n_val} validation and at "
            "least one training group; lower --test-size or --val-size (0 for no validation) or use another strategy"
        )


def _codes_from_test(n: int, test: np.ndarray) -> np.ndarray:
    codes = np.full(n, TRAIN, dtype=np.int8)
    codes[test] = TEST
    return codes


def _class_counts_per_group(group_codes: np.ndarray, labels: np.ndarray, n_groups: int) -> np.ndarray:
    return np.stack([np.bincount(group_codes[labels == c], minlength=n_groups) for c in (0, 1)], axis=1)


def _imbalance(counts: np.ndarray, parts: list[np.ndarray]) -> float:
    """StratifiedGroupKFold's criterion: the spread across parts of each class's share, averaged over classes."""
    totals = np.maximum(counts.sum(axis=0), 1)
    shares = np.stack([counts[part].sum(axis=0) / totals for part in parts])
    if len(parts) == 1:  # one held-out part: each class's share in it should equal its share of all windows
        size = counts[parts[0]].sum() / max(counts.sum(), 1)
        return float(np.abs(shares[0] - size).mean())
    return float(np.std(shares, axis=0).mean())


def _best_draw(rng: np.random.Generator, counts: np.ndarray, cut) -> list[np.ndarray]:
    best, best_score = None, np.inf
    for _ in range(_GROUP_DRAWS):
        parts = cut(rng.permutation(len(counts)))
        score = _imbalance(counts, parts)
        if score < best_score - 1e-12:
            best, best_score = parts, score
    return best


def _with_group_val(ctx: _Context, codes: np.ndarray) -> np.ndarray:
    """Validation groups drawn from the fold's training groups (``val_size`` of all groups)."""
    if ctx.val_size == 0:
        return codes
    group_codes, names = pd.factorize(ctx.index["group"].astype(str), sort=True)
    train_groups = np.unique(group_codes[codes == TRAIN])
    n_val = _ceil_share(ctx.val_size, len(names))
    if n_val >= len(train_groups):
        raise InputError(
            f"strategy {ctx.strategy}: {len(train_groups)} training groups are too few to draw {n_val} validation "
            "groups and keep one for training; lower --val-size (0 for no validation)"
        )
    if ctx.strategy == "stratified-group":
        counts = _class_counts_per_group(group_codes, ctx.labels, len(names))
        local = _best_draw(ctx.val_rng, counts[train_groups], lambda order: [order[:n_val]])[0]
        val_groups = train_groups[local]
    else:
        val_groups = ctx.val_rng.choice(train_groups, size=n_val, replace=False)
    codes = codes.copy()
    codes[(codes == TRAIN) & np.isin(group_codes, val_groups)] = VAL
    return codes


# ---------------------------------------------------------------------------------------------------------------------
# intra-group and time


def _tail_counts(total: np.ndarray, share: float, at_least_one: bool) -> np.ndarray:
    counts = np.floor(share * total + 0.5).astype(np.int64)
    if at_least_one and share > 0:
        counts = np.maximum(counts, 1)
    return counts


def _intra_group_folds(ctx: _Context) -> list[np.ndarray]:
    group_codes, ranks, n_units = event_ranks(ctx.index)
    who = "strategy intra-group"
    if ctx.n_splits is None:
        n_test = _tail_counts(n_units, ctx.test_size, True)
        n_val = _tail_counts(n_units, ctx.val_size, True)
        short = n_units - n_test - n_val < 1
        if short.any():
            row = int(np.flatnonzero(short)[0])
            note = short_groups_note(ctx.index, n_units, group_codes, short)
            raise InputError(
                f"{who}: group {ctx.index['group'].iloc[row]!r} has {int(n_units[row])} event(s), too few for "
                f"{int(n_test[row])} test, {int(n_val[row])} validation and one training event{note}; lower "
                "--test-size or --val-size, or leave such groups out of the dataset"
            )
        codes = np.full(ctx.n, TRAIN, dtype=np.int8)
        codes[ranks >= n_units - n_test] = TEST
        codes[(ranks >= n_units - n_test - n_val) & (ranks < n_units - n_test)] = VAL
        return [codes]
    check_events_per_group(ctx.index, n_units, group_codes, ctx.n_splits, who)
    blocks = (ranks * ctx.n_splits) // n_units
    folds = []
    for fold in range(ctx.n_splits):
        codes = np.where(blocks == fold, TEST, TRAIN).astype(np.int8)
        if ctx.val_size > 0:
            codes = _intra_group_val(ctx, codes, group_codes, ranks, n_units, blocks, fold)
        folds.append(codes)
    return folds


def _intra_group_val(ctx, codes, group_codes, ranks, n_units, blocks, fold) -> np.ndarray:
    """The latest ``val_size`` share of each group's events outside the test block become validation."""
    # Rank among the group's non-test events: test events form one contiguous run of ranks, so shift past it.
    test_lo = -((-fold * n_units) // ctx.n_splits)  # first rank of block `fold` (ceil(fold * E / k))
    test_hi = -((-(fold + 1) * n_units) // ctx.n_splits)
    n_rest = n_units - (test_hi - test_lo)
    rest_rank = np.where(ranks < test_lo, ranks, ranks - (test_hi - test_lo))
    n_val = _tail_counts(n_units, ctx.val_size, True)
    short = n_rest - n_val < 1
    if short.any():
        row = int(np.flatnonzero(short)[0])
        raise InputError(
            f"strategy intra-group: group {ctx.index['group'].iloc[row]!r} has {int(n_rest[row])} events outside "
            f"fold {fold}'s test block, too few for {int(n_val[row])} validation and one training event; lower "
            "--val-size or --n-splits"
        )
    codes = codes.copy()
    codes[(blocks != fold) & (rest_rank >= n_rest - n_val)] = VAL
    return codes


def _time_folds(ctx: _Context, gap: float) -> list[np.ndarray]:
    rec_codes, ranks, sizes = recording_ranks(ctx.index)
    start = ctx.index["start_ms"].to_numpy(np.float64)
    end = ctx.index["end_ms"].to_numpy(np.float64)
    if ctx.n_splits is None:
        n_test = _tail_counts(sizes, ctx.test_size, False)
        n_val = _tail_counts(sizes, ctx.val_size, False)
        codes = np.full(ctx.n, TRAIN, dtype=np.int8)
        codes[ranks >= sizes - n_test] = TEST
        codes[(ranks >= sizes - n_test - n_val) & (ranks < sizes - n_test)] = VAL
        return [_purge(codes, rec_codes, start, end, gap)]
    blocks = time_blocks(ctx.index, ctx.n_splits)
    folds = []
    for fold in range(ctx.n_splits):
        codes = np.where(blocks == fold, TEST, TRAIN).astype(np.int8)
        if ctx.val_size > 0:
            # The latest val_size share of each recording's windows outside the test block.
            outside = blocks != fold
            rest_rank = _rank_within(rec_codes, ranks, outside)
            n_rest = np.bincount(rec_codes, weights=outside).astype(np.int64)[rec_codes]
            n_val = _tail_counts(sizes, ctx.val_size, False)
            codes[outside & (rest_rank >= n_rest - n_val)] = VAL
        folds.append(_purge(codes, rec_codes, start, end, gap))
    return folds


def _rank_within(rec_codes: np.ndarray, ranks: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Rank of each kept window among the kept windows of its recording, in time order."""
    order = np.lexsort((ranks, rec_codes))
    kept_sorted = keep[order].astype(np.int64)
    running = np.cumsum(kept_sorted)
    # Subtract the running count at each recording's start so ranks restart per recording.
    starts = np.r_[0, np.flatnonzero(np.diff(rec_codes[order])) + 1]
    offset = np.repeat(np.r_[0, running[starts[1:] - 1]], np.diff(np.r_[starts, len(order)]))
    out = np.empty(len(order), dtype=np.int64)
    out[order] = running - offset - 1
    return out


def _purge(codes: np.ndarray, rec_codes: np.ndarray, start: np.ndarray, end: np.ndarray, gap: float) -> np.ndarray:
    """Drop training windows within the gap of validation or test, and validation windows within it of test."""
    codes = codes.copy()
    test = codes == TEST
    val = codes == VAL
    train = codes == TRAIN
    purge_train = within_gap(rec_codes, start, end, train, test | val, gap)
    purge_val = within_gap(rec_codes, start, end, val, test, gap)
    codes[purge_train | purge_val] = UNUSED
    return codes
