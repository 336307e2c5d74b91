"""README blocks on audio and video: four short WAV clips of two recorders, and a noise video with an NCHW model."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tests.readme._blocks import blocks_run_by
from tests.readme._worlds import (
    AUDIO_RATE,
    VISION_BIAS,
    VISION_WEIGHTS,
    audio_world,
    block_env,
    run_shell_block,
    vision_world,
)

HERE = "tests/readme/test_media_blocks.py"


def test_audio_command(tmp_path):
    pytest.importorskip("soundfile", reason="needs the audio extra (soundfile)")
    world = audio_world(tmp_path)
    (block,) = blocks_run_by(f"{HERE}::test_audio_command")
    run_shell_block(block.text, tmp_path, block_env(tmp_path))
    index = pd.read_parquet(tmp_path / "calls" / "index.parquet")
    meta = json.loads((tmp_path / "calls" / "meta.json").read_text())
    assert meta["channels"] == ["ch0"]
    assert np.load(tmp_path / "calls" / "windows.npy", mmap_mode="r").shape == (len(index), 1, AUDIO_RATE)
    pos = index[index["kind"] == "pos"].sort_values(["recording", "event_t_ms"])
    expected = sorted(world["calls"])
    assert list(zip(pos["recording"], pos["event_t_ms"])) == expected
    # --align center --window-ms 1000: each call in the middle of its window
    assert np.allclose(pos["start_ms"], pos["event_t_ms"] - 500) and np.allclose(pos["end_ms"], pos["event_t_ms"] + 500)
    assert (index["group"] == index["recording"].map(world["groups"])).all()  # --groups recorders.csv


def decode(path):
    """Every frame, resized by its own PyAV call as --resize 224x224 promises (bilinear)."""
    import av

    with av.open(str(path)) as container:
        return [
            frame.reformat(width=224, height=224, format="rgb24", interpolation="BILINEAR").to_ndarray()
            for frame in container.decode(video=0)
        ]


def expected_score(frame) -> float:
    """The model's score, by hand: ImageNet scaling of the channel means (what --normalize imagenet does)."""
    means = frame.reshape(-1, 3).mean(axis=0) / 255.0
    scaled = (means - np.array([0.485, 0.456, 0.406])) / np.array([0.229, 0.224, 0.225])
    return float(1 / (1 + np.exp(-(scaled @ np.array(VISION_WEIGHTS) + VISION_BIAS))))


def test_vision_model_command(tmp_path):
    for module in ("av", "PIL", "onnx", "onnxruntime"):
        pytest.importorskip(module, reason="needs the video and onnx extras, and onnx")
    vision_world(tmp_path)
    decoded = decode(tmp_path / "cams" / "cam1.mp4")
    (block,) = blocks_run_by(f"{HERE}::test_vision_model_command")
    run_shell_block(block.text, tmp_path, block_env(tmp_path))
    out = tmp_path / "mined-cams"
    options = json.loads((out / "mine.json").read_text())
    flat = json.dumps(options)
    assert '"224x224"' in flat and '"nchw"' in flat and '"imagenet"' in flat and '"float32"' in flat
    candidates = pd.read_parquet(out / "candidates.parquet")
    assert len(candidates) > 0 and set(candidates["item"]) == {"cam1"}
    # the model gives sigmoid(channel means . w + b) of each frame resized, scaled and normalised as the flags say
    for frame, score in zip(candidates["frame"], candidates["score"]):
        assert score == pytest.approx(expected_score(decoded[frame]), abs=1e-4)
    items = pd.read_parquet(out / "items.parquet")
    assert list(items["item"]) == ["cam1"]


def test_review_commands(tmp_path):
    """Section 9: review a mined video pool (the page driven through its API), then every export line as written."""
    import urllib.request

    import yaml
    from PIL import Image

    from hardneg.demo import run_demo
    from hardneg.review import ReviewSet, ReviewStore
    from tests.review._fixtures import ReviewServer, video_mined

    pytest.importorskip("fastapi", reason="needs the review extra")
    video_mined(tmp_path / "cams").rename(tmp_path / "mined-cams")
    yolo = tmp_path / "yolo-dataset"
    for sub in ("images/train", "labels/train"):
        (yolo / sub).mkdir(parents=True)
    for i in range(9):
        Image.fromarray(np.full((48, 64, 3), 30 * i, np.uint8)).save(yolo / "images/train" / f"cone{i}.jpg")
        (yolo / "labels/train" / f"cone{i}.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    (yolo / "data.yaml").write_text("path: .\ntrain: images/train\nval: images/train\nnames: {0: cone}\n")
    demo = run_demo(tmp_path / "demo", seed=0, mine=True)
    (tmp_path / "shots").symlink_to(demo.dataset.path)
    (tmp_path / "mined").symlink_to(demo.root / "mined")
    sensor = ReviewSet.load(tmp_path / "mined").table
    with ReviewStore(tmp_path / "mined" / "review.sqlite", reviewer="ana") as store:
        store.decide_many(sensor["key"].iloc[:3].tolist(), "negative", request_id="n")
        store.decide(sensor["key"].iloc[3], "positive", request_id="p")

    (block,) = blocks_run_by(f"{HERE}::test_review_commands")
    first, rest = block.text.split("\n", 1)
    assert first.startswith("hardneg review mined-cams ")
    server = ReviewServer(tmp_path / "mined-cams", *first.split()[3:])
    try:
        page = urllib.request.urlopen(server.url + "/").read().decode()
        token = page.split('name="hardneg-token" content="', 1)[1].split('"', 1)[0]
        for i, (state, category) in enumerate([("negative", "orange_trucks")] * 4 + [("negative", "other")] * 2
                                              + [("positive", None)]):
            body = json.dumps({"candidate": i, "state": state, "category": category, "request_id": f"r{i}"}).encode()
            request = urllib.request.Request(server.url + "/api/decisions", body, method="POST",
                                             headers={"X-Hardneg-Token": token, "Content-Type": "application/json"})
            assert json.loads(urllib.request.urlopen(request).read())["state"] == state
    finally:
        stopped = server.stop()
    assert stopped.returncode == 0 and "open http://localhost:8765/" not in stopped.stdout  # the port given
    run_shell_block(rest, tmp_path, block_env(tmp_path))

    merged = tmp_path / "yolo-with-backgrounds"
    train = sorted(p.stem for p in (merged / "images/train").glob("*.jpg"))
    backgrounds = [name for name in train if not name.startswith("cone")]
    assert len(train) == 10 and len(backgrounds) == 1  # 1 of 10 = --background-share 0.1, the hardest first
    assert (merged / "labels/train" / f"{backgrounds[0]}.txt").read_bytes() == b""
    assert yaml.safe_load((merged / "data.yaml").read_text())["names"] in ({0: "cone"}, ["cone"])
    coco = json.loads((tmp_path / "coco-backgrounds" / "annotations.json").read_text())
    assert len(coco["images"]) == 6 and coco["annotations"] == []
    assert len(pd.read_csv(tmp_path / "coco-backgrounds" / "label_errors.csv")) == 1
    reviewed = pd.read_parquet(tmp_path / "reviewed" / "reviewed.parquet")
    assert sorted(reviewed["state"]) == ["negative"] * 3
    index = pd.read_parquet(tmp_path / "shots-reviewed" / "index.parquet")
    hard = index[index["kind"] == "hard"]
    assert sorted(zip(hard["recording"], hard["start_ms"])) == sorted(zip(sensor["item"].iloc[:3],
                                                                          sensor["start_ms"].iloc[:3]))
