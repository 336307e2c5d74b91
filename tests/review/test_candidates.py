"""The candidate table: keys, tiers, filters and orders against plain loops."""

import itertools

import numpy as np
import pandas as pd
import pytest

from hardneg._schema import UNREVIEWED
from hardneg.errors import InputError
from hardneg.review import Filters, ReviewSet, candidate_key
from tests.review._fixtures import sensor_mined


@pytest.fixture
def review(tmp_path):
    return ReviewSet.load(sensor_mined(tmp_path, n_items=4, per_item=12))


def test_the_table_is_best_first_with_unique_keys_and_the_pool_paths(review):
    table = review.table
    assert list(table["id"]) == list(range(len(table)))
    assert (np.diff(table["score"].to_numpy()) <= 0).all()
    assert table["key"].is_unique
    assert set(table["kind"]) == {"sensor"}
    assert all(path.endswith(f"{item}.parquet") for item, path in zip(table["item"], table["path"]))


def test_tiers_are_the_highest_reached_a_score_equal_to_a_tier_reaches_it(tmp_path):
    mined = sensor_mined(tmp_path, n_items=1, per_item=5)
    frame = pd.read_parquet(mined / "candidates.parquet")
    frame["score"] = [0.49999, 0.5, 0.85, 0.9899, 0.99]
    frame.to_parquet(mined / "candidates.parquet")
    table = ReviewSet.load(mined).table.sort_values("score")
    assert list(table["tier"]) == ["", "0.50", "0.85", "0.85", "0.99"]


def brute(table, current, f: Filters):
    keep = []
    for row in table.itertuples():
        state, category, _ = current.get(row.key, (None, None, None))
        if f.tier is not None and not row.score >= f.tier:
            continue
        if f.min_score is not None and row.score < f.min_score:
            continue
        if f.max_score is not None and row.score > f.max_score:
            continue
        if f.item is not None and row.item != f.item:
            continue
        if f.group is not None and row.group != f.group:
            continue
        if f.state == UNREVIEWED and state is not None:
            continue
        if f.state not in (None, UNREVIEWED) and state != f.state:
            continue
        if f.category is not None and category != f.category:
            continue
        keep.append(row.id)
    return keep


def test_every_filter_combination_matches_a_loop(review):
    table = review.table
    keys = table["key"].tolist()
    current = {keys[0]: ("negative", "cones", "a"), keys[3]: ("positive", None, "a"), keys[5]: ("negative", None, "b"),
               keys[7]: ("skip", "cones", "b")}
    # a band whose ends are candidates' own scores: both ends are kept
    low, high = float(table["score"].iloc[10]), float(table["score"].iloc[2])
    options = {
        "tier": [None, 0.85], "min_score": [None, low], "max_score": [None, high], "item": [None, "rec1"],
        "group": [None, "g0"], "state": [None, UNREVIEWED, "negative"], "category": [None, "cones"],
    }
    for values in itertools.product(*options.values()):
        f = Filters(**dict(zip(options, values)))
        assert review.select(f, current).tolist() == brute(table, current, f), f
    band = review.select(Filters(min_score=low, max_score=high), {}).tolist()
    assert band[0] == 2 and band[-1] == 10


def test_random_order_is_seeded_and_stable_across_filters(review):
    all_ids = review.select(Filters(), {}, sort="random", seed=7)
    assert sorted(all_ids.tolist()) == list(range(len(review.table)))
    assert all_ids.tolist() == review.select(Filters(), {}, sort="random", seed=7).tolist()
    assert all_ids.tolist() != review.select(Filters(), {}, sort="random", seed=8).tolist()
    some = review.select(Filters(item="rec2"), {}, sort="random", seed=7).tolist()
    assert some == [i for i in all_ids.tolist() if review.table["item"].iat[i] == "rec2"]


def test_similar_puts_the_nearest_first_by_cosine(review):
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(len(review.table), 5))
    ids = review.select(Filters(), {}, sort="similar", like=4, embed=lambda ids: vectors[ids])
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    expected = sorted(range(len(vectors)), key=lambda i: -(unit[i] @ unit[4]))
    assert ids.tolist() == expected and ids[0] == 4


def test_score_ascending_is_the_reverse(review):
    assert review.select(Filters(), {}, sort="score_asc").tolist() == list(range(len(review.table)))[::-1]


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [({"sort": "loudest"}, "sort"), ({"sort": "similar", "like": 10_000, "embed": lambda i: i}, "like"),
     ({"sort": "similar", "like": None, "embed": lambda i: i}, "like")],
)
def test_bad_orders_name_the_parameter(review, kwargs, parameter):
    with pytest.raises(InputError) as caught:
        review.select(Filters(), {}, **kwargs)
    assert caught.value.parameter == parameter


def test_bad_filters_name_the_parameter():
    with pytest.raises(InputError) as caught:
        Filters(state="done")
    assert caught.value.parameter == "state"
    with pytest.raises(InputError) as caught:
        Filters(min_score=float("nan"))
    assert caught.value.parameter == "min_score"


def test_keys_carry_the_frame_for_frames_and_round_milliseconds():
    assert candidate_key("cam", 40.0, 1) == "cam@40#1"
    assert candidate_key("cam", 40.0, np.int64(1)) == "cam@40#1"
    assert candidate_key("rec", 1000.0000001) == "rec@1000"
    assert candidate_key("rec", 0.5) == "rec@0.5"
    assert candidate_key("rec", 1.0, float("nan")) == "rec@1"


def test_a_folder_that_is_not_mined_is_one_error(tmp_path):
    with pytest.raises(InputError, match="hardneg mine"):
        ReviewSet.load(tmp_path)
    with pytest.raises(InputError, match="no such folder"):
        ReviewSet.load(tmp_path / "nope")
