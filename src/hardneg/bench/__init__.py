"""The benchmark: models x feature sets x splits x seeds, its metrics and its runner."""

from hardneg.bench._fit import feature_matrix, fit_classifier, positive_scores, takes_windows
from hardneg.bench._ramp import RampEvents, dataset_events, ramp_target
from hardneg.bench._runner import PARTS_DIR, BenchResult, check_features, check_models, run_bench
from hardneg.bench._train import TrainedModel, dataset_content_hash, predict, train_model

__all__ = [
    "PARTS_DIR",
    "BenchResult",
    "RampEvents",
    "TrainedModel",
    "check_features",
    "check_models",
    "dataset_content_hash",
    "dataset_events",
    "feature_matrix",
    "fit_classifier",
    "positive_scores",
    "predict",
    "ramp_target",
    "run_bench",
    "takes_windows",
    "train_model",
]
