"""User mistakes with ``hardneg export``: each exits 2 with one ``error:`` line that names what is wrong (the
folder, the option) and what to do, and no traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hardneg.mine import write_candidates, write_items
from hardneg.review import ReviewSet, ReviewStore
from tests.helpers.cli import assert_refused, run_hardneg
from tests.helpers.mistakes import Cases

cases = Cases()


def mined_folder(root: Path, *, decide: bool = True) -> Path:
    """A mined folder of two pool logs (three candidates), two of them decided when ``decide``."""
    root.mkdir(parents=True)
    for name in ("p1", "p2"):
        pd.DataFrame({"t_ms": np.arange(300) * 10.0, "ax": 0.0}).to_csv(root / f"{name}.csv", index=False)
    candidates = pd.DataFrame({"item": ["p1", "p1", "p2"], "group": ["p1", "p1", "p2"],
                               "start_ms": [0.0, 1000.0, 500.0], "end_ms": [500.0, 1500.0, 1000.0],
                               "score": [0.9, 0.8, 0.7]})  # fmt: skip
    items = pd.DataFrame({"item": ["p1", "p2"], "group": ["p1", "p2"], "n_windows": [5, 5], "max_score": [0.9, 0.7],
                          "mean_score": [0.5, 0.5], "topk_mean": [0.8, 0.7], "argmax_ms": [0.0, 500.0],
                          "path": [str(root / "p1.csv"), str(root / "p2.csv")]})  # fmt: skip
    mined = root / "mined"
    write_candidates(candidates, mined)
    write_items(items, mined)
    if decide:
        keys = ReviewSet.load(mined).table["key"].tolist()
        with ReviewStore(mined / "review.sqlite", reviewer="ana") as store:
            store.decide(keys[0], "negative", category="door", request_id="1")
            store.decide(keys[1], "positive", request_id="2")
    return mined


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return mined_folder(tmp_path_factory.getbasetemp() / "export-base")


def export(mined, tmp, *options, fmt="manifest"):
    return ["export", mined, "--format", fmt, "--out", tmp / "out", "-q", *options]


@cases.add
def mined_folder_missing(base, tmp):
    return export(tmp / "nowhere", tmp), ["nowhere", "hardneg mine"]


@cases.add
def folder_not_mined(base, tmp):
    (tmp / "empty").mkdir()
    return export(tmp / "empty", tmp), ["candidates.parquet", "hardneg mine"]


@cases.add
def never_reviewed(base, tmp):
    mined = mined_folder(tmp / "fresh", decide=False)
    return export(mined, tmp), ["nothing to export", "review.sqlite", f"hardneg review {mined}"]


@cases.add
def no_decision_in_the_states(base, tmp):
    return export(base, tmp, "--states", "unsure,skip"), ["nothing to export", "unsure,skip", "hardneg review"]


@cases.add
def no_decision_in_the_categories(base, tmp):
    return export(base, tmp, "--categories", "window"), ["nothing to export", "categories window"]


@cases.add
def unknown_state(base, tmp):
    return export(base, tmp, "--states", "negative,maybe"), ["--states", "maybe", "negative, positive"]


@cases.add
def no_state(base, tmp):
    return export(base, tmp, "--states", ","), ["--states"]


@cases.add
def unknown_format(base, tmp):
    return export(base, tmp, fmt="tfrecord"), ["--format", "tfrecord", "manifest, yolo, coco, dataset"]


@cases.add
def yolo_of_logs(base, tmp):
    return export(base, tmp, fmt="yolo"), ["--format yolo", "p1 is sensor", "manifest or dataset"]


@cases.add
def coco_of_logs(base, tmp):
    return export(base, tmp, fmt="coco"), ["--format coco", "p1 is sensor", "manifest or dataset"]


@cases.add
def positives_as_backgrounds(base, tmp):
    return export(base, tmp, "--states", "positive", fmt="yolo"), ["--states positive", "label_errors.csv"]


@cases.add
def share_above_one(base, tmp):
    (tmp / "yolo").mkdir()
    return export(base, tmp, "--into", tmp / "yolo", "--background-share", "1.5", fmt="yolo"), [
        "--background-share", "1.5"]  # fmt: skip


@cases.add
def share_of_zero(base, tmp):
    (tmp / "yolo").mkdir()
    return export(base, tmp, "--into", tmp / "yolo", "--background-share", "0", fmt="yolo"), ["--background-share"]


@cases.add
def share_without_into(base, tmp):
    return export(base, tmp, "--background-share", "0.1", fmt="yolo"), ["--into is missing", "--background-share"]


@cases.add
def share_with_coco(base, tmp):
    return export(base, tmp, "--background-share", "0.1", fmt="coco"), ["--background-share", "format coco"]


@cases.add
def into_not_a_yolo_dataset(base, tmp):
    (tmp / "photos").mkdir()
    return export(base, tmp, "--into", tmp / "photos", fmt="yolo"), ["--into", "photos", "data.yaml"]


@cases.add
def into_without_train_folder(base, tmp):
    (tmp / "yolo").mkdir()
    (tmp / "yolo" / "data.yaml").write_text("train: images/train\nnames: [cone]\n")
    return export(base, tmp, "--into", tmp / "yolo", fmt="yolo"), ["--into", "images/train"]


@cases.add
def into_coco_not_json(base, tmp):
    (tmp / "train.json").write_text("{not json")
    return export(base, tmp, "--into", tmp / "train.json", fmt="coco"), ["--into", "train.json", "COCO"]


@cases.add
def into_with_manifest(base, tmp):
    (tmp / "yolo").mkdir()
    return export(base, tmp, "--into", tmp / "yolo"), ["--into", "manifest takes none"]


@cases.add
def dataset_without_like(base, tmp):
    return export(base, tmp, fmt="dataset"), ["--like", "hardneg sample"]


@cases.add
def like_not_a_dataset(base, tmp):
    (tmp / "shots").mkdir()
    return export(base, tmp, "--like", tmp / "shots", fmt="dataset"), ["--like", "shots", "meta.json"]


@cases.add
def dataset_of_unsure(base, tmp):
    return export(base, tmp, "--like", tmp, "--states", "negative,unsure", fmt="dataset"), [
        "--states negative,unsure", "confirmed negatives only"]  # fmt: skip


@cases.add
def out_not_empty(base, tmp):
    (tmp / "out").mkdir()
    (tmp / "out" / "notes.txt").write_text("mine")
    return export(base, tmp), ["--out", "--overwrite"]


@cases.add
def out_is_the_mined_folder(base, tmp):
    mined = tmp / "copy"
    shutil.copytree(base, mined)
    args = ["export", mined, "--format", "manifest", "--out", mined, "--overwrite"]
    return args, ["--out", "would replace the mined folder"]


@pytest.mark.parametrize("case_id", cases.ids)
def test_export_mistake(base, tmp_path, case_id):
    result, needles = cases.run(case_id, base, tmp_path)
    assert_refused(result, *needles)
    assert not (tmp_path / "out").exists() or case_id == "out_not_empty"
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith(".")] == []  # no staging left


def test_the_summary_counts_per_state_and_category(base, tmp_path):
    result = run_hardneg("export", base, "--format", "manifest", "--out", tmp_path / "out", "--states",
                         "negative,positive")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"exported 2 candidates as manifest to {tmp_path / 'out'}" in result.stdout
    assert "negative 1 (door 1); positive 1 (uncategorised 1)" in result.stdout
    assert "label errors): 1" in result.stdout
    assert result.stderr == ""
