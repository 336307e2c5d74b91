"""The ``table`` scorer kind: precomputed window scores from ``--scores FILE``, looked up per item.

Examples
--------
>>> TableScores.applies_to("scores.csv"), TableScores.applies_to("scores.parquet"), TableScores.applies_to("a.py:make")
(True, True, False)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hardneg.errors import InputError
from hardneg.score._base import Scorer, register_scorer
from hardneg.score._windows import window_table

__all__ = ["SCORE_TABLE_COLUMNS", "TABLE_SUFFIXES", "TableScores"]

#: What a table of precomputed scores holds (its group comes from the pool).
SCORE_TABLE_COLUMNS = ("item", "start_ms", "end_ms", "score")
#: Suffixes of a table of scores (a ``--model`` with one is pointed to ``--scores``).
TABLE_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq")


@register_scorer
class TableScores(Scorer):
    """Precomputed window scores from ``--scores FILE`` (CSV or Parquet: ``item, start_ms, end_ms, score``).

    The file is read and checked once: every value present, times finite with
    ``end_ms >= start_ms``, no window given twice, scores in [0, 1] (or logits
    turned into probabilities with ``logits=True``). :meth:`lookup` gives one
    item's windows in the window-table layout the engine writes.

    Examples
    --------
    >>> import tempfile
    >>> scores = pd.DataFrame({"item": ["s01", "s01", "s02"], "start_ms": [500.0, 0.0, 0.0],
    ...                        "end_ms": [1500.0, 1000.0, 1000.0], "score": [0.9, 0.2, 0.4]})
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     scores.to_csv(f"{tmp}/scores.csv", index=False)
    ...     table = TableScores(f"{tmp}/scores.csv")
    >>> table.items, len(table)
    (['s01', 's02'], 3)
    >>> table.lookup("s01").columns.tolist()
    ['item', 'group', 'start_ms', 'end_ms', 'score']
    >>> table.lookup("s01", group="rec1")[["group", "start_ms", "score"]].values.tolist()
    [['rec1', 0.0, 0.2], ['rec1', 500.0, 0.9]]
    """

    kind = "table"
    option = "scores"
    reads_windows = False
    what = "table of scores"

    @classmethod
    def applies_to(cls, spec: str) -> bool:
        path = Path(spec)
        return path.suffix.lower() in TABLE_SUFFIXES and ":" not in path.name

    @classmethod
    def from_spec(cls, spec: str, *, logits: bool = False, **_):
        return cls(spec, logits=logits)

    def __init__(self, path: str | Path, *, logits: bool = False):
        from hardneg.io import read_table

        self.path = Path(path)
        table = read_table(self.path, string_columns=("item",))
        missing = [name for name in SCORE_TABLE_COLUMNS if name not in table.column_names]
        if missing:
            raise InputError(
                f"scores {self.path}: column(s) {', '.join(missing)} not found; the table needs "
                f"{', '.join(SCORE_TABLE_COLUMNS)} (found: {', '.join(table.column_names)})",
                parameter="scores",
            )
        frame = table.select(list(SCORE_TABLE_COLUMNS)).to_pandas()
        if frame["item"].isna().any():
            raise InputError(
                f"scores {self.path}: row {int(frame['item'].isna().argmax())} has no item", parameter="scores"
            )
        items = frame["item"].astype(str).to_numpy()
        values = {}
        for name in ("start_ms", "end_ms", "score"):
            try:
                values[name] = pd.to_numeric(frame[name], errors="raise").to_numpy(np.float64)
            except (TypeError, ValueError):
                raise InputError(
                    f"scores {self.path}: column {name} holds non-numbers; give numbers", parameter="scores"
                ) from None
            bad = ~np.isfinite(values[name])
            if bad.any():
                row = int(np.flatnonzero(bad)[0])
                raise InputError(
                    f"scores {self.path}: row {row} ({items[row]}) has a missing or infinite {name}", parameter="scores"
                )
        start, end, score = values["start_ms"], values["end_ms"], values["score"]
        if (end < start).any():
            row = int(np.flatnonzero(end < start)[0])
            raise InputError(f"scores {self.path}: row {row} ({items[row]}) ends before it starts", parameter="scores")
        if logits:
            from scipy.special import expit

            score = expit(score)
        elif (score < 0).any() or (score > 1).any():
            row = int(np.flatnonzero((score < 0) | (score > 1))[0])
            raise InputError(
                f"scores {self.path}: row {row} ({items[row]}) has score {score[row]:g} outside [0, 1]; "
                "if the table holds logits, pass --logits",
                parameter="scores",
            )
        # Sort by item then start once, so each item is one contiguous slice and lookups need no scan.
        order = np.lexsort((end, start, items))
        items, start, end, score = items[order], start[order], end[order], score[order]
        same = (items[1:] == items[:-1]) & (start[1:] == start[:-1]) & (end[1:] == end[:-1])
        if same.any():
            row = int(np.flatnonzero(same)[0])
            raise InputError(
                f"scores {self.path}: window {items[row]} {start[row]:g}-{end[row]:g} ms appears more than once; "
                "keep one score per window",
                parameter="scores",
            )
        self._items, self._start, self._end, self._score = items, start, end, score
        unique, first = np.unique(items, return_index=True)
        stops = np.append(first[1:], len(items))
        self._slices = {name: (int(a), int(b)) for name, a, b in zip(unique.tolist(), first, stops)}

    @property
    def items(self) -> list[str]:
        """The item ids the table has scores for, sorted."""
        return list(self._slices)

    def __len__(self) -> int:
        return len(self._score)

    def __contains__(self, item) -> bool:
        return _item_id(item) in self._slices

    def lookup(self, item, group: str | None = None) -> pd.DataFrame:
        """One item's scored windows: ``item, group, start_ms, end_ms, score``, sorted by ``start_ms``.

        ``item`` is an id or a pool item (anything with ``.id``, and ``.group``
        used when ``group`` is not given); the group defaults to the id.

        Raises
        ------
        InputError
            If the table has no scores for the item, so the engine reports it
            in ``errors.csv`` instead of silently mining nothing.
        """
        item_id = _item_id(item)
        if group is None:
            group = getattr(item, "group", None)
        group = item_id if group is None else str(group)
        if item_id not in self._slices:
            raise InputError(
                f"scores {self.path}: no scores for item {item_id!r}; score it or leave it out of the pool",
                parameter="scores",
            )
        a, b = self._slices[item_id]
        return window_table(
            item_id, group, self._start[a:b].copy(), self._end[a:b].copy(), score=self._score[a:b].copy()
        )

    def __call__(self, batch):
        raise InputError(
            f"scores {self.path}: precomputed scores are looked up per item, not computed from windows",
            parameter="scores",
        )

    def __repr__(self) -> str:
        return f"TableScores({str(self.path)!r}, {len(self)} windows, {len(self._slices)} items)"


def _item_id(item) -> str:
    return str(getattr(item, "id", item))
