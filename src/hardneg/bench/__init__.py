"""The benchmark: models x feature sets x splits x seeds, its metrics and its runner."""

from hardneg.bench._runner import PARTS_DIR, BenchResult, run_bench
from hardneg.bench._train import TrainedModel, dataset_content_hash, predict, train_model

__all__ = ["PARTS_DIR", "BenchResult", "TrainedModel", "dataset_content_hash", "predict", "run_bench", "train_model"]
