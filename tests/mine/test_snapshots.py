"""Snapshots: files where promised, the right pixels and samples, safe names, failures reported, CLI end to end."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hardneg.io import _video as video_module
from hardneg.mine._snapshots import DPI, SENSOR_FIGSIZE, SPECTROGRAM_FIGSIZE, safe_name, write_snapshots
from hardneg.score import PoolItem, iter_windows

sf = pytest.importorskip("soundfile")
av = pytest.importorskip("av")
Image = pytest.importorskip("PIL.Image")

COLOURS = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255], [0, 0, 0], [255, 255, 0]], np.uint8)
SENSOR_PX = (int(SENSOR_FIGSIZE[0] * DPI), int(SENSOR_FIGSIZE[1] * DPI))
SPECTROGRAM_PX = (int(SPECTROGRAM_FIGSIZE[0] * DPI), int(SPECTROGRAM_FIGSIZE[1] * DPI))


# ----------------------------------------------------------------------------- builders


def write_video(path: Path, colours: np.ndarray, *, fps: int = 10, size=(64, 48), gop: int = 12) -> None:
    """A video whose frame ``i`` is solid ``colours[i]``; a keyframe every ``gop`` frames so seeking matters."""
    width, height = size
    with av.open(str(path), mode="w") as container:
        codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"g": str(gop), **({"crf": "0", "preset": "ultrafast"} if codec == "libx264" else {})}
        for colour in colours:
            image = np.broadcast_to(colour, (height, width, 3)).copy()
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def all_windows(item: PoolItem, **options) -> tuple[list[np.ndarray], pd.DataFrame]:
    batches, tables = zip(*iter_windows(item, **options), strict=True)
    return list(np.concatenate(batches)), pd.concat(tables, ignore_index=True)


def candidates_from(table: pd.DataFrame, rows) -> pd.DataFrame:
    picked = table.iloc[list(rows)].reset_index(drop=True)
    return picked.assign(score=np.linspace(0.9, 0.6, len(picked)))


# ----------------------------------------------------------------------------- video and images


def video_pool(tmp_path, n=60, item_id="cam1"):
    colours = COLOURS[np.arange(n) % len(COLOURS)]
    path = tmp_path / f"{item_id}.mp4"
    write_video(path, colours)
    return PoolItem(item_id, "g", path, "video"), colours


@pytest.mark.parametrize("seek", [True, False])
def test_video_frames_are_jpegs_of_the_source_frames(tmp_path, monkeypatch, seek):
    item, colours = video_pool(tmp_path)
    if not seek:  # the fallback: frames counted from the start
        monkeypatch.setattr(video_module, "seek_frames", lambda path, wanted: {})
    frames, table = all_windows(item, batch_size=16)
    wanted = [1, 2, 30, 44, 59]  # near frames decode on, far ones (> 2 s) seek
    candidates = candidates_from(table, wanted)
    out = tmp_path / "mined"
    result = write_snapshots(candidates, [item], out, window_ms=1000)
    assert result["snapshot_error"].isna().all(), result["snapshot_error"].tolist()
    assert result["snapshot"].tolist() == [f"snapshots/cam1/cam1_f{f}.jpg" for f in wanted]
    for frame, relative in zip(wanted, result["snapshot"], strict=True):
        with Image.open(out / relative) as image:
            assert image.format == "JPEG" and image.size == (64, 48)
            pixels = np.asarray(image.convert("RGB"), dtype=np.float64)
        source = frames[frame].astype(np.float64)
        assert np.abs(pixels.mean(axis=(0, 1)) - source.mean(axis=(0, 1))).max() < 4
        assert np.abs(pixels.mean(axis=(0, 1)) - colours[frame]).max() < 12
    assert sorted(p.name for p in (out / "snapshots" / "cam1").iterdir()) == sorted(f"cam1_f{f}.jpg" for f in wanted)


def test_image_folder_jpeg_is_copied_and_png_converted(tmp_path):
    folder = tmp_path / "shots"
    folder.mkdir()
    Image.fromarray(np.full((20, 30, 3), (10, 200, 30), np.uint8)).save(folder / "a.jpg", quality=75)
    Image.fromarray(np.full((20, 30, 3), (200, 10, 30), np.uint8)).save(folder / "b.png")
    item = PoolItem("shots", "g", folder, "image")
    _, table = all_windows(item)
    result = write_snapshots(candidates_from(table, [0, 1]), [item], tmp_path / "out", window_ms=1000)
    a, b = (tmp_path / "out" / p for p in result["snapshot"])
    assert a.name == "shots_f0.jpg" and a.read_bytes() == (folder / "a.jpg").read_bytes()
    with Image.open(b) as image:
        assert image.format == "JPEG"
        assert np.abs(np.asarray(image, np.float64).mean(axis=(0, 1)) - (200, 10, 30)).max() < 6


# ----------------------------------------------------------------------------- audio


@pytest.mark.parametrize(("rate", "subtype", "dtype"), [(8000, "PCM_16", "int16"), (44100, "FLOAT", "float32")])
def test_audio_clip_is_the_source_samples_and_a_spectrogram(tmp_path, rate, subtype, dtype):
    rng = np.random.default_rng(1)
    path = tmp_path / "rec 1.wav"  # a space: the name must be sanitised
    sf.write(str(path), rng.uniform(-0.5, 0.5, (3 * rate, 2)), rate, subtype=subtype)
    source, _ = sf.read(str(path), dtype=dtype, always_2d=True)
    item = PoolItem("rec 1", "g", path, "audio")
    window_ms = 500.0
    _, table = all_windows(item, window_ms=window_ms, hop_ms=333.0)
    candidates = candidates_from(table, [0, 3, len(table) - 1])
    out = tmp_path / "mined"
    result = write_snapshots(candidates, [item], out, window_ms=window_ms)
    assert result["snapshot_error"].isna().all(), result["snapshot_error"].tolist()
    stem = safe_name("rec 1")
    assert stem != "rec 1" and all(c.isalnum() or c in "._-" for c in stem)
    length = int(window_ms * rate / 1000)
    for row, paths in zip(candidates.itertuples(), result["snapshot"], strict=True):
        png, wav = (out / p for p in paths.split(";"))
        assert png.parent == out / "snapshots" / stem and png.suffix == ".png" and wav.suffix == ".wav"
        assert wav.stem == png.stem and wav.name.endswith("ms.wav")
        clip, clip_rate = sf.read(str(wav), dtype=dtype, always_2d=True)
        start = round(row.start_ms * rate / 1000)
        assert clip_rate == rate
        np.testing.assert_array_equal(clip, source[start : start + length])
        with Image.open(png) as image:
            assert image.format == "PNG" and image.size == SPECTROGRAM_PX


def test_a_broken_item_is_reported_and_the_rest_written(tmp_path):
    good = tmp_path / "good.wav"
    sf.write(str(good), np.zeros((16000, 1)), 8000)
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot really")
    items = [PoolItem("bad", "g", bad, "audio"), PoolItem("good", "g", good, "audio")]
    candidates = pd.DataFrame({"item": ["bad", "good", "ghost"], "group": "g", "start_ms": [0.0, 500.0, 0.0],
                               "end_ms": [1000.0, 1500.0, 1000.0], "score": [0.9, 0.8, 0.7]})  # fmt: skip
    result = write_snapshots(candidates, items, tmp_path / "out", window_ms=1000)
    assert result["item"].tolist() == ["bad", "good", "ghost"]
    assert result.loc[0, "snapshot"] is None and result.loc[0, "snapshot_error"]
    assert result.loc[2, "snapshot"] is None and "not in the pool" in result.loc[2, "snapshot_error"]
    assert pd.isna(result.loc[1, "snapshot_error"])
    assert result.loc[1, "snapshot"] == "snapshots/good/good_500ms.png;snapshots/good/good_500ms.wav"
    assert not (tmp_path / "out" / "snapshots" / "bad").exists()


# ----------------------------------------------------------------------------- sensor logs


def write_log(path: Path, n: int = 1000, rate: float = 100.0, seed: int = 0) -> None:
    values = np.random.default_rng(seed).normal(size=(n, 3))
    frame = pd.DataFrame(values, columns=["ax", "ay", "az"])
    frame.insert(0, "t_ms", np.arange(n) * 1000.0 / rate)
    frame.to_csv(path, index=False)


def test_sensor_plot_is_a_png_of_fixed_size_and_deterministic(tmp_path):
    path = tmp_path / "s#1.csv"
    write_log(path)
    item = PoolItem("s#1", "g", path, "sensor")
    _, table = all_windows(item, window_ms=500.0)
    candidates = candidates_from(table, [0, 7, len(table) - 1])  # context clipped at both ends, and full
    first = write_snapshots(candidates, [item], tmp_path / "a", window_ms=500.0)
    second = write_snapshots(candidates, [item], tmp_path / "b", window_ms=500.0)
    assert first["snapshot"].tolist() == second["snapshot"].tolist()
    stem = safe_name("s#1")
    assert first["snapshot"].tolist() == [f"snapshots/{stem}/{stem}_{int(s)}ms.png" for s in candidates["start_ms"]]
    for relative in first["snapshot"]:
        assert (tmp_path / "a" / relative).read_bytes() == (tmp_path / "b" / relative).read_bytes()
        with Image.open(tmp_path / "a" / relative) as image:
            assert image.format == "PNG" and image.size == SENSOR_PX
    # nothing but the promised files (no .partial left over)
    written = {p.relative_to(tmp_path / "a").as_posix() for p in (tmp_path / "a").rglob("*") if p.is_file()}
    assert written == set(first["snapshot"])


def test_safe_name():
    assert safe_name("rec_01.day-2") == "rec_01.day-2"
    for raw in ["a b", "a/b", "..", "ä", "x" * 300]:
        name = safe_name(raw)
        assert all(c.isalnum() and c.isascii() or c in "._-" for c in name) and not name.startswith(".")
        assert len(name) <= 120
    assert safe_name("a b") != safe_name("a_b")


# ----------------------------------------------------------------------------- CLI end to end

SCORER = textwrap.dedent(
    """
    import numpy as np

    def make():
        def score(batch):
            energy = np.mean(np.asarray(batch, dtype=np.float64) ** 2, axis=(1, 2))
            return 1.0 / (1.0 + np.exp(-(energy - 1.0) * 2.0))
        return score
    """
)


def test_mine_cli_with_snapshots(tmp_path):
    pool = tmp_path / "pool"
    pool.mkdir()
    for index, name in enumerate(["subjA_s1", "subjB_s1"]):
        n = 800
        values = np.random.default_rng(index).normal(0, 0.5, (n, 3))
        values[200:260] *= 3.0
        values[600:660] *= 3.0
        frame = pd.DataFrame(values, columns=["ax", "ay", "az"])
        frame.insert(0, "t_ms", np.arange(n) * 10.0)
        frame.to_csv(pool / f"{name}.csv", index=False)
    (tmp_path / "scorer.py").write_text(SCORER)
    out = tmp_path / "mined"
    args = [sys.executable, "-m", "hardneg", "mine", pool, "--model", f"{tmp_path / 'scorer.py'}:make", "--out", out,
            "--window-ms", "500", "--min-score", "0.5", "--snapshots"]  # fmt: skip
    result = subprocess.run([str(a) for a in args], check=False, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    candidates = pd.read_parquet(out / "candidates.parquet")
    assert list(candidates.columns) == ["item", "group", "start_ms", "end_ms", "score", "snapshot"]
    assert len(candidates) >= 2 and candidates["snapshot"].notna().all()
    for row in candidates.itertuples():
        assert row.snapshot == f"snapshots/{row.item}/{row.item}_{row.start_ms:.0f}ms.png"
        with Image.open(out / row.snapshot) as image:
            assert image.size == SENSOR_PX
    on_disk = {p.relative_to(out).as_posix() for p in (out / "snapshots").rglob("*") if p.is_file()}
    assert on_disk == set(candidates["snapshot"])
    assert "snapshots of" in result.stdout
    before = {name: (out / name).read_bytes() for name in [*on_disk, "candidates.parquet"]}
    resumed = subprocess.run([str(a) for a in [*args, "--resume"]], check=False, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert {name: (out / name).read_bytes() for name in before} == before
