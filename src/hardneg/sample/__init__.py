"""Sampling: positive windows tied to events, negative windows by strategy, the motion score.

The negative strategies (``neg_strategy``) are registered in
:data:`NEGATIVE_STRATEGIES`, each drawing from pools of
:data:`NEGATIVE_POOLS`; :func:`write_sampled` writes what was sampled as a
dataset directory.

>>> sorted(NEGATIVE_STRATEGIES)
['far', 'mixed', 'near', 'uniform']
"""

from hardneg.sample._config import ALIGNMENTS, EDGE_MODES, LABELLED_SCOPES, SamplingConfig
from hardneg.sample._hard import HardNegatives
from hardneg.sample._motion import WindowStatistics, motion_scores
from hardneg.sample._negatives import NEGATIVE_POOLS, NEGATIVE_STRATEGIES, NegativePool, NegativeStrategy
from hardneg.sample._sampler import (
    INDEX_COLUMNS,
    KINDS,
    SampledWindows,
    WindowSampler,
    sample_windows,
    samples_per_window,
)
from hardneg.sample._writer import sampled_meta, write_sampled

__all__ = [
    "ALIGNMENTS",
    "EDGE_MODES",
    "INDEX_COLUMNS",
    "KINDS",
    "LABELLED_SCOPES",
    "NEGATIVE_POOLS",
    "NEGATIVE_STRATEGIES",
    "HardNegatives",
    "NegativePool",
    "NegativeStrategy",
    "SampledWindows",
    "SamplingConfig",
    "WindowSampler",
    "WindowStatistics",
    "motion_scores",
    "sample_windows",
    "sampled_meta",
    "samples_per_window",
    "write_sampled",
]
