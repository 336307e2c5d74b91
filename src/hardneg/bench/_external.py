"""Predictions made elsewhere (a GPU cluster, a CNN, a YOLO), evaluated like a bench model.

Layout of a predictions folder, one per model (the model is named after the folder)::

    DIR/
      <split>/            a strategy name (the split hardneg draws with that seed) or a saved split's name
        <seed>/           an integer: the seed the model was trained with (and the strategy drawn with)
          predictions.parquet   window_id, score (probability of the event, in [0, 1]), optionally fold

Each seed's predictions are read, matched with the split's folds and
subsets, and scored with the metrics of a fitted bench model: the
threshold is chosen on the predictions of validation windows where there
are any, else 0.5 (the report says so).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from hardneg._schema import PREDICTION_COLUMNS, RESULT_COLUMNS, SCORE_COLUMNS, check_columns
from hardneg.bench._rows import subset_rows
from hardneg.errors import InputError
from hardneg.metrics import choose_threshold

__all__ = ["EXTERNAL_FEATURES", "PREDICTIONS_FILE", "ExternalModel", "external_part", "find_external_models"]

PREDICTIONS_FILE = "predictions.parquet"
#: The feature label of external predictions and of the baselines fitted beside them.
EXTERNAL_FEATURES = "predictions"
#: The threshold when no validation window was predicted.
DEFAULT_THRESHOLD = 0.5
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")


@dataclass(frozen=True)
class ExternalModel:
    """One predictions folder: its model label and ``{split: {seed: file}}``."""

    name: str
    root: Path
    files: dict[str, dict[int, Path]]


def find_external_models(folders: Sequence[str | Path], splits: Sequence[str] | None) -> list[ExternalModel]:
    """Read the layout of each folder; every folder must hold the same splits and seeds.

    Parameters
    ----------
    folders : sequence of path
        One folder per model.
    splits : sequence of str, optional
        The splits to evaluate; by default every split folder found (the same in every model folder).

    Raises
    ------
    InputError
        A folder is missing or empty, a seed folder is not an integer, a predictions file is missing, or two
        folders disagree on splits or seeds; the message names the path.
    """
    models = []
    for folder in folders:
        root = Path(folder)
        if not root.is_dir():
            raise InputError(
                f"predictions {root}: not a folder; lay predictions out as DIR/<split>/<seed>/{PREDICTIONS_FILE}",
                parameter="predictions",
            )
        files: dict[str, dict[int, Path]] = {}
        for split_dir in sorted(path for path in root.iterdir() if path.is_dir() and not path.name.startswith(".")):
            seeds: dict[int, Path] = {}
            for seed_dir in sorted(path for path in split_dir.iterdir() if path.is_dir()):
                if not seed_dir.name.isdigit():
                    raise InputError(
                        f"predictions {seed_dir}: a seed folder must be a non-negative integer (e.g. {split_dir}/0)",
                        parameter="predictions",
                    )
                file = seed_dir / PREDICTIONS_FILE
                if not file.is_file():
                    raise InputError(f"predictions {file}: file not found", parameter="predictions")
                seeds[int(seed_dir.name)] = file
            if seeds:
                files[split_dir.name] = dict(sorted(seeds.items()))
        if not files:
            raise InputError(
                f"predictions {root}: no DIR/<split>/<seed>/{PREDICTIONS_FILE} inside; see `hardneg bench --help`",
                parameter="predictions",
            )
        name = root.resolve().name
        if not _NAME.match(name):
            raise InputError(
                f"predictions {root}: the folder names the model; use letters, digits, '_', '.', '+' or '-'",
                parameter="predictions",
            )
        models.append(ExternalModel(name, root, files))
    names = [model.name for model in models]
    if len(set(names)) != len(names):
        raise InputError(
            f"predictions: two folders are both named {min(n for n in names if names.count(n) > 1)!r}; "
            "the folder names the model, rename one",
            parameter="predictions",
        )
    wanted = list(splits) if splits else list(models[0].files)
    for model in models:
        for split in wanted:
            if split not in model.files:
                raise InputError(
                    f"predictions {model.root}: no folder {split!r} (found: {', '.join(model.files)})",
                    parameter="predictions",
                )
            if set(model.files[split]) != set(models[0].files[split]):
                raise InputError(
                    f"predictions {model.root / split}: seeds {sorted(model.files[split])} differ from "
                    f"{models[0].root / split}'s {sorted(models[0].files[split])}; every model needs the same seeds",
                    parameter="predictions",
                )
        model.files.update({split: model.files[split] for split in wanted})
        for split in [name for name in model.files if name not in wanted]:
            del model.files[split]
    return models


def _read(file: Path, n_windows: int) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(file)
    except (OSError, ValueError) as error:
        raise InputError(f"predictions {file}: cannot be read as Parquet ({error})", parameter="predictions") from None
    try:
        check_columns(frame, PREDICTION_COLUMNS, f"predictions {file}", hint="window_id, score[, fold]")
    except InputError as error:
        raise InputError(str(error), parameter="predictions") from None
    ids = pd.to_numeric(frame["window_id"], errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(ids) | (ids != np.round(ids)) | (ids < 0) | (ids >= n_windows)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"predictions {file}: row {row}, column window_id: {_plain(frame['window_id'].iloc[row])!r} is not a "
            f"window of the dataset (0..{n_windows - 1})",
            parameter="predictions",
        )
    score = pd.to_numeric(frame["score"], errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(score) | (score < 0) | (score > 1)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"predictions {file}: row {row}, column score: {_plain(frame['score'].iloc[row])!r} is not a "
            "probability in [0, 1]; apply a sigmoid (or softmax) to the model's outputs first",
            parameter="predictions",
        )
    out = pd.DataFrame({"window_id": ids.astype(np.int64), "score": score})
    if "fold" in frame.columns:
        out["fold"] = pd.to_numeric(frame["fold"], errors="coerce").fillna(-1).astype(np.int64).to_numpy()
    if out.duplicated([c for c in ("fold", "window_id") if c in out.columns]).any():
        raise InputError(f"predictions {file}: a window is predicted twice in one fold", parameter="predictions")
    return out


def _placed(predictions: pd.DataFrame, split: pd.DataFrame, file: Path) -> pd.DataFrame:
    """Give each prediction the fold and subset it was made on; predictions of training windows are dropped."""
    split = split[["fold", "window_id", "subset"]]
    if "fold" in predictions.columns:
        placed = predictions.merge(split, on=["fold", "window_id"], how="inner")
    else:
        # out-of-fold: a window is placed where it was held out, test before validation
        rank = split.assign(rank=split["subset"].map({"test": 0, "val": 1, "train": 2}))
        held = rank[rank["subset"] != "train"].sort_values(["window_id", "rank", "fold"], kind="stable")
        placed = predictions.merge(held.drop_duplicates("window_id")[["window_id", "fold", "subset"]], on="window_id")
    placed = placed[placed["subset"] != "train"]
    if not (placed["subset"] == "test").any():
        raise InputError(
            f"predictions {file}: none of its windows is a test window of the split; predict the split's test "
            "windows (see DIR/splits/NAME.parquet)",
            parameter="predictions",
        )
    return placed


def external_part(
    model: ExternalModel,
    split_name: str,
    seed: int,
    split: pd.DataFrame,
    labels: np.ndarray,
    groups: np.ndarray,
    kinds: np.ndarray,
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Results and scores of one model's predictions on one (split, seed), as a fitted model's part.

    Returns
    -------
    results, scores, notes
        ``notes`` says where no validation window was predicted (the threshold is then 0.5).
    """
    file = model.files[split_name][seed]
    placed = _placed(_read(file, len(labels)), split, file)
    keys = {"model": model.name, "features": EXTERNAL_FEATURES, "split": split_name, "seed": seed}
    results, scores, notes = [], [], []
    for fold, rows in placed.groupby("fold", sort=True):
        val = rows[rows["subset"] == "val"]
        threshold = choose_threshold(labels[val["window_id"]], val["score"].to_numpy()) if len(val) else np.nan
        if not np.isfinite(threshold):
            threshold = DEFAULT_THRESHOLD
            notes.append(f"{file}: fold {fold} has no usable validation predictions; threshold {DEFAULT_THRESHOLD}")
        for subset, part in rows.groupby("subset", sort=True):
            ids, score = part["window_id"].to_numpy(), part["score"].to_numpy()
            found, table = subset_rows(keys, fold, subset, ids, score, threshold, labels, groups, kinds)
            results += found
            scores.append(table)
    return pd.DataFrame(results, columns=list(RESULT_COLUMNS)), pd.concat(scores)[list(SCORE_COLUMNS)], notes


def _plain(value):
    """A NumPy scalar as the Python number it holds, so that a message shows ``nan``, not ``np.float64(nan)``."""
    return value.item() if hasattr(value, "item") else value
