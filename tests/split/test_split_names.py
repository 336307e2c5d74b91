"""A saved split may not take a strategy's name: a bench reads a strategy name as a fresh split per seed."""

import numpy as np
import pandas as pd
import pytest

from hardneg.dataset import write_dataset
from hardneg.errors import InputError
from hardneg.split import STRATEGIES, check_split_name, load_split, make_split, save_split, saved_split_names

INDEX = pd.DataFrame({"window_id": range(8), "label": [1, 0] * 4, "group": list("aabbccdd")})


@pytest.fixture
def dataset(tmp_path):
    return write_dataset(tmp_path / "ds", np.zeros((8, 1, 10), np.float32), INDEX, {})


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_saving_under_a_strategy_name_is_refused_and_names_the_alternative(dataset, strategy):
    frame, info = make_split(dataset, "group", test_groups=["d"], val_size=0)
    with pytest.raises(InputError, match="fresh split per seed") as raised:
        save_split(dataset.path, strategy, frame, info)
    assert raised.value.parameter == "name"
    assert f"e.g. {strategy}-s0" in str(raised.value)
    assert saved_split_names(dataset.path) == []


def test_other_names_are_saved_and_listed(dataset):
    frame, info = make_split(dataset, "group", test_groups=["d"], val_size=0)
    assert check_split_name("group-s0") == "group-s0"
    save_split(dataset.path, "group-s0", frame, info)
    save_split(dataset.path, "ds1", frame, info)
    assert saved_split_names(dataset.path) == ["ds1", "group-s0"]
    assert load_split(dataset.path, "group-s0")[1]["name"] == "group-s0"
