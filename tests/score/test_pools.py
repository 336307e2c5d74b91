"""Pools: discovery and groups, and every kind of item's windows against brute-force slicing of the raw samples."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hardneg.errors import InputError
from hardneg.io._images import image_files
from hardneg.score import PoolItem, discover_pool, iter_windows

sf = pytest.importorskip("soundfile")
av = pytest.importorskip("av")

COLOURS = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255], [0, 0, 0]], dtype=np.uint8)


# ----------------------------------------------------------------------------- builders


def write_imu(
    path: Path, n: int, *, rate: float = 100.0, t0: float = 0.0, seed: int = 0, time_col="t_ms"
) -> np.ndarray:
    """An IMU log of ``n`` samples; returns its channels as (3, n) float64 (ax, ay, az)."""
    rng = np.random.default_rng(seed)
    data = rng.normal(size=(3, n))
    frame = pd.DataFrame({time_col: t0 + np.arange(n) * (1000.0 / rate), "ax": data[0], "ay": data[1], "az": data[2]})
    if path.suffix == ".parquet":
        frame.to_parquet(path)
    else:
        frame.to_csv(path, index=False, float_format="%.17g")
    return data


def write_audio(path: Path, n: int, rate: int, channels: int, *, seed: int = 0, subtype=None) -> np.ndarray:
    """An audio file; returns the samples as read back, channels first, float32."""
    rng = np.random.default_rng(seed)
    samples = rng.uniform(-0.5, 0.5, size=(n, channels))
    sf.write(str(path), samples, rate, subtype=subtype)
    read, _ = sf.read(str(path), dtype="float32", always_2d=True)
    return np.ascontiguousarray(read.T)


def write_video(path: Path, colours: np.ndarray, *, fps: int = 10, size=(64, 48)) -> None:
    """A video whose frame ``i`` is solid ``colours[i]``."""
    width, height = size
    with av.open(str(path), mode="w") as container:
        codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        if codec == "libx264":
            stream.options = {"crf": "0", "preset": "ultrafast"}
        for colour in colours:
            image = np.broadcast_to(colour, (height, width, 3)).copy()
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def brute_windows(data: np.ndarray, length: int, hop: int) -> np.ndarray:
    """Windows by slicing: start at sample 0, step by the hop, only full windows."""
    starts = range(0, data.shape[1] - length + 1, hop)
    return np.array([data[:, s : s + length] for s in starts], dtype=np.float32).reshape(-1, data.shape[0], length)


def collect(batches):
    batches = list(batches)
    assert batches, "no batches"
    arrays = [b for b, _ in batches]
    tables = [t for _, t in batches]
    return arrays, tables, np.concatenate(arrays), pd.concat(tables, ignore_index=True)


def item_of(path: Path, kind: str, group: str = "g") -> PoolItem:
    return PoolItem(path.stem if path.is_file() else path.name, group, path, kind)


# ----------------------------------------------------------------------------- sensor logs


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize(
    ("window_ms", "hop_ms", "length", "hop"), [(200, None, 20, 10), (200, 50, 20, 5), (150, 300, 15, 30)]
)
def test_sensor_windows_match_brute_force(tmp_path, suffix, window_ms, hop_ms, length, hop):
    path = tmp_path / f"s1{suffix}"
    data = write_imu(path, 203, t0=1000.0)
    expected = brute_windows(data, length, hop)
    for batch_size in (1, 3, 10_000):
        arrays, tables, batch, table = collect(
            iter_windows(item_of(path, "sensor"), window_ms=window_ms, hop_ms=hop_ms, batch_size=batch_size)
        )
        assert all(len(a) == batch_size for a in arrays[:-1]) and 1 <= len(arrays[-1]) <= batch_size
        assert [len(a) for a in arrays] == [len(t) for t in tables]
        assert batch.dtype == np.float32 and batch.shape == expected.shape
        np.testing.assert_array_equal(batch, expected)
        starts = np.arange(len(expected)) * hop
        np.testing.assert_allclose(table["start_ms"], 1000.0 + starts * 10.0)
        np.testing.assert_allclose(table["end_ms"], table["start_ms"] + window_ms)
        assert list(table.columns) == ["item", "group", "start_ms", "end_ms"]
        assert (table["item"] == "s1").all() and (table["group"] == "g").all()


def test_sensor_last_window_ends_exactly_at_last_sample(tmp_path):
    path = tmp_path / "s.csv"
    data = write_imu(path, 40)  # window 20, hop 10: starts 0, 10, 20
    _, _, batch, _ = collect(iter_windows(item_of(path, "sensor"), window_ms=200, batch_size=2))
    assert len(batch) == 3
    np.testing.assert_array_equal(batch[-1], data[:, 20:40].astype(np.float32))


def test_sensor_short_item_padded_once_or_skipped(tmp_path):
    path = tmp_path / "short.csv"
    data = write_imu(path, 7)
    _, _, batch, table = collect(iter_windows(item_of(path, "sensor"), window_ms=200))
    assert batch.shape == (1, 3, 20)
    np.testing.assert_array_equal(batch[0, :, :7], data.astype(np.float32))
    assert not batch[0, :, 7:].any()
    assert table["start_ms"].tolist() == [0.0] and table["end_ms"].tolist() == [200.0]
    assert list(iter_windows(item_of(path, "sensor"), window_ms=200, short_items="skip")) == []


def test_sensor_channels_time_col_and_reader_options(tmp_path):
    path = tmp_path / "s.parquet"
    data = write_imu(path, 60, rate=50.0, time_col="time")
    item = item_of(path, "sensor")
    _, _, batch, table = collect(iter_windows(item, window_ms=200, hop_ms=100, time_col="time", channels=["az", "ax"]))
    np.testing.assert_array_equal(batch, brute_windows(data[[2, 0]], 10, 5))
    np.testing.assert_allclose(table["start_ms"], np.arange(len(batch)) * 100.0)
    # The same log in seconds, through read_sensor_logs' time_unit option.
    seconds = tmp_path / "sec.csv"
    pd.DataFrame({"t": np.arange(60) * 0.02, "x": data[0]}).to_csv(seconds, index=False, float_format="%.17g")
    _, _, batch, table = collect(iter_windows(item_of(seconds, "sensor"), window_ms=200, time_col="t", time_unit="s"))
    np.testing.assert_array_equal(batch, brute_windows(data[:1], 10, 5))


def test_sensor_non_whole_hop_starts_at_first_sample_at_or_after(tmp_path):
    path = tmp_path / "s.csv"
    data = write_imu(path, 100)
    _, _, batch, table = collect(iter_windows(item_of(path, "sensor"), window_ms=100, hop_ms=25, batch_size=4))
    starts = np.ceil(np.arange(len(batch)) * 2.5 - 1e-9).astype(int)  # 0, 3, 5, 8, 10, ...
    assert starts[-1] + 10 <= 100 < starts[-1] + 10 + 3
    np.testing.assert_array_equal(batch, np.stack([data[:, s : s + 10] for s in starts]).astype(np.float32))
    np.testing.assert_allclose(table["start_ms"], starts * 10.0)


def test_wfdb_record_windows(tmp_path):
    wfdb = pytest.importorskip("wfdb")
    signal = np.random.default_rng(1).normal(size=(500, 2))
    wfdb.wrsamp(
        "100",
        fs=250,
        units=["mV", "mV"],
        sig_name=["MLII", "V5"],
        p_signal=signal,
        fmt=["16", "16"],
        write_dir=str(tmp_path),
    )
    header = tmp_path / "100.hea"
    record = wfdb.rdrecord(str(tmp_path / "100")).p_signal.T
    _, _, batch, table = collect(iter_windows(item_of(header, "sensor"), window_ms=400, hop_ms=200, channels=["V5"]))
    np.testing.assert_array_equal(batch, brute_windows(record[[1]], 100, 50))
    np.testing.assert_allclose(table["start_ms"], np.arange(len(batch)) * 200.0)


# ----------------------------------------------------------------------------- audio


@pytest.mark.parametrize(
    ("name", "rate", "channels", "n", "window_ms", "hop_ms", "length", "hop"),
    [
        ("stereo.wav", 8000, 2, 10_500, 250, 100, 2000, 800),
        ("stereo.wav", 8000, 2, 10_500, 250, None, 2000, 1000),
        ("mono.flac", 22050, 1, 30_000, 100, 20, 2205, 441),
        ("mono.flac", 22050, 1, 30_000, 100, 200, 2205, 4410),
    ],
)
def test_audio_windows_match_brute_force(
    tmp_path, monkeypatch, name, rate, channels, n, window_ms, hop_ms, length, hop
):
    path = tmp_path / name
    data = write_audio(path, n, rate, channels)
    expected = brute_windows(data, length, hop)
    reads: list[int] = []
    original = sf.SoundFile.read

    def counting_read(self, frames=-1, *args, **kwargs):
        reads.append(frames)
        return original(self, frames, *args, **kwargs)

    monkeypatch.setattr(sf.SoundFile, "read", counting_read)
    for batch_size in (1, 3, 10_000):
        reads.clear()
        arrays, tables, batch, table = collect(
            iter_windows(item_of(path, "audio"), window_ms=window_ms, hop_ms=hop_ms, batch_size=batch_size)
        )
        assert all(len(a) == batch_size for a in arrays[:-1])
        assert [len(a) for a in arrays] == [len(t) for t in tables]
        assert batch.dtype == np.float32 and batch.shape == expected.shape
        np.testing.assert_array_equal(batch, expected)
        np.testing.assert_allclose(table["start_ms"], np.arange(len(expected)) * hop * 1000.0 / rate)
        np.testing.assert_allclose(table["end_ms"], table["start_ms"] + window_ms)
        # Streaming: read in blocks, none larger than one batch needs, never the whole file at once.
        assert -1 not in reads and max(reads) <= (batch_size - 1) * hop + length
        if batch_size < 3:
            assert len(reads) > 1


def test_audio_channel_choice_and_short_item(tmp_path):
    path = tmp_path / "st.wav"
    data = write_audio(path, 4000, 8000, 2)
    _, _, batch, _ = collect(iter_windows(item_of(path, "audio"), window_ms=100, hop_ms=50, channels=[1]))
    np.testing.assert_array_equal(batch, brute_windows(data[[1]], 800, 400))
    short = tmp_path / "short.flac"
    data = write_audio(short, 300, 22050, 1)
    _, _, batch, table = collect(iter_windows(item_of(short, "audio"), window_ms=100))
    assert batch.shape == (1, 1, 2205)
    np.testing.assert_array_equal(batch[0, :, :300], data)
    assert not batch[0, :, 300:].any() and table["end_ms"].tolist() == [100.0]
    assert list(iter_windows(item_of(short, "audio"), window_ms=100, short_items="skip")) == []
    with pytest.raises(InputError, match="--channels 2 is out of range; the file has 2 channel"):
        list(iter_windows(item_of(path, "audio"), window_ms=100, channels=[2]))


# ----------------------------------------------------------------------------- video and images


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> tuple[Path, np.ndarray]:
    colours = COLOURS[np.arange(20) % len(COLOURS)]
    path = tmp_path_factory.mktemp("video") / "clip.mp4"
    write_video(path, colours)
    return path, colours


@pytest.mark.parametrize(("stride", "batch_size"), [(1, 256), (1, 3), (3, 4), (7, 1)])
def test_video_frames_every_stride(video, stride, batch_size):
    path, colours = video
    arrays, _, batch, table = collect(iter_windows(item_of(path, "video"), stride=stride, batch_size=batch_size))
    frames = np.arange(0, 20, stride)
    assert all(len(a) == batch_size for a in arrays[:-1])
    assert batch.dtype == np.uint8 and batch.shape == (len(frames), 48, 64, 3)
    assert list(table.columns) == ["item", "group", "start_ms", "end_ms", "frame"]
    assert table["frame"].dtype == np.int64 and table["frame"].tolist() == frames.tolist()
    np.testing.assert_allclose(table["start_ms"], frames * 100.0)
    np.testing.assert_allclose(table["end_ms"], frames * 100.0 + 100.0)
    # Solid colours survive YUV 4:2:0 up to rounding.
    mean_colour = batch.reshape(len(frames), -1, 3).mean(axis=1)
    np.testing.assert_allclose(mean_colour, colours[frames].astype(float), atol=12)


def test_image_folder_one_image_per_file(tmp_path):
    plt = pytest.importorskip("matplotlib.pyplot")
    folder = tmp_path / "cam1"
    folder.mkdir()
    for i, colour in enumerate(COLOURS):
        plt.imsave(folder / f"img_{i:02d}.png", np.broadcast_to(colour, (6, 8, 3)).copy())
    (folder / "readme.txt").write_text("not an image")
    item = PoolItem("cam1", "cam1", folder, "image")
    arrays, _, batch, table = collect(iter_windows(item, batch_size=2))
    assert [len(a) for a in arrays] == [2, 2, 1]
    assert batch.dtype == np.uint8 and batch.shape == (5, 6, 8, 3)
    np.testing.assert_array_equal(batch[:, 0, 0], COLOURS)
    assert table["frame"].tolist() == [0, 1, 2, 3, 4]
    assert [p.name for p in image_files(folder)][table["frame"][3]] == "img_03.png"
    # A picture of another size starts a new batch: a batch is one array.
    plt.imsave(folder / "img_09.png", np.zeros((4, 4, 3), dtype=np.uint8))
    batches = list(iter_windows(item, batch_size=10))
    assert [b.shape[:3] for b, _ in batches] == [(5, 6, 8), (1, 4, 4)]
    assert pd.concat([t for _, t in batches])["frame"].tolist() == list(range(6))


# ----------------------------------------------------------------------------- corrupt items and options


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("bad.wav", "audio"),
        ("bad.flac", "audio"),
        ("bad.mp4", "video"),
        ("bad.parquet", "sensor"),
        ("bad.csv", "sensor"),
    ],
)
def test_corrupt_file_raises_input_error_naming_it(tmp_path, name, kind):
    path = tmp_path / name
    path.write_bytes(b"t_ms,ax\n0,1\n10,oops\n" if name.endswith(".csv") else bytes(range(256)) * 8)
    with pytest.raises(InputError, match="bad\\."):
        list(iter_windows(item_of(path, kind), window_ms=10))


def test_corrupt_image_and_truncated_video(tmp_path, video):
    folder = tmp_path / "imgs"
    folder.mkdir()
    (folder / "a.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(InputError, match="a.png"):
        list(iter_windows(PoolItem("imgs", "imgs", folder, "image")))
    path, _ = video
    truncated = tmp_path / "cut.mp4"
    truncated.write_bytes(path.read_bytes()[:300])
    with pytest.raises(InputError, match="cut.mp4"):
        list(iter_windows(item_of(truncated, "video")))
    flac = tmp_path / "whole.flac"
    write_audio(flac, 22050, 22050, 1)
    cut = tmp_path / "cut.flac"
    cut.write_bytes(flac.read_bytes()[: flac.stat().st_size // 2])
    with pytest.raises(InputError, match="cut.flac"):
        list(iter_windows(item_of(cut, "audio"), window_ms=100, batch_size=4))


def test_bad_options(tmp_path):
    path = tmp_path / "s.csv"
    write_imu(path, 50)
    item = item_of(path, "sensor")
    for options, message in [
        ({"window_ms": 200, "short_items": "drop"}, "short_items"),
        ({"window_ms": 200, "batch_size": 0}, "batch_size"),
        ({"window_ms": None}, "window_ms"),
        ({"window_ms": 5}, "no whole sample"),
        ({"window_ms": 200, "hop_ms": 1}, "shorter than one sample"),
        ({"window_ms": 200, "hop_ms": -1}, "hop_ms"),
    ]:
        with pytest.raises(InputError, match=message):
            list(iter_windows(item, **options))


# ----------------------------------------------------------------------------- discovery and groups


@pytest.fixture
def pool(tmp_path) -> Path:
    root = tmp_path / "pool"
    (root / "logs").mkdir(parents=True)
    write_imu(root / "logs" / "rec1_s1.csv", 30)
    write_imu(root / "logs" / "rec2_s2.parquet", 30)
    write_audio(root / "rec1_a.wav", 100, 8000, 1)
    (root / "rec3_v.mp4").write_bytes(b"x")
    (root / "notes.txt").write_text("ignored")
    (root / "mit").mkdir()
    (root / "mit" / "rec4_100.hea").write_text("rec4_100 1 360 10\n")
    (root / "mit" / "rec4_100.dat").write_bytes(b"\0" * 20)
    (root / "rec5_cam").mkdir()
    (root / "rec5_cam" / "f1.png").write_bytes(b"x")
    (root / "rec5_cam" / "f2.jpg").write_bytes(b"x")
    return root


def test_discover_pool_kinds_ids_and_default_groups(pool):
    items = discover_pool([pool])
    assert [(i.id, i.kind) for i in items] == [
        ("rec1_s1", "sensor"),
        ("rec2_s2", "sensor"),
        ("rec4_100", "sensor"),
        ("rec1_a", "audio"),
        ("rec3_v", "video"),
        ("rec5_cam", "image"),
    ]
    assert all(i.group == i.id for i in items)
    assert items[-1].path == pool / "rec5_cam"
    single = discover_pool([pool / "rec1_a.wav", pool / "rec5_cam"])
    assert [(i.id, i.kind) for i in single] == [("rec1_a", "audio"), ("rec5_cam", "image")]


def test_discover_pool_group_regex_and_groups_csv(pool, tmp_path):
    items = discover_pool([pool], group_regex=r"^(rec\d+)_")
    assert {i.id: i.group for i in items} == {
        "rec1_s1": "rec1",
        "rec2_s2": "rec2",
        "rec4_100": "rec4",
        "rec1_a": "rec1",
        "rec3_v": "rec3",
        "rec5_cam": "rec5",
    }
    assert [i.group for i in discover_pool([pool], groups={"rec1_a": "x"}, group_regex=r"(rec\d)")][3:5] == [
        "x",
        "rec3",
    ]
    groups = pool / "groups.csv"  # inside the pool, and given as --groups: not an item
    ids = [i.id for i in items]
    pd.DataFrame({"recording": ids, "group": [f"G{k % 2}" for k in range(len(ids))]}).to_csv(groups, index=False)
    from_csv = discover_pool([pool], groups=groups, group_regex=r"^(rec\d+)_")
    assert [i.group for i in from_csv] == [f"G{k % 2}" for k in range(len(ids))]
    pd.DataFrame({"recording": ids[:2], "group": ["a", "b"]}).to_csv(groups, index=False)
    with pytest.raises(InputError, match="no group for item"):
        discover_pool([pool], groups=groups)
    with pytest.raises(InputError, match="does not match"):
        discover_pool([pool], group_regex=r"^(s\d)")
    with pytest.raises(InputError, match="not a valid regular expression"):
        discover_pool([pool], group_regex="(")


def test_discover_pool_refusals(pool, tmp_path):
    with pytest.raises(InputError, match="not found"):
        discover_pool([tmp_path / "nope"])
    with pytest.raises(InputError, match="unknown pool file type"):
        discover_pool([pool / "notes.txt"])
    (pool / "rec1_s1.flac").write_bytes(b"x")
    with pytest.raises(InputError, match="rec1_s1"):
        discover_pool([pool])
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="found in"):
        discover_pool([empty])
