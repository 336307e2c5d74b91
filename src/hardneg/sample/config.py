"""Every knob of ``hardneg sample``, with the checks that keep it meaningful."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

from hardneg.errors import InputError

ALIGNMENTS = ("end", "center")
STRATEGIES = ("near", "far", "mixed", "uniform")
EDGE_MODES = ("none", "start", "end", "all")


@dataclass(frozen=True)
class SamplingConfig:
    """Parameters of window sampling; field names are the CLI options with underscores.

    Examples
    --------
    >>> config = SamplingConfig(window_ms=600, align="center", neg_strategy="far")
    >>> config.validate().neg_mult
    4
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
    neg_min_sep_ms: float = 0.0
    neg_with_replacement: bool = False
    motion_accel_weight: float = 0.1
    gyro_cols: tuple[str, ...] | None = None
    accel_cols: tuple[str, ...] | None = None

    def validate(self) -> "SamplingConfig":
        """Check every value; raise :class:`InputError` naming the option otherwise."""
        check_positive("--window-ms", self.window_ms)
        check_non_negative("--lead-ms", self.lead_ms)
        check_choice("--align", self.align, ALIGNMENTS)
        check_non_negative("--min-event-gap-ms", self.min_event_gap_ms)
        check_choice("--neg-strategy", self.neg_strategy, STRATEGIES)
        check_non_negative("--neg-mult", self.neg_mult)
        check_fraction("--neg-mixed-near-frac", self.neg_mixed_near_frac, low_open=False, high_open=False)
        check_non_negative("--near-max-ms", self.near_max_ms)
        check_non_negative("--far-min-ms", self.far_min_ms)
        check_non_negative("--neg-avoid-post-ms", self.neg_avoid_post_ms)
        check_choice("--neg-avoid-edges", self.neg_avoid_edges, EDGE_MODES)
        check_non_negative("--edge-ms", self.edge_ms)
        if self.neg_candidate_hop_ms is not None:
            check_positive("--neg-candidate-hop-ms", self.neg_candidate_hop_ms)
        if self.neg_min_motion_quantile is not None:
            check_fraction("--neg-min-motion-quantile", self.neg_min_motion_quantile, low_open=False, high_open=False)
        if not 0.0 <= self.neg_pos_motion_q < 0.5:
            raise InputError(
                f"--neg-pos-motion-q must be in [0, 0.5) so that [q, 1-q] is a range, got {self.neg_pos_motion_q}"
            )
        check_non_negative("--neg-min-sep-ms", self.neg_min_sep_ms)
        check_non_negative("--motion-accel-weight", self.motion_accel_weight)
        for option, columns in (("--gyro-cols", self.gyro_cols), ("--accel-cols", self.accel_cols)):
            if columns is not None and len(columns) != 3:
                raise InputError(f"{option} needs three column names (x,y,z), got {len(columns)}: {','.join(columns)}")
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


def check_positive(option: str, value: float) -> None:
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        raise InputError(f"{option} must be a number > 0, got {value}")


def check_non_negative(option: str, value: float) -> None:
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
        raise InputError(f"{option} must be a number >= 0, got {value}")


def check_fraction(option: str, value: float, *, low_open: bool, high_open: bool) -> None:
    low_ok = value > 0 if low_open else value >= 0
    high_ok = value < 1 if high_open else value <= 1
    if not (isinstance(value, (int, float)) and low_ok and high_ok):
        interval = ("(" if low_open else "[") + "0, 1" + (")" if high_open else "]")
        raise InputError(f"{option} must be in {interval}, got {value}")


def check_choice(option: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise InputError(f"{option} must be one of {', '.join(choices)}; got {value!r}")
