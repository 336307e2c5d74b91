"""README sections 3 and 5 on MIT-BIH: the commands as written, on every record cut to its first minute.

The blocks name ``../shared/data/mitdb/*.hea``; they run in ``BASE/work`` beside ``BASE/shared/data/mitdb``,
which holds the real records cut short (wfdb reads the originals, writes the first SECONDS back).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tests.readme._blocks import blocks_run_by
from tests.readme._worlds import MITDB, MITDB_MISSING, block_env, run_shell_block, short_mitdb

HERE = "tests/readme/test_ecg_blocks.py"
SECONDS = 45  # of each record: V beats in enough of them for the splits and intervals, and a quick bench
POSITIVE, NEGATIVE = ("V", "E"), ("N", "L", "R", "e", "j", "A", "a", "J", "S", "F", "/", "f", "Q")

pytestmark = pytest.mark.skipif(not (MITDB / "100.hea").is_file(), reason=MITDB_MISSING)


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    pytest.importorskip("wfdb", reason="needs the wfdb extra")
    base = tmp_path_factory.mktemp("readme-mitdb")
    work = short_mitdb(base, SECONDS)
    return work, block_env(base)


@pytest.fixture(scope="module")
def veb(records):
    work, env = records
    (block,) = blocks_run_by(f"{HERE}::test_veb_dataset_command")
    return run_shell_block(block.text, work, env)


def _annotations(folder, record):
    import wfdb

    annotation = wfdb.rdann(str(folder / record), "atr")
    return np.asarray(annotation.sample), np.asarray(annotation.symbol)


def test_veb_dataset_command(records, veb):
    work, _ = records
    dataset = work / "mitdb-v"
    meta = json.loads((dataset / "meta.json").read_text())
    assert meta["channels"] == ["MLII"]
    skipped = " ".join(str(item) for item in meta["skipped_files"])
    assert "102.hea" in skipped and "104.hea" in skipped  # no MLII: left out and named
    index = pd.read_parquet(dataset / "index.parquet")
    assert index["recording"].nunique() == 46 and set(index["kind"]) == {"pos", "near", "far"}
    assert np.load(dataset / "windows.npy", mmap_mode="r").shape == (len(index), 1, 216)  # 600 ms at 360 Hz
    # one positive per V beat whose centred window fits inside its (cut) record
    folder = work.parent / "shared" / "data" / "mitdb"
    expected = 0
    for record in index["recording"].unique():
        samples, symbols = _annotations(folder, record)
        expected += int(((symbols == "V") & (samples >= 108) & (samples + 108 <= SECONDS * 360)).sum())
    assert (index["kind"] == "pos").sum() == expected > 0
    assert "102.hea" in veb[0].stdout + veb[0].stderr


def test_beat_level_command(records):
    work, env = records
    (block,) = blocks_run_by(f"{HERE}::test_beat_level_command")
    run_shell_block(block.text, work, env)
    index = pd.read_parquet(work / "mitdb-beats" / "index.parquet")
    folder = work.parent / "shared" / "data" / "mitdb"
    expected = {"pos": 0, "labelled": 0}
    for record in index["recording"].unique():
        samples, symbols = _annotations(folder, record)
        fits = (samples >= 108) & (samples + 108 <= SECONDS * 360)
        expected["pos"] += int((np.isin(symbols, POSITIVE) & fits).sum())
        expected["labelled"] += int((np.isin(symbols, NEGATIVE) & fits).sum())
    assert index["kind"].value_counts().to_dict() == expected
    assert index["recording"].nunique() == 46
    assert set(index.loc[index["kind"] == "labelled", "event_label"]) <= set(NEGATIVE)


@pytest.mark.slow
def test_split_audit_and_bench_commands(records, veb):
    """Section 5: DS1/DS2 and a random split, the strict audit that exits 1, the bench of both."""
    work, env = records
    (block,) = blocks_run_by(f"{HERE}::test_split_audit_and_bench_commands")
    ran = run_shell_block(block.text, work, env)
    splits = work / "mitdb-v" / "splits"
    frame = pd.read_parquet(splits / "ds1ds2.parquet")
    assert list(frame.columns[:4]) == ["fold", "window_id", "subset", "copies"]
    index = pd.read_parquet(work / "mitdb-v" / "index.parquet")
    test_groups = set(index.loc[frame.loc[frame["subset"] == "test", "window_id"], "group"].astype(str))
    ds2 = set(block.first_line.split("--test-groups ")[1].split()[0].split(","))
    assert test_groups == ds2 & set(index["group"].astype(str))
    assert json.loads((splits / "ds1ds2.json").read_text())["strategy"] == "group"
    # "exits 1: group_confound FAILs"
    audit = json.loads((splits / "random-s0.audit.json").read_text())
    verdicts = {check["check"]: check["verdict"] for check in audit["checks"]}
    assert verdicts["group_confound"] == "FAIL" and verdicts["group_overlap"] == "FAIL"
    assert [r.returncode for r in ran] == [0, 0, 1, 0]
    bench = work / "mitdb-bench"
    summary = pd.read_parquet(bench / "summary.parquet")
    assert set(summary["split"]) == {"random-s0", "ds1ds2"} and (summary["n_seeds"] == 5).all()
    assert {"logreg", "et", "prior"} <= set(summary["model"])
    predictions = pd.read_parquet(bench / "predictions.parquet")
    assert list(predictions.columns) == ["model", "features", "split", "seed", "fold", "window_id", "score"]
    assert {"split", "subset", "label", "group", "kind"} <= set(pd.read_parquet(bench / "scores.parquet").columns)
    assert (bench / "report.md").is_file() and (bench / "report.html").is_file()
