"""Frame preparation for vision models: FramePrep against per-image loops, and video/image pools resized by it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hardneg.errors import InputError
from hardneg.score import IMAGENET_MEAN, IMAGENET_STD, BatchBuffers, FramePrep, PoolItem, check_frame_prep, iter_windows
from tests.helpers.onnx_models import channel_mean_onnx
from tests.score.test_pools import write_imu

av = pytest.importorskip("av")
Image = pytest.importorskip("PIL.Image")

try:  # onnx and onnxruntime are optional: without them only the model tests are skipped
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper
except ImportError:
    onnx = ort = TensorProto = helper = None

needs_onnx = pytest.mark.skipif(ort is None, reason="needs onnx and onnxruntime")

#: the colour model's weights: sigmoid(R, G, B channel means . WEIGHTS + BIAS)
WEIGHTS = (0.5, -0.3, 0.8)
BIAS = 0.1


def colour_onnx(path: Path) -> str:
    """An NCHW image model: float32 (N, 3, 224, 224) -> (N, 1) sigmoid of a weighted sum of the channel means."""
    return channel_mean_onnx(path, WEIGHTS, BIAS, name="colour")


def brute_prepare(image: np.ndarray, layout: str, normalize: str, dtype: str) -> np.ndarray:
    """One (H, W, 3) uint8 image prepared pixel by pixel in float64, then cast: the reference for FramePrep.apply."""
    x = image.astype(np.float64)
    if normalize in ("unit", "imagenet"):
        x = x / 255.0
    if normalize == "imagenet":
        x = (x - np.array(IMAGENET_MEAN)) / np.array(IMAGENET_STD)
    if layout == "nchw":
        x = np.stack([x[:, :, c] for c in range(3)])
    return x.astype(dtype)


def decode_all(path: Path, size=None) -> np.ndarray:
    """Every frame of a video, each converted (and resized) by its own PyAV call."""
    with av.open(str(path)) as container:
        frames = []
        for frame in container.decode(video=0):
            if size is None:
                frames.append(frame.to_ndarray(format="rgb24"))
            else:
                frames.append(
                    frame.reformat(width=size[0], height=size[1], format="rgb24", interpolation="BILINEAR").to_ndarray()
                )
    return np.stack(frames)


def random_video(path: Path, n: int = 7, size=(64, 48), seed: int = 0) -> Path:
    """A video of noise, so resizing and colour conversion change every frame differently."""
    width, height = size
    rng = np.random.default_rng(seed)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height = width, height
        for _ in range(n):
            image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def collect(batches):
    arrays, tables = zip(*batches)
    return np.concatenate(arrays), tables


# ----------------------------------------------------------------------------- FramePrep


VALID = [
    ("nhwc", "none", "uint8"),
    ("nchw", "none", "uint8"),
    ("nhwc", "none", "float32"),
    ("nchw", "none", "float32"),
    ("nhwc", "unit", "float32"),
    ("nchw", "unit", "float32"),
    ("nhwc", "imagenet", "float32"),
    ("nchw", "imagenet", "float32"),
]


@pytest.mark.parametrize(("layout", "normalize", "dtype"), VALID)
def test_apply_matches_a_per_image_loop(layout, normalize, dtype):
    batch = np.random.default_rng(1).integers(0, 256, (5, 7, 9, 3), dtype=np.uint8)
    prepared = FramePrep(layout=layout, normalize=normalize, dtype=dtype).apply(batch)
    expected = np.stack([brute_prepare(image, layout, normalize, dtype) for image in batch])
    assert prepared.dtype == np.dtype(dtype) and prepared.flags.c_contiguous
    assert prepared.shape == ((5, 3, 7, 9) if layout == "nchw" else (5, 7, 9, 3))
    np.testing.assert_allclose(prepared, expected, rtol=1e-6, atol=1e-6)
    if dtype == "uint8":
        np.testing.assert_array_equal(prepared, expected)


def test_imagenet_values_and_layout_transpose_by_hand():
    batch = np.zeros((1, 2, 3, 3), dtype=np.uint8)
    batch[0, 1, 2] = (255, 128, 0)  # one pixel: row 1, column 2
    x = FramePrep(layout="nchw", normalize="imagenet", dtype="float32").apply(batch)
    expected = [(1.0 - 0.485) / 0.229, (128 / 255 - 0.456) / 0.224, (0.0 - 0.406) / 0.225]
    np.testing.assert_allclose(x[0, :, 1, 2], expected, rtol=1e-6)
    np.testing.assert_allclose(x[0, :, 0, 0], [-0.485 / 0.229, -0.456 / 0.224, -0.406 / 0.225], rtol=1e-6)


def test_default_changes_nothing():
    batch = np.zeros((2, 4, 4, 3), dtype=np.uint8)
    assert FramePrep().apply(batch) is batch
    assert FramePrep().is_default and not FramePrep().resizes and FramePrep().given() == []
    assert FramePrep(resize=(4, 4)).apply(batch) is batch  # resizing is the reader's job


@pytest.mark.parametrize(
    ("width", "height", "short", "expected"),
    [
        (640, 360, 224, (398, 224)),  # 398.2 rounds down
        (360, 640, 224, (224, 398)),
        (300, 200, 100, (150, 100)),
        (201, 402, 100, (100, 200)),
        (224, 224, 224, (224, 224)),
        (225, 150, 100, (150, 100)),
        (3, 2, 1, (2, 1)),  # 1.5 rounds half up
        (1000, 1, 5, (5000, 5)),
    ],
)
def test_resize_short_keeps_the_aspect(width, height, short, expected):
    got = FramePrep(resize_short=short).size(width, height)
    assert got == expected
    assert min(got) == short
    assert abs(max(got) - max(width, height) * short / min(width, height)) <= 0.5


def test_resize_takes_wxh_text_or_a_pair():
    assert FramePrep(resize="224x160").resize == (224, 160)
    assert FramePrep(resize=" 32 X 24 ").resize == (32, 24)
    assert FramePrep(resize=[224, 160]).size(1920, 1080) == (224, 160)
    assert FramePrep(resize="224x160").options() == {"resize": "224x160"}


@pytest.mark.parametrize(
    ("options", "parameter", "text"),
    [
        ({"resize": "224"}, "resize", "resize must be WIDTHxHEIGHT"),
        ({"resize": "0x224"}, "resize", "resize must be WIDTHxHEIGHT"),
        ({"resize": (224, 22.5)}, "resize", "resize must be WIDTHxHEIGHT"),
        ({"resize_short": 0}, "resize_short", "resize_short must be"),
        ({"resize": "224x224", "resize_short": 224}, "resize", "resize_short 224 exclude each other"),
        ({"layout": "chw"}, "layout", "layout must be one of"),
        ({"normalize": "zscore", "dtype": "float32"}, "normalize", "normalize must be one of"),
        ({"dtype": "float16"}, "dtype", "dtype must be one of"),
        ({"normalize": "unit"}, "dtype", "dtype uint8 cannot hold normalize='unit'"),
        ({"normalize": "imagenet", "dtype": "uint8"}, "dtype", "dtype uint8 cannot hold normalize='imagenet'"),
    ],
)
def test_impossible_options_name_their_parameter(options, parameter, text):
    with pytest.raises(InputError, match=text) as raised:
        FramePrep(**options)
    assert raised.value.parameter == parameter


# ----------------------------------------------------------------------------- pools


@pytest.fixture(scope="module")
def noise_video(tmp_path_factory) -> Path:
    return random_video(tmp_path_factory.mktemp("video") / "cam1.mp4")


def test_video_resized_by_pyav_and_prepared_match_frame_by_frame(noise_video):
    prep = FramePrep(resize=(40, 30), layout="nchw", normalize="imagenet", dtype="float32")
    item = PoolItem("cam1", "cam1", noise_video, "video")
    batch, tables = collect(iter_windows(item, batch_size=3, stride=2, prep=prep))
    frames = decode_all(noise_video, size=(40, 30))[::2]
    expected = np.stack([brute_prepare(image, "nchw", "imagenet", "float32") for image in frames])
    assert batch.shape == (4, 3, 30, 40) and [len(t) for t in tables] == [3, 1]
    np.testing.assert_allclose(batch, expected, rtol=1e-6, atol=1e-6)


def test_video_resize_short_keeps_the_aspect(noise_video):
    item = PoolItem("cam1", "cam1", noise_video, "video")
    batch, _ = collect(iter_windows(item, batch_size=8, prep=FramePrep(resize_short=24)))
    assert batch.shape == (7, 24, 32, 3) and batch.dtype == np.uint8
    np.testing.assert_array_equal(batch, decode_all(noise_video, size=(32, 24)))


def test_a_frame_already_that_size_is_unchanged_by_resize(noise_video, tmp_path):
    item = PoolItem("cam1", "cam1", noise_video, "video")
    as_read, _ = collect(iter_windows(item, batch_size=4))
    resized, _ = collect(iter_windows(item, batch_size=4, prep=FramePrep(resize=(64, 48))))
    short, _ = collect(iter_windows(item, batch_size=4, prep=FramePrep(resize_short=48)))
    np.testing.assert_array_equal(resized, as_read)
    np.testing.assert_array_equal(short, as_read)
    folder = tmp_path / "imgs"
    folder.mkdir()
    Image.fromarray(as_read[0]).save(folder / "000.png")
    image_item = PoolItem("imgs", "imgs", folder, "image")
    np.testing.assert_array_equal(collect(iter_windows(image_item, prep=FramePrep(resize=(64, 48))))[0], as_read[:1])


def test_image_folder_resized_by_pillow_into_one_batch(tmp_path):
    folder = tmp_path / "cam3"
    folder.mkdir()
    rng = np.random.default_rng(2)
    sizes = [(40, 30), (25, 50), (40, 30)]  # mixed sizes: one batch once resized
    for index, (width, height) in enumerate(sizes):
        Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8)).save(folder / f"{index:03d}.png")
    prep = FramePrep(resize=(16, 12), layout="nchw", normalize="unit", dtype="float32")
    batches = list(iter_windows(PoolItem("cam3", "cam3", folder, "image"), batch_size=8, prep=prep))
    assert len(batches) == 1
    expected = []
    for index in range(3):
        with Image.open(folder / f"{index:03d}.png") as image:
            resized = np.asarray(image.convert("RGB").resize((16, 12), Image.Resampling.BILINEAR))
        expected.append(brute_prepare(resized, "nchw", "unit", "float32"))
    np.testing.assert_allclose(batches[0][0], np.stack(expected), rtol=1e-6, atol=1e-6)


def test_prepared_batches_give_their_buffers_back(noise_video):
    buffers = BatchBuffers(1)  # one buffer: a reader that kept it would block on the second batch
    item = PoolItem("cam1", "cam1", noise_video, "video")
    prep = FramePrep(layout="nchw", dtype="float32")
    batches = list(iter_windows(item, batch_size=2, buffers=buffers, prep=prep, raw_spans=True))
    assert [len(batch) for batch, _ in batches] == [2, 2, 2, 1]
    np.testing.assert_array_equal(
        np.concatenate([b for b, _ in batches]), decode_all(noise_video).transpose(0, 3, 1, 2)
    )


def test_frame_options_refused_for_sensor_and_audio_items(tmp_path):
    write_imu(tmp_path / "s01.csv", 300)
    sensor = PoolItem("s01", "s01", tmp_path / "s01.csv", "sensor")
    with pytest.raises(InputError, match=r"^layout, normalize, dtype apply to video and image pools only; .*s01\.csv"):
        list(iter_windows(sensor, window_ms=1000, prep=FramePrep(layout="nchw", normalize="unit", dtype="float32")))
    with pytest.raises(InputError, match=r"^resize_short applies to video and image pools only") as raised:
        check_frame_prep([sensor], FramePrep(resize_short=5))
    assert raised.value.parameter == "resize_short"
    check_frame_prep([sensor], FramePrep())
    assert len(list(iter_windows(sensor, window_ms=1000, prep=FramePrep()))) == 1


@needs_onnx
def test_frames_that_cannot_fit_the_model_are_refused_before_reading(tmp_path, noise_video):
    from hardneg.score import load_scorer

    scorer = load_scorer(colour_onnx(tmp_path / "colour.onnx"))
    video = [PoolItem("cam1", "cam1", Path("not/read.mp4"), "video")]
    with pytest.raises(InputError, match=r"\(N, H, W, 3\); choose --resize/--layout/--normalize/--dtype") as raised:
        check_frame_prep(video, FramePrep(), scorer)
    assert raised.value.parameter == "model"
    with pytest.raises(InputError, match=r"takes shape \(\?, 3, 224, 224\) .* shape \(N, 3, 200, 224\)"):
        check_frame_prep(video, FramePrep(resize=(224, 200), layout="nchw", dtype="float32"), scorer)
    check_frame_prep(video, FramePrep(resize=(224, 224), layout="nchw", dtype="float32"), scorer)
    check_frame_prep(video, FramePrep(resize_short=224, layout="nchw", dtype="float32"), scorer)  # size unknown yet
    # scoring a wrong batch anyway says the same
    with pytest.raises(InputError, match="choose --resize/--layout/--normalize/--dtype"):
        scorer(np.zeros((2, 48, 64, 3), np.uint8))
