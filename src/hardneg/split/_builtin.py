"""The built-in split strategies: random, stratified, group, stratified-group, logo, intra-group and time.

Each is a :class:`~hardneg.split.SplitStrategy` whose one hook,
``draw_folds``, turns a checked :class:`~hardneg.split.SplitContext`
into the subset codes of every fold; importing this module registers them.

Examples
--------
>>> from hardneg.split import SPLIT_STRATEGIES
>>> list(SPLIT_STRATEGIES)[:7]
['random', 'stratified', 'group', 'stratified-group', 'logo', 'intra-group', 'time']
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupKFold, KFold, LeaveOneGroupOut, StratifiedKFold, StratifiedShuffleSplit

from hardneg.errors import InputError
from hardneg.split._blocks import (
    TEST,
    TRAIN,
    UNUSED,
    VAL,
    check_events_per_group,
    event_ranks,
    explicit_test_mask,
    recording_ranks,
    short_groups_note,
    time_blocks,
    within_gap,
)
from hardneg.split._registry import (
    SplitContext,
    SplitStrategy,
    ceil_share,
    codes_from_test,
    register_split_strategy,
    sk_seed,
)

__all__ = [
    "GroupStrategy",
    "IntraGroupStrategy",
    "LeaveOneGroupOutStrategy",
    "RandomStrategy",
    "StratifiedGroupStrategy",
    "StratifiedStrategy",
    "TimeStrategy",
]

# How many random group draws the stratified-group strategy compares (the best class balance wins).
_GROUP_DRAWS = 64


# ---------------------------------------------------------------------------------------------------------------------
# random and stratified (windows)


@register_split_strategy
class RandomStrategy(SplitStrategy):
    """Windows at random (k-fold: :class:`~sklearn.model_selection.KFold`, shuffled)."""

    name = "random"
    measures = (
        "how well the model recognises windows from the recordings and groups it trained on, often right next to "
        "its training windows: an optimistic upper bound, not generalisation to new recordings or groups"
    )

    def draw_folds(self, ctx: SplitContext) -> list[np.ndarray]:
        return _window_folds(ctx, ctx.split_rng, stratify=False)


@register_split_strategy
class StratifiedStrategy(SplitStrategy):
    """Windows at random keeping class balance (k-fold: :class:`~sklearn.model_selection.StratifiedKFold`)."""

    name = "stratified"
    measures = (
        "the same as random with each subset keeping the dataset's class balance: windows from recordings and "
        "groups the model trained on, an optimistic upper bound, not generalisation to new ones"
    )

    def draw_folds(self, ctx: SplitContext) -> list[np.ndarray]:
        return _window_folds(ctx, ctx.split_rng, stratify=True)


def _window_folds(ctx: SplitContext, rng: np.random.Generator, stratify: bool) -> list[np.ndarray]:
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
        n_test = ceil_share(ctx.test_size, ctx.n)
        n_val = ceil_share(ctx.val_size, ctx.n)
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
            f"n_splits={ctx.n_splits} greater than the number of windows: {ctx.n}; make fewer folds",
            parameter="n_splits",
        )
    if stratify:
        splitter = StratifiedKFold(ctx.n_splits, shuffle=True, random_state=sk_seed(rng))
    else:
        splitter = KFold(ctx.n_splits, shuffle=True, random_state=sk_seed(rng))
    folds = []
    for _, test in splitter.split(X, y):
        codes = np.full(ctx.n, TRAIN, dtype=np.int8)
        codes[test] = TEST
        folds.append(_with_window_val(ctx, codes, stratify))
    return folds


def _stratified_pick(candidates: np.ndarray, y: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """``size`` of ``candidates`` drawn with scikit-learn's StratifiedShuffleSplit."""
    splitter = StratifiedShuffleSplit(n_splits=1, test_size=size, random_state=sk_seed(rng))
    try:
        _, picked = next(splitter.split(np.zeros((len(candidates), 1)), y[candidates]))
    except ValueError as error:  # e.g. a class with a single member left: say which strategy hit it
        raise InputError(f"strategy stratified: {error}") from None
    return candidates[picked]


def _with_window_val(ctx: SplitContext, codes: np.ndarray, stratify: bool) -> np.ndarray:
    if ctx.val_size == 0:
        return codes
    train = np.flatnonzero(codes == TRAIN)
    n_val = ceil_share(ctx.val_size, ctx.n)
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


@register_split_strategy
class GroupStrategy(SplitStrategy):
    """Whole groups (k-fold: :class:`~sklearn.model_selection.GroupKFold`, shuffled).

    With ``test_groups``, exactly those groups are test and validation groups come from the rest.
    """

    name = "group"
    measures = "how well the model generalises to groups (subjects, sessions, patients) it has never seen"
    columns = ("window_id", "label", "group")
    options = ("test_groups",)

    def check_options(self, *, n_splits, gap_ms, test_groups) -> None:
        super().check_options(n_splits=n_splits, gap_ms=gap_ms, test_groups=test_groups)
        if test_groups is not None and n_splits is not None:
            raise InputError("test_groups makes one fixed split; leave out n_splits", parameter="test_groups")

    def describe(self, test_groups: list[str] | None = None) -> str:
        if test_groups:
            shown = ", ".join(test_groups[:8]) + (f" and {len(test_groups) - 8} more" if len(test_groups) > 8 else "")
            return f"how well the model generalises to the chosen test groups ({shown}), none of which it trained on"
        return self.measures

    def draw_folds(self, ctx: SplitContext) -> list[np.ndarray]:
        if ctx.test_groups is not None:
            test = explicit_test_mask(ctx.index["group"], ctx.test_groups, "strategy group")
            return [_with_group_val(ctx, np.where(test, TEST, TRAIN))]
        group_codes, n_groups = _groups(ctx)
        if ctx.n_splits is None:
            n_test = ceil_share(ctx.test_size, n_groups)
            _check_group_room(ctx, n_groups, n_test)
            test_groups = ctx.split_rng.permutation(n_groups)[:n_test]
            return [_with_group_val(ctx, codes_from_test(ctx.n, np.flatnonzero(np.isin(group_codes, test_groups))))]
        splitter = GroupKFold(ctx.n_splits, shuffle=True, random_state=sk_seed(ctx.split_rng))
        splits = splitter.split(np.zeros((ctx.n, 1)), groups=group_codes)
        return [_with_group_val(ctx, codes_from_test(ctx.n, test)) for _, test in splits]


@register_split_strategy
class StratifiedGroupStrategy(SplitStrategy):
    """Whole groups, the most class-balanced of several random draws (so the seed matters)."""

    name = "stratified-group"
    measures = (
        "how well the model generalises to groups it has never seen, with whole groups drawn so that each subset "
        "keeps the class balance as closely as groups allow"
    )
    columns = ("window_id", "label", "group")

    def draw_folds(self, ctx: SplitContext) -> list[np.ndarray]:
        group_codes, n_groups = _groups(ctx)
        counts = _class_counts_per_group(group_codes, ctx.labels, n_groups)
        if ctx.n_splits is None:
            n_test = ceil_share(ctx.test_size, n_groups)
            _check_group_room(ctx, n_groups, n_test)
            best = _best_draw(ctx.split_rng, counts, lambda order: [order[:n_test]])
            return [_with_group_val(ctx, codes_from_test(ctx.n, np.flatnonzero(np.isin(group_codes, best[0]))))]
        best = _best_draw(ctx.split_rng, counts, lambda order: np.array_split(order, ctx.n_splits))
        return [
            _with_group_val(ctx, codes_from_test(ctx.n, np.flatnonzero(np.isin(group_codes, part)))) for part in best
        ]


@register_split_strategy
class LeaveOneGroupOutStrategy(SplitStrategy):
    """One fold per group (:class:`~sklearn.model_selection.LeaveOneGroupOut`), whatever ``n_splits`` says."""

    name = "logo"
    measures = (
        "how well the model generalises to each unseen group on its own (one fold per group left out), so the "
        "spread across folds shows which groups are hard"
    )
    columns = ("window_id", "label", "group")

    def draw_folds(self, ctx: SplitContext) -> list[np.ndarray]:
        group_codes, names = pd.factorize(ctx.index["group"].astype(str), sort=True)
        n_groups = len(names)
        if n_groups < 2:
            raise InputError(f"strategy logo: The groups parameter contains fewer than 2 unique groups ({n_groups})")
        splits = LeaveOneGroupOut().split(np.zeros((ctx.n, 1)), groups=group_codes)
        return [_with_group_val(ctx, codes_from_test(ctx.n, test)) for _, test in splits]


def _groups(ctx: SplitContext) -> tuple[np.ndarray, int]:
    """Group code per row and the number of groups, refusing more folds than groups."""
    group_codes, names = pd.factorize(ctx.index["group"].astype(str), sort=True)
    n_groups = len(names)
    if ctx.n_splits is not None and ctx.n_splits > n_groups:
        raise InputError(
            f"n_splits={ctx.n_splits} greater than the number of groups: {n_groups}; make at most {n_groups} folds "
            "(each fold tests at least one group), or use strategy logo",
            parameter="n_splits",
        )
    return group_codes, n_groups


def _check_group_room(ctx: SplitContext, n_groups: int, n_test: int) -> None:
    n_val = ceil_share(ctx.val_size, n_groups)
    if n_test + n_val >= n_groups:
        raise InputError(
            f"strategy {ctx.strategy}: {n_groups} groups are too few for {n_test} test, {n_val} validation and at "
            "least one training group; lower --test-size or --val-size (0 for no validation) or use another strategy"
        )


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


def _with_group_val(ctx: SplitContext, codes: np.ndarray) -> np.ndarray:
    """Validation groups drawn from the fold's training groups (``val_size`` of all groups)."""
    if ctx.val_size == 0:
        return codes
    group_codes, names = pd.factorize(ctx.index["group"].astype(str), sort=True)
    train_groups = np.unique(group_codes[codes == TRAIN])
    n_val = ceil_share(ctx.val_size, len(names))
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


@register_split_strategy
class IntraGroupStrategy(SplitStrategy):
    """Within each group, its last events in time are test and the ones before validation.

    k-fold: :class:`~hardneg.split.IntraGroupSplit`; every group is in train and test.
    """

    name = "intra-group"
    measures = (
        "how well the model separates events within groups it has seen (each group's later events tested after "
        "training on its earlier ones), not generalisation to new groups"
    )
    columns = ("window_id", "label", "group", "recording", "start_ms", "event_id")

    def draw_folds(self, ctx: SplitContext) -> list[np.ndarray]:
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
                codes = _intra_group_val(ctx, codes, ranks, n_units, blocks, fold)
            folds.append(codes)
        return folds


def _tail_counts(total: np.ndarray, share: float, at_least_one: bool) -> np.ndarray:
    counts = np.floor(share * total + 0.5).astype(np.int64)
    if at_least_one and share > 0:
        counts = np.maximum(counts, 1)
    return counts


def _intra_group_val(ctx, codes, ranks, n_units, blocks, fold) -> np.ndarray:
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


@register_split_strategy
class TimeStrategy(SplitStrategy):
    """The last ``test_size`` of each recording's windows in time are test, the ``val_size`` before them validation.

    Training windows within ``gap_ms`` of a validation or test window, and validation windows within it of a test
    window, are purged (k-fold: :class:`~hardneg.split.TimeBlockedSplit`).
    """

    name = "time"
    measures = (
        "how well the model predicts a held-out stretch of time in recordings whose other stretches it trained on, "
        "with a purge gap so no training window overlaps or sits near a test window; not generalisation to new "
        "recordings or groups"
    )
    columns = ("window_id", "label", "recording", "start_ms", "end_ms")
    options = ("gap_ms",)

    def draw_folds(self, ctx: SplitContext) -> list[np.ndarray]:
        if ctx.gap_ms is None:
            ctx.gap_ms = ctx.default_gap_ms()
        gap = ctx.gap_ms
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
