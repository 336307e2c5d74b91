"""The candidates under review: a mined folder's windows with stable ids, and the filters and orders over them.

A candidate's **key** (``item@start_ms``, ``#frame`` added for video and
images) is what the decision log stores, so decisions stay attached to the
same window when the folder is mined again or the candidates are re-sorted.
Its **id** is its position in the table (best score first), what the page and
the API use.

Filtering and sorting are column operations over the whole table (no loop per
candidate), so a 20,000-candidate folder answers in milliseconds.

Examples
--------
>>> import tempfile, pandas as pd
>>> from hardneg.mine import write_candidates, write_items
>>> out = tempfile.mkdtemp()
>>> candidates = pd.DataFrame({"item": ["a", "b", "a"], "group": ["g", "h", "g"], "start_ms": [0.0, 500.0, 1000.0],
...                            "end_ms": [500.0, 1000.0, 1500.0], "score": [0.6, 0.9, 0.95]})
>>> items = pd.DataFrame({"item": ["a", "b"], "group": ["g", "h"], "n_windows": [3, 2], "max_score": [0.95, 0.9],
...                       "mean_score": [0.5, 0.6], "topk_mean": [0.8, 0.9], "argmax_ms": [1000.0, 500.0],
...                       "path": ["a.csv", "b.csv"]})
>>> _ = write_candidates(candidates, out), write_items(items, out)
>>> review = ReviewSet.load(out)
>>> review.table[["id", "key", "score", "tier"]].values.tolist()
[[0, 'a@1000', 0.95, '0.85'], [1, 'b@500', 0.9, '0.85'], [2, 'a@0', 0.6, '0.50']]
>>> review.select(Filters(min_score=0.7), {}).tolist()
[0, 1]
>>> review.select(Filters(state="unreviewed"), {"a@1000": ("negative", None, "ana")}).tolist()
[1, 2]
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from hardneg._schema import REVIEW_STATES, UNREVIEWED
from hardneg._validation import check_seed
from hardneg.errors import InputError
from hardneg.mine import OPTIONS_FILE, ms_label, pool_path, read_candidates, read_items, tier_label
from hardneg.score import pool_kind_of

__all__ = ["SORTS", "Filters", "ReviewSet", "candidate_key"]

#: how the page can order the candidates
SORTS = ("score", "score_asc", "random", "similar")
_DEFAULT_TIERS = (0.5, 0.85, 0.99)


def candidate_key(item: str, start_ms: float, frame=None) -> str:
    """The key a decision is stored under: ``item@start_ms`` (``#frame`` for video and image candidates).

    Examples
    --------
    >>> candidate_key("cam1", 1500.0, 45), candidate_key("rec", 22.675736)
    ('cam1@1500#45', 'rec@22.676')
    """
    key = f"{item}@{ms_label(start_ms)}"  # as snapshot file names write the time
    return key if frame is None or pd.isna(frame) else f"{key}#{int(frame)}"


@dataclass(frozen=True)
class Filters:
    """What the page shows; ``None`` means no constraint.

    ``state`` is one of the review states or ``unreviewed``; ``tier`` keeps the
    candidates scoring at least that tier; ``min_score``/``max_score`` is the
    score band (both ends included).
    """

    tier: float | None = None
    min_score: float | None = None
    max_score: float | None = None
    item: str | None = None
    group: str | None = None
    category: str | None = None
    state: str | None = None

    def __post_init__(self):
        if self.state is not None and self.state not in (*REVIEW_STATES, UNREVIEWED):
            raise InputError(f"state must be one of {', '.join((*REVIEW_STATES, UNREVIEWED))}; got {self.state!r}",
                             parameter="state")  # fmt: skip
        for name in ("tier", "min_score", "max_score"):
            value = getattr(self, name)
            if value is not None and not np.isfinite(value):
                raise InputError(f"{name} must be a finite number, got {value!r}", parameter=name)


@dataclass
class ReviewSet:
    """A mined folder's candidates, ready to review.

    Attributes
    ----------
    mined_dir : Path
    table : DataFrame
        ``id, key, item, group, start_ms, end_ms, score, tier, kind, path`` (+ ``frame`` for video and
        images, ``snapshot`` when the folder was mined with snapshots), best score first.
    tiers : tuple of float
        The mining run's confidence tiers.
    options : dict
        The mining options (``mine.json``): window length, time column, channels.
    """

    mined_dir: Path
    table: pd.DataFrame
    tiers: tuple[float, ...]
    options: dict

    @classmethod
    def load(cls, mined_dir) -> ReviewSet:
        """Read ``candidates.parquet``, ``items.parquet`` and ``mine.json`` of ``mined_dir``."""
        mined_dir = Path(mined_dir)
        if not mined_dir.is_dir():
            raise InputError(f"{mined_dir}: no such folder; give the --out folder of `hardneg mine`")
        candidates = read_candidates(mined_dir)
        items = read_items(mined_dir)
        options = {}
        if (mined_dir / OPTIONS_FILE).is_file():
            try:
                options = json.loads((mined_dir / OPTIONS_FILE).read_text())
            except (OSError, ValueError) as error:
                raise InputError(f"{mined_dir / OPTIONS_FILE}: cannot be read ({error}); mine again") from None
        tiers = tuple(sorted(float(t) for t in options.get("tiers") or _DEFAULT_TIERS))
        order = candidates.sort_values(["score", "item", "start_ms"], ascending=[False, True, True], kind="stable")
        table = order.reset_index(drop=True)
        # where each item is, resolved once with mining's own rule (media and exports read table["path"] as is)
        paths = {item: os.path.abspath(pool_path(mined_dir, path))
                 for item, path in zip(items["item"].astype(str), items["path"].astype(str), strict=True)}
        table["item"] = table["item"].astype(str)
        table["group"] = table["group"].astype(str)
        table["path"] = table["item"].map(paths)
        unknown = table["path"].isna()
        if unknown.any():
            raise InputError(f"{mined_dir}: candidate item {table.loc[unknown, 'item'].iloc[0]!r} is not in "
                             "items.parquet; the folder is damaged, mine again")  # fmt: skip
        kinds = {item: _kind(Path(path)) for item, path in paths.items()}
        table["kind"] = table["item"].map(kinds)
        frame = table["frame"] if "frame" in table.columns else pd.Series([None] * len(table), dtype=object)
        table["key"] = [
            candidate_key(item, start, frm)
            for item, start, frm in zip(table["item"], table["start_ms"], frame, strict=True)
        ]
        if table["key"].duplicated().any():
            raise InputError(f"{mined_dir}: two candidates share the window {table.loc[table['key'].duplicated(), 'key'].iloc[0]}; "
                             "the folder is damaged, mine again")  # fmt: skip
        table["tier"] = _tier_of(table["score"].to_numpy(), tiers)
        table.insert(0, "id", np.arange(len(table), dtype=np.int64))
        return cls(mined_dir=mined_dir, table=table, tiers=tiers, options=options)

    # ------------------------------------------------------------------ selection

    def states(self, current: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The state, category and reviewer of every candidate (``None`` where undecided), in table order."""
        keys = self.table["key"].to_numpy()
        empty = (None, None, None)
        decided = [current.get(key, empty) for key in keys] if current else [empty] * len(keys)
        state = np.array([entry[0] for entry in decided], dtype=object)
        category = np.array([entry[1] for entry in decided], dtype=object)
        reviewer = np.array([entry[2] for entry in decided], dtype=object)
        return state, category, reviewer

    def mask(self, filters: Filters, current: dict) -> np.ndarray:
        """Which candidates ``filters`` keep, given the current decisions (``key -> (state, category, reviewer)``)."""
        table = self.table
        keep = np.ones(len(table), dtype=bool)
        score = table["score"].to_numpy()
        if filters.tier is not None:
            keep &= score >= filters.tier
        if filters.min_score is not None:
            keep &= score >= filters.min_score
        if filters.max_score is not None:
            keep &= score <= filters.max_score
        if filters.item is not None:
            keep &= table["item"].to_numpy() == filters.item
        if filters.group is not None:
            keep &= table["group"].to_numpy() == filters.group
        if filters.state is not None or filters.category is not None:
            state, category, _ = self.states(current)
            if filters.state == UNREVIEWED:
                keep &= pd.isna(state)
            elif filters.state is not None:
                keep &= state == filters.state
            if filters.category is not None:
                keep &= category == filters.category
        return keep

    def select(self, filters: Filters, current: dict, *, sort: str = "score", seed: int = 0,
               like: int | None = None, embed=None) -> np.ndarray:  # fmt: skip
        """The ids ``filters`` keep, in the order ``sort`` asks for.

        ``random`` is a permutation drawn from ``seed`` (the same seed, the same
        order); ``similar`` puts first the candidates closest to candidate
        ``like`` by cosine similarity of ``embed(ids) -> (n, d) array``.
        """
        if sort not in SORTS:
            raise InputError(f"sort must be one of {', '.join(SORTS)}; got {sort!r}", parameter="sort")
        ids = np.flatnonzero(self.mask(filters, current))
        if sort == "score_asc":
            return ids[::-1]
        if sort == "random":
            order = np.random.default_rng([check_seed(seed), len(self.table)]).permutation(len(self.table))
            rank = np.empty_like(order)
            rank[order] = np.arange(len(order))
            return ids[np.argsort(rank[ids], kind="stable")]
        if sort == "similar":
            if like is None or not 0 <= int(like) < len(self.table):
                raise InputError(f"like must be a candidate id in 0..{len(self.table) - 1}, got {like!r}",
                                 parameter="like")  # fmt: skip
            if embed is None:
                raise InputError("sort similar needs embeddings", parameter="sort")
            vectors = embed(np.concatenate([[int(like)], ids]))
            norms = np.linalg.norm(vectors, axis=1)
            norms[norms == 0] = 1.0
            unit = vectors / norms[:, None]
            similarity = unit[1:] @ unit[0]
            return ids[np.argsort(-similarity, kind="stable")]
        return ids

    def rows(self, ids) -> pd.DataFrame:
        return self.table.iloc[np.asarray(ids, dtype=np.int64)]


def _kind(path: Path) -> str:
    if path.is_dir():
        return "image"
    return pool_kind_of(path) or "sensor"


def _tier_of(scores: np.ndarray, tiers: tuple[float, ...]) -> np.ndarray:
    """The highest tier each score reaches (``""`` below the lowest), as :func:`tier_label` writes it."""
    labels = np.array(["", *(tier_label(tier) for tier in tiers)], dtype=object)
    return labels[np.searchsorted(np.asarray(tiers, dtype=np.float64), scores, side="right")]
