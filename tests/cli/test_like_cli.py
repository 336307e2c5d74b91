"""`hardneg sample --like DATASET`: the same inputs and options as an existing dataset, from any folder.

Before/after comparisons of the hard-negative loop need the second dataset to differ from the first only in
what the user changed; every value not typed on the command line comes from the first dataset's meta.json.
"""

from __future__ import annotations

import json

import pandas as pd

from tests.cli.test_sample_hard_cli import mined_folder, one_error

OPTIONS = ["--neg-mult", "3", "--window-ms", "400", "--neg-strategy", "near", "--seed", "7", "--neg-min-sep-ms", "100"]
KEYS = ["recording", "start_ms", "end_ms", "kind", "label"]


def _first(world, cli, **kw):
    """A dataset built in ``world.root/first`` with relative paths, from ``world.root``."""
    result = cli("sample", "s1.csv", "s2.csv", "--events", "events.csv", *OPTIONS, "--out", "first", "-q",
                 cwd=world.root, **kw)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return world.root / "first"


def test_like_rebuilds_the_same_bytes_from_another_folder(world, cli):
    first = _first(world, cli)
    elsewhere = world.root / "elsewhere"
    elsewhere.mkdir()
    again = cli("sample", "--like", "../first", "--out", "again", "-q", cwd=elsewhere)
    assert again.returncode == 0, again.stderr
    for name in ("index.parquet", "windows.npy"):
        assert (elsewhere / "again" / name).read_bytes() == (first / name).read_bytes(), name
    meta_first = json.loads((first / "meta.json").read_text())
    meta_again = json.loads((elsewhere / "again" / "meta.json").read_text())
    assert meta_again["parameters"] == meta_first["parameters"]
    assert meta_again["input_options"] == meta_first["input_options"]
    assert meta_again["like"] == {"dataset": str(first), "changed": []}
    # paths are recorded absolute, so that they open from any folder
    assert meta_first["input_paths"] == [str(world.root / "s1.csv"), str(world.root / "s2.csv")]
    assert meta_first["input_options"]["events"] == str(world.root / "events.csv")


def test_like_plus_hard_negatives_keeps_every_other_window(world, cli, log_maker):
    first = _first(world, cli)
    mined = mined_folder(world.root, log_maker, [0.4, 0.9, 0.95])
    result = cli("sample", "--like", first, "--hard-negatives", mined, "--hard-tier", "0.9", "--out",
                 world.root / "hard")  # fmt: skip
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert f"built like {first}: its inputs and options, changed: --hard-negatives, --hard-tier" in text
    before = pd.read_parquet(first / "index.parquet")[KEYS]
    after = pd.read_parquet(world.root / "hard" / "index.parquet")
    assert (after["kind"] == "hard").sum() == 2  # scores 0.9 (equal to the tier) and 0.95
    kept = after[after["kind"] != "hard"][KEYS].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept, before.reset_index(drop=True))
    parameters = json.loads((world.root / "hard" / "meta.json").read_text())["parameters"]
    first_parameters = json.loads((first / "meta.json").read_text())["parameters"]
    differ = {key for key in parameters if parameters[key] != first_parameters[key]}
    assert differ == {"hard_negatives", "hard_tier"}


def test_an_option_typed_with_like_replaces_the_recorded_one(world, cli):
    first = _first(world, cli)
    result = cli("sample", "--like", first, "--neg-mult", "1", "--out", world.root / "fewer", "-q")
    assert result.returncode == 0, result.stderr
    meta = json.loads((world.root / "fewer" / "meta.json").read_text())
    assert meta["parameters"]["neg_mult"] == 1.0 and meta["parameters"]["window_ms"] == 400.0
    assert meta["parameters"]["seed"] == 7 and meta["parameters"]["neg_min_sep_ms"] == 100.0
    assert meta["like"]["changed"] == ["neg_mult"]
    assert meta["counts"]["negatives"]["requested"] == {"near": 6}


def test_a_default_separation_follows_a_new_window(world, cli):
    result = cli("sample", "s1.csv", "s2.csv", "--events", "events.csv", "--out", "a", "-q", cwd=world.root)
    assert result.returncode == 0, result.stderr
    assert json.loads((world.root / "a" / "meta.json").read_text())["parameters"]["neg_min_sep_ms"] == 250.0
    result = cli("sample", "--like", "a", "--window-ms", "300", "--out", "b", "-q", cwd=world.root)
    assert result.returncode == 0, result.stderr
    assert json.loads((world.root / "b" / "meta.json").read_text())["parameters"]["neg_min_sep_ms"] == 150.0


def test_like_mistakes_are_one_error_line(world, cli):
    first = _first(world, cli)
    line = one_error(cli("sample", "--like", world.root, "--out", world.root / "x"))
    assert line == f"error: --like {world.root}: no meta.json; give a dataset folder written by hardneg sample"
    line = one_error(cli("sample", "--like", first, "--out", first, "--overwrite"))
    assert "is the dataset the recipe comes from; write the new dataset to another folder" in line
    line = one_error(cli("sample", "--events", world.events, "--out", world.root / "y"))
    assert line.startswith("error: no inputs given;") and "--like DATASET" in line
    line = one_error(cli("sample", "--like", first))
    assert line == "error: --out is missing: give the folder to write the dataset to"
    meta = json.loads((first / "meta.json").read_text())
    del meta["input_paths"]
    (first / "meta.json").write_text(json.dumps(meta))
    line = one_error(cli("sample", "--like", first, "--out", world.root / "z"))
    assert "did not record its input paths; give the inputs and options again" in line
