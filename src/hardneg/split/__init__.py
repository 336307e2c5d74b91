"""Leakage-aware splits: scikit-learn cross-validators, named strategies, and saved split frames.

>>> from hardneg.split import make_split, save_split, TimeBlockedSplit
>>> frame, info = make_split(dataset, "time", n_splits=5)  # doctest: +SKIP
>>> cross_val_score(LogisticRegression(), X, y, groups=dataset.groups,
...                 cv=TimeBlockedSplit(dataset, n_splits=5))  # doctest: +SKIP

scikit-learn's own splitters that fit event data are re-exported so one import
gives the whole toolbox.
"""

from sklearn.model_selection import GroupKFold, KFold, LeaveOneGroupOut, StratifiedGroupKFold, StratifiedKFold

from hardneg.split.splitters import (
    ExplicitGroupSplit,
    IntraGroupSplit,
    SavedSplit,
    TimeBlockedSplit,
    default_gap_ms,
)
from hardneg.split.store import check_split_frame, load_split, save_split
from hardneg.split.strategies import STRATEGIES, make_split, oversample_positives

__all__ = [
    "STRATEGIES",
    "ExplicitGroupSplit",
    "GroupKFold",
    "IntraGroupSplit",
    "KFold",
    "LeaveOneGroupOut",
    "SavedSplit",
    "StratifiedGroupKFold",
    "StratifiedKFold",
    "TimeBlockedSplit",
    "check_split_frame",
    "default_gap_ms",
    "load_split",
    "make_split",
    "oversample_positives",
    "save_split",
]
