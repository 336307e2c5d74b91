"""Pools for mining: find the items (files, recordings, image folders) and stream them as batches of windows.

An item is one sensor log, WFDB record, audio file, video file or folder of
images. :func:`discover_pool` lists the items and their groups;
:func:`iter_windows` turns one item into batches that a scorer takes, each with
its window table (``item, group, start_ms, end_ms``, plus ``frame`` for video
and images). Memory is bounded by the batch: audio is read block by block,
video decoded frame by frame; a sensor recording is read once and windows are
gathered from it a batch at a time.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from hardneg.errors import InputError
from hardneg.io.audio import AUDIO_SUFFIXES, channel_indices, import_soundfile
from hardneg.io.groups import read_groups_csv
from hardneg.io.recording import SAMPLE_TOLERANCE

SENSOR_SUFFIXES = frozenset({".csv", ".parquet", ".hea"})
VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".mkv", ".avi"})
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png"})
KINDS = ("sensor", "audio", "video", "image")
SHORT_ITEMS = ("pad", "skip")

#: Columns of a window table before scoring (video and image tables add ``frame``).
WINDOW_COLUMNS = ["item", "group", "start_ms", "end_ms"]


@dataclass(frozen=True)
class PoolItem:
    """One item of a mining pool.

    Parameters
    ----------
    id : str
        File stem (folder name for an image folder); unique in the pool.
    group : str
        Recorder, subject, session...: from a groups CSV, a regex, or the id.
    path : pathlib.Path
        The file, or the folder for ``kind="image"`` (a single image file is allowed too).
    kind : str
        ``sensor``, ``audio``, ``video`` or ``image``.

    Examples
    --------
    >>> PoolItem("s01", "rec_a", Path("pool/s01.csv"), "sensor").kind
    'sensor'
    """

    id: str
    group: str
    path: Path
    kind: str


def discover_pool(
    paths: Sequence[str | Path],
    *,
    group_regex: str | None = None,
    groups: Mapping[str, str] | str | Path | None = None,
) -> list[PoolItem]:
    """List the items of a pool: files given directly, and what folders hold.

    Folders are searched recursively, in name order. The kind comes from the
    suffix (``.csv``/``.parquet``/``.hea`` sensor, ``.wav``/``.flac`` audio,
    ``.mp4``/``.mov``/``.mkv``/``.avi`` video); each folder that directly holds
    ``.jpg``/``.png`` files is one image item. Other files inside folders are
    ignored (``.dat``/``.atr`` of WFDB records, notes); a file named directly
    with an unknown suffix is refused.

    Parameters
    ----------
    paths : sequence of path
        Files and folders.
    group_regex : str, optional
        Searched in each file name (folder name for image items); its first
        capture group (the whole match when it has none) is the group.
    groups : mapping or path, optional
        ``item -> group``, or a CSV with columns ``recording,group``. It wins
        over ``group_regex``; an item it lacks takes the regex's group, or is
        refused when there is no regex (a silent fallback would hide leakage).

    Returns
    -------
    list of PoolItem
        In the order found. Without ``groups`` or ``group_regex`` the group is the id.

    Raises
    ------
    InputError
        A missing path, an unknown suffix, two items with one id, a name the
        regex does not match, an item missing from ``groups``, an empty pool.

    Examples
    --------
    >>> items = discover_pool(["pool/"], group_regex=r"^(rec\\d+)_")  # doctest: +SKIP
    >>> [(item.id, item.group, item.kind) for item in items]  # doctest: +SKIP
    [('rec1_day1', 'rec1', 'audio'), ('rec1_day2', 'rec1', 'audio'), ('rec2_day1', 'rec2', 'video')]
    """
    if not paths:
        raise InputError("no pool given; pass one or more files or folders to mine")
    pattern = _compile_group_regex(group_regex)
    groups_file = Path(groups).resolve() if isinstance(groups, (str, Path)) else None
    mapping = (read_groups_csv(groups) if groups_file is not None else dict(groups)) if groups is not None else None
    source = str(groups) if groups_file is not None else "the groups mapping"

    found: list[tuple[str, Path, str]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(entry for entry in _walk(path) if groups_file is None or entry[1].resolve() != groups_file)
        elif path.is_file():
            kind = _kind_of(path)
            if kind is None:
                raise InputError(
                    f"{path}: unknown pool file type {path.suffix!r}; use "
                    f"{', '.join(sorted(SENSOR_SUFFIXES | AUDIO_SUFFIXES | VIDEO_SUFFIXES | IMAGE_SUFFIXES))} "
                    "or a folder"
                )
            found.append((path.stem, path, kind))
        else:
            raise InputError(f"{path}: pool file or folder not found")
    if not found:
        shown = ", ".join(str(p) for p in list(paths)[:3]) + (", ..." if len(paths) > 3 else "")
        raise InputError(f"no sensor logs, audio, video or image folders found in {shown}; check the pool paths")

    seen: dict[str, Path] = {}
    items = []
    for item_id, path, kind in found:
        if item_id in seen:
            raise InputError(
                f"item id {item_id!r} comes from both {seen[item_id]} and {path}; item ids are file stems, "
                "so rename one of them"
            )
        seen[item_id] = path
        if mapping is not None and item_id in mapping:
            group = str(mapping[item_id])
        elif pattern is not None:
            group = _group_from_name(pattern, path)
        elif mapping is not None:
            missing = [i for i, _, _ in found if i not in mapping]
            shown = ", ".join(missing[:8]) + (", ..." if len(missing) > 8 else "")
            raise InputError(
                f"{source}: no group for item(s) {shown}; add a recording,group row for each or pass --group-regex"
            )
        else:
            group = item_id
        items.append(PoolItem(item_id, group, path, kind))
    return items


def iter_windows(
    item: PoolItem,
    *,
    window_ms: float | None = None,
    hop_ms: float | None = None,
    stride: int = 1,
    short_items: str = "pad",
    batch_size: int = 256,
    time_col: str = "t_ms",
    channels: Sequence[str | int] | None = None,
    raw_spans: bool = False,
    buffers=None,
    **reader_options,
) -> Iterator[tuple[np.ndarray, pd.DataFrame]]:
    """Stream one pool item as batches of windows with their window table.

    Sensor logs and audio are cut into windows of ``window_ms`` that start at
    the item's first sample and step by ``hop_ms``; a window is made only when
    all its samples exist. An item shorter than one window gives one window,
    zero-padded at the end (``short_items="pad"``), or none (``"skip"``).
    Window ``k`` starts at the first sample at or after ``t0 + k * hop_ms``;
    ``start_ms`` is that sample's time and ``end_ms = start_ms + window_ms``.
    Video gives every ``stride``-th decoded frame (``frame`` is its index among
    all decoded frames, ``start_ms`` its presentation time, ``end_ms`` the next
    frame's); an image folder gives one image per file in name order
    (``frame`` is the index, ``start_ms = end_ms = frame``: images have no clock).

    Parameters
    ----------
    item : PoolItem
    window_ms : float
        Window length (sensor and audio; ignored for video and images).
    hop_ms : float, optional
        Step between window starts; default half the window.
    stride : int
        Keep every ``stride``-th video frame, starting with the first.
    short_items : {"pad", "skip"}
    batch_size : int
        Windows (frames, images) per batch; every batch but the last of an
        item is full (an image folder of mixed sizes also ends a batch where
        the size changes).
    time_col : str
        Time column of CSV/Parquet logs.
    channels : sequence, optional
        Sensor: channel columns (WFDB: signal names), in this order. Audio:
        channel indices. Default: all.
    **reader_options
        More options of :func:`hardneg.io.read_sensor_logs` for CSV/Parquet
        logs (``time_unit``, ``resample_hz``, ``sort_time``).

    Yields
    ------
    batch : numpy.ndarray
        Sensor and audio: ``(N, channels, samples)`` float32; video and
        images: ``(N, H, W, 3)`` uint8 RGB.
    windows : pandas.DataFrame
        ``item, group, start_ms, end_ms`` (float64), plus ``frame`` (int64)
        for video and images; one row per batch entry.

    Raises
    ------
    InputError
        A bad option, or an item that cannot be read (naming its file). It can
        come after some batches were yielded, for a file damaged midway.

    With ``raw_spans=True`` each batch comes with a :class:`WindowSpan` of arrays instead of a table, which
    saves building a DataFrame per batch where only the arrays are needed (the mining engine). With
    ``buffers`` (a :class:`hardneg.mine.prefetch.BatchBuffers`) video batches are drawn from those reused
    arrays, and the caller must ``give`` each batch back once it is done with it.

    Examples
    --------
    >>> item = PoolItem("s01", "s01", Path("pool/s01.wav"), "audio")  # doctest: +SKIP
    >>> for batch, windows in iter_windows(item, window_ms=1000, hop_ms=500, batch_size=64):  # doctest: +SKIP
    ...     scores = scorer(batch)
    >>> batch.shape  # doctest: +SKIP
    (13, 2, 8000)
    """
    if item.kind not in KINDS:
        raise InputError(f"{item.path}: unknown pool item kind {item.kind!r}; use one of {', '.join(KINDS)}")
    if short_items not in SHORT_ITEMS:
        raise InputError(f"--short-items {short_items!r} is not one of: {', '.join(SHORT_ITEMS)}")
    if int(batch_size) < 1:
        raise InputError(f"--batch-size must be at least 1, got {batch_size}")
    if int(stride) < 1:
        raise InputError(f"--stride must be at least 1, got {stride}")
    batch_size, stride = int(batch_size), int(stride)
    if item.kind in ("sensor", "audio"):
        if window_ms is None or not window_ms > 0:
            raise InputError(f"--window-ms must be > 0 to cut {item.kind} items into windows, got {window_ms}")
        hop_ms = window_ms / 2.0 if hop_ms is None else hop_ms
        if not hop_ms > 0:
            raise InputError(f"--hop-ms must be > 0, got {hop_ms}")
    if item.kind == "sensor":
        spans = _sensor_windows(item, window_ms, hop_ms, short_items, batch_size, time_col, channels, reader_options)
    elif item.kind == "audio":
        spans = _audio_windows(item, window_ms, hop_ms, short_items, batch_size, channels)
    elif item.kind == "video":
        spans = _video_frames(item, stride, batch_size, buffers)
    else:
        spans = _image_batches(item, batch_size)
    if raw_spans:
        return spans
    return ((batch, _window_table(item, *span)) for batch, span in spans)


def image_files(folder: str | Path) -> list[Path]:
    """The images of an image item in the order :func:`iter_windows` gives them (``frame`` indexes this list).

    Examples
    --------
    >>> image_files("pool/cam3")[0].name  # doctest: +SKIP
    '000001.jpg'
    """
    folder = Path(folder)
    if folder.is_file():
        return [folder]
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


# ----------------------------------------------------------------------------- discovery


def _kind_of(path: Path) -> str | None:
    suffix = path.suffix.lower()
    if suffix in SENSOR_SUFFIXES:
        return "sensor"
    if suffix in AUDIO_SUFFIXES:
        return "audio"
    if suffix in VIDEO_SUFFIXES:
        return "video"
    if suffix in IMAGE_SUFFIXES:
        return "image"
    return None


def _walk(folder: Path) -> Iterator[tuple[str, Path, str]]:
    """Items under a folder, depth first in name order; a folder holding images is one image item."""
    entries = sorted(folder.iterdir(), key=lambda p: p.name)
    if any(p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES for p in entries):
        yield folder.name, folder, "image"
    for path in entries:
        if path.is_dir():
            yield from _walk(path)
        elif path.is_file():
            kind = _kind_of(path)
            if kind is not None and kind != "image":
                yield path.stem, path, kind


def _compile_group_regex(group_regex: str | None) -> re.Pattern | None:
    if group_regex is None:
        return None
    try:
        return re.compile(group_regex)
    except re.error as error:
        raise InputError(f"--group-regex {group_regex!r} is not a valid regular expression ({error})") from None


def _group_from_name(pattern: re.Pattern, path: Path) -> str:
    match = pattern.search(path.name)
    if match is None:
        raise InputError(
            f"{path}: --group-regex {pattern.pattern!r} does not match the name {path.name!r}; "
            "fix the regex or give this item's group in --groups"
        )
    group = match.group(1) if pattern.groups else match.group(0)
    if not group:
        raise InputError(
            f"{path}: --group-regex {pattern.pattern!r} captures an empty group from {path.name!r}; fix the regex"
        )
    return group


# ----------------------------------------------------------------------------- window arithmetic


@dataclass(frozen=True)
class _Plan:
    """Where the windows of an item lie, in samples."""

    length: int  # samples per window
    hop: float  # samples per hop (need not be whole)
    count: int  # full windows
    padded: bool  # one zero-padded window for a short item

    def starts(self, first: int, stop: int) -> np.ndarray:
        """Start samples of windows ``first..stop-1``: the first sample at or after ``k * hop``."""
        return np.ceil(np.arange(first, stop, dtype=np.float64) * self.hop - SAMPLE_TOLERANCE).astype(np.int64)


def _plan(n_samples: int, rate: float, window_ms: float, hop_ms: float, short_items: str, path) -> _Plan:
    # Same rounding as the sampler (hardneg.sample.samples_per_window), so a scorer trained on
    # sampled windows gets windows of the length it was trained on.
    length = int(np.floor(window_ms * rate / 1000.0 + SAMPLE_TOLERANCE))
    if length < 1:
        raise InputError(
            f"{path}: --window-ms {window_ms:g} holds no whole sample at {rate:g} Hz; use at least {1000.0 / rate:g}"
        )
    hop = hop_ms * rate / 1000.0
    if hop < 1.0 - SAMPLE_TOLERANCE:
        raise InputError(
            f"{path}: --hop-ms {hop_ms:g} is shorter than one sample at {rate:g} Hz; use at least {1000.0 / rate:g}"
        )
    if n_samples < length:
        return _Plan(length, hop, int(short_items == "pad" and n_samples > 0), short_items == "pad")
    count = int(np.floor((n_samples - length) / hop + SAMPLE_TOLERANCE)) + 1
    # Float error could put the last start one sample late; drop it rather than read past the end.
    while count and _Plan(length, hop, count, False).starts(count - 1, count)[0] + length > n_samples:
        count -= 1
    return _Plan(length, hop, count, False)


class WindowSpan(NamedTuple):
    """Where a batch's windows lie: start and end (ms) and, for video and images, the frame index."""

    start_ms: np.ndarray
    end_ms: np.ndarray
    frame: np.ndarray | None = None


def _window_table(item: PoolItem, start_ms: np.ndarray, end_ms: np.ndarray, frame=None) -> pd.DataFrame:
    n = len(start_ms)
    table = {
        "item": pd.Series([item.id] * n, dtype=object),
        "group": pd.Series([item.group] * n, dtype=object),
        "start_ms": np.asarray(start_ms, dtype=np.float64),
        "end_ms": np.asarray(end_ms, dtype=np.float64),
    }
    if frame is not None:
        table["frame"] = np.asarray(frame, dtype=np.int64)
    return pd.DataFrame(table)


# ----------------------------------------------------------------------------- sensor logs


def _read_recording(item: PoolItem, time_col: str, channels, reader_options: dict):
    from hardneg.io import read_sensor_logs, read_wfdb_records

    channels = [str(c) for c in channels] if channels else None
    if item.path.suffix.lower() == ".hea":
        unknown = set(reader_options) - {"annotation_extension"}
        if unknown:
            raise InputError(f"{item.path}: option(s) {', '.join(sorted(unknown))} do not apply to WFDB records")
        recordings, _ = read_wfdb_records([item.path], event_symbols=None, channels=channels)
    else:
        try:
            recordings, _ = read_sensor_logs([item.path], time_col=time_col, channels=channels, **reader_options)
        except TypeError as error:  # an option read_sensor_logs does not take
            raise InputError(f"{item.path}: bad sensor reader option ({error})") from None
    return recordings[0]


def _sensor_windows(item, window_ms, hop_ms, short_items, batch_size, time_col, channels, reader_options):
    recording = _read_recording(item, time_col, channels, reader_options)
    data = [np.asarray(values) for values in recording.data]
    n_samples = recording.n_samples
    if n_samples < 2:
        if short_items == "skip":
            return
        raise InputError(
            f"{item.path}: a single sample has no sample rate to cut windows by; remove the file or pass --short-items skip"
        )
    plan = _plan(n_samples, recording.sample_rate_hz, window_ms, hop_ms, short_items, item.path)
    if plan.padded:
        if plan.count:
            batch = np.zeros((1, len(data), plan.length), dtype=np.float32)
            for c, values in enumerate(data):
                batch[0, c, :n_samples] = values
            start = np.array([recording.t0_ms])
            yield batch, WindowSpan(start, start + window_ms)
        return
    offsets = np.arange(plan.length, dtype=np.int64)
    for first in range(0, plan.count, batch_size):
        starts = plan.starts(first, min(first + batch_size, plan.count))
        index = starts[:, None] + offsets  # (N, samples): every window by index arithmetic
        batch = np.empty((len(starts), len(data), plan.length), dtype=np.float32)
        for c, values in enumerate(data):  # a loop over channels, not windows
            batch[:, c, :] = values[index]
        start_ms = recording.sample_time_ms(starts)
        yield batch, WindowSpan(start_ms, start_ms + window_ms)


# ----------------------------------------------------------------------------- audio


def _audio_windows(item, window_ms, hop_ms, short_items, batch_size, channels):
    soundfile = import_soundfile()
    path = item.path
    try:
        with soundfile.SoundFile(str(path)) as audio:
            rate, n_frames, n_channels = float(audio.samplerate), int(audio.frames), int(audio.channels)
            keep = _audio_channels(channels, n_channels, path)
            if n_frames == 0:
                raise InputError(f"{path}: audio file has no samples; remove it from the pool")
            plan = _plan(n_frames, rate, window_ms, hop_ms, short_items, path)
            yield from _audio_batches(item, audio, plan, rate, window_ms, batch_size, keep, n_frames)
    except InputError:
        raise
    except (soundfile.SoundFileError, RuntimeError, OSError, ValueError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise InputError(f"{path}: cannot be read as audio ({reason}); check that the file is complete") from None


def _audio_channels(channels, n_channels: int, path: Path) -> np.ndarray | None:
    # The same choice as `hardneg sample` makes for audio recordings: indices, "0" or "ch0".
    return None if not channels else np.array(channel_indices(channels, n_channels, path), dtype=np.int64)


def _audio_batches(item, audio, plan: _Plan, rate, window_ms, batch_size, keep, n_frames):
    if plan.padded:
        if plan.count:
            samples = audio.read(dtype="float32", always_2d=True)
            samples = samples[:, keep] if keep is not None else samples
            batch = np.zeros((1, samples.shape[1], plan.length), dtype=np.float32)
            batch[0, :, : len(samples)] = samples.T
            yield batch, WindowSpan(np.zeros(1), np.full(1, float(window_ms)))
        return
    # The buffer holds samples [buffer_start, buffer_start + len(buffer)) as read, frames by channels;
    # each batch reads only what its windows need beyond what is already there.
    buffer = np.empty((0, len(keep) if keep is not None else audio.channels), dtype=np.float32)
    buffer_start = 0
    offsets = np.arange(plan.length, dtype=np.int64)
    for first in range(0, plan.count, batch_size):
        starts = plan.starts(first, min(first + batch_size, plan.count))
        # Drop what no window of this batch or later needs, then read up to this batch's last sample.
        gap = int(starts[0]) - (buffer_start + len(buffer))
        if gap > 0:  # a hop longer than the window: skip the samples between windows unread
            if audio.seekable():
                audio.seek(int(starts[0]))
            else:
                audio.read(gap, dtype="float32", always_2d=True)
        buffer = buffer[max(0, int(starts[0]) - buffer_start) :]
        buffer_start = int(starts[0])
        need = int(starts[-1]) + plan.length - (buffer_start + len(buffer))
        if need > 0:
            block = audio.read(need, dtype="float32", always_2d=True)
            block = block[:, keep] if keep is not None else block
            buffer = np.concatenate([buffer, block]) if len(buffer) else block
        available = buffer_start + len(buffer)
        complete = starts + plan.length <= available
        if not complete.all():
            # The header promised more frames than the file holds: a truncated file.
            raise InputError(
                f"{item.path}: audio ends at sample {available} but its header says {n_frames}; "
                "the file is truncated, re-export or remove it"
            )
        batch = buffer[(starts - buffer_start)[:, None] + offsets]  # (N, samples, channels)
        batch = np.ascontiguousarray(batch.transpose(0, 2, 1))
        start_ms = starts * (1000.0 / rate)
        yield batch, WindowSpan(start_ms, start_ms + window_ms)


# ----------------------------------------------------------------------------- video and images


def _video_frames(item, stride, batch_size, buffers=None):
    try:
        import av
    except ImportError:
        raise InputError("reading video needs PyAV: pip install av") from None
    path = item.path
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise InputError(f"{path}: no video stream; remove it from the pool")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"  # frame-level threads: decoding is the cost here
            rate = stream.average_rate or stream.guessed_rate
            frame_ms = 1000.0 / float(rate) if rate else 0.0
            take = buffers.take if buffers is not None else (lambda shape, dtype: np.empty(shape, dtype=dtype))
            batch, filled = None, 0
            index: list[int] = []
            times: list[float] = []
            for number, frame in enumerate(container.decode(stream)):
                if number % stride:
                    continue  # decoded (later frames depend on it) but not converted
                image = frame.to_ndarray(format="rgb24")  # a view of the converted frame
                if batch is not None and (image.shape != batch.shape[1:] or filled == batch_size):
                    yield _frame_batch(batch, filled, index, times, frame_ms)
                    batch, filled, index, times = None, 0, [], []
                if batch is None:
                    # Frames are copied straight into the batch: one copy per frame, no list to stack.
                    batch = take((batch_size, *image.shape), np.uint8)
                batch[filled] = image
                filled += 1
                index.append(number)
                times.append(float(frame.pts * frame.time_base * 1000) if frame.pts is not None else number * frame_ms)
            # A batch is handed on only when the next kept frame arrives, so the last one is never empty.
            if filled:
                yield _frame_batch(batch, filled, index, times, frame_ms)
            else:
                raise InputError(f"{path}: no video frames could be decoded; check that the file is complete")
    except InputError:
        raise
    except (av.FFmpegError, OSError, ValueError, RuntimeError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise InputError(f"{path}: cannot be decoded as video ({reason}); check that the file is complete") from None


def _frame_batch(batch, filled, index, times, frame_ms):
    start = np.asarray(times, dtype=np.float64)
    frames = batch if filled == len(batch) else batch[:filled]
    return frames, WindowSpan(start, start + frame_ms, np.asarray(index, dtype=np.int64))


def _image_batches(item, batch_size):
    from PIL import Image, UnidentifiedImageError

    files = image_files(item.path)
    if not files:
        raise InputError(f"{item.path}: no .jpg or .png images in this folder")
    frames: list[np.ndarray] = []
    index: list[int] = []
    for number, path in enumerate(files):
        try:
            with Image.open(path) as image:
                array = np.asarray(image.convert("RGB"), dtype=np.uint8)
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise InputError(
                f"{path}: cannot be read as an image ({reason}); check that the file is complete"
            ) from None
        if frames and (array.shape != frames[0].shape or len(frames) == batch_size):
            yield _image_batch(item, frames, index)
            frames, index = [], []
        frames.append(array)
        index.append(number)
    if frames:
        yield _image_batch(item, frames, index)


def _image_batch(item, frames, index):
    frame = np.asarray(index, dtype=np.int64)
    return np.stack(frames), WindowSpan(frame.astype(np.float64), frame.astype(np.float64), frame)
