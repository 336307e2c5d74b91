"""Controlled comparisons of training variants: arms x seeds, paired statistics, ablations, TTA.

An experiment file (YAML) names a dataset, arms along axes (negative sets,
positive subsets, sampling and training options, models, channel ablations),
seeds, evaluation sets and success criteria; :func:`run_experiment` trains
every arm with every seed (common random numbers: seed ``k`` gives every arm
the same split and initialisation), evaluates each run on the same windows,
and compares each arm with its baseline arm seed by seed.
"""

from hardneg.experiment._config import (
    ARM_SEPARATOR,
    SAMPLE_KEYS,
    TRAIN_KEYS,
    TTA,
    Arm,
    Criterion,
    EvalSet,
    Experiment,
    arm_name,
    load_experiment,
)
from hardneg.experiment._run import RunSpec, execute_run, predictions_file, run_metrics
from hardneg.experiment._runner import ENGINES, ExperimentResult, run_experiment
from hardneg.experiment._tta import clip_windows, tta_scores

__all__ = [
    "ARM_SEPARATOR",
    "ENGINES",
    "SAMPLE_KEYS",
    "TRAIN_KEYS",
    "TTA",
    "Arm",
    "Criterion",
    "EvalSet",
    "Experiment",
    "ExperimentResult",
    "RunSpec",
    "arm_name",
    "clip_windows",
    "execute_run",
    "load_experiment",
    "predictions_file",
    "run_experiment",
    "run_metrics",
    "tta_scores",
]
