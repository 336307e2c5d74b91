"""Leakage-aware splits: scikit-learn cross-validators, named strategies, and saved split frames.

>>> import tempfile, numpy as np, pandas as pd
>>> from sklearn.linear_model import LogisticRegression
>>> from sklearn.model_selection import cross_val_score
>>> from hardneg import write_dataset
>>> from hardneg.split import make_split, save_split, TimeBlockedSplit

A tiny dataset: two recordings of 20 windows, every fourth one positive (and shifted up):

>>> index = pd.DataFrame({"window_id": range(40), "label": [1, 0, 0, 0] * 10,
...                       "recording": np.repeat(["r1", "r2"], 20), "group": np.repeat(["a", "b"], 20),
...                       "start_ms": np.tile(np.arange(20) * 1000.0, 2)})
>>> index["end_ms"] = index["start_ms"] + 500
>>> windows = np.random.default_rng(0).normal(size=(40, 1, 10)) + index["label"].to_numpy()[:, None, None]
>>> tmp = tempfile.TemporaryDirectory()
>>> dataset = write_dataset(f"{tmp.name}/ds", windows, index, {"parameters": {"window_ms": 500.0}})
>>> frame, info = make_split(dataset, "time", n_splits=5)
>>> info["gap_ms"], frame.query("fold == 0").groupby("subset").size().to_dict()
(500.0, {'test': 8, 'train': 24, 'val': 8})
>>> save_split(dataset.path, "time5", frame, info).name
'time5.parquet'
>>> X, y = dataset.windows.reshape(len(dataset), -1), dataset.labels
>>> cross_val_score(LogisticRegression(), X, y, groups=dataset.groups,
...                 cv=TimeBlockedSplit(dataset, n_splits=5)).round(2)
array([0.88, 1.  , 0.88, 0.88, 1.  ])
>>> tmp.cleanup()

The strategies :func:`make_split` knows are registered in
:data:`SPLIT_STRATEGIES` (name -> :class:`SplitStrategy`); a new one is a
subclass with one hook, registered with :func:`register_split_strategy`.
scikit-learn's own splitters that fit event data are re-exported so one import
gives the whole toolbox.

>>> sorted(SPLIT_STRATEGIES)
['group', 'intra-group', 'logo', 'random', 'stratified', 'stratified-group', 'time']
"""

from sklearn.model_selection import GroupKFold, KFold, LeaveOneGroupOut, StratifiedGroupKFold, StratifiedKFold

from hardneg.split._blocks import default_gap_ms
from hardneg.split._registry import SPLIT_STRATEGIES, STRATEGIES, SplitContext, SplitStrategy, register_split_strategy
from hardneg.split._splitters import ExplicitGroupSplit, IntraGroupSplit, SavedSplit, TimeBlockedSplit
from hardneg.split._store import (
    check_split_frame,
    check_split_name,
    load_split,
    save_split,
    saved_split_names,
    split_paths,
)
from hardneg.split._strategies import check_both_classes, make_split, oversample_positives

__all__ = [
    "SPLIT_STRATEGIES",
    "STRATEGIES",
    "ExplicitGroupSplit",
    "GroupKFold",
    "IntraGroupSplit",
    "KFold",
    "LeaveOneGroupOut",
    "SavedSplit",
    "SplitContext",
    "SplitStrategy",
    "StratifiedGroupKFold",
    "StratifiedKFold",
    "TimeBlockedSplit",
    "check_both_classes",
    "check_split_frame",
    "check_split_name",
    "default_gap_ms",
    "load_split",
    "make_split",
    "oversample_positives",
    "register_split_strategy",
    "save_split",
    "saved_split_names",
    "split_paths",
]
