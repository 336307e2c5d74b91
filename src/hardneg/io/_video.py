"""Video files, and every PyAV call hardneg makes: decoding frames in batches, and finding single frames again.

:func:`read_video_batches` decodes a file front to back into batches of RGB
frames with their times (what a mining pool scores); :func:`read_frames` finds
given frames again (what a snapshot shows), seeking near each one when they lie
far apart. Both compute a frame's time with :func:`frame_time_ms`, so a frame
found again has the time it was scored at.

Examples
--------
>>> sorted(VIDEO_SUFFIXES)
['.avi', '.mkv', '.mov', '.mp4']

A two-second 10 fps clip, written with PyAV, then every fifth frame in batches of two:

>>> import tempfile, av
>>> tmp = tempfile.TemporaryDirectory()
>>> with av.open(f"{tmp.name}/cam1.mp4", "w") as out:
...     stream = out.add_stream("mpeg4", rate=10)
...     stream.width, stream.height = 32, 24
...     for i in range(20):
...         out.mux(stream.encode(av.VideoFrame.from_ndarray(np.full((24, 32, 3), 10 * i, np.uint8), format="rgb24")))
...     out.mux(stream.encode())
>>> for frames, span in read_video_batches(f"{tmp.name}/cam1.mp4", stride=5, batch_size=2):
...     frames.shape, span.frame, span.start_ms
((2, 24, 32, 3), array([0, 5]), array([  0., 500.]))
((2, 24, 32, 3), array([10, 15]), array([1000., 1500.]))
>>> tmp.cleanup()
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from hardneg.errors import InputError
from hardneg.io._windows import WindowSpan

__all__ = [
    "SEEK_GAP_MS",
    "TIME_TOLERANCE_MS",
    "VIDEO_SUFFIXES",
    "count_frames",
    "frame_time_ms",
    "import_av",
    "read_frames",
    "read_video_batches",
    "seek_frames",
]

#: File suffixes read as video.
VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".mkv", ".avi"})
#: Seek instead of decoding on when the next wanted frame is further ahead than this.
SEEK_GAP_MS = 2000.0
#: Two frame times closer than this are the same frame (times are recomputed the same way as when decoding).
TIME_TOLERANCE_MS = 1e-3


def import_av():
    """Import PyAV, or raise an :class:`InputError` saying how to install it."""
    try:
        import av
    except ImportError:
        raise InputError("reading video needs PyAV: pip install 'hardneg[video]'") from None
    return av


def frame_time_ms(frame, number: int, frame_ms: float) -> float:
    """A decoded frame's time: its presentation time, or ``number * frame_ms`` when it has none."""
    return float(frame.pts * frame.time_base * 1000) if frame.pts is not None else number * frame_ms


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def read_video_batches(
    path: str | Path,
    *,
    stride: int = 1,
    batch_size: int = 256,
    take: Callable[[tuple, np.dtype], np.ndarray] | None = None,
    size: Callable[[int, int], tuple[int, int]] | None = None,
) -> Iterator[tuple[np.ndarray, WindowSpan]]:
    """Decode every ``stride``-th frame of the first video stream into batches of ``(N, H, W, 3)`` uint8 RGB.

    Each batch comes with a :class:`~hardneg.io.WindowSpan`: ``frame`` is
    the index among all decoded frames, ``start_ms`` its time, ``end_ms`` the
    next frame's. Every batch but the last is full, unless the frame size
    changes. ``take(shape, dtype)`` supplies the batch arrays (reused buffers,
    say); by default each batch is a new array. ``size(width, height)`` gives
    the ``(width, height)`` each frame is resized to, by PyAV (libswscale's
    bilinear scaling) in the same step as the conversion to RGB; by default
    frames keep their size.

    Raises
    ------
    InputError
        If PyAV is missing, or the file has no video stream or cannot be decoded
        (possibly after some batches were yielded).
    """
    av = import_av()
    path = Path(path)
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise InputError(f"{path}: no video stream; remove it from the pool")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"  # frame-level threads: decoding is the cost here
            rate = stream.average_rate or stream.guessed_rate
            frame_ms = 1000.0 / float(rate) if rate else 0.0
            take = take if take is not None else (lambda shape, dtype: np.empty(shape, dtype=dtype))
            batch, filled = None, 0
            index: list[int] = []
            times: list[float] = []
            for number, frame in enumerate(container.decode(stream)):
                if number % stride:
                    continue  # decoded (later frames depend on it) but not converted
                if size is None:
                    image = frame.to_ndarray(format="rgb24")  # a view of the converted frame
                else:
                    width, height = size(frame.width, frame.height)
                    image = frame.to_ndarray(format="rgb24", width=width, height=height, interpolation="BILINEAR")
                if batch is not None and (image.shape != batch.shape[1:] or filled == batch_size):
                    yield _frame_batch(batch, filled, index, times, frame_ms)
                    batch, filled, index, times = None, 0, [], []
                if batch is None:
                    # Frames are copied straight into the batch: one copy per frame, no list to stack.
                    batch = take((batch_size, *image.shape), np.uint8)
                batch[filled] = image
                filled += 1
                index.append(number)
                times.append(frame_time_ms(frame, number, frame_ms))
            # A batch is handed on only when the next kept frame arrives, so the last one is never empty.
            if filled:
                yield _frame_batch(batch, filled, index, times, frame_ms)
            else:
                raise InputError(f"{path}: no video frames could be decoded; check that the file is complete")
    except InputError:
        raise
    except (av.FFmpegError, OSError, ValueError, RuntimeError) as error:
        raise InputError(
            f"{path}: cannot be decoded as video ({_first_line(error)}); check that the file is complete"
        ) from None


def _frame_batch(batch, filled, index, times, frame_ms):
    start = np.asarray(times, dtype=np.float64)
    frames = batch if filled == len(batch) else batch[:filled]
    return frames, WindowSpan(start, start + frame_ms, np.asarray(index, dtype=np.int64))


def read_frames(path: str | Path, wanted: dict[int, float]) -> dict[int, np.ndarray]:
    """The frames ``wanted`` (frame index -> time in ms, as decoding gave them) as RGB arrays.

    Frames are found by time with :func:`seek_frames`; those it cannot find (no
    timestamps, a container that seeks badly) are counted from the start with
    :func:`count_frames`. A frame found neither way is left out.

    Raises
    ------
    InputError
        If the file cannot be decoded.
    """
    av = import_av()
    try:
        try:
            images = seek_frames(path, wanted)
        except av.FFmpegError:
            images = {}  # a container that cannot seek: counting from the start below still works
        missing = {frame: start for frame, start in wanted.items() if frame not in images}
        if missing:  # no timestamps, or a container that seeks badly: count frames from the start instead
            images.update(count_frames(path, missing))
    except av.FFmpegError as error:
        named = f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''}"
        raise InputError(f"{path}: cannot be decoded as video ({named.rstrip(': ')})") from None
    return images


def seek_frames(path: str | Path, wanted: dict[int, float]) -> dict[int, np.ndarray]:
    """Frames found by presentation time, seeking to the keyframe before each far-away one."""
    av = import_av()
    found: dict[int, np.ndarray] = {}
    with av.open(str(path)) as container:
        if not container.streams.video:
            raise InputError(f"{path}: no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        time_base = stream.time_base
        if time_base is None:
            return found
        decoder, current, current_ms = None, None, -np.inf
        for frame_no, target_ms in sorted(wanted.items(), key=lambda kv: (kv[1], kv[0])):
            if decoder is None or target_ms < current_ms - TIME_TOLERANCE_MS or target_ms - current_ms > SEEK_GAP_MS:
                container.seek(max(0, int(np.floor(target_ms / 1000.0 / float(time_base)))), stream=stream,
                               backward=True, any_frame=False)  # fmt: skip
                decoder, current, current_ms = container.decode(stream), None, -np.inf
            while current is None or current_ms < target_ms - TIME_TOLERANCE_MS:
                current = next(decoder, None)
                if current is None:
                    break
                if current.pts is None:
                    return found  # no timestamps to find frames by: the caller counts frames instead
                current_ms = frame_time_ms(current, 0, 0.0)
            if current is None:
                decoder = None
                continue
            if abs(current_ms - target_ms) <= TIME_TOLERANCE_MS:
                found[frame_no] = current.to_ndarray(format="rgb24")
    return found


def count_frames(path: str | Path, wanted: dict[int, float]) -> dict[int, np.ndarray]:
    """Frames by index among all decoded frames, decoding from the start up to the last one wanted."""
    av = import_av()
    found: dict[int, np.ndarray] = {}
    last = max(wanted)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for number, frame in enumerate(container.decode(stream)):
            if number in wanted:
                found[number] = frame.to_ndarray(format="rgb24")
            if number >= last:
                break
    return found
