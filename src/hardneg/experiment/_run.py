"""One run of an experiment: one arm, one seed, in its own folder ``runs/<arm>/<seed>/``.

A run decides what the arm trains on (common random numbers: seed ``k`` gives
every arm the same split, the same choice of positives and the same model
initialisation), trains the model (or calls the user's command), chooses the
threshold on the validation windows and scores every evaluation set. It writes
``config.json`` first, then ``<eval_set>.predictions.parquet`` and
``metrics.json`` last (its presence marks the run finished), each atomically;
a failure leaves ``error.txt`` (with the traceback) instead.

Every arm is evaluated on the *same* windows, those of the experiment's dataset
(or of the evaluation datasets): an arm whose dataset was rebuilt with more
negatives trains on its own windows but is tested like every other arm, so
its runs pair with the baseline's window by window. A window of the rebuilt
dataset that is also in the experiment's dataset (same recording and first
sample) keeps that window's part of the split; a window that is new (a mined
hard negative) trains only where its group is neither tested nor used for
validation in that seed's split.
"""

from __future__ import annotations

import hashlib
import json
import math
import shlex
import subprocess
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from hardneg._atomic import write_bytes_atomic, write_parquet_atomic
from hardneg._schema import (
    RUN_CONFIG_FILE,
    RUN_DONE,
    RUN_ERROR_FILE,
    RUN_FAILED,
    RUN_LOG_FILE,
    RUN_METRICS_FILE,
    RUN_RESUMED,
)
from hardneg._validation import rng
from hardneg.dataset import Dataset, write_dataset
from hardneg.errors import InputError
from hardneg.experiment._config import Arm, EvalSet
from hardneg.experiment._tta import tta_scores
from hardneg.metrics import binary_metrics, choose_threshold

__all__ = ["RunSpec", "execute_run", "predictions_file", "run_metrics"]

#: the windows the threshold is chosen on, as an external command's ``{eval_sets}`` names them
VAL_SET = "val"


def predictions_file(run_dir: Path, eval_set: str) -> Path:
    """Where a run's scores of one evaluation set go: ``<eval_set>.predictions.parquet``."""
    return Path(run_dir) / f"{eval_set}.predictions.parquet"


@dataclass(frozen=True)
class RunSpec:
    """Everything one run needs, picklable so a worker process or a Ray task can execute it."""

    arm: Arm
    seed: int
    run_dir: str
    base_dataset: str
    arm_dataset: str
    model: str | None
    command: str | None
    features: str
    eval_sets: tuple[EvalSet, ...]
    held_out: tuple[str, ...]
    workdir: str
    #: the built-in model's or the command's own files (a user factory), hashed into the config
    code_digest: str = ""

    def config(self) -> dict:
        """The resolved configuration written to ``config.json``; a run is redone when it changes."""
        return {
            "arm": self.arm.name,
            "levels": self.arm.levels,
            "seed": self.seed,
            "dataset": self.base_dataset,
            "train_dataset": self.arm_dataset,
            "sample_options": self.arm.sample,
            "train_options": self.arm.train,
            "model": self.arm.train.get("model", self.model) if self.command is None else None,
            "command": self.command,
            "features": self.arm.train.get("features", self.features),
            "eval_sets": [item.to_dict() for item in self.eval_sets],
            "held_out_groups": list(self.held_out),
            "code_digest": self.code_digest,
        }


class _Log:
    """``log.txt``: what the run did, line by line, flushed as it goes (a killed run keeps its log)."""

    def __init__(self, path: Path):
        self.handle = path.open("w")
        self.started = time.perf_counter()

    def __call__(self, line: str) -> None:
        self.handle.write(f"[{time.perf_counter() - self.started:7.2f} s] {line}\n")
        self.handle.flush()

    def close(self) -> None:
        self.handle.close()


def execute_run(spec: RunSpec) -> dict:
    """Run ``spec`` unless its folder already holds a finished run of the same configuration.

    Returns ``{"arm", "seed", "status", "seconds", "error"}``: status ``resumed`` (skipped, finished
    before), ``done`` or ``failed`` (``error`` is the first line of what went wrong; ``error.txt`` holds
    the traceback). It never raises for a failure of the run itself, so one failed run leaves the others
    going.
    """
    run_dir = Path(spec.run_dir)
    config = spec.config()
    row = {"arm": spec.arm.name, "seed": spec.seed, "status": RUN_DONE, "seconds": 0.0, "error": None}
    if (run_dir / RUN_METRICS_FILE).is_file() and _read_json(run_dir / RUN_CONFIG_FILE) == config:
        row["status"] = RUN_RESUMED
        row["seconds"] = float(_read_json(run_dir / RUN_METRICS_FILE).get("seconds", 0.0))
        return row
    run_dir.mkdir(parents=True, exist_ok=True)
    for stale in run_dir.iterdir():  # an unfinished or differently configured run starts again
        if stale.is_file():
            stale.unlink()
    write_bytes_atomic(run_dir / RUN_CONFIG_FILE, json.dumps(config, indent=2, sort_keys=True) + "\n")
    log = _Log(run_dir / RUN_LOG_FILE)
    started = time.perf_counter()
    try:
        metrics = _execute(spec, run_dir, log)
        metrics["seconds"] = round(time.perf_counter() - started, 3)
        log(f"finished in {metrics['seconds']:.2f} s")
        write_bytes_atomic(run_dir / RUN_METRICS_FILE, json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    except Exception as error:  # noqa: BLE001 - whatever one run raises is recorded and the others go on
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        if not isinstance(error, InputError):
            first = f"{type(error).__name__}: {first}"
        log(f"failed: {first}")
        write_bytes_atomic(run_dir / RUN_ERROR_FILE, f"{first}\n\n{traceback.format_exc()}")
        row.update(status=RUN_FAILED, error=first)
    finally:
        log.close()
    row["seconds"] = round(time.perf_counter() - started, 3)
    return row


def _read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


# ------------------------------------------------------------------------------------------ what trains


def split_frame(base: Dataset, split_set: EvalSet | None, seed: int) -> pd.DataFrame:
    """Each window of the experiment's dataset in ``train``, ``val`` or ``test`` for ``seed`` (the first fold).

    Without an evaluation set that has a split, a group split is drawn anyway for validation (the
    threshold) and its test part trains too.
    """
    from hardneg.split import load_split, make_split

    if split_set is None:
        frame, _ = make_split(base, "group", seed=seed)
        frame = frame[frame["fold"] == frame["fold"].min()].copy()
        frame.loc[frame["subset"] == "test", "subset"] = "train"
    elif split_set.split.startswith("saved:"):
        frame, _ = load_split(base.path, split_set.split[len("saved:") :])
    else:
        frame, _ = make_split(base, split_set.split, seed=seed, **split_set.split_options)
    frame = frame[frame["fold"] == frame["fold"].min()]
    return frame.drop_duplicates("window_id")[["window_id", "subset"]].reset_index(drop=True)


def _keys(index: pd.DataFrame) -> pd.Series:
    return index["recording"].astype(str) + "@" + index["start_sample"].astype(np.int64).astype(str)


def training_windows(spec: RunSpec, base: Dataset, arm: Dataset, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The arm dataset's training window ids and the experiment dataset's validation window ids."""
    held = set(spec.held_out)
    subset = pd.Series(frame["subset"].to_numpy(), index=frame["window_id"].to_numpy())
    base_subset = base.index["window_id"].map(subset).fillna("unused").to_numpy()
    base_groups = base.index["group"].astype(str).to_numpy()
    base_subset = np.where(np.isin(base_groups, list(held)), "held", base_subset)
    val_ids = base.index["window_id"].to_numpy()[base_subset == "val"]
    if arm.path == base.path:
        arm_subset = base_subset
    else:
        known = pd.Series(base_subset, index=_keys(base.index).to_numpy())
        arm_subset = _keys(arm.index).map(known).to_numpy(dtype=object)
        closed = set(base_groups[np.isin(base_subset, ["val", "test", "held"])])
        new = pd.isna(arm_subset)
        arm_groups = arm.index["group"].astype(str).to_numpy()
        arm_subset[new] = np.where(np.isin(arm_groups[new], list(closed)), "unused", "train")
    train = arm_subset == "train"
    labels = arm.index["label"].to_numpy()
    positives = train & (labels == 1)
    if "groups" in spec.arm.train:
        positives &= arm.index["group"].astype(str).isin(spec.arm.train["groups"]).to_numpy()
    if "fraction" in spec.arm.train:
        positives = _keep_fraction(arm.index, positives, float(spec.arm.train["fraction"]), spec.seed)
    train_ids = arm.index["window_id"].to_numpy()[(train & (labels == 0)) | positives]
    return np.sort(train_ids), np.sort(val_ids)


def _keep_fraction(index: pd.DataFrame, positives: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """The share ``fraction`` of the ``positives``, the same windows for every arm at one seed.

    Positives are ranked by a seeded key of their recording and first sample, not by row: two datasets
    that hold the same positive windows in other orders keep the same ones.
    """
    rows = np.flatnonzero(positives)
    keep = math.ceil(fraction * len(rows)) if len(rows) else 0
    salt = int(rng(seed, "experiment-positives").integers(2**31))
    keys = _keys(index.iloc[rows])
    digest = [int(hashlib.sha1(f"{salt}|{key}".encode()).hexdigest()[:12], 16) for key in keys]
    chosen = rows[np.argsort(np.array(digest, dtype=np.int64), kind="stable")[:keep]]
    out = np.zeros(len(positives), dtype=bool)
    out[chosen] = True
    return out


def eval_windows(item: EvalSet, base: Dataset, frame: pd.DataFrame) -> tuple[Dataset, np.ndarray]:
    """The dataset and window ids an evaluation set scores."""
    if item.dataset is not None:
        other = Dataset.load(item.dataset)
        return other, other.index["window_id"].to_numpy()
    if item.groups is not None:
        keep = base.index["group"].astype(str).isin(item.groups).to_numpy()
        return base, base.index["window_id"].to_numpy()[keep]
    test = frame.loc[frame["subset"] == "test", "window_id"].to_numpy()
    return base, np.sort(test)


def _kept_channels(dataset: Dataset, drop) -> np.ndarray:
    channels = list(dataset.meta.get("channels") or [f"ch{i}" for i in range(dataset.windows.shape[1])])
    return np.array([i for i, name in enumerate(channels) if name not in set(drop or [])], dtype=np.intp)


# ------------------------------------------------------------------------------------------ one run


def _execute(spec: RunSpec, run_dir: Path, log: _Log) -> dict:
    base = Dataset.load(spec.base_dataset)
    arm = base if spec.arm_dataset == spec.base_dataset else Dataset.load(spec.arm_dataset)
    split_set = next((item for item in spec.eval_sets if item.split is not None), None)
    frame = split_frame(base, split_set, spec.seed)
    train_ids, val_ids = training_windows(spec, base, arm, frame)
    train_labels = arm.index["label"].to_numpy()[train_ids]
    log(
        f"arm {spec.arm.name}, seed {spec.seed}: {len(train_ids)} training windows "
        f"({int(train_labels.sum())} positive), {len(val_ids)} validation windows"
    )
    if len(np.unique(train_labels)) < 2:
        # no arm or seed in the message: the run's folder says which, and the same reason across runs
        # is then counted as one when every run fails
        raise InputError(
            "the training windows hold one class only; keep more positives (fraction, groups) or negatives",
            parameter="arms",
        )
    targets = [(VAL_SET, base, val_ids, None)]
    for item in spec.eval_sets:
        dataset, ids = eval_windows(item, base, frame)
        targets.append((item.name, dataset, ids, item))
    if spec.command is not None:
        scores = _external(spec, run_dir, arm, train_ids, targets, log)
    else:
        scores = _builtin(spec, arm, train_ids, targets, log)
    val_labels = base.index["label"].to_numpy()[val_ids]
    threshold = choose_threshold(val_labels, scores[VAL_SET]) if len(val_ids) else math.nan
    if not math.isfinite(threshold):
        threshold = 0.5
        log("validation held one class: threshold 0.5")
    metrics: dict = {"threshold": float(threshold), "train_windows": len(train_ids),
                     "train_positives": int(train_labels.sum()), "eval": {}}  # fmt: skip
    for name, dataset, ids, _item in targets:
        if name == VAL_SET:
            continue
        score = scores[name]
        write_parquet_atomic(
            pd.DataFrame({"window_id": ids.astype(np.int64), "score": score.astype(np.float64)}),
            predictions_file(run_dir, name),
        )
        labels = dataset.index["label"].to_numpy()[ids]
        metrics["eval"][name] = {"windows": len(ids), **run_metrics(labels, score, threshold)}
        log(f"{name}: {len(ids)} windows, f1 {metrics['eval'][name]['f1']:.3f}")
    return metrics


def run_metrics(labels: np.ndarray, score: np.ndarray, threshold: float) -> dict:
    """The window metrics of one evaluation set at the run's threshold (``score >= threshold`` is positive).

    Examples
    --------
    >>> found = run_metrics(np.array([0, 0, 1, 1]), np.array([0.1, 0.6, 0.4, 0.9]), 0.5)
    >>> found["recall"], found["fpr"], found["f1"]
    (0.5, 0.5, 0.5)
    """
    found = binary_metrics(labels, score, threshold=threshold)
    negatives = labels == 0
    fpr = float(((score >= threshold) & negatives).sum() / negatives.sum()) if negatives.any() else math.nan
    names = ("f1", "precision", "recall", "roc_auc", "average_precision", "ece")
    return {"fpr": fpr, **{name: float(found[name]) for name in names}}


def _builtin(spec: RunSpec, arm: Dataset, train_ids, targets, log: _Log) -> dict[str, np.ndarray]:
    from hardneg.bench import feature_matrix, fit_classifier, positive_scores, takes_windows

    model_name = spec.arm.train.get("model", spec.model)
    feature_name = spec.arm.train.get("features", spec.features)
    drop = spec.arm.train.get("drop")
    keep = _kept_channels(arm, drop)
    raw = takes_windows(model_name)

    def inputs(dataset: Dataset, ids: np.ndarray, windows: np.ndarray | None = None) -> np.ndarray:
        """The model's input for windows whose index rows are ``ids`` (the dataset's own, or TTA clips of them)."""
        windows = np.asarray(dataset.windows[ids] if windows is None else windows, dtype=np.float32)[:, keep, :]
        if raw:
            return windows
        rate = dataset.meta.get("sample_rate_hz")
        return feature_matrix(feature_name, windows, dataset.index.iloc[ids], sample_rate_hz=rate)

    x = inputs(arm, train_ids)
    y = arm.index["label"].to_numpy()[train_ids]
    model = fit_classifier(model_name, spec.seed, x, y)
    log(f"fitted {model_name} on {x.shape[0]} windows" + (f" without channels {', '.join(drop)}" if drop else ""))
    scores = {}
    for name, dataset, ids, item in targets:
        if not len(ids):
            scores[name] = np.zeros(0)
        elif item is not None and item.tta is not None:
            scores[name], found = tta_scores(
                dataset, ids, item.tta,
                lambda windows, rows, dataset=dataset: positive_scores(model, inputs(dataset, rows, windows)),
            )  # fmt: skip
            log(f"{name}: {item.tta.aggregate} of up to {item.tta.clips} clips per window ({found} clips scored)")
        else:
            scores[name] = positive_scores(model, inputs(dataset, ids))
    return scores


def _external(spec: RunSpec, run_dir: Path, arm: Dataset, train_ids, targets, log: _Log) -> dict[str, np.ndarray]:
    """Write the training windows and the list of evaluation sets, run the user's command, read its predictions."""
    train_dir = run_dir / "train_dataset"
    index = arm.index.iloc[train_ids].copy()
    index["source_window_id"] = index["window_id"].to_numpy()
    index["window_id"] = np.arange(len(index))
    keep = _kept_channels(arm, spec.arm.train.get("drop"))
    channels = list(arm.meta.get("channels") or [])
    meta = {
        **arm.meta,
        "channels": [channels[i] for i in keep] if channels else None,
        "created_by": "hardneg experiment",
    }
    meta.pop("windows_shape", None)
    meta.pop("versions", None)
    write_dataset(train_dir, np.asarray(arm.windows[train_ids])[:, keep, :], index.reset_index(drop=True), meta,
                  overwrite=True)  # fmt: skip
    listing = {
        name: {
            "dataset": str(dataset.path),
            "window_ids": [int(i) for i in ids],
            "channels": [channels[i] for i in keep] if channels else None,
            "predictions": str(predictions_file(run_dir, name)),
        }
        for name, dataset, ids, _item in targets
    }
    eval_path = run_dir / "eval_sets.json"
    write_bytes_atomic(eval_path, json.dumps(listing, indent=2) + "\n")
    values = {
        "train_dataset": str(train_dir),
        "negatives": str(spec.arm.sample.get("hard_negatives") or "none"),
        "seed": str(spec.seed),
        "run_dir": str(run_dir),
        "eval_sets": str(eval_path),
    }
    try:
        argv = [token.format(**values) for token in shlex.split(spec.command)]
    except (KeyError, IndexError, ValueError) as error:
        raise InputError(
            f"command: cannot fill in {error}; it may use {{train_dataset}}, {{negatives}}, {{seed}}, {{run_dir}} "
            "and {eval_sets}",
            parameter="command",
        ) from None
    log("command: " + " ".join(shlex.quote(token) for token in argv))
    with (run_dir / "command.log").open("w") as output:
        try:
            finished = subprocess.run(argv, cwd=spec.workdir, stdout=output, stderr=subprocess.STDOUT, check=False)
        except OSError as error:
            raise InputError(f"command: could not start {argv[0]!r} ({error})", parameter="command") from None
    if finished.returncode != 0:
        tail = (run_dir / "command.log").read_text(errors="replace").strip().splitlines()[-1:] or [""]
        raise InputError(
            f"command exited with status {finished.returncode}: {tail[0]} (its output: {run_dir / 'command.log'})",
            parameter="command",
        )
    scores = {}
    for name, _dataset, ids, _item in targets:
        path = predictions_file(run_dir, name)
        if not path.is_file():
            raise InputError(f"command: wrote no {path}; it must write window_id, score for every evaluation set "
                             f"listed in {eval_path}", parameter="command")  # fmt: skip
        table = pd.read_parquet(path)
        if not {"window_id", "score"} <= set(table.columns):
            raise InputError(f"{path}: columns window_id and score needed, got {', '.join(table.columns)}",
                             parameter="command")  # fmt: skip
        by_id = pd.Series(table["score"].to_numpy(dtype=np.float64), index=table["window_id"].to_numpy())
        by_id = by_id[~by_id.index.duplicated()]
        missing = np.setdiff1d(ids, by_id.index.to_numpy())
        if len(missing):
            raise InputError(f"{path}: no score for {len(missing)} of the {len(ids)} windows (first: window_id "
                             f"{int(missing[0])})", parameter="command")  # fmt: skip
        score = by_id.loc[ids].to_numpy()
        if not np.isfinite(score).all():
            raise InputError(f"{path}: scores must be finite numbers", parameter="command")
        scores[name] = score
    log(f"read the command's predictions for {len(targets)} sets")
    return scores
