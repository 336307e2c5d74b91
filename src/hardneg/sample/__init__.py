"""Sampling: positive windows tied to events, negative windows by strategy, the motion score."""

from hardneg.sample.config import SamplingConfig
from hardneg.sample.motion import WindowStatistics, motion_scores
from hardneg.sample.sampler import (
    INDEX_COLUMNS,
    KINDS,
    SampledWindows,
    WindowSampler,
    sample_windows,
    samples_per_window,
)

__all__ = [
    "INDEX_COLUMNS",
    "KINDS",
    "SampledWindows",
    "SamplingConfig",
    "WindowSampler",
    "WindowStatistics",
    "motion_scores",
    "sample_windows",
    "samples_per_window",
]
