"""Frame options of a mining run: stamped in mine.json only when given, and a resumed run must keep them."""

import json

import numpy as np
import pytest

from hardneg.errors import InputError
from hardneg.mine import MineOptions, mine
from hardneg.score import FramePrep
from tests.score.test_pools import write_imu, write_video

av = pytest.importorskip("av")

SCORER = """
import numpy as np

def make():
    # the mean of an NCHW float batch, scaled into [0, 1]: it fails on anything else
    def score(batch):
        assert batch.dtype == np.float32 and batch.shape[1] == 3, (batch.dtype, batch.shape)
        return np.clip(batch.mean(axis=(1, 2, 3)) / 4 + 0.5, 0, 1)
    return score
"""

FRAMES = {"resize": "32x24", "layout": "nchw", "normalize": "imagenet", "dtype": "float32"}


def test_default_options_stamp_what_they_always_did():
    fingerprint = MineOptions(model="m.onnx").fingerprint()
    assert not {"resize", "resize_short", "layout", "normalize", "dtype"} & set(fingerprint)
    given = MineOptions(model="m.onnx", resize="32X24", layout="nchw", dtype="float32").fingerprint()
    assert {k: given[k] for k in ("resize", "layout", "dtype")} == {"resize": "32x24", "layout": "nchw",
                                                                    "dtype": "float32"}  # fmt: skip
    assert "normalize" not in given and "resize_short" not in given
    assert MineOptions(model="m.onnx", **FRAMES).frame_prep() == FramePrep(
        (32, 24), None, "nchw", "imagenet", "float32"
    )


def test_impossible_frame_options_are_refused_by_validate():
    with pytest.raises(InputError, match="dtype uint8 cannot hold") as raised:
        MineOptions(model="m.onnx", normalize="unit").validate()
    assert raised.value.parameter == "dtype"


@pytest.fixture
def video_pool(tmp_path):
    pool = tmp_path / "pool"
    pool.mkdir()
    write_video(pool / "cam1.mp4", np.random.default_rng(0).integers(0, 256, (9, 3)).astype(np.uint8))
    (tmp_path / "mean.py").write_text(SCORER)
    return pool, f"{tmp_path / 'mean.py'}:make"


def test_a_run_with_frame_options_stamps_them_and_refuses_other_ones_on_resume(video_pool, tmp_path):
    pool, model = video_pool
    out = tmp_path / "out"
    result = mine([pool], out, MineOptions(model=model, min_score=0.0, **FRAMES))
    assert len(result.errors) == 0 and result.stats["n_windows"] == 9
    stamp = json.loads((out / "mine.json").read_text())
    assert {name: stamp[name] for name in FRAMES} == FRAMES
    again = mine([pool], out, MineOptions(model=model, min_score=0.0, **FRAMES), resume=True)
    assert len(again.candidates) == len(result.candidates)
    for changed in ({**FRAMES, "normalize": "unit"}, {**FRAMES, "resize": "64x48"}, {}):
        with pytest.raises(InputError, match="other options") as raised:
            mine([pool], out, MineOptions(model=model, min_score=0.0, **changed), resume=True)
        assert raised.value.parameter == "resume"


def test_frame_options_for_a_pool_with_sensor_logs_are_refused_before_anything_is_written(video_pool, tmp_path):
    pool, model = video_pool
    write_imu(pool / "s01.csv", 300)
    out = tmp_path / "out"
    with pytest.raises(InputError, match=r"^layout applies to video and image pools only; .*s01\.csv is a sensor"):
        mine([pool], out, MineOptions(model=model, layout="nchw"))
    assert not out.exists()
