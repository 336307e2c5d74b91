"""What the review page shows for a candidate: frames, spectrograms, audio clips and signal windows, made on demand.

Each file is made the first time it is asked for, from the pool file the
candidate was mined from, and kept under ``MINED/review_media/<item>/<key>/``
(written atomically, the same candidate giving the same bytes), so a second
look costs a file read. A URL path is served only when it is exactly the file
of a candidate's role: :meth:`ReviewMedia.resolve` answers ``None`` for
anything else, including links and paths leading out of the mined folder.

Examples
--------
>>> channel_groups(["acc_x", "acc_y", "acc_z", "gyro_x", "gyro_y", "MLII"])
[('acc', ['acc_x', 'acc_y', 'acc_z']), ('gyro', ['gyro_x', 'gyro_y']), ('MLII', ['MLII'])]
"""

from __future__ import annotations

import io
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from hardneg._atomic import write_bytes_atomic
from hardneg._schema import REVIEW_MEDIA_DIR
from hardneg.errors import InputError
from hardneg.io import (
    JPEG_SUFFIXES,
    SAMPLE_TOLERANCE,
    channel_indices,
    image_files,
    load_rgb,
    read_frames,
    samples_per_window,
)
from hardneg.mine import safe_name
from hardneg.review._candidates import ReviewSet
from hardneg.review._media_render import (
    EMBED_SIDE,
    JPEG_QUALITY,
    SPECTROGRAM_SIZE,
    gray_thumbnail,
    jpeg,
    json_floats,
    log_power,
    min_max_pairs,
    pool2d,
    spectrogram_png,
    zscore,
)
from hardneg.score import PoolItem, read_recording

__all__ = ["JPEG_QUALITY", "SIGNAL_POINTS", "SPECTROGRAM_SIZE", "ReviewMedia", "channel_groups"]

#: Most points per channel in a signal file (above it, min/max pairs of buckets).
SIGNAL_POINTS = 2000
_SENSOR_EMBED_POINTS = 32
_RECORDINGS_KEPT = 4
_WAV_INTEGER = {"PCM_16", "PCM_24", "PCM_32", "PCM_U8"}
_EXTENSIONS = {"image": "jpg", "before": "jpg", "after": "jpg", "spectrogram": "png", "audio": "wav", "signal": "json"}
_AXIS = re.compile(r"^(?P<prefix>.*?)[ _.-]?[xyzXYZ]$")


def channel_groups(names: Sequence[str]) -> list[tuple[str, list[str]]]:
    """Channels drawn in one panel: the axes of one sensor together, every other channel alone.

    A name ending in ``x``, ``y`` or ``z`` (after an optional ``_``, ``-``,
    ``.`` or space) joins the panel of its prefix when at least two channels
    share that prefix; panels come in the order their first channel does.

    Examples
    --------
    >>> channel_groups(["acc_x", "acc_y", "acc_z", "gyro_x", "gyro_y", "gyro_z"])
    [('acc', ['acc_x', 'acc_y', 'acc_z']), ('gyro', ['gyro_x', 'gyro_y', 'gyro_z'])]
    >>> channel_groups(["ax", "ay", "az", "temp"])
    [('a', ['ax', 'ay', 'az']), ('temp', ['temp'])]
    >>> channel_groups(["MLII", "V1"])
    [('MLII', ['MLII']), ('V1', ['V1'])]
    >>> channel_groups(["index", "x"])  # a lone name ending in x is not an axis
    [('index', ['index']), ('x', ['x'])]
    """
    names = [str(name) for name in names]
    prefixes = {}
    for name in names:
        match = _AXIS.match(name)
        prefixes[name] = match.group("prefix") if match and match.group("prefix") else None
    counts: dict[str, int] = {}
    for prefix in prefixes.values():
        if prefix is not None:
            counts[prefix] = counts.get(prefix, 0) + 1
    groups: dict[str, list[str]] = {}
    for name in names:
        prefix = prefixes[name]
        panel = prefix if prefix is not None and counts[prefix] > 1 else name
        groups.setdefault(panel, []).append(name)
    return list(groups.items())


class ReviewMedia:
    """The files the review page shows for each candidate of ``review``, made on first request.

    Roles by candidate kind (:meth:`roles`): video and images ``image``,
    ``before``, ``after`` (JPEG); audio ``spectrogram`` (PNG) and ``audio``
    (WAV); sensor ``signal`` (JSON); every kind ``snapshot``, ``snapshot2``...
    for the files mining wrote. Audio and sensor files cover the window and
    ``context_ms`` either side, clipped to the recording (:meth:`context`).

    Safe to call from several threads: the files of one candidate are made
    under one lock, so two requests for the same file both get it whole.
    """

    def __init__(self, review: ReviewSet, *, context_ms: float = 2000.0):
        if not np.isfinite(context_ms) or context_ms < 0:
            raise InputError(f"context_ms must be >= 0, got {context_ms!r}", parameter="context_ms")
        self.review = review
        self.mined_dir = Path(review.mined_dir)
        self.context_ms = float(context_ms)
        table = review.table
        self._item = table["item"].astype(str).tolist()
        self._group = table["group"].astype(str).tolist()
        self._key = table["key"].astype(str).tolist()
        self._kind = table["kind"].astype(str).tolist()
        self._path = table["path"].astype(str).tolist()
        self._start = table["start_ms"].to_numpy(np.float64)
        self._end = table["end_ms"].to_numpy(np.float64)
        frame = table["frame"] if "frame" in table.columns else [None] * len(table)
        self._frame = [None if pd.isna(value) else int(value) for value in frame]
        snapshot = table["snapshot"] if "snapshot" in table.columns else [None] * len(table)
        self._snapshot = [value if isinstance(value, str) and value else None for value in snapshot]
        options = review.options or {}
        self._time_col = str(options.get("time_col") or "t_ms")
        self._channels = list(options["channels"]) if options.get("channels") else None
        self._window_ms = float(options["window_ms"]) if options.get("window_ms") else None
        self._lock = threading.Lock()
        self._candidate_locks: dict[int, threading.Lock] = {}
        self._item_locks: dict[str, threading.Lock] = {}
        self._registry: dict[str, tuple[int, str]] | None = None
        self._recordings: OrderedDict[str, object] = OrderedDict()
        self._audio_info: dict[str, tuple[float, int, int]] = {}
        self._images: dict[str, list[Path]] = {}
        self._embeddings: dict[int, np.ndarray] = {}

    # ------------------------------------------------------------------ paths

    def roles(self, candidate_id: int) -> dict[str, str]:
        """Role -> path of its file, relative to the mined folder (posix); no file is read or made."""
        cid = self._check_id(candidate_id)
        base = f"{REVIEW_MEDIA_DIR}/{safe_name(self._item[cid])}/{safe_name(self._key[cid])}"
        kind = self._kind[cid]
        if kind in ("video", "image"):
            names = ["image", *(["before"] if self._frame[cid] else []), "after"]
        elif kind == "audio":
            names = ["spectrogram", "audio"]
        else:
            names = ["signal"]
        roles = {name: f"{base}/{name}.{_EXTENSIONS[name]}" for name in names}
        for number, path in enumerate((self._snapshot[cid] or "").split(";")):
            if path:
                roles["snapshot" if number == 0 else f"snapshot{number + 1}"] = path
        return roles

    def file(self, candidate_id: int, role: str) -> Path:
        """The file of ``role`` for the candidate, made if missing.

        Raises
        ------
        InputError
            One line naming the pool file, when the file cannot be made (the
            video ends before the next frame, the pool file is gone), or the role
            is unknown or its path leaves the mined folder.
        """
        cid = self._check_id(candidate_id)
        roles = self.roles(cid)
        if role not in roles:
            raise InputError(f"role must be one of {', '.join(roles)} for candidate {cid}; got {role!r}",
                             parameter="role")  # fmt: skip
        path = self.mined_dir / roles[role]
        if not self._inside(roles[role]):
            raise InputError(f"{path}: leaves {self.mined_dir} or passes through a link; it is not served")
        if role.startswith("snapshot"):
            if not path.is_file():
                raise InputError(f"{path}: snapshot missing; mine again with --snapshots")
            return path
        with self._candidate_lock(cid):
            if not path.is_file():
                self._make(cid, role, roles)
        return path

    def resolve(self, relpath: str) -> Path | None:
        """The file behind a URL path, made if missing; ``None`` unless it is exactly a role's path inside the folder.

        ``None`` for ``..``, absolute or percent-encoded paths, paths no
        candidate has, and files or folders that are links or lead out of the
        mined folder. A registered file that cannot be made raises the
        :class:`InputError` of :meth:`file`.
        """
        if not isinstance(relpath, str) or not relpath or "%" in relpath or "\\" in relpath or "\x00" in relpath:
            return None
        if relpath.startswith("/") or any(part in ("", ".", "..") for part in relpath.split("/")):
            return None
        entry = self._registry_map().get(relpath)
        if entry is None or not self._inside(relpath):
            return None
        path = self.file(*entry)
        return path if self._inside(relpath, must_exist=True) else None

    def _registry_map(self) -> dict[str, tuple[int, str]]:
        with self._lock:
            if self._registry is None:
                registry = {}
                for cid in range(len(self._key)):
                    for role, path in self.roles(cid).items():
                        registry.setdefault(path, (cid, role))
                self._registry = registry
            return self._registry

    def _inside(self, relpath: str, *, must_exist: bool = False) -> bool:
        """No link from the mined folder down to ``relpath``, and the path resolves inside the folder."""
        parts = Path(relpath).parts
        if Path(relpath).is_absolute() or ".." in parts:
            return False
        current = self.mined_dir
        for part in parts:
            current = current / part
            if current.is_symlink():
                return False
            if not current.exists():
                return not must_exist
        root = self.mined_dir.resolve()
        return current.resolve().is_relative_to(root)

    def _check_id(self, candidate_id) -> int:
        try:
            cid = int(candidate_id)
        except (TypeError, ValueError):
            cid = -1
        if not 0 <= cid < len(self._key):
            raise InputError(f"candidate_id must be in 0..{len(self._key) - 1}, got {candidate_id!r}",
                             parameter="candidate_id")  # fmt: skip
        return cid

    def _candidate_lock(self, cid: int) -> threading.Lock:
        with self._lock:
            return self._candidate_locks.setdefault(cid, threading.Lock())

    def _pool_path(self, cid: int) -> Path:
        return Path(self._path[cid])  # resolved by ReviewSet.load

    def _pool_item(self, cid: int) -> PoolItem:
        return PoolItem(self._item[cid], self._group[cid], self._pool_path(cid), self._kind[cid])

    # ------------------------------------------------------------------ making files

    def _make(self, cid: int, role: str, roles: dict[str, str]) -> None:
        kind = self._kind[cid]
        if kind == "video":
            self._make_video(cid, role, roles)
        elif kind == "image":
            self._make_image(cid, role, roles)
        elif kind == "audio":
            self._make_audio(cid, roles)
        else:
            data = json.dumps(self.signal(cid), separators=(",", ":"), allow_nan=False)
            write_bytes_atomic(self.mined_dir / roles["signal"], data)

    def _snapshot_jpeg(self, cid: int) -> bytes | None:
        for path in (self._snapshot[cid] or "").split(";"):
            if path.lower().endswith((".jpg", ".jpeg")) and self._inside(path, must_exist=True):
                return (self.mined_dir / path).read_bytes()
        return None

    def _make_video(self, cid: int, role: str, roles: dict[str, str]) -> None:
        """The missing frames of the candidate in one pass over the video (the page asks for all three)."""
        frame, start, end = self._frame[cid], float(self._start[cid]), float(self._end[cid])
        step = end - start  # a frame's window is one frame long, as decoding timed it
        offsets = {"before": -1, "image": 0, "after": 1}
        wanted = {}
        for name, offset in offsets.items():
            if name in roles and not (self.mined_dir / roles[name]).is_file():
                if name == "image" and (snapshot := self._snapshot_jpeg(cid)) is not None:
                    write_bytes_atomic(self.mined_dir / roles[name], snapshot)
                    continue
                wanted[frame + offset] = (name, start + offset * step)
        if not wanted:
            return
        images = read_frames(self._pool_path(cid), {number: time for number, (_, time) in wanted.items()})
        for number, (name, _) in wanted.items():
            if number in images:
                write_bytes_atomic(self.mined_dir / roles[name], jpeg(images[number]))
        if not (self.mined_dir / roles[role]).is_file():
            number = frame + offsets[role]
            raise InputError(f"{self._pool_path(cid)}: frame {number} not found; the video has fewer frames")

    def _image_files(self, cid: int) -> list[Path]:
        item = self._item[cid]
        with self._lock:
            files = self._images.get(item)
        if files is None:
            try:
                files = image_files(self._pool_path(cid))
            except OSError as error:
                raise InputError(f"{self._pool_path(cid)}: cannot be listed ({error.strerror})") from None
            with self._lock:
                self._images[item] = files
        return files

    def _make_image(self, cid: int, role: str, roles: dict[str, str]) -> None:
        number = self._frame[cid] + {"before": -1, "image": 0, "after": 1}[role]
        if role == "image" and (snapshot := self._snapshot_jpeg(cid)) is not None:
            write_bytes_atomic(self.mined_dir / roles[role], snapshot)
            return
        files = self._image_files(cid)
        if not 0 <= number < len(files):
            raise InputError(f"{self._pool_path(cid)}: no image number {number}; the folder has {len(files)}")
        source = files[number]
        try:
            data = source.read_bytes() if source.suffix.lower() in JPEG_SUFFIXES else jpeg(load_rgb(source))
        except Exception as error:  # noqa: BLE001 - Pillow raises many kinds; the page needs one line
            raise InputError(f"{source}: cannot be read as an image ({_first_line(error)})") from None
        write_bytes_atomic(self.mined_dir / roles[role], data)

    # ------------------------------------------------------------------ audio

    def _audio_header(self, cid: int) -> tuple[float, int, int]:
        item = self._item[cid]
        with self._lock:
            info = self._audio_info.get(item)
        if info is None:
            soundfile = _soundfile()
            try:
                header = soundfile.info(str(self._pool_path(cid)))
            except Exception as error:  # noqa: BLE001 - libsndfile's errors vary by version
                raise InputError(f"{self._pool_path(cid)}: cannot be read as audio ({_first_line(error)})") from None
            info = (float(header.samplerate), int(header.frames), int(header.channels))
            with self._lock:
                self._audio_info[item] = info
        return info

    def _audio_window(self, cid: int, rate: float) -> tuple[int, int]:
        """The window's samples ``[first, stop)``, cut as the pool cut it."""
        window_ms = self._window_ms or float(self._end[cid] - self._start[cid])
        first = round(float(self._start[cid]) * rate / 1000.0)
        return first, first + samples_per_window(window_ms, rate)

    def _audio_span(self, cid: int) -> tuple[float, int, int]:
        rate, n_frames, _ = self._audio_header(cid)
        first, stop = self._audio_window(cid, rate)
        margin = round(self.context_ms * rate / 1000.0)
        lo, hi = max(0, first - margin), min(n_frames, stop + margin)
        if lo >= hi:
            raise InputError(f"{self._pool_path(cid)}: window at {self._start[cid]:g} ms lies outside the file")
        return rate, lo, hi

    def _make_audio(self, cid: int, roles: dict[str, str]) -> None:
        soundfile = _soundfile()
        rate, lo, hi = self._audio_span(cid)
        path = self._pool_path(cid)
        with soundfile.SoundFile(str(path)) as audio:
            keep = channel_indices(self._channels, audio.channels, path) if self._channels else None
            # Integer PCM read and written as int32, float as float: the clip holds the file's own samples.
            subtype = audio.subtype if audio.subtype in _WAV_INTEGER else ("DOUBLE" if audio.subtype == "DOUBLE"
                                                                            else "FLOAT")  # fmt: skip
            dtype = "int32" if subtype in _WAV_INTEGER else ("float64" if subtype == "DOUBLE" else "float32")
            audio.seek(lo)
            clip = audio.read(hi - lo, dtype=dtype, always_2d=True)
        if len(clip) != hi - lo:
            raise InputError(f"{path}: audio ends before {hi * 1000.0 / rate:g} ms; the file is truncated")
        clip = clip[:, keep] if keep is not None else clip
        wav = io.BytesIO()
        soundfile.write(wav, clip, int(rate), subtype=subtype, format="WAV")
        signal = clip.astype(np.float64).mean(axis=1)
        if dtype == "int32":
            signal /= 2.0**31
        write_bytes_atomic(self.mined_dir / roles["spectrogram"], spectrogram_png(signal, rate))
        write_bytes_atomic(self.mined_dir / roles["audio"], wav.getvalue())

    # ------------------------------------------------------------------ sensor

    def _recording(self, cid: int):
        item = self._item[cid]
        with self._lock:
            if item in self._recordings:
                self._recordings.move_to_end(item)
                return self._recordings[item]
            item_lock = self._item_locks.setdefault(item, threading.Lock())
        with item_lock:  # one read per recording, however many threads ask for it
            with self._lock:
                if item in self._recordings:
                    return self._recordings[item]
            recording = read_recording(self._pool_item(cid), self._time_col, self._channels, {})
            if recording.n_samples == 0:
                raise InputError(f"{self._pool_path(cid)}: no samples")
            with self._lock:
                self._recordings[item] = recording
                while len(self._recordings) > _RECORDINGS_KEPT:
                    self._recordings.popitem(last=False)
        return recording

    def _sensor_span(self, cid: int, recording) -> tuple[int, int]:
        """Samples ``[lo, hi)`` whose times lie in ``[start - context, end + context]``."""
        n = recording.n_samples
        lo = max(0, int(recording.first_sample_at_or_after(float(self._start[cid]) - self.context_ms)))
        position = (float(self._end[cid]) + self.context_ms - recording.t0_ms) * recording.sample_rate_hz / 1000.0
        hi = min(n, int(np.floor(position + SAMPLE_TOLERANCE)) + 1)
        if lo >= hi:
            raise InputError(f"{self._pool_path(cid)}: window at {self._start[cid]:g} ms lies outside the recording")
        return lo, hi

    def signal(self, candidate_id: int) -> dict:
        """A sensor candidate's window with ``context_ms`` either side, every channel, as the page plots it.

        Returns ``{"t_ms", "channels", "groups", "values", "window", "context"}``:
        ``values`` holds one list per channel (``None`` for a missing value),
        ``groups`` the panels of :func:`channel_groups`, ``window`` the
        candidate's ``[start_ms, end_ms]`` and ``context`` the times of the first
        and last sample served. Up to :data:`SIGNAL_POINTS` samples are given as
        they are; a longer span is cut into ``SIGNAL_POINTS // 2`` buckets of
        equal length and each bucket gives two points, at the times of its first
        and last samples, carrying each channel's minimum and maximum in the
        order they occur (peaks survive; a point's time is off by at most a bucket).
        """
        cid = self._check_id(candidate_id)
        if self._kind[cid] != "sensor":
            raise InputError(f"candidate {cid} is {self._kind[cid]}, not a sensor window", parameter="candidate_id")
        recording = self._recording(cid)
        lo, hi = self._sensor_span(cid, recording)
        index = np.arange(lo, hi)
        columns = [np.asarray(values[lo:hi]) for values in recording.data]
        if hi - lo > SIGNAL_POINTS:
            index, columns = min_max_pairs(index, columns, SIGNAL_POINTS // 2)
        times = recording.sample_time_ms(index)
        names = [str(name) for name in recording.channels]
        return {
            "t_ms": [round(float(t), 6) for t in times],
            "channels": names,
            "groups": [{"name": name, "channels": members} for name, members in channel_groups(names)],
            "values": [json_floats(column) for column in columns],
            "window": [float(self._start[cid]), float(self._end[cid])],
            "context": [float(recording.sample_time_ms(lo)), float(recording.sample_time_ms(hi - 1))],
        }

    def context(self, candidate_id: int) -> dict:
        """``{"start_ms", "end_ms"}`` of the span served: the window plus context, clipped to the recording.

        Audio: ``start_ms`` is the first sample's time and ``end_ms`` the time
        just after the last (``samples / rate``), the span the WAV and the
        spectrogram cover. Sensor: the times of the first and last samples of
        the signal. Video and images serve no context: their own window.
        """
        cid = self._check_id(candidate_id)
        kind = self._kind[cid]
        if kind == "audio":
            rate, lo, hi = self._audio_span(cid)
            return {"start_ms": lo * 1000.0 / rate, "end_ms": hi * 1000.0 / rate}
        if kind == "sensor":
            recording = self._recording(cid)
            lo, hi = self._sensor_span(cid, recording)
            return {"start_ms": float(recording.sample_time_ms(lo)), "end_ms": float(recording.sample_time_ms(hi - 1))}
        return {"start_ms": float(self._start[cid]), "end_ms": float(self._end[cid])}

    # ------------------------------------------------------------------ embeddings

    def embedding(self, ids) -> np.ndarray:
        """Small vectors for "sort by similarity", ``(len(ids), d)`` float32, kept in memory per id.

        Video and images: the main frame as 16 x 16 grayscale (JPEGs decoded at
        reduced size), z-scored. Audio: the window's log-power spectrogram
        averaged into 16 x 16 cells, z-scored. Sensor: each channel of the window
        resampled to 32 points, z-scored, the channels one after the other.
        Shorter vectors (fewer channels) are zero-padded to the longest asked for.
        """
        ids = [self._check_id(cid) for cid in np.asarray(ids, dtype=np.int64).ravel()]
        with self._lock:
            missing = [cid for cid in dict.fromkeys(ids) if cid not in self._embeddings]
        self._prepare_frames([cid for cid in missing if self._kind[cid] == "video"])
        for cid in missing:
            vector = self._embed(cid)
            with self._lock:
                self._embeddings[cid] = vector
        with self._lock:
            vectors = [self._embeddings[cid] for cid in ids]
        width = max((len(v) for v in vectors), default=0)
        out = np.zeros((len(vectors), width), dtype=np.float32)
        for row, vector in enumerate(vectors):
            out[row, : len(vector)] = vector
        return out

    def _prepare_frames(self, ids: list[int]) -> None:
        """Extract the main frames of video candidates, one pass per video rather than one per frame."""
        by_item: dict[str, list[int]] = {}
        for cid in ids:
            path = self.mined_dir / self.roles(cid)["image"]
            if not path.is_file() and self._snapshot_jpeg(cid) is None:
                by_item.setdefault(self._item[cid], []).append(cid)
        for cids in by_item.values():
            images = read_frames(self._pool_path(cids[0]), {self._frame[c]: float(self._start[c]) for c in cids})
            for cid in cids:
                if self._frame[cid] in images:
                    with self._candidate_lock(cid):
                        path = self.mined_dir / self.roles(cid)["image"]
                        if self._inside(self.roles(cid)["image"]) and not path.is_file():
                            write_bytes_atomic(path, jpeg(images[self._frame[cid]]))

    def _embed(self, cid: int) -> np.ndarray:
        kind = self._kind[cid]
        if kind == "image":  # the pool's own file: nothing copied just to be compared
            files = self._image_files(cid)
            if not 0 <= self._frame[cid] < len(files):
                raise InputError(f"{self._pool_path(cid)}: no image number {self._frame[cid]}; the folder changed")
            return zscore(gray_thumbnail(files[self._frame[cid]]).ravel())
        if kind == "video":
            return zscore(gray_thumbnail(self.file(cid, "image")).ravel())
        if kind == "audio":
            return zscore(pool2d(log_power(self._audio_window_samples(cid)), EMBED_SIDE, EMBED_SIDE).ravel())
        recording = self._recording(cid)
        lo = int(recording.first_sample_at_or_after(float(self._start[cid])))
        hi = int(recording.first_sample_at_or_after(float(self._end[cid])))
        lo, hi = max(0, min(lo, recording.n_samples - 1)), min(recording.n_samples, max(hi, lo + 1))
        grid = np.linspace(0, max(hi - lo - 1, 0), _SENSOR_EMBED_POINTS)
        parts = []
        for values in recording.data:
            window = np.nan_to_num(np.asarray(values[lo:hi], dtype=np.float64))
            parts.append(zscore(np.interp(grid, np.arange(hi - lo), window)))
        return np.concatenate(parts).astype(np.float32)

    def _audio_window_samples(self, cid: int) -> np.ndarray:
        soundfile = _soundfile()
        rate, n_frames, _ = self._audio_header(cid)
        first, stop = self._audio_window(cid, rate)
        first, stop = max(0, first), min(n_frames, stop)
        path = self._pool_path(cid)
        with soundfile.SoundFile(str(path)) as audio:
            keep = channel_indices(self._channels, audio.channels, path) if self._channels else None
            audio.seek(first)
            clip = audio.read(max(stop - first, 0), dtype="float64", always_2d=True)
        clip = clip[:, keep] if keep is not None else clip
        return clip.mean(axis=1) if clip.size else np.zeros(1)


# ----------------------------------------------------------------------------- helpers


def _soundfile():
    try:
        import soundfile
    except ImportError:
        raise InputError("reading audio needs soundfile: pip install 'hardneg[audio]'") from None
    return soundfile


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
