"""What a mining run is asked to do (:class:`MineOptions`) and what it gives back (:class:`MineResult`).

Examples
--------
>>> MineOptions(model="model.onnx", window_ms=500).validate().hop_ms is None
True
>>> MineOptions(model="model.onnx", window_ms=0).validate()
Traceback (most recent call last):
...
hardneg.errors.InputError: window_ms must be a number > 0, got 0
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from numbers import Integral, Real
from pathlib import Path

import pandas as pd

from hardneg._validation import Interval, Options, Sequence, validate_params
from hardneg.errors import InputError
from hardneg.score import SHORT_ITEMS

__all__ = ["OPTIONS_FILE", "MineOptions", "MineResult"]

#: The options a run was started with, in its output folder: a resumed run must match them.
OPTIONS_FILE = "mine.json"

_POSITIVE = Interval(Real, 0, None, closed="neither")
_AT_LEAST_ONE = Interval(Integral, 1, None, closed="left")
_SCORE = Interval(Real, 0, 1, closed="both")


@dataclass(frozen=True)
class MineOptions:
    """Everything that changes the output; a resumed run must use the same values."""

    model: str | None = None
    scores: str | None = None
    window_ms: float = 1000.0
    hop_ms: float | None = None
    stride: int = 1
    short_items: str = "pad"
    batch_size: int = 256
    min_score: float = 0.5
    max_score: float | None = None
    nms_ms: float | None = None
    max_per_item: int | None = None
    topk: int = 5
    tiers: tuple[float, ...] = (0.5, 0.85, 0.99)
    logits: bool = False
    group_regex: str | None = None
    groups: str | None = None
    exclude_groups_from: str | None = None
    exclude_split: str | None = None
    time_col: str = "t_ms"
    channels: tuple[str, ...] | None = None
    snapshots: bool = False

    def validate(self) -> "MineOptions":
        """Return ``self`` if every value is possible, else raise :class:`InputError` naming the first that is not."""
        if (self.model is None) == (self.scores is None):
            raise InputError(
                "pass exactly one of model (a scorer) or scores (precomputed scores)", parameter="model"
            )
        validate_params(
            asdict(self),
            {
                "window_ms": [_POSITIVE],
                "hop_ms": [None, _POSITIVE],
                "stride": [_AT_LEAST_ONE],
                "short_items": [Options(SHORT_ITEMS)],
                "batch_size": [_AT_LEAST_ONE],
                "min_score": [_SCORE],
                "max_score": [None, Interval(Real, self.min_score, 1, closed="both")],
                "max_per_item": [None, _AT_LEAST_ONE],
                "topk": [_AT_LEAST_ONE],
                "tiers": [Sequence(_SCORE)],
            },
        )
        return self

    def fingerprint(self) -> dict:
        values = asdict(self)
        values["tiers"] = list(self.tiers)
        values["channels"] = list(self.channels) if self.channels else None
        return values


@dataclass
class MineResult:
    """What :func:`hardneg.mine.mine` wrote, as tables: the candidates, the per-item table and the failed items."""

    out: Path
    candidates: pd.DataFrame
    items: pd.DataFrame
    errors: pd.DataFrame
    stats: dict = field(default_factory=dict)
