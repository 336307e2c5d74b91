"""Leakage-aware splits: scikit-learn cross-validators, named strategies, and saved split frames.

>>> from hardneg.split import make_split, save_split, TimeBlockedSplit
>>> frame, info = make_split(dataset, "time", n_splits=5)  # doctest: +SKIP
>>> cross_val_score(LogisticRegression(), X, y, groups=dataset.groups,
...                 cv=TimeBlockedSplit(dataset, n_splits=5))  # doctest: +SKIP

The strategies :func:`make_split` knows are registered in
:data:`SPLIT_STRATEGIES` (name -> :class:`SplitStrategy`); a new one is a
subclass with one hook, registered with :func:`register_split_strategy`.
scikit-learn's own splitters that fit event data are re-exported so one import
gives the whole toolbox.

>>> sorted(SPLIT_STRATEGIES)
['group', 'intra-group', 'logo', 'random', 'stratified', 'stratified-group', 'time']
"""

from sklearn.model_selection import GroupKFold, KFold, LeaveOneGroupOut, StratifiedGroupKFold, StratifiedKFold

from hardneg.split.blocks import default_gap_ms
from hardneg.split.registry import SPLIT_STRATEGIES, STRATEGIES, SplitContext, SplitStrategy, register_split_strategy
from hardneg.split.splitters import ExplicitGroupSplit, IntraGroupSplit, SavedSplit, TimeBlockedSplit
from hardneg.split.store import check_split_frame, load_split, save_split
from hardneg.split.strategies import make_split, oversample_positives

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
    "check_split_frame",
    "default_gap_ms",
    "load_split",
    "make_split",
    "oversample_positives",
    "register_split_strategy",
    "save_split",
]
