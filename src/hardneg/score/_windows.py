"""The window table, defined once: where each window of a pool item lies and, once scored, its score.

Columns, in this order: ``item`` and ``group`` (text), ``start_ms`` and
``end_ms`` (float64), ``frame`` (int64; video and images only: the frame's
index) and, once scored, ``score`` (float64 in [0, 1]). :func:`window_table`
builds it as a pandas frame (what :func:`hardneg.score.iter_windows` yields and
a table of precomputed scores looks up), :func:`scored_window_arrow` as the
Arrow table a mining shard holds.

Examples
--------
>>> import numpy as np
>>> window_table("s01", "rec_a", np.array([0.0, 250.0]), np.array([500.0, 750.0])).columns.tolist()
['item', 'group', 'start_ms', 'end_ms']
>>> one = np.zeros(1)
>>> scored_window_arrow("cam1", "cam1", one, one + 40, one + 0.5, frame=one.astype(np.int64)).column_names
['item', 'group', 'start_ms', 'end_ms', 'frame', 'score']
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from hardneg._schema import SCORED_WINDOW_COLUMNS, WINDOW_TABLE_COLUMNS

__all__ = ["FRAME_COLUMN", "SCORED_WINDOW_COLUMNS", "WINDOW_TABLE_COLUMNS", "scored_window_arrow", "window_table"]

#: The column video and image windows add: the frame's index.
FRAME_COLUMN = "frame"
_ITEM, _GROUP, _START, _END = WINDOW_TABLE_COLUMNS
_SCORE = SCORED_WINDOW_COLUMNS[-1]


def window_table(item_id: str, group: str, start_ms, end_ms, *, frame=None, score=None) -> pd.DataFrame:
    """One item's windows as a pandas window table (``frame`` and ``score`` only when given)."""
    n = len(start_ms)
    table = {
        _ITEM: pd.Series([item_id] * n, dtype=object),
        _GROUP: pd.Series([group] * n, dtype=object),
        _START: np.asarray(start_ms, dtype=np.float64),
        _END: np.asarray(end_ms, dtype=np.float64),
    }
    if frame is not None:
        table[FRAME_COLUMN] = np.asarray(frame, dtype=np.int64)
    if score is not None:
        table[_SCORE] = np.asarray(score, dtype=np.float64)
    return pd.DataFrame(table)


def scored_window_arrow(item_id: str, group: str, start_ms, end_ms, score, *, frame=None) -> pa.Table:
    """One item's scored windows as an Arrow table (``frame`` only when given)."""
    n = len(start_ms)
    columns = {
        _ITEM: pa.repeat(pa.scalar(item_id, type=pa.string()), n),
        _GROUP: pa.repeat(pa.scalar(group, type=pa.string()), n),
        _START: start_ms,
        _END: end_ms,
    }
    if frame is not None:
        columns[FRAME_COLUMN] = frame
    columns[_SCORE] = score
    return pa.table(columns)
