"""Every splitter inside scikit-learn's own cross_val_score and GridSearchCV, with groups=."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score, cross_validate
from tests.split.split_helpers import features_for, regular_index

from hardneg.split import (
    ExplicitGroupSplit,
    GroupKFold,
    IntraGroupSplit,
    KFold,
    LeaveOneGroupOut,
    SavedSplit,
    StratifiedGroupKFold,
    StratifiedKFold,
    TimeBlockedSplit,
    make_split,
)

INDEX = regular_index()
X = features_for(INDEX)
Y = INDEX["label"].to_numpy()
GROUPS = INDEX["group"].to_numpy()

SPLITTERS = {
    "time": lambda: TimeBlockedSplit(INDEX, n_splits=4, gap_ms=500.0),
    "intra-group": lambda: IntraGroupSplit(INDEX, n_splits=4),
    "explicit": lambda: ExplicitGroupSplit(["g1", "g3"]),
    "saved": lambda: SavedSplit(make_split(INDEX, "group", n_splits=4, seed=0, oversample_pos_to=0.4)[0]),
    "kfold": lambda: KFold(4, shuffle=True, random_state=0),
    "stratified": lambda: StratifiedKFold(4, shuffle=True, random_state=0),
    "group-kfold": lambda: GroupKFold(4),
    "stratified-group": lambda: StratifiedGroupKFold(4),
    "logo": lambda: LeaveOneGroupOut(),
}
N_FOLDS = {"explicit": 1}


@pytest.mark.parametrize("name", list(SPLITTERS))
def test_cross_val_score_with_groups(name):
    cv = SPLITTERS[name]()
    with warnings.catch_warnings():
        # scikit-learn's KFold and StratifiedKFold say that they ignore groups; that is theirs to say
        warnings.filterwarnings("ignore", message="The groups parameter is ignored")
        scores = cross_val_score(LogisticRegression(), X, Y, groups=GROUPS, cv=cv, error_score="raise")
    assert len(scores) == N_FOLDS.get(name, 4)
    assert np.isfinite(scores).all() and (scores > 0.5).all()  # the first feature carries the label


@pytest.mark.parametrize("name", ["time", "intra-group", "explicit", "saved"])
def test_grid_search_cv_with_groups(name):
    search = GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, cv=SPLITTERS[name](), error_score="raise")
    search.fit(X, Y, groups=GROUPS)
    assert search.best_params_["C"] in (0.1, 1.0)
    assert search.n_splits_ == N_FOLDS.get(name, 4)


def test_saved_split_scores_equal_a_hand_fit():
    frame, _ = make_split(INDEX, "stratified-group", n_splits=3, seed=1, oversample_pos_to=0.4)
    scores = cross_val_score(LogisticRegression(), X, Y, cv=SavedSplit(frame), scoring="accuracy")
    expected = []
    for fold in range(3):
        rows = frame[frame["fold"] == fold]
        train = rows[rows["subset"] == "train"]
        train_ids = np.repeat(train["window_id"], train["copies"])
        test_ids = rows.loc[rows["subset"] == "test", "window_id"]
        model = LogisticRegression().fit(X[train_ids], Y[train_ids])
        expected.append((model.predict(X[test_ids]) == Y[test_ids]).mean())
    np.testing.assert_allclose(scores, expected)


@pytest.mark.parametrize("name", ["time", "intra-group", "explicit"])
def test_metadata_routing_sends_groups(name):
    with sklearn.config_context(enable_metadata_routing=True):
        result = cross_validate(LogisticRegression(), X, Y, params={"groups": GROUPS}, cv=SPLITTERS[name]())
    assert len(result["test_score"]) == N_FOLDS.get(name, 4)


def test_time_blocked_train_in_cross_val_score_is_purged():
    """What cross_val_score fits on is exactly the purged training set."""
    seen = []

    class Recorder(LogisticRegression):
        def fit(self, X, y, **kwargs):
            seen.append(len(X))
            return super().fit(X, y, **kwargs)

    cv = TimeBlockedSplit(INDEX, n_splits=4, gap_ms=3000.0)
    cross_val_score(Recorder(), X, Y, groups=GROUPS, cv=cv)
    assert seen == [len(train) for train, _ in cv.split(X)]
    assert all(n < len(INDEX) * 3 / 4 for n in seen)  # something was purged in every fold
