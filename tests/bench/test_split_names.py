"""``--splits``: a strategy name draws a fresh split per seed; a saved split (``saved:NAME``) is one fixed draw."""

import json
import shutil

import pytest

from hardneg import InputOptions, build_dataset
from hardneg.bench import run_bench
from hardneg.bench._runner import FIXED_DRAW, FRESH_DRAW, resolve_splits
from hardneg.dataset import Dataset
from hardneg.demo import generate_world
from hardneg.errors import InputError
from hardneg.split import make_split, save_split


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("names")
    world = generate_world(root / "world", n_sessions=6, session_minutes=1.0, n_no_shot_sessions=0)
    built = build_dataset(world.logs, root / "shots", inputs=InputOptions(events=world.events, groups=world.groups))
    save_split(built.path, "g1", *make_split(built, "group", seed=0))
    return Dataset.load(built.path)


def _test_ids(scores, split, seed):
    rows = scores[(scores["split"] == split) & (scores["seed"] == seed) & (scores["subset"] == "test")]
    return set(rows.loc[rows["model"] == "logreg", "window_id"])


def test_strategies_draw_per_seed_and_saved_splits_are_fixed(dataset, tmp_path):
    bench = run_bench(
        dataset.path, tmp_path / "b", models=["logreg"], features=["summary"], splits=["group", "saved:g1"], seeds=2
    )
    assert _test_ids(bench.scores, "group", 0) != _test_ids(bench.scores, "group", 1)
    assert _test_ids(bench.scores, "g1", 0) == _test_ids(bench.scores, "g1", 1)
    meta = json.loads((tmp_path / "b" / "bench.json").read_text())
    assert meta["splits"]["group"]["draw"] == FRESH_DRAW and meta["splits"]["g1"]["draw"] == FIXED_DRAW
    report = (tmp_path / "b" / "report.md").read_text()
    assert FIXED_DRAW in report and FRESH_DRAW in report


def test_a_name_that_is_not_a_strategy_is_a_saved_split(dataset):
    (plain,) = resolve_splits(dataset, ["g1"])
    (prefixed,) = resolve_splits(dataset, ["saved:g1"])
    assert plain.name == prefixed.name == "g1"
    assert plain.saved[0].equals(prefixed.saved[0]) and plain.draw == FIXED_DRAW


def test_a_missing_saved_split_names_the_saved_ones(dataset):
    with pytest.raises(InputError, match=r"no split 'missing' saved .*\(saved splits: g1\)"):
        resolve_splits(dataset, ["saved:missing"])


def test_a_split_saved_under_a_strategy_name_before_is_reached_only_with_saved(dataset, tmp_path):
    copy = tmp_path / "ds"
    shutil.copytree(dataset.path, copy)
    for suffix in (".parquet", ".json"):
        shutil.copy(copy / "splits" / f"g1{suffix}", copy / "splits" / f"group{suffix}")
    loaded = Dataset.load(copy)
    (strategy,) = resolve_splits(loaded, ["group"])
    (saved,) = resolve_splits(loaded, ["saved:group"])
    assert strategy.saved is None and saved.saved is not None and saved.name == "group"
    with pytest.raises(InputError, match="names both the strategy and the split saved"):
        resolve_splits(loaded, ["group", "saved:group"])
