"""Exports of review decisions, checked against what the pool files hold and counts made by hand.

A mined video pool (two clips of solid grey frames, each frame its own grey, so each candidate its own
score) is reviewed with :class:`ReviewStore`; every format is exported and compared with PyAV's decoding
of the clips, the decisions as recorded, and a share worked out by hand. A mined pool of logs is exported
as a manifest and as a dataset, and the hard negatives `hardneg sample --like` adds are compared with
windows cut straight from the pool files.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from hardneg._schema import LABEL_ERRORS_FILE, REVIEWED_COLUMNS, REVIEWED_FILE
from hardneg.errors import InputError
from hardneg.mine import MineOptions, mine, safe_name
from hardneg.review import EXPORT_FORMATS, ReviewSet, ReviewStore, export_review
from tests.helpers.cli import run_hardneg

av = pytest.importorskip("av")
Image = pytest.importorskip("PIL.Image")

BRIGHTNESS = "import numpy as np\n\ndef make():\n    return lambda b: np.asarray(b, float).mean(axis=tuple(range(1, np.ndim(b)))) / 255\n"
LOUDNESS = "import numpy as np\n\ndef make():\n    return lambda b: np.abs(np.asarray(b, float)).mean(axis=(1, 2))\n"


def write_video(path: Path, levels: np.ndarray, size=(64, 48), fps: int = 10) -> None:
    """Frame ``i`` solid grey ``levels[i]`` (lossless where libx264 is there)."""
    from tests.mine.test_snapshots import write_video as write

    write(path, np.repeat(np.asarray(levels, np.uint8)[:, None], 3, axis=1), fps=fps, size=size)


def decoded_frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def tree_digest(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


# ----------------------------------------------------------------------------- a reviewed video pool


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    """A mined, reviewed video pool: the keys of each decision as it stands, what was undone."""
    root = tmp_path_factory.mktemp("video")
    (root / "pool").mkdir()
    for name, first in (("cam1", 40), ("cam 2", 45)):  # distinct greys: no two candidates share a score
        write_video(root / "pool" / f"{name}.mp4", first + 7 * np.arange(20))
    (root / "bright.py").write_text(BRIGHTNESS)
    options = MineOptions(model=f"{root}/bright.py:make", min_score=0.1, nms_ms=50, snapshots=True)
    mine([root / "pool"], root / "mined", options)
    review = ReviewSet.load(root / "mined")
    keys = review.table["key"].tolist()
    assert len(keys) == 40
    with ReviewStore(root / "mined" / "review.sqlite", reviewer="ana") as store:
        for number, key in enumerate(keys[:8]):
            category = "lamp" if number < 3 else ("glare" if number < 5 else None)
            store.decide(key, "negative", category=category, request_id=f"n{number}")
        store.decide(keys[5], "unsure", request_id="u5")  # changed its mind: unsure now
        store.decide(keys[9], "negative", request_id="n9")
        store.undo(request_id="undo9")  # taken back: undecided
        store.decide(keys[10], "positive", request_id="p10")
        store.decide(keys[11], "negative", request_id="n11")
        store.decide(keys[11], "positive", request_id="p11")
        store.decide(keys[12], "negative", request_id="n12")
        store.decide(keys[12], "positive", request_id="p12b")
        store.undo(request_id="undo12")  # back to negative
        store.decide(keys[13], "skip", request_id="s13")
    decided = {
        "negative": [keys[i] for i in (0, 1, 2, 3, 4, 6, 7, 12)],
        "unsure": [keys[5]],
        "positive": [keys[10], keys[11]],
        "skip": [keys[13]],
    }
    return root, review, decided


def by_key(review: ReviewSet) -> pd.DataFrame:
    return review.table.set_index("key")


def test_yolo_backgrounds_are_the_source_frames_with_empty_labels(video, tmp_path):
    root, review, decided = video
    result = export_review(root / "mined", tmp_path / "yolo", "yolo")
    out = tmp_path / "yolo"
    table = by_key(review)
    frames = {item: decoded_frames(root / "pool" / f"{item}.mp4") for item in ("cam1", "cam 2")}
    names = sorted(f"{safe_name(key)}.jpg" for key in decided["negative"])
    assert sorted(p.name for p in (out / "images").iterdir()) == names
    assert sorted(p.name for p in (out / "labels").iterdir()) == [name[:-4] + ".txt" for name in names]
    for key in decided["negative"]:
        row = table.loc[key]
        with Image.open(out / "images" / f"{safe_name(key)}.jpg") as image:
            assert image.format == "JPEG"
            pixels = np.asarray(image.convert("RGB"), dtype=np.float64)
        source = frames[row["item"]][int(row["frame"])].astype(np.float64)
        assert pixels.shape == source.shape
        assert np.abs(pixels - source).mean() < 3  # JPEG's loss, not another frame (frames differ by 7 levels)
        assert (out / "labels" / f"{safe_name(key)}.txt").read_bytes() == b""
    data = yaml.safe_load((out / "data.yaml").read_text())
    assert data["train"] == "images" and data["names"] == []
    assert result.counts == {"negative": {"glare": 2, "lamp": 3, "uncategorised": 3}}
    assert result.files == sorted(tree_digest(out))


def test_coco_lists_exactly_the_backgrounds_and_no_annotations(video, tmp_path):
    root, _, decided = video
    categories = [{"id": 1, "name": "person"}, {"id": 3, "name": "car"}]
    (tmp_path / "train.json").write_text(json.dumps({"images": [], "annotations": [], "categories": categories}))
    export_review(root / "mined", tmp_path / "coco", "coco", states=("negative", "unsure"), into=tmp_path / "train.json")
    document = json.loads((tmp_path / "coco" / "annotations.json").read_text())
    expected = sorted(f"{safe_name(key)}.jpg" for key in decided["negative"] + decided["unsure"])
    assert sorted(image["file_name"] for image in document["images"]) == expected
    assert sorted(p.name for p in (tmp_path / "coco" / "images").iterdir()) == expected
    assert [image["id"] for image in document["images"]] == list(range(1, len(expected) + 1))
    assert {(image["width"], image["height"]) for image in document["images"]} == {(64, 48)}
    assert document["annotations"] == [] and document["categories"] == categories


def test_label_errors_are_exactly_the_positives_whatever_the_states(video, tmp_path):
    root, review, decided = video
    for fmt in ("manifest", "yolo"):
        export_review(root / "mined", tmp_path / fmt, fmt)
        errors = pd.read_csv(tmp_path / fmt / LABEL_ERRORS_FILE)
        assert errors.columns.tolist() == list(REVIEWED_COLUMNS)
        table = by_key(review)
        expected = table.loc[decided["positive"]]
        assert errors[["item", "start_ms"]].values.tolist() == expected[["item", "start_ms"]].values.tolist()
        assert set(errors["state"]) == {"positive"}


def test_manifest_holds_the_chosen_decisions_with_absolute_pool_paths(video, tmp_path):
    root, review, decided = video
    result = export_review(root / "mined", tmp_path / "m", "manifest", states=("negative", "unsure", "skip"))
    reviewed = pd.read_parquet(tmp_path / "m" / REVIEWED_FILE)
    assert reviewed.columns.tolist() == list(REVIEWED_COLUMNS)
    table = by_key(review)
    chosen = decided["negative"] + decided["unsure"] + decided["skip"]
    expected = table.loc[chosen].sort_values("id")  # candidate order: best score first
    assert reviewed[["item", "start_ms", "score"]].values.tolist() == expected[["item", "start_ms", "score"]].values.tolist()
    state_of = {key: state for state, keys in decided.items() for key in keys}
    assert reviewed["state"].tolist() == [state_of[key] for key in expected.index]
    assert all(os.path.isabs(path) and Path(path).is_file() for path in reviewed["path"])
    assert set(reviewed["reviewer"]) == {"ana"}
    assert sorted(result.files) == sorted([
        LABEL_ERRORS_FILE, REVIEWED_FILE, "negative/glare.csv", "negative/lamp.csv", "negative/uncategorised.csv",
        "skip/uncategorised.csv", "unsure/uncategorised.csv",
    ])  # fmt: skip
    lamps = pd.read_csv(tmp_path / "m" / "negative" / "lamp.csv")
    assert lamps["start_ms"].tolist() == table.loc[decided["negative"][:3], "start_ms"].tolist()
    # a category filter, "uncategorised" naming the decisions without one
    only = export_review(root / "mined", tmp_path / "u", "manifest", categories=("uncategorised",))
    assert only.counts == {"negative": {"uncategorised": 3}}


def test_undone_decisions_are_not_exported(video, tmp_path):
    root, review, decided = video
    undone = review.table["key"].iloc[9]
    export_review(root / "mined", tmp_path / "all", "manifest", states=("negative", "positive", "unsure", "skip"))
    reviewed = pd.read_parquet(tmp_path / "all" / REVIEWED_FILE)
    exported = set(zip(reviewed["item"], reviewed["start_ms"]))
    row = review.table.iloc[9]
    assert (row["item"], row["start_ms"]) not in exported
    assert len(reviewed) == sum(len(keys) for keys in decided.values())
    assert all(undone not in keys for keys in decided.values())


def test_the_same_decisions_give_the_same_bytes(video, tmp_path):
    root, _, _ = video
    for fmt in ("manifest", "yolo", "coco"):
        export_review(root / "mined", tmp_path / f"{fmt}1", fmt)
        export_review(root / "mined", tmp_path / f"{fmt}2", fmt)
        assert tree_digest(tmp_path / f"{fmt}1") == tree_digest(tmp_path / f"{fmt}2")


def test_an_existing_out_is_replaced_only_with_overwrite(video, tmp_path):
    root, _, _ = video
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "old.txt").write_text("old")
    with pytest.raises(InputError, match="overwrite") as caught:
        export_review(root / "mined", tmp_path / "o", "manifest")
    assert caught.value.parameter == "out"
    export_review(root / "mined", tmp_path / "o", "manifest", overwrite=True)
    assert not (tmp_path / "o" / "old.txt").exists() and (tmp_path / "o" / REVIEWED_FILE).is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]  # no staging folder left


# ----------------------------------------------------------------------------- merging into a YOLO dataset


def yolo_dataset(root: Path, n_train: int) -> Path:
    """A small YOLO dataset: ``n_train`` labelled train images, two val images, a stale labels cache."""
    rng = np.random.default_rng(0)
    for subset, count in (("train", n_train), ("val", 2)):
        (root / "images" / subset).mkdir(parents=True)
        (root / "labels" / subset).mkdir(parents=True)
        for number in range(count):
            Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(
                root / "images" / subset / f"{subset}{number:02d}.jpg"
            )
            (root / "labels" / subset / f"{subset}{number:02d}.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    (root / "labels" / "train.cache").write_bytes(b"stale")
    (root / "data.yaml").write_text(f"path: {root}\ntrain: images/train\nval: images/val\nnames:\n  0: cone\n")
    return root


@pytest.mark.parametrize(
    ("share", "wanted"),
    [
        (0.1, 2),  # 18 x 0.1 / 0.9 = 2
        (0.25, 6),  # 18 x 0.25 / 0.75 = 6 of the 8 available
        (0.5, 18),  # asks for 18, only 8 there: all 8 and a warning
    ],
)
def test_backgrounds_join_a_copy_of_a_yolo_dataset_at_the_share_asked(video, tmp_path, share, wanted):
    root, review, decided = video
    existing = yolo_dataset(tmp_path / "existing", n_train=18)
    before = tree_digest(existing)
    result = export_review(root / "mined", tmp_path / "merged", "yolo", categories=("lamp", "glare", "uncategorised"),
                           into=existing, background_share=share)  # fmt: skip
    available = len(decided["negative"])
    assert available == 8
    expected_used = min(round(share * 18 / (1 - share)), available)
    assert expected_used == min(wanted, available)
    out = tmp_path / "merged"
    train = sorted(p.name for p in (out / "images" / "train").iterdir())
    backgrounds = [name for name in train if not name.startswith("train")]
    order = by_key(review).loc[decided["negative"]].sort_values("score", ascending=False).index
    assert sorted(backgrounds) == sorted(f"{safe_name(key)}.jpg" for key in order[:expected_used])  # hardest first
    empty = [p.name for p in (out / "labels" / "train").iterdir() if p.stat().st_size == 0]
    assert len(empty) == expected_used and len(train) == 18 + expected_used
    assert math.isclose(expected_used / len(train), result.backgrounds["share"])
    assert result.backgrounds == {"existing": 18, "wanted": wanted, "available": available, "used": expected_used,
                                  "share": expected_used / (18 + expected_used)}  # fmt: skip
    assert (len(result.warnings) == 1) == (wanted > available)
    if wanted > available:
        assert "only 8 were available" in result.warnings[0]
    assert len(list((out / "images" / "val").iterdir())) == 2  # val untouched
    assert not (out / "labels" / "train.cache").exists()  # a stale cache would hide the new labels
    data = yaml.safe_load((out / "data.yaml").read_text())
    assert "path" not in data and data["train"] == "images/train" and data["names"] == {0: "cone"}
    assert tree_digest(existing) == before  # the existing dataset is not changed
    for name in ("train00.jpg", "train17.jpg"):
        assert (out / "images" / "train" / name).read_bytes() == (existing / "images" / "train" / name).read_bytes()


def test_share_of_exactly_the_available_count_warns_nothing(video, tmp_path):
    root, _, decided = video
    existing = yolo_dataset(tmp_path / "existing", n_train=24)  # 24 x 0.25 / 0.75 = 8 = the 8 negatives
    result = export_review(root / "mined", tmp_path / "merged", "yolo", into=existing, background_share=0.25)
    assert result.backgrounds["used"] == result.backgrounds["available"] == len(decided["negative"]) == 8
    assert result.warnings == []
    result = export_review(root / "mined", tmp_path / "more", "yolo", into=existing, background_share=0.28)  # 24 x 0.28 / 0.72 = 9.33: 9
    assert result.backgrounds["wanted"] == 9 and result.backgrounds["used"] == 8 and len(result.warnings) == 1


# ----------------------------------------------------------------------------- every format, one contract


def test_every_format_writes_label_errors_and_lists_its_files(video, sensor, tmp_path):
    root, _, _ = video
    arguments = {
        "manifest": (root / "mined", {}),
        "yolo": (root / "mined", {}),
        "coco": (root / "mined", {}),
        "dataset": (sensor["mined"], {"like": sensor["dataset"]}),
    }
    assert set(arguments) == set(EXPORT_FORMATS), "a new format needs its case here"
    for fmt, (mined, extra) in arguments.items():
        out = tmp_path / fmt
        result = export_review(mined, out, fmt, **extra)
        assert result.files == sorted(tree_digest(out)), fmt
        assert LABEL_ERRORS_FILE in result.files, fmt
        assert result.label_errors == len(pd.read_csv(out / LABEL_ERRORS_FILE)), fmt
        with pytest.raises(InputError, match="overwrite"):
            export_review(mined, out, fmt, **extra)


# ----------------------------------------------------------------------------- logs: back into a dataset


def write_log(path: Path, n: int, bursts=(), seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 0.01, (n, 2))
    for start, level in bursts:
        x[start : start + 50] = level
    pd.DataFrame({"t_ms": np.arange(n) * 10.0, "ax": x[:, 0], "ay": x[:, 1]}).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def sensor(tmp_path_factory):
    """A labelled dataset of two logs, a mined pool of two logs with bursts, and decisions on the candidates."""
    from hardneg import InputOptions, build_dataset

    root = tmp_path_factory.mktemp("sensor")
    (root / "logs").mkdir()
    (root / "pool").mkdir()
    logs = [write_log(root / "logs" / f"s{i}.csv", 3000, seed=i) for i in (1, 2)]
    pd.DataFrame({"recording": ["s1", "s1", "s2"], "t_ms": [5000.0, 15000.0, 10000.0]}).to_csv(root / "events.csv",
                                                                                                 index=False)  # fmt: skip
    dataset = root / "dataset"
    build_dataset(logs, dataset, inputs=InputOptions(events=root / "events.csv"))
    write_log(root / "pool" / "p1.csv", 2000, [(300, 1.0), (800, 0.8), (1400, 0.6)], seed=3)
    write_log(root / "pool" / "p2.csv", 2000, [(500, 0.9), (1200, 0.7)], seed=4)
    (root / "loud.py").write_text(LOUDNESS)
    options = MineOptions(model=f"{root}/loud.py:make", window_ms=500, min_score=0.3)
    mine([root / "pool"], root / "mined", options)
    review = ReviewSet.load(root / "mined")
    keys = review.table["key"].tolist()
    assert len(keys) >= 5, keys
    with ReviewStore(root / "mined" / "review.sqlite", reviewer="bo") as store:
        store.decide(keys[0], "negative", category="bump", request_id="1")
        store.decide(keys[1], "positive", request_id="2")
        store.decide(keys[2], "negative", request_id="3")
        store.decide(keys[3], "unsure", request_id="4")
        store.decide(keys[4], "negative", request_id="5")
    negatives = review.table.iloc[[0, 2, 4]]
    return {"root": root, "dataset": dataset, "mined": root / "mined", "negatives": negatives}


def direct_cut(path: Path, start_ms: float, n: int, channels) -> np.ndarray:
    log = pd.read_csv(path)
    start = round(start_ms / 10.0)
    return log[list(channels)].to_numpy(np.float32)[start : start + n].T


def test_sample_like_adds_exactly_the_confirmed_negatives_from_a_manifest(sensor, tmp_path):
    from hardneg import Dataset

    export_review(sensor["mined"], tmp_path / "reviewed", "manifest", states=("negative", "unsure"))
    done = run_hardneg("sample", "--like", sensor["dataset"], "--hard-negatives", tmp_path / "reviewed",
                       "--out", tmp_path / "hard", "-q")  # fmt: skip
    assert done.returncode == 0, done.stderr
    dataset = Dataset.load(tmp_path / "hard")
    hard = dataset.index[dataset.index["kind"] == "hard"]
    negatives = sensor["negatives"]
    assert sorted(zip(hard["recording"], hard["start_ms"])) == sorted(zip(negatives["item"], negatives["start_ms"]))
    channels = dataset.meta["channels"]
    for row in hard.itertuples():
        expected = direct_cut(sensor["root"] / "pool" / f"{row.recording}.csv", row.start_ms, 50, channels)
        np.testing.assert_allclose(dataset.windows[row.window_id], expected, rtol=0, atol=1e-6)
    original = Dataset.load(sensor["dataset"])
    assert (original.index["kind"] == "hard").sum() == 0
    assert len(dataset.index) == len(original.index) + len(negatives)


def test_dataset_format_is_sample_like_with_the_manifest_and_rebuilds_from_its_recipe(sensor, tmp_path):
    from hardneg import Dataset, recipe_of

    export_review(sensor["mined"], tmp_path / "reviewed", "manifest")
    done = run_hardneg("sample", "--like", sensor["dataset"], "--hard-negatives", tmp_path / "reviewed",
                       "--out", tmp_path / "by-sample", "-q")  # fmt: skip
    assert done.returncode == 0, done.stderr
    export_review(sensor["mined"], tmp_path / "by-export", "dataset", like=sensor["dataset"])
    by_sample, by_export = Dataset.load(tmp_path / "by-sample"), Dataset.load(tmp_path / "by-export")
    assert np.array_equal(np.asarray(by_sample.windows), np.asarray(by_export.windows))
    pd.testing.assert_frame_equal(by_sample.index, by_export.index)
    manifest = tmp_path / "by-export" / REVIEWED_FILE
    assert by_export.meta["parameters"]["hard_negatives"] == os.path.abspath(manifest)
    assert manifest.is_file() and (tmp_path / "by-export" / LABEL_ERRORS_FILE).is_file()
    again = recipe_of(tmp_path / "by-export").build(tmp_path / "again")
    assert np.array_equal(np.asarray(again.windows), np.asarray(by_export.windows))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again", "by-export", "by-sample", "reviewed"]


def test_yolo_refuses_log_candidates(sensor, tmp_path):
    with pytest.raises(InputError, match="manifest or dataset") as caught:
        export_review(sensor["mined"], tmp_path / "y", "yolo")
    assert caught.value.parameter == "fmt"
    assert not (tmp_path / "y").exists()
