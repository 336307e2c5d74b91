"""Review media against independent reads: PyAV frames, soundfile samples, pandas rows; paths that must not be served."""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hardneg.errors import InputError
from hardneg.mine import write_candidates, write_items, write_snapshots
from hardneg.review import Filters, ReviewMedia, ReviewSet, channel_groups
from hardneg.review._media_render import SPECTROGRAM_SIZE
from hardneg.score import PoolItem, iter_windows

sf = pytest.importorskip("soundfile")
av = pytest.importorskip("av")
Image = pytest.importorskip("PIL.Image")


# ----------------------------------------------------------------------------- builders


def mined_folder(tmp_path: Path, candidates: pd.DataFrame, paths: dict[str, Path], **options) -> ReviewSet:
    out = tmp_path / "mined"
    out.mkdir(exist_ok=True)
    candidates = candidates.assign(group=candidates["item"])
    write_candidates(candidates, out)
    items = pd.DataFrame(
        {
            "item": list(paths),
            "group": list(paths),
            "n_windows": 1,
            "max_score": 0.9,
            "mean_score": 0.5,
            "topk_mean": 0.9,
            "argmax_ms": 0.0,
            "path": [str(p) for p in paths.values()],
        }
    )
    write_items(items, out)
    (out / "mine.json").write_text(json.dumps({"tiers": [0.5], "time_col": "t_ms", "channels": None, **options}))
    return ReviewSet.load(out)


def ids_by_key(review: ReviewSet) -> dict[str, int]:
    return dict(zip(review.table["key"], review.table["id"], strict=True))


def textured(i: int, size=(64, 48)) -> np.ndarray:
    """Smooth frames that differ from one another (a JPEG keeps them apart, a solid colour would not z-score)."""
    width, height = size
    y, x = np.mgrid[0:height, 0:width]
    phase = 0.7 * i
    red = 127 + 100 * np.sin(x / (8 + i % 5) + phase)
    green = 127 + 100 * np.cos(y / (6 + i % 3) - phase)
    blue = 127 + 100 * np.sin((x + y) / 12 + 2 * phase)
    return np.stack([red, green, blue], axis=-1).astype(np.uint8)


def write_video(path: Path, n: int, fps: int = 10) -> None:
    with av.open(str(path), mode="w") as container:
        codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.options = {"g": "12", **({"crf": "0", "preset": "ultrafast"} if codec == "libx264" else {})}
        for i in range(n):
            for packet in stream.encode(av.VideoFrame.from_ndarray(textured(i), format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def decoded_frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def jpeg_pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        assert image.format == "JPEG"
        return np.asarray(image.convert("RGB"), dtype=np.float64)


# ----------------------------------------------------------------------------- video


@pytest.fixture
def video(tmp_path):
    path = tmp_path / "cam 1.mp4"
    write_video(path, 30)
    item = PoolItem("cam 1", "cam 1", path, "video")
    table = pd.concat([t for _, t in iter_windows(item, batch_size=8)], ignore_index=True)
    picked = table[table["frame"].isin([0, 14, 29])].reset_index(drop=True)
    candidates = picked.assign(score=[0.9, 0.8, 0.7])[["item", "start_ms", "end_ms", "score", "frame"]]
    return path, item, candidates


def test_video_frames_before_and_after_are_the_decoded_neighbours(tmp_path, video):
    path, _, candidates = video
    review = mined_folder(tmp_path, candidates, {"cam 1": path}, window_ms=1000)
    media, ids, frames = ReviewMedia(review), ids_by_key(review), decoded_frames(path)
    first, middle, last = (ids[f"cam 1@{ms:g}#{f}"] for ms, f in ((0, 0), (1400, 14), (2900, 29)))
    assert set(media.roles(first)) == {"image", "after"}  # no frame before the first
    assert set(media.roles(middle)) == {"image", "before", "after"}
    for role, number in (("before", 13), ("image", 14), ("after", 15)):
        pixels = jpeg_pixels(media.file(middle, role))
        errors = [np.abs(pixels - frames[n]).mean() for n in range(len(frames))]
        assert errors[number] < 4.0 and int(np.argmin(errors)) == number, (role, errors[number])
    assert np.abs(jpeg_pixels(media.file(last, "before")) - frames[28]).mean() < 4.0
    with pytest.raises(InputError, match="cam 1.mp4"):
        media.file(last, "after")  # the video ends on this frame
    relative = media.roles(middle)["image"]
    assert relative.startswith("review_media/") and media.resolve(relative) == review.mined_dir / relative


def test_video_main_image_is_the_snapshot_bytes_when_mined_with_snapshots(tmp_path, video):
    path, item, candidates = video
    with_snapshots = write_snapshots(candidates, [item], tmp_path / "mined", window_ms=1000)
    review = mined_folder(tmp_path, with_snapshots.drop(columns="snapshot_error"), {"cam 1": path}, window_ms=1000)
    media = ReviewMedia(review)
    cid = ids_by_key(review)["cam 1@1400#14"]
    roles = media.roles(cid)
    assert roles["snapshot"] == with_snapshots.loc[1, "snapshot"]
    assert media.file(cid, "image").read_bytes() == (review.mined_dir / roles["snapshot"]).read_bytes()


def test_files_are_made_once_with_the_same_bytes_and_two_threads_both_get_them(tmp_path, video):
    path, _, candidates = video
    review = mined_folder(tmp_path, candidates, {"cam 1": path}, window_ms=1000)
    cid = ids_by_key(review)["cam 1@1400#14"]
    results, errors = [], []

    def fetch():
        try:
            results.append(ReviewMedia.file(media, cid, "after").read_bytes())
        except Exception as error:  # noqa: BLE001 - collected for the assertion
            errors.append(error)

    media = ReviewMedia(review)
    threads = [threading.Thread(target=fetch) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(results) == 4 and len(set(results)) == 1
    again = ReviewMedia(ReviewSet.load(review.mined_dir))
    made = again.file(cid, "after")
    made.unlink()
    assert again.file(cid, "after").read_bytes() == results[0]  # deterministic: remade, same bytes
    assert not [p for p in made.parent.iterdir() if p.name.startswith(".")]  # no staging files left


# ----------------------------------------------------------------------------- images


def test_image_folder_neighbours_and_a_duplicate_is_nearest(tmp_path):
    folder = tmp_path / "shots"
    folder.mkdir()
    for i in range(6):
        Image.fromarray(textured(3 * i)).save(folder / f"{i:03d}.png")
    shutil.copy(folder / "002.png", folder / "006.png")  # image 6 is image 2 again
    candidates = pd.DataFrame({"item": "shots", "start_ms": np.arange(7) * 1000.0, "end_ms": np.arange(1, 8) * 1000.0,
                               "score": np.linspace(0.9, 0.6, 7), "frame": np.arange(7)})  # fmt: skip
    review = mined_folder(tmp_path, candidates, {"shots": folder}, window_ms=1000)
    media, ids = ReviewMedia(review), ids_by_key(review)
    cid = ids["shots@2000#2"]
    before, after = jpeg_pixels(media.file(cid, "before")), jpeg_pixels(media.file(cid, "after"))
    for pixels, number in ((before, 1), (after, 3)):
        errors = [np.abs(pixels - textured(3 * i)).mean() for i in range(6)]
        assert errors[number] < 4 and int(np.argmin(errors)) == number
    with pytest.raises(InputError, match="shots"):
        media.file(ids["shots@6000#6"], "after")
    order = [ids[f"shots@{1000 * i}#{i}"] for i in range(7)]
    vectors = media.embedding(order)
    assert vectors.shape == (7, 256) and vectors.dtype == np.float32
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    similarity = unit @ unit[2]
    similarity[2] = -np.inf
    assert int(np.argmax(similarity)) == 6
    ranked = review.select(Filters(), {}, sort="similar", like=cid, embed=media.embedding)
    assert sorted(ranked[:2].tolist()) == sorted([cid, ids["shots@6000#6"]])


# ----------------------------------------------------------------------------- audio

RATE = 8000


@pytest.fixture
def audio(tmp_path):
    """Three seconds of stereo PCM_16, quiet but for a loud tone from 1000 to 1500 ms."""
    rng = np.random.default_rng(3)
    samples = rng.uniform(-0.001, 0.001, (3 * RATE, 2))
    t = np.arange(RATE // 2) / RATE
    samples[RATE : RATE + RATE // 2] += 0.8 * np.sin(2 * np.pi * 1000 * t)[:, None]
    path = tmp_path / "rec.wav"
    sf.write(str(path), samples, RATE, subtype="PCM_16")
    starts = [0.0, 1000.0, 2500.0]  # at the file start, inside, ending on the last sample
    candidates = pd.DataFrame({"item": "rec", "start_ms": starts, "end_ms": [s + 500 for s in starts],
                               "score": [0.9, 0.8, 0.7]})  # fmt: skip
    return path, candidates


@pytest.mark.parametrize("context_ms", [250.0, 2000.0])
def test_audio_clip_is_the_file_samples_over_the_context_clipped_to_the_file(tmp_path, audio, context_ms):
    path, candidates = audio
    review = mined_folder(tmp_path, candidates, {"rec": path}, window_ms=500)
    media, ids = ReviewMedia(review, context_ms=context_ms), ids_by_key(review)
    source, _ = sf.read(str(path), dtype="int16", always_2d=True)
    times = np.arange(len(source)) * 1000.0 / RATE
    for start in (0.0, 1000.0, 2500.0):
        cid = ids[f"rec@{start:g}"]
        keep = (times >= start - context_ms) & (times < start + 500 + context_ms)
        clip, rate = sf.read(str(media.file(cid, "audio")), dtype="int16", always_2d=True)
        assert rate == RATE and np.array_equal(clip, source[keep]), start
        span = media.context(cid)
        assert span == {"start_ms": times[keep][0], "end_ms": times[keep][-1] + 1000.0 / RATE}
    assert media.context(ids["rec@0"])["start_ms"] == 0.0
    assert media.context(ids["rec@2500"])["end_ms"] == 3000.0


def test_spectrogram_columns_map_linearly_to_the_context_span(tmp_path, audio):
    path, candidates = audio
    review = mined_folder(tmp_path, candidates, {"rec": path}, window_ms=500)
    media = ReviewMedia(review, context_ms=250.0)
    cid = ids_by_key(review)["rec@1000"]
    png = media.file(cid, "spectrogram")
    with Image.open(png) as image:
        assert image.format == "PNG" and image.size == SPECTROGRAM_SIZE
        # row y shows the frequency (1 - (y + 0.5) / height) * rate / 2
        tone_row = round((1 - 1000 / (RATE / 2)) * SPECTROGRAM_SIZE[1] - 0.5)
        brightness = np.asarray(image.convert("L"), dtype=np.float64)[tone_row - 2 : tone_row + 3].mean(axis=0)
    span = media.context(cid)
    width = SPECTROGRAM_SIZE[0]
    column = lambda ms: int((ms - span["start_ms"]) / (span["end_ms"] - span["start_ms"]) * width)
    loud = brightness[column(1050) : column(1450)]
    quiet = np.concatenate([brightness[: column(950)], brightness[column(1550) :]])
    assert loud.min() > quiet.max() + 20  # the tone fills exactly the window's columns
    assert png.read_bytes() == media.file(cid, "spectrogram").read_bytes()
    vectors = media.embedding([cid, ids_by_key(review)["rec@0"]])
    assert vectors.shape == (2, 256) and np.isfinite(vectors).all()


# ----------------------------------------------------------------------------- sensor


@pytest.fixture
def sensor(tmp_path):
    rng = np.random.default_rng(5)
    n = 1000  # 10 s at 100 Hz
    frame = pd.DataFrame({"t_ms": np.arange(n) * 10.0, **{c: rng.normal(size=n).round(3)
                                                          for c in ("acc_x", "acc_y", "acc_z", "temp")}})  # fmt: skip
    path = tmp_path / "log.csv"
    frame.to_csv(path, index=False)
    starts = [0.0, 4000.0, 9500.0]  # the first sample, inside, ending on the last sample (9990 + one step)
    candidates = pd.DataFrame({"item": "log", "start_ms": starts, "end_ms": [s + 500 for s in starts],
                               "score": [0.9, 0.8, 0.7]})  # fmt: skip
    return path, candidates


def test_signal_is_the_recording_over_the_context(tmp_path, sensor):
    path, candidates = sensor
    review = mined_folder(tmp_path, candidates, {"log": path}, window_ms=500)
    media, ids = ReviewMedia(review, context_ms=1000.0), ids_by_key(review)
    table = pd.read_csv(path)
    for start in (0.0, 4000.0, 9500.0):
        cid = ids[f"log@{start:g}"]
        expected = table[(table["t_ms"] >= start - 1000) & (table["t_ms"] <= start + 500 + 1000)]
        written = json.loads(media.file(cid, "signal").read_text())
        assert written == media.signal(cid)
        assert written["t_ms"] == expected["t_ms"].tolist()
        assert written["channels"] == ["acc_x", "acc_y", "acc_z", "temp"]
        assert written["groups"] == [{"name": "acc", "channels": ["acc_x", "acc_y", "acc_z"]},
                                     {"name": "temp", "channels": ["temp"]}]  # fmt: skip
        for name, values in zip(written["channels"], written["values"], strict=True):
            np.testing.assert_allclose(values, expected[name].to_numpy(), rtol=1e-6, atol=1e-9)
        assert written["window"] == [start, start + 500]
        assert written["context"] == [expected["t_ms"].iloc[0], expected["t_ms"].iloc[-1]]
        assert media.context(cid) == {"start_ms": written["context"][0], "end_ms": written["context"][1]}
    assert media.context(ids["log@0"])["start_ms"] == 0.0 and media.context(ids["log@9500"])["end_ms"] == 9990.0
    vectors = media.embedding([ids["log@0"], ids["log@4000"]])
    assert vectors.shape == (2, 4 * 32)


def test_long_signal_is_decimated_keeping_the_extremes(tmp_path):
    n = 20000
    values = np.sin(np.arange(n) / 50.0)
    values[12345] = 9.0  # one spike: min/max pairs must keep it
    path = tmp_path / "long.csv"
    pd.DataFrame({"t_ms": np.arange(n) * 1.0, "ecg": values}).to_csv(path, index=False)
    candidates = pd.DataFrame({"item": "long", "start_ms": [9000.0], "end_ms": [11000.0], "score": [0.9]})
    review = mined_folder(tmp_path, candidates, {"long": path}, window_ms=2000)
    signal = ReviewMedia(review, context_ms=5000.0).signal(0)
    span = values[4000:16001]
    assert len(signal["t_ms"]) <= 2000 and len(signal["values"][0]) == len(signal["t_ms"])
    assert max(signal["values"][0]) == pytest.approx(9.0) and min(signal["values"][0]) == pytest.approx(span.min())
    assert signal["t_ms"][0] == 4000.0 and signal["t_ms"][-1] == 16000.0 and np.all(np.diff(signal["t_ms"]) >= 0)


# ----------------------------------------------------------------------------- what is served


def test_resolve_serves_registered_files_only(tmp_path, sensor):
    path, candidates = sensor
    review = mined_folder(tmp_path, candidates, {"log": path}, window_ms=500)
    media = ReviewMedia(review)
    registered = media.roles(0)["signal"]
    assert media.resolve(registered) == review.mined_dir / registered
    other = media.roles(1)["signal"]
    media.file(1, "signal")
    (review.mined_dir / "review_media" / "stray.json").write_text("{}")
    for bad in (
        "../x",
        "/etc/passwd",
        "review_media/../candidates.parquet",
        "%2e%2e/x",
        "candidates.parquet",
        "review_media/stray.json",
        f"{registered}/",
        f"./{registered}",
        registered.replace("/", "\\"),
        "",
    ):
        assert media.resolve(bad) is None, bad
    target = review.mined_dir / other
    target.unlink()
    os.symlink(path, target)  # a registered file replaced by a link to elsewhere
    assert media.resolve(other) is None
    with pytest.raises(InputError):
        media.file(1, "signal")


def test_resolve_refuses_a_linked_folder_and_a_snapshot_outside(tmp_path, sensor):
    path, candidates = sensor
    outside = tmp_path / "outside"
    outside.mkdir()
    candidates = candidates.assign(snapshot=["../outside/x.png", None, None])
    (outside / "x.png").write_bytes(b"png")
    review = mined_folder(tmp_path, candidates, {"log": path}, window_ms=500)
    media = ReviewMedia(review)
    assert media.roles(0)["snapshot"] == "../outside/x.png" and media.resolve("../outside/x.png") is None
    folder = review.mined_dir / "review_media" / media.roles(1)["signal"].split("/")[1]
    folder.parent.mkdir(parents=True)
    os.symlink(outside, folder)  # the item's folder is a link: nothing may be written through it
    assert media.resolve(media.roles(1)["signal"]) is None
    assert not list(outside.rglob("*.json"))


def test_roles_and_bad_requests(tmp_path, sensor):
    path, candidates = sensor
    review = mined_folder(tmp_path, candidates.assign(snapshot=["snapshots/log/a.png;snapshots/log/a.wav", None, None]),
                          {"log": path}, window_ms=500)  # fmt: skip
    media = ReviewMedia(review)
    assert list(media.roles(0)) == ["signal", "snapshot", "snapshot2"]
    assert media.roles(0)["snapshot2"] == "snapshots/log/a.wav"
    with pytest.raises(InputError, match="a.png"):
        media.file(0, "snapshot")  # mined without the file
    with pytest.raises(InputError) as error:
        media.file(0, "image")
    assert error.value.parameter == "role"
    with pytest.raises(InputError) as error:
        media.roles(3)
    assert error.value.parameter == "candidate_id"


@pytest.mark.parametrize(
    ("names", "groups"),
    [
        (["acc_x", "acc_y", "acc_z"], [("acc", ["acc_x", "acc_y", "acc_z"])]),
        (["gyro_x", "acc_x", "gyro_y", "acc_y"], [("gyro", ["gyro_x", "gyro_y"]), ("acc", ["acc_x", "acc_y"])]),
        (["ax", "ay", "az"], [("a", ["ax", "ay", "az"])]),
        (["MLII", "V1"], [("MLII", ["MLII"]), ("V1", ["V1"])]),
        (["acc_x", "temp"], [("acc_x", ["acc_x"]), ("temp", ["temp"])]),  # one axis alone is no panel
        (["mag-X", "mag-Y"], [("mag", ["mag-X", "mag-Y"])]),
        ([], []),
    ],
)
def test_channel_groups(names, groups):
    assert channel_groups(names) == groups


def test_signal_refuses_other_kinds(tmp_path, audio):
    path, candidates = audio
    review = mined_folder(tmp_path, candidates, {"rec": path}, window_ms=500)
    with pytest.raises(InputError, match="not a sensor"):
        ReviewMedia(review).signal(0)
