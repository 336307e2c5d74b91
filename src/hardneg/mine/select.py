"""Selecting what was mined: temporal NMS, candidates, per-item aggregates, confidence tiers and score statistics.

Every function here is pure over a **window table** (the scored windows of one or
many items: ``item, group, start_ms, end_ms, score``, plus ``frame`` for video) and
deterministic: the same rows in any order give the same output. The per-window
work is vectorised with numpy (segment reductions over the rows of each item, a
radix sort when the rows of an item are not contiguous), so tiering and statistics
over 10 million window scores take well under two seconds; only temporal NMS
visits items one by one, and within an item it only loops over the windows that
survive a vectorised check against the windows already kept.

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

import io
import json
import math
import numbers
from bisect import bisect_left, insort
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from hardneg._atomic import write_bytes_atomic
from hardneg.dataset import json_default
from hardneg.errors import InputError

WINDOW_COLUMNS = ("item", "group", "start_ms", "end_ms", "score")
ITEM_COLUMNS = ("item", "group", "n_windows", "max_score", "mean_score", "topk_mean", "argmax_ms")
TIER_COLUMNS = ("item", "group", "max_score")
DEFAULT_TIERS = (0.5, 0.85, 0.99)
QUANTILES = (0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99)
HIST_BINS = 20
TOP_ITEMS = 20
TIERS_DIR = "tiers"
STATS_JSON = "stats.json"
STATS_MD = "stats.md"
STATS_PNG = "score_distribution.png"

# Windows of one rank block checked against the kept windows at once in temporal NMS; doubles up to the cap so a
# long item with many suppressed windows costs a few vectorised passes, not a Python step per window.
_NMS_FIRST_BLOCK = 32
_NMS_MAX_BLOCK = 4096


# --------------------------------------------------------------------------------------------------- validation


def _check_windows(windows, what: str = "window table") -> pd.DataFrame:
    if not isinstance(windows, pd.DataFrame):
        raise InputError(f"{what}: expected a pandas DataFrame, got {type(windows).__name__}")
    missing = [c for c in WINDOW_COLUMNS if c not in windows.columns]
    if missing:
        raise InputError(
            f"{what}: column(s) {', '.join(missing)} missing; a window table has columns {', '.join(WINDOW_COLUMNS)}"
        )
    return windows


def _float_column(windows: pd.DataFrame, column: str, what: str) -> np.ndarray:
    try:
        values = windows[column].to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as error:
        raise InputError(f"{what}: column {column!r} must be numeric ({error})") from None
    if values.size and np.isnan(values).any():
        row = int(np.flatnonzero(np.isnan(values))[0])
        raise InputError(f"{what}: column {column!r} is missing or NaN in row {row}; every window needs a {column}")
    return values


def _check_threshold(value, option: str, *, allow_none: bool = False) -> float | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(float(value)):
        raise InputError(f"{option} must be a finite number, got {value!r}")
    return float(value)


def _check_max_per_item(max_per_item) -> int | None:
    if max_per_item is None:
        return None
    if isinstance(max_per_item, bool) or not isinstance(max_per_item, numbers.Integral) or max_per_item < 1:
        raise InputError(f"--max-per-item must be a whole number of at least 1, got {max_per_item!r}")
    return int(max_per_item)


def _check_nms(nms_ms) -> float:
    nms = _check_threshold(nms_ms, "--nms-ms")
    if nms < 0:
        raise InputError(f"--nms-ms must be 0 or more milliseconds, got {nms_ms!r}")
    return nms


def _check_tiers(tiers) -> list[tuple[float, str]]:
    if isinstance(tiers, (str, bytes)) or not isinstance(tiers, Sequence | np.ndarray):
        raise InputError(f"--tiers must be a list of scores in [0, 1], got {tiers!r}")
    out: dict[str, float] = {}
    for tier in tiers:
        value = _check_threshold(tier, "--tiers")
        if not 0.0 <= value <= 1.0:
            raise InputError(f"--tiers: {tier!r} is outside [0, 1]; tiers are minimum confidences")
        label = tier_label(value)
        if label in out:
            raise InputError(f"--tiers: {tier!r} is given twice; list each tier once")
        out[label] = value
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


def tier_path(out_dir, tier: float) -> Path:
    """``out_dir/tiers/conf_min_<label>.csv`` for ``tier``.

    Examples
    --------
    >>> tier_path("mined", 0.85).as_posix()
    'mined/tiers/conf_min_0.85.csv'
    """
    return Path(out_dir) / TIERS_DIR / f"conf_min_{tier_label(tier)}.csv"


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
    sorted starts kept so far (nearest neighbour on each side via ``searchsorted``); only
    the survivors, which are mostly kept, are resolved one by one among the block.
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
            survivors = np.flatnonzero(ok).tolist()
        else:
            survivors = range(len(chunk))
        chosen: list[float] = []
        values = chunk.tolist()
        for c in survivors:
            x = values[c]
            i = bisect_left(chosen, x)
            if (i == 0 or x - chosen[i - 1] >= nms_ms) and (i == len(chosen) or chosen[i] - x >= nms_ms):
                insort(chosen, x)
                keep[pos + c] = True
        if chosen:
            kept = np.sort(np.concatenate((kept, np.asarray(chosen, dtype=np.float64))))
        pos += len(chunk)
        block = min(block * 2, _NMS_MAX_BLOCK)
    return keep


def _nms_rows(frame: pd.DataFrame, nms_ms: float, max_per_item: int | None, what: str) -> tuple[np.ndarray, int, int]:
    """Row positions kept by NMS and the cap, with the numbers each step removed."""
    n = len(frame)
    if n == 0:
        return np.zeros(0, np.int64), 0, 0
    score = _float_column(frame, "score", what)
    start = _float_column(frame, "start_ms", what)
    end = _float_column(frame, "end_ms", what)
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
    frame = _check_windows(frame)
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
    windows = _check_windows(windows)
    low = _check_threshold(min_score, "--min-score")
    high = _check_threshold(max_score, "--max-score", allow_none=True)
    if high is not None and high < low:
        raise InputError(f"--max-score {max_score!r} is below --min-score {min_score!r}; the band would be empty")
    nms = _check_nms(nms_ms)
    cap = _check_max_per_item(max_per_item)
    score = _float_column(windows, "score", "window table")
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
    windows = _check_windows(windows)
    if isinstance(topk, bool) or not isinstance(topk, numbers.Integral) or topk < 1:
        raise InputError(f"--topk must be a whole number of at least 1, got {topk!r}")
    score = _float_column(windows, "score", "window table")
    start = _float_column(windows, "start_ms", "window table")
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
    return _rank_items(table)


def _empty_items() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item": pd.Series([], dtype=object),
            "group": pd.Series([], dtype=object),
            "n_windows": pd.Series([], dtype=np.int64),
            **{c: pd.Series([], dtype=np.float64) for c in ("max_score", "mean_score", "topk_mean", "argmax_ms")},
        }
    )


def _rank_items(items: pd.DataFrame) -> pd.DataFrame:
    if len(items) == 0:
        return items.reset_index(drop=True)
    order = np.lexsort((items["item"].astype(str).to_numpy(), -items["max_score"].to_numpy(dtype=np.float64)))
    return items.iloc[order].reset_index(drop=True)


def _check_items(items) -> pd.DataFrame:
    if not isinstance(items, pd.DataFrame):
        raise InputError(f"item table: expected a pandas DataFrame, got {type(items).__name__}")
    missing = [c for c in TIER_COLUMNS if c not in items.columns]
    if missing:
        raise InputError(f"item table: column(s) {', '.join(missing)} missing; make it with item_table()")
    return items


# --------------------------------------------------------------------------------------------------- writing


def write_tiers(items: pd.DataFrame, out_dir, tiers: Sequence[float] = DEFAULT_TIERS) -> list[Path]:
    """Write one CSV per confidence tier: the items whose ``max_score`` reaches it.

    ``out_dir/tiers/conf_min_0.50.csv`` etc., columns ``item,group,max_score``, sorted by
    ``max_score`` descending then ``item``. Tiers are nested (an item in the 0.85 tier is
    in the 0.50 tier too). A tier no item reaches still gets its file, with the header
    only. Each file is written atomically.

    Parameters
    ----------
    items : DataFrame
        As :func:`item_table` returns (``item, group, max_score`` at least).
    out_dir : path
    tiers : sequence of float in [0, 1]

    Returns
    -------
    list of Path
        The files written, lowest tier first.

    Examples
    --------
    >>> import pandas as pd, tempfile
    >>> items = pd.DataFrame({"item": ["a", "b"], "group": ["g", "h"], "max_score": [0.9, 0.6]})
    >>> paths = write_tiers(items, tempfile.mkdtemp(), tiers=(0.5, 0.85, 0.99))
    >>> [p.name for p in paths], paths[1].read_text()
    (['conf_min_0.50.csv', 'conf_min_0.85.csv', 'conf_min_0.99.csv'], 'item,group,max_score\\na,g,0.9\\n')
    """
    items = _check_items(items)
    checked = _check_tiers(tiers)
    ranked = _rank_items(items.loc[:, list(TIER_COLUMNS)].reset_index(drop=True))
    max_score = ranked["max_score"].to_numpy(dtype=np.float64)
    (Path(out_dir) / TIERS_DIR).mkdir(parents=True, exist_ok=True)
    paths = []
    for value, _label in checked:
        # `ranked` is sorted by max_score descending, so each tier is a prefix of it.
        n = int(np.count_nonzero(max_score >= value))
        text = ranked.iloc[:n].to_csv(index=False, lineterminator="\n")
        path = tier_path(out_dir, value)
        write_bytes_atomic(path, text.encode("utf-8"))
        paths.append(path)
    return paths


# --------------------------------------------------------------------------------------------------- statistics


def _histogram(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Counts in ``[i/20, (i+1)/20)``, the last bin closed, with the edges exactly ``i/20``.

    ``np.histogram(range=(0, 1))`` uses ``linspace`` edges (0.7000000000000001), which would put a
    score of exactly 0.7 in the 0.65 bin; the tiers compare with ``>=`` against the decimal, so the
    histogram does the same.
    """
    edges = np.arange(HIST_BINS + 1, dtype=np.float64) / HIST_BINS
    inside = values[(values >= 0.0) & (values <= 1.0)]
    index = np.minimum((inside * HIST_BINS).astype(np.int64), HIST_BINS - 1)
    # The product can round across an edge; one step either way puts it back.
    index -= inside < edges[index]
    index += (inside >= edges[index + 1]) & (index < HIST_BINS - 1)
    return np.bincount(index, minlength=HIST_BINS), edges


def _distribution(values: np.ndarray) -> dict:
    counts, edges = _histogram(values)
    summary = {
        "count": int(values.size),
        "min": float(values.min()) if values.size else None,
        "max": float(values.max()) if values.size else None,
        "mean": float(values.mean()) if values.size else None,
        "quantiles": dict.fromkeys((f"{q:g}" for q in QUANTILES), None),
        "histogram": {
            "edges": [float(e) for e in edges],
            "counts": [int(c) for c in counts],
            "outside_0_1": int(values.size - counts.sum()),
        },
    }
    if values.size:
        quantiles = np.quantile(values, QUANTILES)
        summary["quantiles"] = {f"{q:g}": float(v) for q, v in zip(QUANTILES, quantiles, strict=True)}
    return summary


def score_statistics(windows: pd.DataFrame, items: pd.DataFrame, tiers: Sequence[float] = DEFAULT_TIERS) -> dict:
    """Counts, quantiles and histograms of window and item scores, tier sizes and the top items.

    Parameters
    ----------
    windows : DataFrame
        Window table of every scored window.
    items : DataFrame
        As :func:`item_table` returns for ``windows``.
    tiers : sequence of float

    Returns
    -------
    dict
        JSON-ready: ``n_windows``, ``n_items``, ``window_scores`` and ``item_max_scores``
        (each ``count, min, max, mean``, ``quantiles`` at 0.01 ... 0.99 (numpy's linear
        method; None when empty) and a ``histogram`` of 20 bins on [0, 1], last bin closed,
        with ``outside_0_1``), ``tiers`` (per tier: ``tier``, ``label``, ``items`` whose max
        score reaches it and ``windows`` scoring at least it) and ``top_items`` (the first 20
        items by ``max_score`` descending then ``item``).

    Examples
    --------
    >>> import pandas as pd
    >>> windows = pd.DataFrame({"item": ["a", "a", "b"], "group": ["g", "g", "h"], "start_ms": [0.0, 500.0, 0.0],
    ...                         "end_ms": [500.0, 1000.0, 500.0], "score": [0.2, 0.8, 0.9]})
    >>> stats = score_statistics(windows, item_table(windows), tiers=(0.5, 0.85))
    >>> stats["n_windows"], [(t["label"], t["items"], t["windows"]) for t in stats["tiers"]]
    (3, [('0.50', 2, 2), ('0.85', 1, 1)])
    """
    windows = _check_windows(windows)
    items = _check_items(items)
    checked = _check_tiers(tiers)
    score = _float_column(windows, "score", "window table")
    item_max = _float_column(items, "max_score", "item table")
    ranked = _rank_items(items.reset_index(drop=True))
    top = ranked.iloc[:TOP_ITEMS]
    top_items = []
    for row in top.to_dict("records"):
        entry = {}
        for key, value in row.items():
            if isinstance(value, np.integer | int) and not isinstance(value, bool):
                entry[str(key)] = int(value)
            elif isinstance(value, np.floating | float):
                entry[str(key)] = float(value) if math.isfinite(value) else None
            else:
                entry[str(key)] = str(value)
        top_items.append(entry)
    return {
        "n_windows": int(score.size),
        "n_items": len(items),
        "window_scores": _distribution(score),
        "item_max_scores": _distribution(item_max),
        "tiers": [
            {
                "tier": value,
                "label": label,
                "items": int(np.count_nonzero(item_max >= value)),
                "windows": int(np.count_nonzero(score >= value)),
            }
            for value, label in checked
        ],
        "top_items": top_items,
    }


def _fmt(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _md_table(header: Sequence[str], rows: Sequence[Sequence]) -> list[str]:
    def cell(v) -> str:
        return _fmt(v).replace("|", "\\|")

    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return lines


def _markdown(stats: Mapping) -> str:
    lines = ["# Mining statistics", ""]
    lines += [f"{stats.get('n_windows', 0)} windows scored over {stats.get('n_items', 0)} items.", ""]
    dists = [(name, stats.get(key)) for name, key in (("windows", "window_scores"), ("item max", "item_max_scores"))]
    dists = [(name, d) for name, d in dists if isinstance(d, Mapping)]
    if dists:
        lines += ["## Scores", ""]
        stat_rows = [[s] + [d.get(s) for _, d in dists] for s in ("count", "min", "mean", "max")]
        keys = list(dists[0][1].get("quantiles", {}))
        stat_rows += [[f"q{k}"] + [d.get("quantiles", {}).get(k) for _, d in dists] for k in keys]
        lines += _md_table(["statistic"] + [name for name, _ in dists], stat_rows) + [""]
        edges = dists[0][1]["histogram"]["edges"]
        hist_rows = [
            [f"[{edges[i]:.2f}, {edges[i + 1]:.2f}{']' if i == len(edges) - 2 else ')'}"]
            + [d["histogram"]["counts"][i] for _, d in dists]
            for i in range(len(edges) - 1)
        ]
        lines += ["## Histogram", ""] + _md_table(["score"] + [name for name, _ in dists], hist_rows) + [""]
    if stats.get("tiers"):
        lines += ["## Tiers", ""]
        rows = [[f"≥ {t['label']}", t["items"], t["windows"]] for t in stats["tiers"]]
        lines += _md_table(["tier", "items", "windows"], rows) + [""]
    if stats.get("top_items"):
        lines += ["## Top items", ""]
        header = list(stats["top_items"][0])
        lines += _md_table(header, [[row.get(h) for h in header] for row in stats["top_items"]]) + [""]
    shown = {"n_windows", "n_items", "window_scores", "item_max_scores", "tiers", "top_items"}
    extra = {k: v for k, v in stats.items() if k not in shown}
    if extra:
        lines += ["## Run", ""]
        for key, value in extra.items():
            if isinstance(value, Mapping):
                lines += [f"- {key}: " + ", ".join(f"{k} {_fmt(v)}" for k, v in value.items())]
            else:
                lines += [f"- {key}: {json.dumps(value, default=str)}"]
        lines += [""]
    return "\n".join(lines)


def _plot(stats: Mapping) -> bytes:
    import matplotlib
    import matplotlib.style
    import matplotlib.ticker
    from matplotlib.figure import Figure

    panels = [
        (title, stats[key]["histogram"])
        for title, key in (("Window scores", "window_scores"), ("Item max scores", "item_max_scores"))
        if isinstance(stats.get(key), Mapping)
    ]
    with matplotlib.style.context("default"), matplotlib.rc_context({"font.size": 9, "svg.hashsalt": "hardneg"}):
        # Fixed margins: a layout engine costs more than drawing these two histograms.
        fig = Figure(figsize=(9.0, 3.6), dpi=100)
        fig.subplots_adjust(left=0.07, right=0.98, bottom=0.14, top=0.9, wspace=0.25)
        axes = [fig.add_subplot(1, max(len(panels), 1), i + 1) for i in range(max(len(panels), 1))]
        for ax, (title, hist) in zip(axes, panels, strict=False):
            edges = np.asarray(hist["edges"], dtype=np.float64)
            counts = np.asarray(hist["counts"], dtype=np.float64)
            ax.bar(edges[:-1], counts, width=np.diff(edges), align="edge", color="#0969da", edgecolor="white")
            if counts.max(initial=0) > 0:
                ax.set_yscale("log")
                # Plain tick labels: the default 10^k labels need mathtext, whose first use costs ~0.25 s.
                ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(_count_label))
                ax.yaxis.set_major_locator(matplotlib.ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
                ax.yaxis.set_minor_locator(matplotlib.ticker.NullLocator())
                ax.set_ylim(bottom=0.5)  # a bin holding one window stays visible
            for tier in stats.get("tiers", []):
                ax.axvline(tier["tier"], color="#cf222e", linestyle="--", linewidth=0.8)
            ax.set_xlim(0, 1)
            ax.set_title(f"{title} (n={int(counts.sum())})")
            ax.set_xlabel("score")
            ax.set_ylabel("count")
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    return buffer.getvalue()


def warm_up_plot() -> None:
    """Import what :func:`write_statistics` plots with and render a little text, which loads the font."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(1, 1), dpi=10)
    figure.text(0.5, 0.5, "0.5")
    FigureCanvasAgg(figure).draw()


def _count_label(value: float, _position) -> str:
    if value < 1:
        return f"{value:g}"
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= size:
            return f"{value / size:g}{suffix}"
    return f"{value:g}"


def write_statistics(stats: Mapping, out_dir) -> list[Path]:
    """Write ``stats.json``, ``stats.md`` and ``score_distribution.png`` into ``out_dir``, each atomically.

    The plot (matplotlib, Agg renderer, no pyplot) is drawn from the histograms in
    ``stats``; keys added by the caller (run counts, selection counts) are kept in the JSON
    and listed in the Markdown. The same ``stats`` give the same bytes.

    Examples
    --------
    >>> import pandas as pd, tempfile
    >>> windows = pd.DataFrame({"item": ["a"], "group": ["g"], "start_ms": [0.0], "end_ms": [1.0], "score": [0.7]})
    >>> stats = score_statistics(windows, item_table(windows), tiers=(0.5,))
    >>> [p.name for p in write_statistics(stats, tempfile.mkdtemp())]
    ['stats.json', 'stats.md', 'score_distribution.png']
    """
    out = Path(out_dir)
    text = json.dumps(stats, indent=2, allow_nan=False, default=json_default) + "\n"
    paths = [out / STATS_JSON, out / STATS_MD, out / STATS_PNG]
    write_bytes_atomic(paths[0], text.encode("utf-8"))
    write_bytes_atomic(paths[1], _markdown(stats).encode("utf-8"))
    write_bytes_atomic(paths[2], _plot(stats))
    return paths

