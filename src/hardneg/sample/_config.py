"""Every knob of ``hardneg sample``, with the constraints that keep it meaningful."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from numbers import Integral, Real
from typing import ClassVar

from hardneg._validation import Constraint, Interval, Options, Sequence, validate_params
from hardneg.sample._negatives import NEGATIVE_STRATEGIES

__all__ = ["ALIGNMENTS", "EDGE_MODES", "LABELLED_SCOPES", "SamplingConfig"]

ALIGNMENTS = ("end", "center")
EDGE_MODES = ("none", "start", "end", "all")
#: what ``labelled_neg_max`` caps: the labelled negatives of the whole dataset, or of each recording
LABELLED_SCOPES = ("total", "recording")

_POSITIVE = Interval(Real, 0, None, closed="neither")
_NON_NEGATIVE = Interval(Real, 0, None, closed="left")
_UNIT = Interval(Real, 0, 1, closed="both")


class _ColumnName(Constraint):
    """A channel column's name."""

    def is_satisfied_by(self, value) -> bool:
        return isinstance(value, str)

    def describe(self) -> str:
        return "a column name"


@dataclass(frozen=True)
class SamplingConfig:
    """Parameters of window sampling; field names are the CLI options with underscores.

    Every value is checked when the config is made (:meth:`validate`); the
    ``neg_strategy`` names are those of
    :data:`~hardneg.sample.NEGATIVE_STRATEGIES`.

    Examples
    --------
    >>> config = SamplingConfig(window_ms=600, align="center", neg_strategy="far")
    >>> config.neg_mult, config.to_dict()["window_ms"]
    (4.0, 600.0)

    Negatives start at least half a window apart unless ``neg_min_sep_ms`` says otherwise:

    >>> config.neg_min_sep_ms, SamplingConfig(window_ms=600, neg_min_sep_ms=0).neg_min_sep_ms
    (300.0, 0)
    """

    window_ms: float = 500.0
    lead_ms: float = 100.0
    align: str = "end"
    min_event_gap_ms: float = 0.0
    neg_strategy: str = "mixed"
    neg_mult: float = 4.0
    neg_mixed_near_frac: float = 0.5
    near_max_ms: float = 3000.0
    far_min_ms: float = 3000.0
    neg_avoid_post_ms: float = 0.0
    neg_avoid_edges: str = "none"
    edge_ms: float = 1000.0
    neg_candidate_hop_ms: float | None = None
    neg_min_motion_quantile: float | None = None
    neg_match_pos_motion: bool = False
    neg_pos_motion_q: float = 0.05
    neg_min_sep_ms: float | None = None
    neg_with_replacement: bool = False
    motion_accel_weight: float = 0.1
    gyro_cols: tuple[str, ...] | None = None
    accel_cols: tuple[str, ...] | None = None
    labelled_neg_max: int | None = None
    labelled_neg_scope: str = "total"
    labelled_avoid_positives: bool = False

    #: What each field accepts (``hardneg._validation``); a violation names the field.
    _parameter_constraints: ClassVar[dict] = {
        "window_ms": [_POSITIVE],
        "lead_ms": [_NON_NEGATIVE],
        "align": [Options(ALIGNMENTS)],
        "min_event_gap_ms": [_NON_NEGATIVE],
        "neg_strategy": [Options(NEGATIVE_STRATEGIES)],
        "neg_mult": [_NON_NEGATIVE],
        "neg_mixed_near_frac": [_UNIT],
        "near_max_ms": [_NON_NEGATIVE],
        "far_min_ms": [_NON_NEGATIVE],
        "neg_avoid_post_ms": [_NON_NEGATIVE],
        "neg_avoid_edges": [Options(EDGE_MODES)],
        "edge_ms": [_NON_NEGATIVE],
        "neg_candidate_hop_ms": [None, _POSITIVE],
        "neg_min_motion_quantile": [None, _UNIT],
        # below one half, so that [q, 1 - q] is a range
        "neg_pos_motion_q": [Interval(Real, 0, 0.5, closed="left")],
        "neg_min_sep_ms": [None, _NON_NEGATIVE],
        "motion_accel_weight": [_NON_NEGATIVE],
        "gyro_cols": [None, Sequence(_ColumnName(), length=3)],
        "accel_cols": [None, Sequence(_ColumnName(), length=3)],
        "labelled_neg_max": [None, Interval(Integral, 0, None, closed="left")],
        "labelled_neg_scope": [Options(LABELLED_SCOPES)],
    }

    def __post_init__(self):
        self.validate()
        if self.neg_min_sep_ms is None:
            # Negatives that start less than half a window apart share most of their samples: the audit would
            # flag them as near-duplicates, and they add little a model has not seen.
            object.__setattr__(self, "neg_min_sep_ms", self.window_ms / 2.0)

    def validate(self) -> SamplingConfig:
        """Check every value against :attr:`_parameter_constraints`; raise :class:`InputError` naming the field.

        A config is checked once, when it is made; this returns it.

        Examples
        --------
        >>> SamplingConfig(window_ms=0)
        Traceback (most recent call last):
        ...
        hardneg.errors.InputError: window_ms must be a number > 0, got 0
        """
        validate_params({item.name: getattr(self, item.name) for item in fields(self)}, self._parameter_constraints)
        return self

    def to_dict(self) -> dict:
        """Parameters as stored in ``meta.json``; numbers as floats, so the CLI and the API write the same bytes."""
        values = asdict(self)
        for item in fields(self):
            if (
                "float" in str(item.type)
                and isinstance(values[item.name], (int, float))
                and not isinstance(values[item.name], bool)
            ):
                values[item.name] = float(values[item.name])
        for key in ("gyro_cols", "accel_cols"):
            if values[key] is not None:
                values[key] = list(values[key])
        return values
