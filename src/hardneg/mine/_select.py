"""Selecting what was mined: temporal NMS, candidates, per-item aggregates and confidence tiers.

Every function here is pure over a **window table** (the scored windows of one or
many items: ``item, group, start_ms, end_ms, score``, plus ``frame`` for video) and
deterministic: the same rows in any order give the same output. The per-window
work is vectorised with numpy (segment reductions over the rows of each item, a
radix sort when the rows of an item are not contiguous), so tiering over 10 million
window scores takes well under two seconds; only temporal NMS visits items one by
one, and within an item it only loops over the windows that survive a vectorised
check against the windows already kept. Score statistics are in
:mod:`hardneg.mine._stats`; reading and writing the mining outputs is
:mod:`hardneg.mine._manifest`.

Tie rules, used throughout:

- the *rank* of a window within its item is score descending, then ``start_ms``
  ascending (ties to the earlier start), then ``end_ms`` ascending, then input
  order;
- ``argmax_ms`` is the start of the item's best window, ties to the earlier start;
- items are ranked by ``max_score`` descending, then ``item`` ascending.

Examples
--------
>>> import pandas as pd
>>> windows = pd.DataFrame({"item": ["a", "a", "a", "b"], "group": ["g", "g", "g", "h"],
...                         "start_ms": [0.0, 250.0, 1000.0, 0.0], "end_ms": [500.0, 750.0, 1500.0, 500.0],
...                         "score": [0.9, 0.95, 0.6, 0.3]})
>>> candidates, counts = select_candidates(windows, min_score=0.5, nms_ms=500)
>>> candidates[["item", "start_ms", "score"]].to_dict("records")
[{'item': 'a', 'start_ms': 250.0, 'score': 0.95}, {'item': 'a', 'start_ms': 1000.0, 'score': 0.6}]
>>> item_table(windows, topk=2)[["item", "max_score", "topk_mean", "argmax_ms"]].to_dict("records")
[{'item': 'a', 'max_score': 0.95, 'topk_mean': 0.925, 'argmax_ms': 250.0}, {'item': 'b', 'max_score': 0.3, 'topk_mean': 0.3, 'argmax_ms': 0.0}]
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Sequence
from numbers import Integral, Real

import numpy as np
import pandas as pd

from hardneg._schema import ITEM_COLUMNS, SCORED_WINDOW_COLUMNS, check_columns
from hardneg._validation import Interval, validate_value
from hardneg._validation import Sequence as ListOf
from hardneg.errors import InputError

__all__ = [
    "DEFAULT_TIERS",
    "ITEM_COLUMNS",
    "TIER_COLUMNS",
    "check_item_table",
    "check_tiers",
    "check_window_table",
    "float_column",
    "item_table",
    "rank_items",
    "select_candidates",
    "temporal_nms",
    "tier_label",
    "tier_tables",
]

#: the columns of a tier file, and what a table needs to be tiered
TIER_COLUMNS = ("item", "group", "max_score")
DEFAULT_TIERS = (0.5, 0.85, 0.99)

# Windows of one rank block checked against the kept windows at once in temporal NMS; doubles up to the cap so a
# long item with many suppressed windows costs a few vectorised passes, not a Python step per window.
_NMS_FIRST_BLOCK = 32
_NMS_MAX_BLOCK = 4096

_FINITE = Interval(Real, None, None, closed="neither")
_NON_NEGATIVE = Interval(Real, 0, None, closed="left")
_AT_LEAST_ONE = Interval(Integral, 1, None, closed="left")
_TIERS = ListOf(Interval(Real, 0, 1, closed="both"))


# --------------------------------------------------------------------------------------------------- validation


def check_window_table(windows, what: str = "window table") -> pd.DataFrame:
    """Return ``windows`` if it is a DataFrame with the window table's columns, else raise :class:`InputError`.

    Examples
    --------
    >>> import pandas as pd
    >>> check_window_table(pd.DataFrame({"item": ["a"], "score": [0.5]}))
    Traceback (most recent call last):
    ...
    hardneg.errors.InputError: window table: columns 'group', 'start_ms', 'end_ms' missing; expected item, group, start_ms, end_ms, score
    """
    if not isinstance(windows, pd.DataFrame):
        raise InputError(f"{what}: expected a pandas DataFrame, got {type(windows).__name__}")
    check_columns(windows, SCORED_WINDOW_COLUMNS, what)
    return windows


def check_item_table(items) -> pd.DataFrame:
    """Return ``items`` if it is a DataFrame with ``item, group, max_score``, else raise :class:`InputError`."""
    if not isinstance(items, pd.DataFrame):
        raise InputError(f"item table: expected a pandas DataFrame, got {type(items).__name__}")
    check_columns(items, TIER_COLUMNS, "item table", hint="make it with item_table()")
    return items


def float_column(windows: pd.DataFrame, column: str, what: str) -> np.ndarray:
    """``windows[column]`` as float64, or :class:`InputError` when it is not numeric or holds a NaN."""
    try:
        values = windows[column].to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as error:
        raise InputError(f"{what}: column {column!r} must be numeric ({error})") from None
    if values.size and np.isnan(values).any():
        row = int(np.flatnonzero(np.isnan(values))[0])
        raise InputError(f"{what}: column {column!r} is missing or NaN in row {row}; every window needs a {column}")
    return values


def _check_threshold(value, name: str, *, allow_none: bool = False) -> float | None:
    validate_value(name, value, [None, _FINITE] if allow_none else [_FINITE])
    return None if value is None else float(value)


def _check_max_per_item(max_per_item) -> int | None:
    validate_value("max_per_item", max_per_item, [None, _AT_LEAST_ONE])
    return None if max_per_item is None else int(max_per_item)


def _check_nms(nms_ms) -> float:
    validate_value("nms_ms", nms_ms, [_NON_NEGATIVE])
    return float(nms_ms)


def check_tiers(tiers) -> list[tuple[float, str]]:
    """The tiers as ``(value, label)`` pairs, lowest first; :class:`InputError` unless each is in [0, 1] once.

    Examples
    --------
    >>> check_tiers([0.85, 0.5])
    [(0.5, '0.50'), (0.85, '0.85')]
    >>> check_tiers([0.5, 1.5])
    Traceback (most recent call last):
    ...
    hardneg.errors.InputError: tiers must be a list of values, each a number in [0, 1], got [0.5, 1.5]
    """
    if isinstance(tiers, np.ndarray):
        tiers = tiers.tolist()
    elif isinstance(tiers, Sequence) and not isinstance(tiers, (str, bytes, list, tuple)):
        tiers = list(tiers)
    validate_value("tiers", tiers, [_TIERS])
    out: dict[str, float] = {}
    for tier in tiers:
        label = tier_label(tier)
        if label in out:
            raise InputError(f"tiers must list each tier once; {tier!r} is given twice", parameter="tiers")
        out[label] = float(tier)
    return sorted(((v, k) for k, v in out.items()), key=lambda pair: pair[0])


def tier_label(tier: float) -> str:
    """The tier as written in file names: two decimals, more only when the tier needs them.

    Examples
    --------
    >>> tier_label(0.5), tier_label(0.85), tier_label(0.995), tier_label(1)
    ('0.50', '0.85', '0.995', '1.00')
    """
    tier = float(tier)
    for decimals in range(2, 17):
        text = f"{tier:.{decimals}f}"
        if float(text) == tier:
            return text
    return repr(tier)


# --------------------------------------------------------------------------------------------------- grouping


def _stable_code_order(codes: np.ndarray, n_codes: int) -> np.ndarray:
    """Stable argsort of non-negative integer codes as an LSD radix sort on 16-bit digits.

    numpy sorts 16-bit keys with a radix sort (linear); int32/int64 keys fall back to a
    comparison sort that is several times slower on millions of rows.
    """
    if n_codes <= 1 << 16:
        return np.argsort(codes.astype(np.uint16), kind="stable")
    low = np.argsort((codes & 0xFFFF).astype(np.uint16), kind="stable")
    high = (codes[low] >> 16).astype(np.uint16)
    return low[np.argsort(high, kind="stable")]


def _codes(column: pd.Series, what: str, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes (in order of first appearance) and the distinct values of a label column."""
    # pd.factorize hashes Arrow-backed strings in C++ (~0.1 s for 10 M rows); converting them to
    # Python objects first would cost more than everything else here.
    codes, uniques = pd.factorize(column)
    if codes.size and codes.min() < 0:
        row = int(np.flatnonzero(codes < 0)[0])
        raise InputError(f"{what}: column {name!r} is missing in row {row}; every window needs an {name}")
    return codes.astype(np.int64, copy=False), np.asarray(uniques, dtype=object)


def _segments(codes: np.ndarray, n_codes: int) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """Rows of each code as contiguous segments, segment ``s`` holding code ``s``.

    Returns ``order`` (None when the rows of every code are already contiguous, else the
    stable permutation that makes them so), the segment starts and their lengths.
    """
    n = codes.size
    if n == 0:
        return None, np.zeros(0, np.int64), np.zeros(0, np.int64)
    # Usual case: each item's windows arrive together (one shard per item). Codes number items in
    # order of first appearance, so the rows are grouped exactly when there is one run per code.
    starts = np.concatenate(([0], np.flatnonzero(codes[1:] != codes[:-1]) + 1)).astype(np.int64)
    if starts.size == n_codes:
        return None, starts, np.diff(np.append(starts, n))
    order = _stable_code_order(codes, n_codes)
    lengths = np.bincount(codes, minlength=n_codes).astype(np.int64)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)
    return order, starts, lengths


def _take(values: np.ndarray, order: np.ndarray | None) -> np.ndarray:
    return values if order is None else values[order]


# --------------------------------------------------------------------------------------------------- NMS


def _greedy_1d(starts: np.ndarray, nms_ms: float) -> np.ndarray:
    """Greedy temporal NMS of one item's windows given in rank order; a boolean keep mask.

    A window is kept when no window kept before it starts closer than ``nms_ms``
    (``|a - b| < nms_ms`` suppresses). Windows are checked a block at a time against the
    sorted starts kept so far (nearest neighbour on each side via ``searchsorted``); of the
    survivors, only those with another survivor nearby are resolved one by one among the block.
    """
    m = len(starts)
    keep = np.zeros(m, dtype=bool)
    kept = np.zeros(0, dtype=np.float64)
    pos, block = 0, _NMS_FIRST_BLOCK
    while pos < m:
        chunk = starts[pos : pos + block]
        if kept.size:
            j = np.searchsorted(kept, chunk)
            left = kept[np.maximum(j - 1, 0)]
            right = kept[np.minimum(j, kept.size - 1)]
            ok = ((j == 0) | (chunk - left >= nms_ms)) & ((j == kept.size) | (right - chunk >= nms_ms))
            survivors = np.flatnonzero(ok)
        else:
            survivors = np.arange(len(chunk))
        # A survivor with no other survivor closer than nms_ms is kept whatever the order (only survivors can be
        # kept from this block, and none is near it), and it cannot suppress any other: only the rest, usually
        # few, are resolved one by one, in rank order.
        by_start = np.argsort(chunk[survivors], kind="stable")
        ordered = chunk[survivors][by_start]
        near = np.zeros(len(survivors), dtype=bool)
        close = np.diff(ordered) < nms_ms
        near[1:] |= close
        near[:-1] |= close
        alone = survivors[by_start[~near]]
        keep[pos + alone] = True
        chosen: list[float] = []
        values = chunk.tolist()
        for c in np.sort(survivors[by_start[near]]).tolist():
            x = values[c]
            i = bisect_left(chosen, x)
            if (i == 0 or x - chosen[i - 1] >= nms_ms) and (i == len(chosen) or chosen[i] - x >= nms_ms):
                insort(chosen, x)
                keep[pos + c] = True
        if chosen or alone.size:
            kept = np.sort(np.concatenate((kept, chunk[alone], np.asarray(chosen, dtype=np.float64))))
        pos += len(chunk)
        block = min(block * 2, _NMS_MAX_BLOCK)
    return keep


def _nms_rows(frame: pd.DataFrame, nms_ms: float, max_per_item: int | None, what: str) -> tuple[np.ndarray, int, int]:
    """Row positions kept by NMS and the cap, with the numbers each step removed."""
    n = len(frame)
    if n == 0:
        return np.zeros(0, np.int64), 0, 0
    score = float_column(frame, "score", what)
    start = float_column(frame, "start_ms", what)
    end = float_column(frame, "end_ms", what)
    codes, uniques = _codes(frame["item"], what, "item")
    order, seg_starts, lengths = _segments(codes, len(uniques))
    rows = np.arange(n, dtype=np.int64) if order is None else order.astype(np.int64)
    seg = np.repeat(np.arange(len(lengths)), lengths)
    # Rank within each item: score desc, earlier start, earlier end, input order (np.lexsort: last key first).
    ranked = rows[np.lexsort((rows, end[rows], start[rows], -score[rows], seg))]
    keep = np.ones(n, dtype=bool)  # over `ranked` positions
    if nms_ms > 0:
        # Items whose windows are all at least nms_ms apart keep everything; only the others need the greedy pass.
        by_start = np.lexsort((start[ranked], seg))
        s_sorted, seg_sorted = start[ranked][by_start], seg[by_start]
        close = (np.diff(s_sorted) < nms_ms) & (seg_sorted[1:] == seg_sorted[:-1])
        crowded = np.unique(seg_sorted[1:][close])
        ranked_starts = start[ranked]
        for s in crowded.tolist():
            a, b = int(seg_starts[s]), int(seg_starts[s] + lengths[s])
            keep[a:b] = _greedy_1d(ranked_starts[a:b], nms_ms)
    n_suppressed = int(n - np.count_nonzero(keep))
    kept = ranked[keep]
    n_capped = 0
    if max_per_item is not None and kept.size:
        kept_seg = seg[keep]
        first = np.concatenate(([0], np.flatnonzero(kept_seg[1:] != kept_seg[:-1]) + 1))
        within = np.arange(kept.size) - np.repeat(first, np.diff(np.append(first, kept.size)))
        n_capped = int(np.count_nonzero(within >= max_per_item))
        kept = kept[within < max_per_item]
    return kept, n_suppressed, n_capped


def _sorted_output(frame: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    out = frame.iloc[rows]
    # `rows` is in rank order within each item, so the stable sort leaves equal starts in rank order.
    out = out.sort_values(["item", "start_ms"], kind="stable")
    return out.reset_index(drop=True)


def temporal_nms(frame: pd.DataFrame, nms_ms: float, *, max_per_item: int | None = None) -> pd.DataFrame:
    """Temporal non-maximum suppression of scored windows, within each item.

    Greedy by rank (score descending, ties to the earlier start, then the earlier end,
    then input order): a window is kept only if no kept window of the same item starts
    closer than ``nms_ms`` (``|start_a - start_b| < nms_ms``); ``nms_ms=0`` keeps every
    window. Then only the best ``max_per_item`` kept windows of each item remain.

    Parameters
    ----------
    frame : DataFrame
        A window table (``item, group, start_ms, end_ms, score``; other columns such as
        ``frame`` are carried along).
    nms_ms : float
        Minimum distance between the starts of two kept windows of one item.
    max_per_item : int, optional
        Keep at most this many windows per item (the best ones).

    Returns
    -------
    DataFrame
        The kept rows, all columns, sorted by ``item`` then ``start_ms``, index reset.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"item": ["a"] * 4, "group": ["g"] * 4, "start_ms": [0.0, 100.0, 200.0, 300.0],
    ...                       "end_ms": [400.0, 500.0, 600.0, 700.0], "score": [0.7, 0.9, 0.9, 0.8]})
    >>> temporal_nms(frame, 150)["start_ms"].tolist()
    [100.0, 300.0]
    """
    frame = check_window_table(frame)
    nms = _check_nms(nms_ms)
    cap = _check_max_per_item(max_per_item)
    rows, _, _ = _nms_rows(frame, nms, cap, "window table")
    return _sorted_output(frame, rows)


def select_candidates(
    windows: pd.DataFrame,
    *,
    min_score: float = 0.5,
    max_score: float | None = None,
    nms_ms: float,
    max_per_item: int | None = None,
) -> tuple[pd.DataFrame, dict]:
    """Candidate windows: the hardness band ``min_score <= score <= max_score``, then temporal NMS.

    ``max_score`` is the band's cap: windows above it are likely unlabelled positives,
    so they are kept out (before NMS, so they do not suppress their neighbours either)
    and counted.

    Parameters
    ----------
    windows : DataFrame
        Window table of every scored window.
    min_score : float, default 0.5
    max_score : float, optional
        Upper end of the band (inclusive); no cap when None.
    nms_ms : float
        See :func:`temporal_nms`.
    max_per_item : int, optional
        See :func:`temporal_nms`.

    Returns
    -------
    candidates : DataFrame
        As :func:`temporal_nms` returns.
    counts : dict
        ``windows`` (all), ``above_min_score`` (score >= min_score, cap ignored),
        ``above_max_score`` (score > max_score; 0 without a cap), ``items_above_max_score``
        (items with at least one such window), ``in_band``, ``nms_suppressed``,
        ``max_per_item_dropped`` and ``candidates``. All are sums over items, so counts of
        item-disjoint parts add up.

    Examples
    --------
    >>> import pandas as pd
    >>> windows = pd.DataFrame({"item": ["a", "a", "b"], "group": ["g", "g", "h"], "start_ms": [0.0, 500.0, 0.0],
    ...                         "end_ms": [500.0, 1000.0, 500.0], "score": [0.995, 0.7, 0.6]})
    >>> candidates, counts = select_candidates(windows, min_score=0.5, max_score=0.99, nms_ms=500)
    >>> candidates["score"].tolist(), counts["above_max_score"], counts["items_above_max_score"]
    ([0.7, 0.6], 1, 1)
    """
    windows = check_window_table(windows)
    low = _check_threshold(min_score, "min_score")
    high = _check_threshold(max_score, "max_score", allow_none=True)
    if high is not None and high < low:
        raise InputError(
            f"max_score must be at least min_score ({min_score!r}), got {max_score!r}; the band would be empty",
            parameter="max_score",
        )
    nms = _check_nms(nms_ms)
    cap = _check_max_per_item(max_per_item)
    score = float_column(windows, "score", "window table")
    above_min = score >= low
    if high is not None:
        above_max = score > high
        in_band = above_min & ~above_max
        items_above = int(windows["item"].iloc[np.flatnonzero(above_max)].nunique(dropna=False))
    else:
        above_max = np.zeros(len(score), dtype=bool)
        in_band = above_min
        items_above = 0
    band = windows.iloc[np.flatnonzero(in_band)]
    rows, n_suppressed, n_capped = _nms_rows(band, nms, cap, "window table")
    candidates = _sorted_output(band, rows)
    counts = {
        "windows": len(score),
        "above_min_score": int(np.count_nonzero(above_min)),
        "above_max_score": int(np.count_nonzero(above_max)),
        "items_above_max_score": items_above,
        "in_band": int(np.count_nonzero(in_band)),
        "nms_suppressed": n_suppressed,
        "max_per_item_dropped": n_capped,
        "candidates": len(candidates),
    }
    return candidates, counts


# --------------------------------------------------------------------------------------------------- items


def _segment_topk_sum(values: np.ndarray, starts: np.ndarray, lengths: np.ndarray, k: int) -> np.ndarray:
    """Sum of the ``min(k, length)`` largest values of each contiguous segment.

    Segments no longer than ``k`` are summed whole; the others are padded into 2-D blocks of
    segments of similar length (lengths in ``(2**(b-1), 2**b]``, so padding at most doubles
    the data) and reduced with ``np.partition`` along the rows.
    """
    out = np.zeros(len(lengths), dtype=np.float64)
    if len(lengths) == 0:
        return out
    out[:] = np.add.reduceat(values, starts) if values.size else 0.0
    long = np.flatnonzero(lengths > k)
    if long.size == 0:
        return out
    buckets = np.ceil(np.log2(lengths[long])).astype(np.int64)
    for b in np.unique(buckets).tolist():
        segs = long[buckets == b]
        seg_len = lengths[segs]
        width = int(seg_len.max())
        cols = np.arange(width)
        index = starts[segs][:, None] + np.minimum(cols[None, :], seg_len[:, None] - 1)
        block = np.where(cols[None, :] < seg_len[:, None], values[index], -np.inf)
        top = np.partition(block, width - k, axis=1)[:, width - k :]
        out[segs] = top.sum(axis=1)
    return out


def item_table(windows: pd.DataFrame, *, topk: int = 5) -> pd.DataFrame:
    """Per-item aggregates over every scored window.

    Parameters
    ----------
    windows : DataFrame
        Window table.
    topk : int, default 5
        ``topk_mean`` is the mean of the item's ``topk`` best scores (all of them when it
        has fewer).

    Returns
    -------
    DataFrame
        ``item, group, n_windows, max_score, mean_score, topk_mean, argmax_ms`` (``argmax_ms``:
        start of the best window, ties to the earlier start), one row per item, ranked by
        ``max_score`` descending then ``item``, index reset.

    Raises
    ------
    InputError
        When an item's windows name more than one group.

    Examples
    --------
    >>> import pandas as pd
    >>> windows = pd.DataFrame({"item": ["a", "a", "b"], "group": ["g", "g", "h"], "start_ms": [0.0, 500.0, 0.0],
    ...                         "end_ms": [500.0, 1000.0, 500.0], "score": [0.2, 0.8, 0.9]})
    >>> item_table(windows, topk=1)[["item", "n_windows", "max_score", "mean_score"]].to_dict("records")
    [{'item': 'b', 'n_windows': 1, 'max_score': 0.9, 'mean_score': 0.9}, {'item': 'a', 'n_windows': 2, 'max_score': 0.8, 'mean_score': 0.5}]
    """
    windows = check_window_table(windows)
    validate_value("topk", topk, [_AT_LEAST_ONE])
    score = float_column(windows, "score", "window table")
    start = float_column(windows, "start_ms", "window table")
    item_codes, item_names = _codes(windows["item"], "window table", "item")
    group_codes, group_names = _codes(windows["group"], "window table", "group")
    order, seg_starts, lengths = _segments(item_codes, len(item_names))
    if len(lengths) == 0:
        return _empty_items()
    score, start, group_codes = _take(score, order), _take(start, order), _take(group_codes, order)
    group_first = np.minimum.reduceat(group_codes, seg_starts)
    group_last = np.maximum.reduceat(group_codes, seg_starts)
    mixed = np.flatnonzero(group_first != group_last)
    if mixed.size:
        s = int(mixed[0])
        raise InputError(
            f"window table: item {item_names[s]!r} has windows in groups {group_names[group_first[s]]!r} and "
            f"{group_names[group_last[s]]!r}; an item belongs to one group"
        )
    max_score = np.maximum.reduceat(score, seg_starts)
    mean_score = np.add.reduceat(score, seg_starts) / lengths
    at_max = score == np.repeat(max_score, lengths)
    argmax_ms = np.minimum.reduceat(np.where(at_max, start, np.inf), seg_starts)
    k = int(topk)
    topk_mean = _segment_topk_sum(score, seg_starts, lengths, k) / np.minimum(lengths, k)
    table = pd.DataFrame(
        {
            "item": item_names,
            "group": group_names[group_first],
            "n_windows": lengths.astype(np.int64),
            "max_score": max_score,
            "mean_score": mean_score,
            "topk_mean": topk_mean,
            "argmax_ms": argmax_ms,
        }
    )
    return rank_items(table)


def _empty_items() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item": pd.Series([], dtype=object),
            "group": pd.Series([], dtype=object),
            "n_windows": pd.Series([], dtype=np.int64),
            **{c: pd.Series([], dtype=np.float64) for c in ("max_score", "mean_score", "topk_mean", "argmax_ms")},
        }
    )


def rank_items(items: pd.DataFrame) -> pd.DataFrame:
    """Items by ``max_score`` descending, then ``item``; index reset.

    Examples
    --------
    >>> import pandas as pd
    >>> rank_items(pd.DataFrame({"item": ["b", "c", "a"], "max_score": [0.9, 0.4, 0.9]}))["item"].tolist()
    ['a', 'b', 'c']
    """
    if len(items) == 0:
        return items.reset_index(drop=True)
    order = np.lexsort((items["item"].astype(str).to_numpy(), -items["max_score"].to_numpy(dtype=np.float64)))
    return items.iloc[order].reset_index(drop=True)


def tier_tables(items: pd.DataFrame, tiers: Sequence[float] = DEFAULT_TIERS) -> list[tuple[float, pd.DataFrame]]:
    """Per confidence tier, lowest first, the items whose ``max_score`` reaches it.

    Each table has the columns ``item, group, max_score``, ranked by ``max_score``
    descending then ``item``. Tiers are nested (an item in the 0.85 tier is in the 0.50
    tier too); a tier no item reaches gets an empty table.

    Examples
    --------
    >>> import pandas as pd
    >>> items = pd.DataFrame({"item": ["a", "b"], "group": ["g", "h"], "max_score": [0.9, 0.6]})
    >>> [(tier, table["item"].tolist()) for tier, table in tier_tables(items, (0.5, 0.85, 0.99))]
    [(0.5, ['a', 'b']), (0.85, ['a']), (0.99, [])]
    """
    items = check_item_table(items)
    checked = check_tiers(tiers)
    ranked = rank_items(items.loc[:, list(TIER_COLUMNS)].reset_index(drop=True))
    max_score = ranked["max_score"].to_numpy(dtype=np.float64)
    # `ranked` is sorted by max_score descending, so each tier is a prefix of it.
    return [(value, ranked.iloc[: int(np.count_nonzero(max_score >= value))]) for value, _label in checked]
