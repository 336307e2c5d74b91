"""Hard-negative mining: score a pool with a model, keep the windows it wrongly scores high, tier the items.

The scorers and pools it runs on live in :mod:`hardneg.score`; this package
runs them over a pool (:func:`mine`, locally or on Ray), selects and tiers
the candidates and writes review snapshots.

Examples
--------
The model is usually ``model.onnx`` (or a model folder from ``hardneg train``); here a Python factory
scores two ten-second logs, each silent but for one half-second burst, by their loudness:

>>> import tempfile, numpy as np, pandas as pd
>>> from pathlib import Path
>>> tmp = tempfile.TemporaryDirectory()
>>> Path(tmp.name, "pool").mkdir()
>>> for name, burst, level in (("rec1", 300, 1.0), ("rec2", 700, 0.75)):
...     x = np.zeros(1000)
...     x[burst : burst + 50] = level
...     pd.DataFrame({"t_ms": np.arange(1000) * 10.0, "ax": x}).to_csv(f"{tmp.name}/pool/{name}.csv", index=False)
>>> _ = Path(tmp.name, "loudness.py").write_text(
...     "import numpy as np\\n\\ndef make():\\n    return lambda batch: np.abs(batch).mean(axis=(1, 2))\\n")
>>> options = MineOptions(model=f"{tmp.name}/loudness.py:make", window_ms=500, min_score=0.6)
>>> result = mine([f"{tmp.name}/pool"], f"{tmp.name}/mined", options)
>>> result.candidates.columns.tolist()[:5]
['item', 'group', 'start_ms', 'end_ms', 'score']
>>> result.candidates[["item", "start_ms", "score"]].values.tolist()
[['rec1', 3000.0, 1.0], ['rec2', 7000.0, 0.75]]
>>> tmp.cleanup()
"""

from hardneg.mine._engine import ENGINES, MineInterrupted, mine, score_pool
from hardneg.mine._failures import FailureReason, every_item_failed, failure_reasons
from hardneg.mine._manifest import (
    candidates_path,
    is_reviewed,
    mined_source,
    pool_path,
    read_candidates,
    read_items,
    read_mined,
    tier_label,
    write_candidates,
    write_items,
)
from hardneg.mine._options import OPTIONS_FILE, MineOptions, MineResult
from hardneg.mine._ray_engine import ray_session, require_ray
from hardneg.mine._shards import check_pool_against_card, open_scorer
from hardneg.mine._snapshots import ms_label, safe_name, write_snapshots
from hardneg.mine._stats import STATS_JSON

__all__ = [
    "ENGINES",
    "OPTIONS_FILE",
    "STATS_JSON",
    "FailureReason",
    "MineInterrupted",
    "MineOptions",
    "MineResult",
    "candidates_path",
    "check_pool_against_card",
    "every_item_failed",
    "failure_reasons",
    "is_reviewed",
    "mine",
    "mined_source",
    "ms_label",
    "open_scorer",
    "pool_path",
    "ray_session",
    "read_candidates",
    "read_items",
    "read_mined",
    "require_ray",
    "safe_name",
    "score_pool",
    "tier_label",
    "write_candidates",
    "write_items",
    "write_snapshots",
]
