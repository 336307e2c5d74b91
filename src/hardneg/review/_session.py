"""What the review page asks of a mined folder, computed without any web framework.

:class:`ReviewSession` joins the candidates (:class:`ReviewSet`), the decision
log (:class:`ReviewStore`) and the media (:class:`ReviewMedia`) and answers in
plain dictionaries, which the app's routers return as JSON. Tests, the
benchmark and scripts can call it directly.

Examples
--------
>>> import tempfile, numpy as np, pandas as pd
>>> from hardneg.mine import write_candidates, write_items
>>> out = tempfile.mkdtemp()
>>> pd.DataFrame({"t_ms": np.arange(200) * 10.0, "x": np.sin(np.arange(200))}).to_csv(f"{out}/a.csv", index=False)
>>> candidates = pd.DataFrame({"item": ["a", "a"], "group": ["g", "g"], "start_ms": [0.0, 500.0],
...                            "end_ms": [500.0, 1000.0], "score": [0.7, 0.9]})
>>> items = pd.DataFrame({"item": ["a"], "group": ["g"], "n_windows": [2], "max_score": [0.9], "mean_score": [0.8],
...                       "topk_mean": [0.8], "argmax_ms": [500.0], "path": [f"{out}/a.csv"]})
>>> _ = write_candidates(candidates, out), write_items(items, out)
>>> session = ReviewSession.open(out, categories=["cones"], reviewer="ana")
>>> [c["start_ms"] for c in session.candidates({})["candidates"]]
[500.0, 0.0]
>>> session.decide({"candidate": 0, "state": "negative", "category": "cones", "request_id": "r1"})["progress"]
{'reviewed': 1, 'total': 2}
>>> session.candidates({"state": "unreviewed"})["total"]
1
>>> session.close()
"""

from __future__ import annotations

import getpass
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pandas as pd

from hardneg._schema import REVIEW_DB_FILE, REVIEW_STATES
from hardneg.errors import InputError
from hardneg.mine import STATS_JSON
from hardneg.review._candidates import SORTS, Filters, ReviewSet
from hardneg.review._media import ReviewMedia
from hardneg.review._store import ReviewStore, agreement_table

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "ReviewSession", "default_reviewer"]

DEFAULT_LIMIT = 200
MAX_LIMIT = 5000
_HIST_BINS = 20


def default_reviewer() -> str:
    """The login name, or ``reviewer`` where there is none."""
    try:
        return getpass.getuser() or "reviewer"
    except Exception:  # noqa: BLE001 - no login name in some containers
        return "reviewer"


@dataclass
class ReviewSession:
    """A mined folder opened for review."""

    review: ReviewSet
    store: ReviewStore
    media: ReviewMedia
    categories: tuple[str, ...]
    #: key -> id of every candidate: which decisions belong to this folder, and what an undo touched
    _ids: dict = field(init=False, repr=False)
    #: the mining run's ``stats.json`` (it does not change while the folder is reviewed)
    _mining: dict | None = field(init=False, repr=False)

    def __post_init__(self):
        self._ids = dict(zip(self.review.table["key"], self.review.table["id"].tolist(), strict=True))
        self._mining = _mining_stats(self.review.mined_dir)

    @classmethod
    def open(cls, mined_dir, *, categories: Sequence[str] = (), reviewer: str | None = None,
             context_ms: float = 2000.0) -> ReviewSession:  # fmt: skip
        """Open ``mined_dir`` (written by ``hardneg mine``) and its ``review.sqlite`` (made if missing).

        ``categories`` joins those earlier sessions used: a category stays valid once decisions carry it.
        """
        review = ReviewSet.load(mined_dir)
        if review.table.empty:
            raise InputError(f"{mined_dir}: no candidates to review (no window scored at least the mining "
                             "--min-score); mine again with a lower --min-score")  # fmt: skip
        store = ReviewStore(Path(mined_dir) / REVIEW_DB_FILE, reviewer=reviewer or default_reviewer())
        categories = tuple(_clean_categories(categories))
        known = list(store.get_meta("categories", []))
        merged = known + [name for name in categories if name not in known]
        if merged != known:
            store.set_meta("categories", merged)
        return cls(review=review, store=store, media=ReviewMedia(review, context_ms=context_ms),
                   categories=tuple(merged))  # fmt: skip

    def close(self) -> None:
        self.store.close()

    # ------------------------------------------------------------------ reading

    @property
    def total(self) -> int:
        return len(self.review.table)

    def progress(self) -> dict:
        """``{"reviewed", "total"}``: the candidates of this folder with a decision standing, and all of them."""
        ids = self._ids
        return {"reviewed": sum(1 for key in self.store.current_map() if key in ids), "total": self.total}

    def config(self) -> dict:
        """What the page needs once: categories, states, filter choices, tiers, the reviewer."""
        table = self.review.table
        return {
            "categories": list(self.categories),
            "states": list(REVIEW_STATES),
            "sorts": list(SORTS),
            "tiers": [float(tier) for tier in self.review.tiers],
            "items": sorted(table["item"].unique().tolist()),
            "groups": sorted(table["group"].unique().tolist()),
            "kinds": sorted(table["kind"].unique().tolist()),
            "reviewer": self.store.reviewer,
            "total": self.total,
            "score_range": [float(table["score"].min()), float(table["score"].max())],
            "mined_dir": str(self.review.mined_dir),
        }

    def filters(self, query: Mapping) -> Filters:
        """:class:`Filters` from query parameters (strings allowed); unknown keys are ignored by the caller."""
        values = {}
        for name in ("tier", "min_score", "max_score"):
            if query.get(name) not in (None, ""):
                values[name] = _number(name, query[name])
        for name in ("item", "group", "category", "state"):
            if query.get(name) not in (None, ""):
                values[name] = str(query[name])
        return Filters(**values)

    def select(self, query: Mapping) -> np.ndarray:
        current = self.store.current_map()
        sort = str(query.get("sort") or "score")
        like = query.get("like")
        like = None if like in (None, "") else int(_number("like", like))
        seed = int(_number("seed", query.get("seed") or 0))
        return self.review.select(self.filters(query), current, sort=sort, seed=seed, like=like,
                                  embed=self.media.embedding)  # fmt: skip

    def candidates(self, query: Mapping) -> dict:
        """``{"total", "offset", "limit", "ids", "candidates": [...]}`` for the filters and order in ``query``.

        ``ids`` lists every match (so the page can step through them); ``candidates`` describes the page
        ``offset:offset+limit`` of them.
        """
        ids = self.select(query)
        offset = int(_number("offset", query.get("offset") or 0))
        limit = query.get("limit")
        limit = DEFAULT_LIMIT if limit in (None, "") else int(_number("limit", limit))
        if offset < 0 or not 0 <= limit <= MAX_LIMIT:
            raise InputError(f"limit must be in 0..{MAX_LIMIT} and offset >= 0, got limit {limit}, offset {offset}",
                             parameter="limit")  # fmt: skip
        page = ids[offset : offset + limit]
        return {
            "total": len(ids),
            "offset": offset,
            "limit": limit,
            "ids": ids.tolist(),
            "candidates": self.describe(page),
        }

    def describe(self, ids) -> list[dict]:
        """The JSON the page shows for each candidate in ``ids``."""
        rows = self.review.rows(ids)
        current = self.store.current_map()
        out = []
        has_frame = "frame" in rows.columns
        for row in rows.itertuples(index=False):
            state, category, reviewer = current.get(row.key, (None, None, None))
            roles = self.media.roles(int(row.id))
            urls = {role: "/snapshots/" + quote(path) for role, path in roles.items()}
            entry = {
                "id": int(row.id), "key": row.key, "item": row.item, "group": row.group,
                "start_ms": float(row.start_ms), "end_ms": float(row.end_ms), "score": float(row.score),
                "tier": row.tier, "kind": row.kind, "state": state, "category": category, "reviewer": reviewer,
                "snapshot": list(urls.values()), "media": urls,
            }  # fmt: skip
            if has_frame and pd.notna(row.frame):
                entry["frame"] = int(row.frame)
            if row.kind in ("audio", "sensor"):
                entry["context"] = self.media.context(int(row.id))
            out.append(entry)
        return out

    def stats(self) -> dict:
        """Progress, counts per state and category, per reviewer, the agreement table and score histograms."""
        table = self.review.table
        current = self.store.current_map()
        state, category, _ = self.review.states(current)
        by_state = {name: int((state == name).sum()) for name in REVIEW_STATES}
        categories = [c for c in category if c is not None]
        by_category = {name: categories.count(name) for name in sorted(set(categories) | set(self.categories))}
        decisions = self.store.by_reviewer()
        decisions = decisions[decisions["candidate"].isin(self._ids)]
        per_reviewer = decisions.groupby("reviewer").size().astype(int).to_dict()
        agreement = []
        if len(per_reviewer) >= 2:
            agreement = [
                {key: (None if isinstance(value, float) and math.isnan(value) else value) for key, value in row.items()}
                for row in agreement_table(decisions).to_dict("records")
            ]
        edges = np.linspace(0.0, 1.0, _HIST_BINS + 1)
        scores = np.clip(table["score"].to_numpy(), 0.0, 1.0)
        histogram = {"edges": edges.tolist(), "all": np.histogram(scores, edges)[0].tolist()}
        for name in REVIEW_STATES:
            histogram[name] = np.histogram(scores[state == name], edges)[0].tolist()
        tiers = {tier: int((table["tier"] == tier).sum()) for tier in sorted(set(table["tier"]) - {""})}
        return {
            "total": self.total,
            "reviewed": int(sum(by_state.values())),
            "by_state": by_state,
            "by_category": by_category,
            "by_reviewer": per_reviewer,
            "agreement": agreement,
            "by_tier": tiers,
            "score_histogram": histogram,
            "mining": self._mining,
        }

    # ------------------------------------------------------------------ writing

    def _key(self, candidate) -> str:
        try:
            index = int(candidate)
        except (TypeError, ValueError):
            raise InputError(f"candidate must be a candidate id, got {candidate!r}", parameter="candidate") from None
        if not 0 <= index < self.total or isinstance(candidate, bool):
            raise InputError(f"candidate must be an id in 0..{self.total - 1}, got {candidate!r}",
                             parameter="candidate")  # fmt: skip
        return self.review.table["key"].iat[index]

    def _category(self, category) -> str | None:
        if category in (None, ""):
            return None
        if category not in self.categories:
            raise InputError(f"category must be one of {', '.join(self.categories) or '(none given)'}; got "
                             f"{category!r} (start the review with --categories to add one)",
                             parameter="category")  # fmt: skip
        return category

    def decide(self, body: Mapping) -> dict:
        """Record ``{"candidate", "state", "category", "request_id"[, "reviewer"]}``; answers after the commit."""
        key = self._key(body.get("candidate"))
        result = self.store.decide(key, body.get("state"), category=self._category(body.get("category")),
                                   reviewer=body.get("reviewer"), request_id=body.get("request_id"))  # fmt: skip
        result["candidate"] = int(body["candidate"])
        result["progress"] = self.progress()
        return result

    def bulk(self, body: Mapping) -> dict:
        """Assign one state (and category) to every candidate the filters in ``body["filters"]`` keep.

        ``expected`` is the count the page showed in its confirmation; a different count now (someone
        decided meanwhile, with a state filter) refuses the request rather than touch what was not shown.
        """
        ids = self.select(body.get("filters") or {})
        expected = body.get("expected")
        if expected is None or int(expected) != len(ids):
            raise SelectionChanged(f"the selection holds {len(ids)} candidates now, not {expected}; look again")
        keys = self.review.table["key"].to_numpy()[ids].tolist()
        result = self.store.decide_many(keys, body.get("state"), category=self._category(body.get("category")),
                                        reviewer=body.get("reviewer"), request_id=body.get("request_id"))  # fmt: skip
        result["progress"] = self.progress()
        return result

    def undo(self, body: Mapping) -> dict:
        """Take back the reviewer's latest request; answers with the candidates it touched, as they are now."""
        result = self.store.undo(reviewer=body.get("reviewer"), request_id=body.get("request_id"))
        result["candidates"] = self.describe([self._ids[key] for key in result["undone"] if key in self._ids])
        result["progress"] = self.progress()
        return result


class SelectionChanged(InputError):
    """A bulk assignment whose selection no longer has the count the page confirmed."""


def _number(name: str, value) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number, got {value!r}", parameter=name) from None
    if not math.isfinite(number):
        raise InputError(f"{name} must be a finite number, got {value!r}", parameter=name)
    return number


def _clean_categories(categories) -> list[str]:
    if isinstance(categories, str):
        categories = categories.split(",")
    names = []
    for name in categories:
        name = str(name).strip()
        if not name:
            continue
        if len(name) > 60 or any(ch in name for ch in "<>&\"'/\\"):
            raise InputError(f"categories: {name!r} is not a usable category name (at most 60 characters, no "
                             "<>&\"'/\\)", parameter="categories")  # fmt: skip
        if name not in names:
            names.append(name)
    return names


def _mining_stats(mined_dir: Path) -> dict | None:
    path = Path(mined_dir) / STATS_JSON
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None
