"""Hard-negative mining: score a pool with a model, keep the windows it wrongly scores high, tier the items.

The scorers and pools it runs on live in :mod:`hardneg.score`; this package
runs them over a pool (:func:`mine`, locally or on Ray), selects and tiers
the candidates and writes review snapshots.

Examples
--------
>>> result = mine(["pool/"], "mined", MineOptions(model="model.onnx", window_ms=500))  # doctest: +SKIP
>>> result.candidates.columns.tolist()[:5]  # doctest: +SKIP
['item', 'group', 'start_ms', 'end_ms', 'score']
"""

from hardneg.mine.engine import ENGINES, mine
from hardneg.mine.options import OPTIONS_FILE, MineOptions, MineResult
from hardneg.mine.snapshots import write_snapshots

__all__ = ["ENGINES", "OPTIONS_FILE", "MineOptions", "MineResult", "mine", "write_snapshots"]
