"""Train one model on a split's training subset, save it with a card; score a dataset with it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from hardneg._atomic import staged_files
from hardneg._schema import CARD_FILE, MODEL_FILE
from hardneg.dataset import Dataset, package_versions
from hardneg.errors import InputError
from hardneg.features import compute_features
from hardneg.metrics import choose_threshold, metric_rows
from hardneg.models import MODELS, make_model
from hardneg.split import check_both_classes, load_split, make_split


def dataset_content_hash(dataset: Dataset) -> str:
    """SHA-256 over the dataset's index and windows, so a card says exactly what the model saw."""
    digest = hashlib.sha256()
    for name in ("index.parquet", "windows.npy"):
        with (dataset.path / name).open("rb") as handle:
            while block := handle.read(8 << 20):
                digest.update(block)
    return digest.hexdigest()


@dataclass
class TrainedModel:
    path: Path
    card: dict


def train_model(
    dataset_dir: str | Path,
    out: str | Path,
    *,
    model: str = "logreg",
    features: str = "summary",
    split: str | None = None,
    seed: int = 0,
    overwrite: bool = False,
) -> TrainedModel:
    """Fit ``model`` on the training subset, choose its threshold on validation, save it and its card.

    Without ``split``, a group holdout (test 20 %, validation 20 % of the groups) is drawn with ``seed``.

    Examples
    --------
    A small synthetic dataset (:func:`hardneg.demo.generate_world`, three shooters) and a split holding one shooter out:

    >>> import tempfile
    >>> from hardneg import InputOptions, build_dataset
    >>> from hardneg.demo import generate_world
    >>> tmp = tempfile.TemporaryDirectory()
    >>> world = generate_world(f"{tmp.name}/world", n_sessions=6, session_minutes=1.0, n_no_shot_sessions=0)
    >>> dataset = build_dataset(world.logs, f"{tmp.name}/shots",
    ...                         inputs=InputOptions(events=world.events, groups=world.groups))
    >>> from hardneg.split import make_split, save_split
    >>> _ = save_split(dataset.path, "by-shooter", *make_split(dataset, "group", test_groups=["shooter_c"]))
    >>> trained = train_model(dataset.path, f"{tmp.name}/models/et", model="et", features="rich", split="by-shooter")
    >>> sorted(path.name for path in trained.path.iterdir()), trained.card["threshold_chosen_on"]
    (['card.json', 'model.joblib'], 'val')
    >>> 0 <= trained.card["threshold"] <= 1, trained.card["train_windows"]
    (True, 40)
    >>> tmp.cleanup()
    """
    dataset = Dataset.load(dataset_dir)
    check_both_classes(dataset.labels)
    if model not in MODELS:
        raise InputError(f"model {model!r} is not one of: {', '.join(MODELS)}", parameter="model")
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise InputError(
            f"out {out}: directory exists and is not empty; pass --overwrite to replace it", parameter="out"
        )
    if split is None:
        frame, info = make_split(dataset, "group", seed=seed)
        split_name = "group (drawn by train)"
    else:
        frame, info = load_split(dataset.path, split)
        split_name = split
    frame = frame[frame["fold"] == frame["fold"].min()]
    labels = dataset.index["label"].to_numpy().astype(np.int64)
    matrix, feature_names = compute_features(
        dataset.windows, features, sample_rate_hz=dataset.meta.get("sample_rate_hz")
    )
    train = frame[frame["subset"] == "train"]
    train_ids = np.repeat(train["window_id"].to_numpy(), train["copies"].to_numpy())
    if len(np.unique(labels[train_ids])) < 2:
        raise InputError(f"split {split_name!r}: the training subset holds one class only; choose another split")
    estimator = make_model(model, seed)
    estimator.fit(matrix[train_ids], labels[train_ids])
    val_ids = frame.loc[frame["subset"] == "val", "window_id"].to_numpy()
    threshold_from = "val"
    if len(val_ids) == 0:
        val_ids, threshold_from = np.unique(train_ids), "train (the split has no validation subset)"
    val_scores = estimator.predict_proba(matrix[val_ids])[:, 1]
    threshold = choose_threshold(labels[val_ids], val_scores)
    subset_name = "validation" if threshold_from == "val" else "training"
    threshold_rule = f"max F1 on the {subset_name} subset (the highest threshold among ties)"
    if not np.isfinite(threshold):
        threshold, threshold_from = 0.5, f"default 0.5 ({threshold_from} holds one class)"
        threshold_rule = f"default 0.5 (F1 is undefined on the {subset_name} subset: it holds one class)"
    test_ids = frame.loc[frame["subset"] == "test", "window_id"].to_numpy()
    test_metrics = None
    if len(test_ids):
        test_scores = estimator.predict_proba(matrix[test_ids])[:, 1]
        test_metrics = _finite(metric_rows(labels[test_ids], test_scores, threshold))
    parameters = dataset.meta.get("parameters") or {}
    card = {
        "model": model,
        "features": features,
        "feature_names": feature_names,
        "threshold": threshold,
        "threshold_chosen_on": threshold_from,
        "threshold_rule": threshold_rule,
        "validation_metrics": _finite(metric_rows(labels[val_ids], val_scores, threshold)),
        "test_metrics": test_metrics,
        "test_windows": len(test_ids),
        "split": split_name,
        "split_strategy": info.get("strategy"),
        "seed": seed,
        "train_windows": len(train_ids),
        "dataset": str(dataset.path),
        "dataset_sha256": dataset_content_hash(dataset),
        "channels": dataset.meta.get("channels"),
        "samples_per_window": dataset.meta.get("samples_per_window"),
        "sample_rate_hz": dataset.meta.get("sample_rate_hz"),
        # how the windows were cut, so `hardneg mine` can cut a pool the same way
        "window_ms": parameters.get("window_ms"),
        "lead_ms": parameters.get("lead_ms"),
        "align": parameters.get("align"),
        "versions": {**package_versions(), **_ml_versions()},
    }
    import joblib

    out.mkdir(parents=True, exist_ok=True)
    # The card is renamed last: a folder with a card holds a whole model.
    with staged_files(out / MODEL_FILE, out / CARD_FILE) as (model_file, card_file):
        joblib.dump(estimator, model_file)
        card_file.write_text(json.dumps(card, indent=2, default=float, allow_nan=False) + "\n")
    return TrainedModel(out, card)


def _finite(metrics: dict) -> dict:
    """NaN (a metric undefined on one class) is stored as null: the card stays valid JSON."""
    return {name: (float(value) if np.isfinite(value) else None) for name, value in metrics.items()}


def _ml_versions() -> dict:
    from importlib import metadata

    return {name: metadata.version(name) for name in ("scikit-learn", "scipy", "joblib")}


def predict(model_dir: str | Path, dataset_dir: str | Path, *, trust_model: bool = False) -> pd.DataFrame:
    """Score every window of a dataset with a model saved by :func:`train_model`: ``window_id, score``.

    Loading unpickles ``model.joblib``, which runs code stored in it, so it is refused unless ``trust_model``
    (only load models you made or trust). The dataset must match the model's card: the same channels in the
    same order, the same sample rate and samples per window, else :class:`~hardneg.errors.InputError`.

    Examples
    --------
    >>> import tempfile
    >>> from hardneg import InputOptions, build_dataset
    >>> from hardneg.demo import generate_world
    >>> tmp = tempfile.TemporaryDirectory()
    >>> world = generate_world(f"{tmp.name}/world", n_sessions=6, session_minutes=1.0, n_no_shot_sessions=0)
    >>> dataset = build_dataset(world.logs, f"{tmp.name}/shots",
    ...                         inputs=InputOptions(events=world.events, groups=world.groups))
    >>> _ = train_model(dataset.path, f"{tmp.name}/models/logreg", model="logreg")
    >>> predictions = predict(f"{tmp.name}/models/logreg", dataset.path, trust_model=True)
    >>> predictions.columns.tolist(), len(predictions) == len(dataset), bool(predictions.score.between(0, 1).all())
    (['window_id', 'score'], True, True)
    >>> tmp.cleanup()
    """
    from hardneg.score import SklearnScorer

    model_dir = Path(model_dir)
    scorer = SklearnScorer(str(model_dir), model_dir, trust_model=trust_model)
    dataset = Dataset.load(dataset_dir)
    meta = dataset.meta
    scorer.check_data(
        f"dataset {dataset.path}", meta.get("channels"), meta.get("sample_rate_hz"), meta.get("samples_per_window")
    )
    shape = (len(meta.get("channels", [])), meta.get("samples_per_window"))
    expected = (len(scorer.card.get("channels") or []), scorer.card.get("samples_per_window"))
    if shape != expected:
        raise InputError(
            f"{dataset.path}: windows of {shape[0]} channels x {shape[1]} samples, but the model was trained on "
            f"{expected[0]} x {expected[1]}; sample the dataset with the same channels and --window-ms"
        )
    matrix, _ = compute_features(dataset.windows, scorer.features, sample_rate_hz=meta.get("sample_rate_hz"))
    scores = scorer.estimator.predict_proba(matrix)[:, 1]
    return pd.DataFrame({"window_id": dataset.index["window_id"].to_numpy(np.int64), "score": scores})
