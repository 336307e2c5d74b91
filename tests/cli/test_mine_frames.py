"""``hardneg mine`` with an off-the-shelf NCHW vision model: --resize/--layout/--normalize/--dtype end to end."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.cli.test_bad_input import assert_refused, squash
from tests.score.test_frames import brute_prepare, colour_onnx, decode_all, random_video
from tests.score.test_pools import write_imu

av = pytest.importorskip("av")
Image = pytest.importorskip("PIL.Image")
ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

VISION = ["--resize", "224x224", "--layout", "nchw", "--normalize", "imagenet", "--dtype", "float32"]


@pytest.fixture(scope="module")
def vision_pool(tmp_path_factory):
    """A video of noise, a folder of images of two sizes, and the NCHW colour model."""
    root = tmp_path_factory.mktemp("vision")
    pool = root / "pool"
    pool.mkdir()
    random_video(pool / "cam1.mp4", n=6, size=(64, 48), seed=4)
    folder = pool / "cam2"
    folder.mkdir()
    rng = np.random.default_rng(5)
    for index, (width, height) in enumerate([(80, 60), (30, 40), (224, 224)]):
        image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        Image.fromarray(image).save(folder / f"{index:03d}.png")
    return pool, colour_onnx(root / "colour.onnx")


def independent_scores(pool, model) -> dict[str, np.ndarray]:
    """Frames decoded, resized and normalised here, one by one, and scored by onnxruntime directly."""
    video = decode_all(pool / "cam1.mp4", size=(224, 224))
    images = []
    for path in sorted((pool / "cam2").glob("*.png")):
        with Image.open(path) as image:
            rgb = image.convert("RGB")
            if rgb.size != (224, 224):
                rgb = rgb.resize((224, 224), Image.Resampling.BILINEAR)
            images.append(np.asarray(rgb))
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    scores = {}
    for item, frames in (("cam1", video), ("cam2", images)):
        batch = np.stack([brute_prepare(frame, "nchw", "imagenet", "float32") for frame in frames])
        scores[item] = session.run(None, {"x": batch})[0].reshape(-1)
    return scores


def test_an_nchw_imagenet_model_mines_video_and_images(cli, vision_pool, tmp_path):
    pool, model = vision_pool
    out = tmp_path / "mined"
    result = cli("mine", pool, "--model", model, *VISION, "--min-score", "0", "--nms-ms", "0", "--out", out)
    assert result.returncode == 0, result.stderr
    assert "0 failed" in squash(result.stdout)
    candidates = pd.read_parquet(out / "candidates.parquet")
    expected = independent_scores(pool, model)
    for item, scores in expected.items():
        kept = candidates[candidates["item"] == item].sort_values("frame")
        assert kept["frame"].tolist() == list(range(len(scores)))
        np.testing.assert_allclose(kept["score"].to_numpy(), scores, rtol=0, atol=1e-6)
    assert len(np.unique(np.round(expected["cam1"], 6))) > 1  # the frames differ, so the scores are a real check


def test_the_same_model_without_frame_options_is_refused_with_the_flags_to_use(cli, vision_pool, tmp_path):
    pool, model = vision_pool
    out = tmp_path / "mined"
    result = cli("mine", pool, "--model", model, "--out", out)
    assert_refused(result, "takes shape (?, 3, 224, 224)", "(N, H, W, 3)", "--resize/--layout/--normalize/--dtype")
    assert not out.exists()


@pytest.mark.parametrize(
    ("flags", "needles"),
    [
        (["--resize", "224x224", "--resize-short", "224"], ["--resize 224x224", "--resize-short 224", "exclude"]),
        (["--normalize", "imagenet"], ["--dtype uint8 cannot hold normalize='imagenet'", "float32"]),
        (["--normalize", "unit", "--dtype", "uint8"], ["--dtype uint8 cannot hold normalize='unit'"]),
        (["--resize", "224"], ["--resize must be WIDTHxHEIGHT", "'224'"]),
        (["--resize-short", "0"], ["--resize-short must be"]),
        (["--layout", "chw"], ["--layout"]),
    ],
)
def test_impossible_frame_options_exit_2_with_one_error_line(cli, vision_pool, tmp_path, flags, needles):
    pool, model = vision_pool
    out = tmp_path / "mined"
    assert_refused(cli("mine", pool, "--model", model, *flags, "--out", out), *needles)
    assert not out.exists()


def test_frame_options_for_a_sensor_pool_exit_2(cli, vision_pool, tmp_path):
    _, model = vision_pool
    pool = tmp_path / "logs"
    pool.mkdir()
    write_imu(pool / "s01.csv", 300)
    result = cli("mine", pool, "--model", model, "--layout", "nchw", "--dtype", "float32", "--out", tmp_path / "o")
    assert_refused(result, "--layout, dtype apply to video and image pools only", "s01.csv is a sensor item")


def test_help_shows_the_scorer_contract_and_the_frame_options(cli):
    result = cli("mine", "--help", columns=200)
    text = squash(result.stdout)
    assert result.returncode == 0
    for needle in ("--resize-short", "<nhwc | nchw>", "<none | unit | imagenet>", "<uint8 | float32>",
                   "A scorer is called with a batch of N windows", "shape (N,) or (N, 1)",
                   "(N, channels, samples) float32", "(N, H, W, 3) uint8 RGB"):  # fmt: skip
        assert needle in text, needle
