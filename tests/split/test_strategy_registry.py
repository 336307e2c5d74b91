"""Contract of every registered split strategy (imbalanced-learn's ``test_common.py`` model).

Whatever a strategy draws, it says what it measures, names the index columns it needs, gives every fold
disjoint train/val/test subsets of the index, draws the same folds for the same seed, and refuses an index
without one of its columns with an error naming the column. A strategy registered later is held to the same.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from tests.split.split_helpers import regular_index, subsets_of

from hardneg._schema import INDEX_COLUMNS
from hardneg.errors import InputError
from hardneg.split import (
    SPLIT_STRATEGIES,
    STRATEGIES,
    SplitStrategy,
    make_split,
    register_split_strategy,
)
from hardneg.split._blocks import TEST, TRAIN, VAL

NAMES = list(SPLIT_STRATEGIES)


def small_dataset():
    """A small synthetic index with every column, and a meta that gives the time strategy its purge gap."""
    index = regular_index(n_groups=4, recordings_per_group=1, events_per_recording=6, far_per_recording=6)
    return SimpleNamespace(index=index, meta={"parameters": {"window_ms": 500.0, "neg_avoid_post_ms": 0.0}})


def test_the_registry_holds_the_built_in_strategies_in_order():
    assert NAMES[:7] == ["random", "stratified", "group", "stratified-group", "logo", "intra-group", "time"]
    assert list(STRATEGIES) == NAMES
    assert all(STRATEGIES[name] == SPLIT_STRATEGIES[name].measures for name in NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_entry_says_what_it_is(name):
    strategy = SPLIT_STRATEGIES[name]
    assert isinstance(strategy, SplitStrategy)
    assert strategy.name == name
    assert strategy.measures and "\n" not in strategy.measures
    assert strategy.columns[:2] == ("window_id", "label")
    assert set(strategy.columns) <= set(INDEX_COLUMNS)
    assert len(set(strategy.columns)) == len(strategy.columns)
    assert set(strategy.options) <= {"gap_ms", "test_groups"}
    assert type(strategy).draw_folds is not SplitStrategy.draw_folds, "a strategy overrides the draw_folds hook"


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("n_splits", [None, 3])
def test_folds_are_disjoint_subsets_of_the_index(name, n_splits):
    dataset = small_dataset()
    frame, info = make_split(dataset, name, n_splits=n_splits, seed=3)
    ids = set(dataset.index["window_id"])
    assert info["strategy"] == name and info["measures"] == SPLIT_STRATEGIES[name].measures
    for fold in sorted(frame["fold"].unique()):
        subsets = {subset: set(part.tolist()) for subset, part in subsets_of(frame, fold).items()}
        assert all(subsets.values()), f"fold {fold} lacks a subset: {[len(part) for part in subsets.values()]}"
        assert not subsets["train"] & subsets["val"]
        assert not subsets["train"] & subsets["test"]
        assert not subsets["val"] & subsets["test"]
        assert set().union(*subsets.values()) <= ids
        assert not frame.loc[frame["fold"] == fold, "window_id"].duplicated().any()


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_folds(name):
    dataset = small_dataset()
    for n_splits in (None, 2):
        first = make_split(dataset, name, n_splits=n_splits, seed=11, oversample_pos_to=0.4)
        again = make_split(dataset, name, n_splits=n_splits, seed=11, oversample_pos_to=0.4)
        pd.testing.assert_frame_equal(first[0], again[0])
        assert first[1] == again[1]


@pytest.mark.parametrize("name", NAMES)
def test_a_missing_required_column_is_named(name):
    dataset = small_dataset()
    for column in SPLIT_STRATEGIES[name].columns:
        bare = SimpleNamespace(index=dataset.index.drop(columns=column), meta=dataset.meta)
        with pytest.raises(InputError, match=f"'{column}'"):
            make_split(bare, name)


@pytest.mark.parametrize("name", NAMES)
def test_options_it_does_not_use_are_refused(name):
    dataset = small_dataset()
    strategy = SPLIT_STRATEGIES[name]
    for option, value in (("gap_ms", 100.0), ("test_groups", ["g0"])):
        if option in strategy.options:
            continue
        with pytest.raises(InputError, match=f"{option} applies to strategy") as caught:
            make_split(dataset, name, **{option: value})
        assert caught.value.parameter == option


def test_a_registered_strategy_is_dispatched_and_checked():
    @register_split_strategy
    class EverySecondWindow(SplitStrategy):
        name = "test-every-second"
        measures = "nothing in particular: every second window is test"
        columns = ("window_id", "label", "kind")

        def draw_folds(self, ctx):
            codes = np.where(np.arange(ctx.n) % 2 == 0, TRAIN, TEST).astype(np.int8)
            codes[1] = VAL
            return [codes]

    try:
        dataset = small_dataset()
        frame, info = make_split(dataset, "test-every-second")
        assert info["measures"] == EverySecondWindow.measures
        assert set(frame["subset"]) == {"train", "val", "test"}
        with pytest.raises(InputError, match="'kind'"):
            make_split(dataset.index.drop(columns="kind"), "test-every-second")
        with pytest.raises(ValueError, match="registered already"):
            register_split_strategy(EverySecondWindow)
    finally:
        del SPLIT_STRATEGIES["test-every-second"]
    with pytest.raises(InputError, match="strategy must be one of"):
        make_split(small_dataset(), "test-every-second")
