"""What a mining run is asked to do (:class:`MineOptions`) and what it gives back (:class:`MineResult`).

Examples
--------
>>> MineOptions(model="model.onnx", window_ms=500).validate().hop_ms is None
True
>>> options = MineOptions(model="models/et").with_defaults({"window_ms": 500.0, "threshold": 0.7})
>>> options.window_ms, options.min_score
(500.0, 0.7)
>>> MineOptions(model="model.onnx", window_ms=0).validate()
Traceback (most recent call last):
...
hardneg.errors.InputError: window_ms must be a number > 0, got 0
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from numbers import Integral, Real
from pathlib import Path

import pandas as pd

from hardneg._validation import Interval, Options, Sequence, validate_params
from hardneg.errors import InputError
from hardneg.score import SHORT_ITEMS, FramePrep

__all__ = ["OPTIONS_FILE", "MineOptions", "MineResult"]

#: The options a run was started with, in its output folder: a resumed run must match them.
OPTIONS_FILE = "mine.json"

_POSITIVE = Interval(Real, 0, None, closed="neither")
_AT_LEAST_ONE = Interval(Integral, 1, None, closed="left")
_SCORE = Interval(Real, 0, 1, closed="both")
#: What ``window_ms`` and ``min_score`` are when neither the user nor a model card gives them.
DEFAULT_WINDOW_MS = 1000.0
DEFAULT_MIN_SCORE = 0.5


@dataclass(frozen=True)
class MineOptions:
    """Everything that changes the output; a resumed run must use the same values."""

    model: str | None = None
    scores: str | None = None
    #: None: the model card's window (a ``hardneg train`` model), else :data:`DEFAULT_WINDOW_MS`.
    window_ms: float | None = None
    hop_ms: float | None = None
    stride: int = 1
    short_items: str = "pad"
    batch_size: int = 256
    #: None: the model card's threshold (a ``hardneg train`` model), else :data:`DEFAULT_MIN_SCORE`.
    min_score: float | None = None
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
    #: Video and images only (see :class:`hardneg.score.FramePrep`): "WxH", or the shorter side; layout,
    #: normalisation and dtype of the frames the scorer gets. The defaults hand frames on as read.
    resize: str | None = None
    resize_short: int | None = None
    layout: str = "nhwc"
    normalize: str = "none"
    dtype: str = "uint8"

    def validate(self) -> MineOptions:
        """Return ``self`` if every value is possible, else raise :class:`InputError` naming the first that is not."""
        if (self.model is None) == (self.scores is None):
            raise InputError("pass exactly one of model (a scorer) or scores (precomputed scores)", parameter="model")
        unset = {name for name in ("window_ms", "min_score") if getattr(self, name) is None}
        validate_params(
            {name: value for name, value in asdict(self).items() if name not in unset},
            {
                # an unset value (None: from the card) is left out above, so the messages stay those of a number
                "window_ms": [_POSITIVE],
                "hop_ms": [None, _POSITIVE],
                "stride": [_AT_LEAST_ONE],
                "short_items": [Options(SHORT_ITEMS)],
                "batch_size": [_AT_LEAST_ONE],
                "min_score": [_SCORE],
                "max_score": [None, Interval(Real, self.min_score or 0, 1, closed="both")],
                "max_per_item": [None, _AT_LEAST_ONE],
                "topk": [_AT_LEAST_ONE],
                "tiers": [Sequence(_SCORE)],
            },
        )
        self.frame_prep()
        return self

    def frame_prep(self) -> FramePrep:
        """What video frames and images go through before the scorer (checked: an :class:`InputError` if impossible).

        Examples
        --------
        >>> MineOptions(model="m.onnx", resize="224x224", layout="nchw").frame_prep().resize
        (224, 224)
        """
        return FramePrep(self.resize, self.resize_short, self.layout, self.normalize, self.dtype)

    def with_defaults(self, card: dict | None = None) -> MineOptions:
        """Fill the options left at None from a model's card (``window_ms``, ``threshold``), else the old defaults.

        A value the user gave is kept as it is, so explicit options give the same run with or without a card.
        """
        card = card or {}
        window_ms = self.window_ms
        if window_ms is None:
            window_ms = float(card.get("window_ms") or DEFAULT_WINDOW_MS)
        min_score = self.min_score
        if min_score is None:
            threshold = card.get("threshold")
            min_score = float(threshold) if threshold is not None else DEFAULT_MIN_SCORE
        return replace(self, window_ms=window_ms, min_score=min_score).validate()

    def fingerprint(self) -> dict:
        values = asdict(self)
        values["tiers"] = list(self.tiers)
        values["channels"] = list(self.channels) if self.channels else None
        # Frame options are stamped only when given, so a run without them keeps the stamp it always had,
        # and resuming with other frame options (given or dropped) is still refused.
        for name in ("resize", "resize_short", "layout", "normalize", "dtype"):
            del values[name]
        values.update(self.frame_prep().options())
        return values


@dataclass
class MineResult:
    """What :func:`hardneg.mine.mine` wrote, as tables: the candidates, the per-item table and the failed items."""

    out: Path
    candidates: pd.DataFrame
    items: pd.DataFrame
    errors: pd.DataFrame
    stats: dict = field(default_factory=dict)
