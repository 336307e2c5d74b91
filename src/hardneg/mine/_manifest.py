"""The files a mining run leaves behind: ``candidates.parquet``, ``items.parquet`` and ``tiers/*.csv``.

This module is the one place that writes them (:func:`write_candidates`,
:func:`write_items`, :func:`write_tiers`) and reads them back
(:func:`read_candidates`, :func:`read_items`, :func:`read_mined` for
``hardneg sample --hard-negatives``), so their names, columns and checks live
in one place. Every write is atomic. :func:`read_mined` also reads a reviewed
manifest (``reviewed.parquet`` of ``hardneg export --format manifest``): its
confirmed negatives only.

Examples
--------
>>> import pandas as pd, tempfile
>>> out = tempfile.mkdtemp()
>>> candidates = pd.DataFrame({"item": ["a", "b"], "group": ["g", "h"], "start_ms": [0.0, 500.0],
...                            "end_ms": [500.0, 1000.0], "score": [0.9, 0.6]})
>>> items = pd.DataFrame({"item": ["a", "b"], "group": ["g", "h"], "n_windows": [4, 2], "max_score": [0.9, 0.6],
...                       "mean_score": [0.5, 0.4], "topk_mean": [0.7, 0.5], "argmax_ms": [0.0, 500.0],
...                       "path": ["a.csv", "b.csv"]})
>>> paths = [write_candidates(candidates, out), write_items(items, out), *write_tiers(items, out, tiers=(0.85,))]
>>> [path.relative_to(out).as_posix() for path in paths]
['candidates.parquet', 'items.parquet', 'tiers/conf_min_0.85.csv']
>>> windows, sources = read_mined(out, tier=0.85)
>>> windows.to_dict("records"), sources["path"].tolist()
([{'recording': 'a', 'start_ms': 0.0, 'end_ms': 500.0, 'score': 0.9}], ['a.csv', 'b.csv'])
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral, Real
from pathlib import Path

import pandas as pd

from hardneg._atomic import write_bytes_atomic, write_parquet_atomic
from hardneg._schema import (
    CANDIDATES_FILE,
    ITEM_COLUMNS,
    ITEMS_FILE,
    REVIEWED_COLUMNS,
    REVIEWED_FILE,
    SCORED_WINDOW_COLUMNS,
    check_columns,
)
from hardneg._validation import Interval, validate_value
from hardneg.errors import InputError
from hardneg.mine._select import DEFAULT_TIERS, tier_label, tier_tables

__all__ = [
    "CANDIDATES_FILE",
    "HARD_WINDOW_COLUMNS",
    "ITEMS_FILE",
    "TIERS_DIR",
    "candidates_path",
    "is_reviewed",
    "items_path",
    "mined_source",
    "pool_path",
    "read_candidates",
    "read_items",
    "read_mined",
    "tier_label",
    "tier_path",
    "write_candidates",
    "write_items",
    "write_tiers",
]

TIERS_DIR = "tiers"
#: the mined windows :func:`read_mined` gives the sampler, one hard negative each
HARD_WINDOW_COLUMNS = ("recording", "start_ms", "end_ms", "score")

_TIER = Interval(Real, 0, 1, closed="both")
_COUNT = Interval(Integral, 0, None, closed="left")


# --------------------------------------------------------------------------------------------------- paths


def candidates_path(mined_dir) -> Path:
    """``mined_dir/candidates.parquet``."""
    return Path(mined_dir) / CANDIDATES_FILE


def items_path(mined_dir) -> Path:
    """``mined_dir/items.parquet``."""
    return Path(mined_dir) / ITEMS_FILE


def tier_path(out_dir, tier: float) -> Path:
    """``out_dir/tiers/conf_min_<label>.csv`` for ``tier``.

    Examples
    --------
    >>> tier_path("mined", 0.85).as_posix()
    'mined/tiers/conf_min_0.85.csv'
    """
    return Path(out_dir) / TIERS_DIR / f"conf_min_{tier_label(tier)}.csv"


def pool_path(mined_dir, path: str) -> Path:
    """Where a mined item is: ``hardneg mine`` records absolute paths; a relative one is read from the mined folder.

    A folder mined before paths were absolute holds them relative to where it was mined; where no such file is
    beside the mined folder, the path is kept as it is (relative to the working directory).

    Examples
    --------
    >>> pool_path("/data/mined", "/data/pool/a.csv").as_posix()
    '/data/pool/a.csv'
    """
    path = Path(path)
    if path.is_absolute():
        return path
    beside = Path(mined_dir) / path
    return beside if beside.exists() else path


# --------------------------------------------------------------------------------------------------- writing


def write_candidates(candidates: pd.DataFrame, out_dir) -> Path:
    """Write the candidate windows (a window table, as selected) to ``out_dir/candidates.parquet``."""
    check_columns(candidates, SCORED_WINDOW_COLUMNS, "candidates")
    return write_parquet_atomic(candidates, candidates_path(out_dir))


def write_items(items: pd.DataFrame, out_dir) -> Path:
    """Write the per-item aggregates (with the ``path`` each item was read from) to ``out_dir/items.parquet``."""
    check_columns(items, ITEM_COLUMNS, "item table")
    return write_parquet_atomic(items, items_path(out_dir))


def write_tiers(items: pd.DataFrame, out_dir, tiers: Sequence[float] = DEFAULT_TIERS) -> list[Path]:
    """Write one CSV per confidence tier: the items whose ``max_score`` reaches it.

    ``out_dir/tiers/conf_min_0.50.csv`` etc., columns ``item,group,max_score``, sorted by
    ``max_score`` descending then ``item`` (see :func:`hardneg.mine._select.tier_tables`).
    A tier no item reaches still gets its file, with the header only. Each file is
    written atomically.

    Parameters
    ----------
    items : DataFrame
        As :func:`hardneg.mine._select.item_table` returns (``item, group, max_score`` at least).
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
    tables = tier_tables(items, tiers)
    (Path(out_dir) / TIERS_DIR).mkdir(parents=True, exist_ok=True)
    paths = []
    for value, table in tables:
        path = tier_path(out_dir, value)
        write_bytes_atomic(path, table.to_csv(index=False, lineterminator="\n").encode("utf-8"))
        paths.append(path)
    return paths


# --------------------------------------------------------------------------------------------------- reading


def _require(mined_dir: Path, path: Path) -> None:
    if not path.is_file():
        raise InputError(f"{mined_dir}: {path.name} missing; make it with `hardneg mine`")


def read_candidates(mined_dir) -> pd.DataFrame:
    """The candidate windows of a ``hardneg mine`` folder, as written."""
    mined_dir = Path(mined_dir)
    path = candidates_path(mined_dir)
    _require(mined_dir, path)
    candidates = pd.read_parquet(path)
    check_columns(candidates, SCORED_WINDOW_COLUMNS, str(path))
    return candidates


def read_items(mined_dir) -> pd.DataFrame:
    """The per-item table of a ``hardneg mine`` folder, with the ``path`` each item was read from."""
    mined_dir = Path(mined_dir)
    path = items_path(mined_dir)
    _require(mined_dir, path)
    items = pd.read_parquet(path)
    if "path" not in items.columns:
        raise InputError(f"{mined_dir}: items.parquet has no path column; mine again with this version")
    return items


def mined_source(mined_dir) -> Path:
    """The file :func:`read_mined` takes the windows from: ``candidates.parquet``, or a reviewed manifest.

    A reviewed manifest is read where ``mined_dir`` is that file, or a folder holding ``reviewed.parquet``
    and no ``candidates.parquet`` (a ``hardneg export --format manifest`` folder); a mined folder that
    also holds one is read as mined.

    Examples
    --------
    >>> mined_source("mined").as_posix()
    'mined/candidates.parquet'
    """
    path = Path(mined_dir)
    if path.is_file() or path.suffix == ".parquet":
        return path
    if not candidates_path(path).is_file() and (path / REVIEWED_FILE).is_file():
        return path / REVIEWED_FILE
    return candidates_path(path)


def is_reviewed(source: Path) -> bool:
    """Whether :func:`mined_source` named a reviewed manifest rather than a mined folder's candidates."""
    return Path(source).name != CANDIDATES_FILE


def read_mined(
    mined_dir, *, tier: float | None = None, max_windows: int | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Candidates of a ``hardneg mine`` folder at or above ``tier`` (best ``max_windows``), and its items.

    Parameters
    ----------
    mined_dir : path
        A folder written by ``hardneg mine``, or a reviewed manifest (``reviewed.parquet`` or the
        ``hardneg export --format manifest`` folder holding it): then only its confirmed negatives
        (state ``negative``) are read, and its items are the pool files they come from.
    tier : float in [0, 1], optional
        Keep the candidates scoring at least this.
    max_windows : int, optional
        Keep the best this many (score descending, then item, then start).

    Returns
    -------
    windows : DataFrame
        ``recording, start_ms, end_ms, score``, best first.
    items : DataFrame
        The folder's items (``item, group, path`` at least).

    Examples
    --------
    >>> import tempfile
    >>> reviewed = pd.DataFrame({"item": ["a", "a", "b"], "group": ["g", "g", "h"], "start_ms": [0.0, 500.0, 0.0],
    ...                          "end_ms": [500.0, 1000.0, 500.0], "score": [0.9, 0.8, 0.7],
    ...                          "state": ["negative", "positive", "negative"], "category": [None, None, "cones"],
    ...                          "reviewer": "ana", "decided_at": "2026-01-01T00:00:00Z",
    ...                          "path": ["/pool/a.csv", "/pool/a.csv", "/pool/b.csv"]})
    >>> path = tempfile.mkdtemp() + "/reviewed.parquet"
    >>> reviewed.to_parquet(path, index=False)
    >>> windows, sources = read_mined(path)
    >>> windows.values.tolist(), sources["path"].tolist()
    ([['a', 0.0, 500.0, 0.9], ['b', 0.0, 500.0, 0.7]], ['/pool/a.csv', '/pool/b.csv'])
    """
    mined_dir = Path(mined_dir)
    source = mined_source(mined_dir)
    if is_reviewed(source):
        candidates, items = _read_reviewed(source)
    else:
        for path in (candidates_path(mined_dir), items_path(mined_dir)):
            _require(mined_dir, path)
        candidates = read_candidates(mined_dir)
        items = read_items(mined_dir)
    if tier is not None:
        validate_value("tier", tier, [_TIER])
        candidates = candidates[candidates["score"] >= tier]
    candidates = candidates.sort_values(["score", "item", "start_ms"], ascending=[False, True, True], kind="stable")
    if max_windows is not None:
        validate_value("max_windows", max_windows, [_COUNT])
        candidates = candidates.head(max_windows)
    windows = candidates.rename(columns={"item": "recording"})[list(HARD_WINDOW_COLUMNS)]
    return windows.reset_index(drop=True), items


def _read_reviewed(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The confirmed negatives of a reviewed manifest, and one item row (``item, group, path``) per pool file."""
    if not path.is_file():
        raise InputError(f"{path}: no such file; give a `hardneg mine` folder or a `hardneg export` manifest")
    try:
        reviewed = pd.read_parquet(path)
    except Exception as error:  # noqa: BLE001 - pyarrow raises several kinds for a file that is not parquet
        raise InputError(f"{path}: not readable as parquet ({error}); export it again") from None
    check_columns(reviewed, REVIEWED_COLUMNS, str(path))
    negatives = reviewed[reviewed["state"] == "negative"]
    items = (
        reviewed[["item", "group", "path"]]
        .astype({"item": str, "group": str, "path": str})
        .drop_duplicates("item")
        .sort_values("item", kind="stable")
        .reset_index(drop=True)
    )
    candidates = negatives[["item", "group", "start_ms", "end_ms", "score"]].astype({"item": str, "group": str})
    return candidates, items
