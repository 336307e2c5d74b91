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
