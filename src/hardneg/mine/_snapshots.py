"""Snapshots of mined candidates: what a reviewer looks at before a hard negative goes into the dataset.

For each item that has candidates, :func:`write_snapshots` reads only what the
candidates need and writes, under ``OUT/snapshots/<item>/``:

- video: one JPEG per kept frame, ``<item>_f<frame>.jpg`` (seeks near each
  frame instead of decoding the whole file when the frames are far apart);
- images: the image itself as ``<item>_f<frame>.jpg`` (a JPEG is copied, other
  formats are converted);
- audio: the clip as ``<item>_<start>ms.wav`` and its spectrogram as
  ``<item>_<start>ms.png``;
- sensor logs: ``<item>_<start>ms.png``, every channel of the window with a
  second of context either side, the window shaded.

Every file is written atomically (temporary name, then rename) and, where the
format allows, the same candidates give the same bytes: PNGs carry no date or
software version, figures have a fixed size and DPI, WAV and JPEG have no clock.
"""

from __future__ import annotations

import hashlib
import io
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from hardneg._atomic import write_bytes_atomic
from hardneg.errors import InputError
from hardneg.io import JPEG_SUFFIXES, image_files, load_rgb, read_frames, samples_per_window
from hardneg.score import PoolItem, read_recording

__all__ = [
    "DPI",
    "JPEG_QUALITY",
    "SENSOR_FIGSIZE",
    "SNAPSHOT_DIR",
    "SPECTROGRAM_FIGSIZE",
    "ms_label",
    "safe_name",
    "write_snapshots",
]

SNAPSHOT_DIR = "snapshots"
JPEG_QUALITY = 90
DPI = 100
#: Figure sizes in inches; at :data:`DPI` the PNGs are 1000 x 400 (sensor) and 800 x 350 (spectrogram) pixels.
SENSOR_FIGSIZE = (10.0, 4.0)
SPECTROGRAM_FIGSIZE = (8.0, 3.5)
CONTEXT_MS = 1000.0
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_MAX_NAME = 100


def safe_name(name: str) -> str:
    """A file name made of ``[A-Za-z0-9._-]`` only, distinct for distinct inputs.

    Other characters become ``_``; a name that had to change (or is too long)
    gets a short hash of the original appended, so ``"a b"`` and ``"a_b"`` do
    not land on one file.

    Examples
    --------
    >>> safe_name("rec_01.day-2")
    'rec_01.day-2'
    >>> safe_name("cam 3/ä")
    'cam_3__-02be2997'
    """
    cleaned = _UNSAFE.sub("_", name)
    if cleaned.startswith("."):  # no hidden files, no "." or ".."
        cleaned = "_" + cleaned[1:]
    if cleaned == name and 0 < len(cleaned) <= _MAX_NAME:
        return cleaned
    return f"{cleaned[:_MAX_NAME]}-{hashlib.sha1(name.encode()).hexdigest()[:8]}"


def ms_label(value: float) -> str:
    """A time in ms as file names and review keys write it: whole milliseconds without a fraction, else 3 decimals.

    Examples
    --------
    >>> ms_label(1500.0), ms_label(22.675736), ms_label(0.5)
    ('1500', '22.676', '0.5')
    """
    value = float(value)
    if abs(value - round(value)) < 1e-6:
        return str(round(value))
    return f"{value:.3f}".rstrip("0").rstrip(".")


def write_snapshots(
    candidates: pd.DataFrame,
    items: Sequence[PoolItem],
    out_dir: str | Path,
    *,
    window_ms: float,
    time_col: str = "t_ms",
    channels: Sequence[str | int] | None = None,
) -> pd.DataFrame:
    """Write a review snapshot per candidate into ``out_dir/snapshots/`` and say where each went.

    The folder is rebuilt from scratch, so a resumed run, whose candidates are
    the same, ends with the same files. An item (or one candidate) that cannot
    be snapshotted does not stop the rest: its rows get ``snapshot = None`` and
    the reason in ``snapshot_error``.

    Parameters
    ----------
    candidates : pandas.DataFrame
        ``item, group, start_ms, end_ms, score``, plus ``frame`` for video and images.
    items : sequence of PoolItem
        The pool; candidates are matched to items by id.
    out_dir : path
        The mining output folder.
    window_ms : float
        Window length used for mining (sensor and audio).
    time_col, channels
        As given to :func:`hardneg.score.iter_windows`: the snapshot shows the channels the scorer saw.

    Returns
    -------
    pandas.DataFrame
        ``candidates`` (same rows, same order) plus ``snapshot`` (paths relative
        to ``out_dir``, ``;``-separated when a candidate has two files, e.g. the
        audio PNG and WAV) and ``snapshot_error``.

    Examples
    --------
    A three-second audio item with one candidate second:

    >>> import tempfile, soundfile
    >>> from hardneg.score import discover_pool
    >>> tmp = tempfile.TemporaryDirectory()
    >>> soundfile.write(f"{tmp.name}/rec1.wav", np.zeros(48000, np.float32), 16000)
    >>> items = discover_pool([f"{tmp.name}/rec1.wav"])
    >>> candidates = pd.DataFrame({"item": ["rec1"], "group": ["rec1"], "start_ms": [1500.0], "end_ms": [2500.0],
    ...                            "score": [0.9]})
    >>> table = write_snapshots(candidates, items, f"{tmp.name}/mined", window_ms=1000)
    >>> table.loc[0, "snapshot"]
    'snapshots/rec1/rec1_1500ms.png;snapshots/rec1/rec1_1500ms.wav'
    >>> tmp.cleanup()
    """
    out_dir = Path(out_dir)
    root = out_dir / SNAPSHOT_DIR
    if root.exists():
        shutil.rmtree(root)  # rebuilt from the candidates: nothing stale from an earlier or killed run
    result = candidates.reset_index(drop=True).copy()
    paths: list[str | None] = [None] * len(result)
    errors: list[str | None] = [None] * len(result)
    by_id = {item.id: item for item in items}
    for item_id, rows in result.groupby("item", sort=False).groups.items():
        rows = np.asarray(rows)
        item = by_id.get(str(item_id))
        if item is None:
            for row in rows:
                errors[row] = f"item {item_id!r} is not in the pool"
            continue
        folder = root / safe_name(item.id)
        try:
            written = _SNAPSHOTTERS[item.kind](
                item, result.loc[rows], folder, window_ms=window_ms, time_col=time_col, channels=channels
            )
        except Exception as error:  # noqa: BLE001 - a snapshot is a by-product; one bad file must not sink the run
            reason = _reason(error)
            for row in rows:
                errors[row] = reason
            continue
        for row, outcome in written.items():
            if isinstance(outcome, Exception):
                errors[row] = _reason(outcome)
            else:
                paths[row] = ";".join(path.relative_to(out_dir).as_posix() for path in outcome)
    result["snapshot"] = pd.Series(paths, index=result.index, dtype=object)
    result["snapshot_error"] = pd.Series(errors, index=result.index, dtype=object)
    return result


def _reason(error: BaseException) -> str:
    text = str(error).strip()
    first = text.splitlines()[0] if text else ""
    return first if isinstance(error, InputError) else f"{type(error).__name__}: {first}".rstrip(": ")


# ----------------------------------------------------------------------------- video and images


def _jpeg(rgb: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8), mode="RGB").save(
        buffer, format="JPEG", quality=JPEG_QUALITY
    )
    return buffer.getvalue()


def _video(item: PoolItem, rows: pd.DataFrame, folder: Path, **_) -> dict:
    wanted = {int(frame): float(start) for frame, start in zip(rows["frame"], rows["start_ms"], strict=True)}
    images = read_frames(item.path, wanted)
    out = {}
    stem = safe_name(item.id)
    for row, frame in zip(rows.index, rows["frame"], strict=True):
        frame = int(frame)
        if frame not in images:
            out[row] = InputError(f"{item.path}: frame {frame} not found; the video may be shorter than when mined")
            continue
        out[row] = [write_bytes_atomic(folder / f"{stem}_f{frame}.jpg", _jpeg(images[frame]))]
    return out


def _image(item: PoolItem, rows: pd.DataFrame, folder: Path, **_) -> dict:
    files = image_files(item.path)
    stem = safe_name(item.id)
    out = {}
    for row, frame in zip(rows.index, rows["frame"], strict=True):
        frame = int(frame)
        if not 0 <= frame < len(files):
            out[row] = InputError(f"{item.path}: no image number {frame}; the folder changed since mining")
            continue
        source = files[frame]
        try:
            if source.suffix.lower() in JPEG_SUFFIXES:
                data = source.read_bytes()  # already a JPEG: the reviewer sees the original bytes
            else:
                data = _jpeg(load_rgb(source))
        except Exception as error:  # noqa: BLE001 - reported per candidate
            out[row] = InputError(f"{source}: cannot be read as an image ({_reason(error)})")
            continue
        out[row] = [write_bytes_atomic(folder / f"{stem}_f{frame}.jpg", data)]
    return out


# ----------------------------------------------------------------------------- audio


_WAV_INTEGER = {"PCM_16", "PCM_24", "PCM_32", "PCM_U8"}


def _audio(item: PoolItem, rows: pd.DataFrame, folder: Path, *, window_ms: float, channels=None, **_) -> dict:
    import soundfile

    stem = safe_name(item.id)
    out = {}
    with soundfile.SoundFile(str(item.path)) as audio:
        rate, n_frames = float(audio.samplerate), int(audio.frames)
        keep = None
        if channels:
            keep = np.array([int(c) for c in channels], dtype=np.int64)
            if ((keep < 0) | (keep >= audio.channels)).any():
                raise InputError(f"{item.path}: channel index out of range; the file has {audio.channels}")
        # Integer PCM is read and written as int32, float as float: the clip holds the file's own samples, bit for bit.
        subtype = (
            audio.subtype if audio.subtype in _WAV_INTEGER else ("DOUBLE" if audio.subtype == "DOUBLE" else "FLOAT")
        )
        dtype = "int32" if subtype in _WAV_INTEGER else ("float64" if subtype == "DOUBLE" else "float32")
        length = samples_per_window(window_ms, rate)  # as the pool cut it
        for row, start_ms, end_ms, score in zip(
            rows.index, rows["start_ms"], rows["end_ms"], rows["score"], strict=True
        ):
            start = round(float(start_ms) * rate / 1000.0)
            stop = min(start + length, n_frames)
            if not 0 <= start < stop:
                out[row] = InputError(f"{item.path}: clip at {start_ms:g} ms lies outside the file")
                continue
            audio.seek(start)
            clip = audio.read(stop - start, dtype=dtype, always_2d=True)
            if len(clip) != stop - start:
                out[row] = InputError(f"{item.path}: audio ends before {end_ms:g} ms; the file is truncated")
                continue
            clip = clip[:, keep] if keep is not None else clip
            wav = io.BytesIO()
            soundfile.write(wav, clip, int(audio.samplerate), subtype=subtype, format="WAV")
            base = f"{stem}_{ms_label(start_ms)}ms"
            png = _spectrogram_png(clip, rate, dtype, item.id, float(start_ms), float(end_ms), float(score))
            out[row] = [
                write_bytes_atomic(folder / f"{base}.png", png),
                write_bytes_atomic(folder / f"{base}.wav", wav.getvalue()),
            ]
    return out


def _figure(figsize):
    import matplotlib.style
    from matplotlib.figure import Figure

    with matplotlib.style.context("default"):
        return Figure(figsize=figsize, dpi=DPI, layout="constrained")


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})  # no version string, no date
    return buffer.getvalue()


def _spectrogram_png(clip: np.ndarray, rate: float, dtype: str, item: str, start_ms, end_ms, score) -> bytes:
    import matplotlib
    from matplotlib import mlab

    signal = clip.astype(np.float64).mean(axis=1)
    if dtype == "int32":
        signal /= 2.0**31
    nfft = int(min(256, max(16, 2 ** int(np.floor(np.log2(max(len(signal), 1)))))))
    power, freqs, times = mlab.specgram(signal, NFFT=nfft, Fs=rate, noverlap=nfft // 2)
    decibels = 10.0 * np.log10(power + 1e-12)  # a silent clip stays finite
    with matplotlib.rc_context({"font.size": 9}):
        fig = _figure(SPECTROGRAM_FIGSIZE)
        ax = fig.add_subplot(1, 1, 1)
        t0 = start_ms / 1000.0
        half = (times[1] - times[0]) / 2 if len(times) > 1 else nfft / rate / 2
        image = ax.imshow(
            decibels, origin="lower", aspect="auto", cmap="magma", interpolation="nearest",
            extent=(t0 + times[0] - half, t0 + times[-1] + half, freqs[0], freqs[-1]),
        )  # fmt: skip
        fig.colorbar(image, ax=ax, label="dB")
        ax.set_xlabel("time (s)")
        ax.set_ylabel("frequency (Hz)")
        ax.set_title(f"{item}  {start_ms:.0f}-{end_ms:.0f} ms  score {score:.3f}")
        return _png(fig)


# ----------------------------------------------------------------------------- sensor logs


def _sensor(item: PoolItem, rows: pd.DataFrame, folder: Path, *, window_ms: float, time_col="t_ms",
            channels=None) -> dict:  # fmt: skip
    import matplotlib

    recording = read_recording(item, time_col, channels, {})
    n = recording.n_samples
    if n == 0:
        raise InputError(f"{item.path}: no samples")
    stem = safe_name(item.id)
    out = {}
    for row, start_ms, end_ms, score in zip(rows.index, rows["start_ms"], rows["end_ms"], rows["score"], strict=True):
        first = int(max(0, recording.first_sample_at_or_after(float(start_ms) - CONTEXT_MS)))
        last = int(min(n, recording.first_sample_at_or_after(float(end_ms) + CONTEXT_MS) + 1))
        if first >= last:
            out[row] = InputError(f"{item.path}: window at {start_ms:g} ms lies outside the recording")
            continue
        times = recording.sample_time_ms(np.arange(first, last)) / 1000.0
        with matplotlib.rc_context({"font.size": 9}):
            fig = _figure(SENSOR_FIGSIZE)
            ax = fig.add_subplot(1, 1, 1)
            ax.axvspan(float(start_ms) / 1000.0, float(end_ms) / 1000.0, color="#f0b429", alpha=0.25, linewidth=0,
                       label="window")  # fmt: skip
            for name, values in zip(recording.channels, recording.data, strict=True):
                ax.plot(times, np.asarray(values[first:last], dtype=np.float64), linewidth=0.9, label=str(name))
            if last - first > 1:
                ax.set_xlim(times[0], times[-1])
            ax.set_xlabel("time (s)")
            ax.set_title(f"{item.id}  {float(start_ms):.0f}-{float(end_ms):.0f} ms  score {float(score):.3f}")
            ax.legend(loc="upper right", fontsize=7, ncols=min(len(recording.channels) + 1, 6))
            png = _png(fig)
        out[row] = [write_bytes_atomic(folder / f"{stem}_{ms_label(start_ms)}ms.png", png)]
    return out


_SNAPSHOTTERS = {"video": _video, "image": _image, "audio": _audio, "sensor": _sensor}
