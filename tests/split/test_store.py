"""save_split / load_split: round trip, the files' schema, names, atomic replacement, and bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.split.split_helpers import regular_index

from hardneg.errors import InputError
from hardneg.split import load_split, make_split, save_split


@pytest.fixture
def dataset_dir(tmp_path):
    """A directory with just the index.parquet a split is checked against."""
    index = regular_index()
    pq.write_table(pa.Table.from_pandas(index, preserve_index=False), tmp_path / "index.parquet")
    return tmp_path, index


@pytest.mark.parametrize(("strategy", "kwargs"), [("time", {"gap_ms": 500.0, "n_splits": 3}), ("group", {})])
def test_round_trip(dataset_dir, strategy, kwargs):
    path, index = dataset_dir
    frame, info = make_split(index, strategy, seed=4, oversample_pos_to=0.4, **kwargs)
    written = save_split(path, "my-split_1", frame, info)
    assert written == path / "splits" / "my-split_1.parquet"
    loaded, loaded_info = load_split(path, "my-split_1")
    pd.testing.assert_frame_equal(loaded, frame)
    recorded = loaded_info.pop("dataset")
    assert loaded_info == {**info, "name": "my-split_1"}
    # what the split was made on, so that it is never applied to another dataset
    assert (recorded["windows"], recorded["positives"]) == (len(index), int(index["label"].sum()))
    # the JSON holds exactly the contract's keys, and the Parquet the contract's types
    document = json.loads((path / "splits" / "my-split_1.json").read_text())
    assert set(document) == {"name", "strategy", "parameters", "gap_ms", "measures", "counts", "dataset"}
    schema = pq.read_schema(written)
    assert [(field.name, str(field.type)) for field in schema] == [
        ("fold", "int32"),
        ("window_id", "int64"),
        ("subset", "string"),
        ("copies", "int32"),
    ]
    assert not [p.name for p in (path / "splits").iterdir() if p.name.startswith(".")]  # no staging files left


def test_same_inputs_same_bytes(dataset_dir, tmp_path_factory):
    path, index = dataset_dir
    other = tmp_path_factory.mktemp("again")
    (other / "index.parquet").write_bytes((path / "index.parquet").read_bytes())
    for folder in (path, other):
        frame, info = make_split(index, "stratified-group", n_splits=3, seed=9)
        save_split(folder, "s", frame, info)
    for suffix in ("parquet", "json"):
        assert (path / "splits" / f"s.{suffix}").read_bytes() == (other / "splits" / f"s.{suffix}").read_bytes()


def test_save_replaces_and_keeps_the_old_files_when_it_fails(dataset_dir, monkeypatch):
    path, index = dataset_dir
    first, first_info = make_split(index, "group", seed=0)
    save_split(path, "g", first, first_info)
    second, second_info = make_split(index, "group", seed=1)
    save_split(path, "g", second, second_info)
    pd.testing.assert_frame_equal(load_split(path, "g")[0], second)

    def broken_write(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", broken_write)
    with pytest.raises(OSError, match="disk full"):
        save_split(path, "g", first, first_info)
    pd.testing.assert_frame_equal(load_split(path, "g")[0], second)  # untouched
    assert sorted(p.name for p in (path / "splits").iterdir()) == ["g.json", "g.parquet"]


def test_bad_names_and_missing_splits(dataset_dir):
    path, index = dataset_dir
    frame, info = make_split(index, "group")
    for name in ("../escape", "a.b", "", ".hidden", "a b"):
        with pytest.raises(InputError, match="use letters, digits"):
            save_split(path, name, frame, info)
    save_split(path, "kept", frame, info)
    with pytest.raises(InputError, match=r"not found \(saved splits: kept\)"):
        load_split(path, "gone")
    (path / "splits" / "kept.json").unlink()
    with pytest.raises(InputError, match="kept.json missing"):
        load_split(path, "kept")


def test_frames_from_another_dataset_or_malformed_are_refused(dataset_dir, tmp_path_factory):
    path, index = dataset_dir
    frame, info = make_split(index, "group")
    with pytest.raises(InputError, match="not a hardneg dataset"):
        save_split(tmp_path_factory.mktemp("empty"), "x", frame, info)
    too_far = frame.assign(window_id=frame["window_id"] + len(index))
    with pytest.raises(InputError, match="was it made from another dataset"):
        save_split(path, "x", too_far, info)
    with pytest.raises(InputError, match="appears twice in fold 0"):
        save_split(path, "x", pd.concat([frame, frame.iloc[:1]]), info)
    with pytest.raises(InputError, match="column 'copies' missing"):
        save_split(path, "x", frame.drop(columns="copies"), info)
    with pytest.raises(InputError, match="must hold whole numbers"):
        save_split(path, "x", frame.assign(fold=np.float64(0.5)), info)
