"""Pools for mining: find the items (files, recordings, image folders) and stream them as batches of windows.

An item is one sensor log, WFDB record, audio file, video file or folder of
images. :func:`discover_pool` lists the items and their groups;
:func:`iter_windows` turns one item into batches that a scorer takes, each with
its window table (see :mod:`hardneg.score._windows`). Memory is bounded by the
batch: audio is read block by block, video decoded frame by frame; a sensor
recording is read once and windows are gathered from it a batch at a time.

Each kind of item is a :class:`PoolKind` registered with
:func:`register_pool_kind` (the built-in ones live in :mod:`hardneg.score._sensor`,
:mod:`~hardneg.score._audio`, :mod:`~hardneg.score._video` and
:mod:`~hardneg.score._image`); its :meth:`~PoolKind.applies_to` says which
files it reads and :meth:`~PoolKind.batches` cuts an item into batches.

Examples
--------
>>> sorted(POOL_KINDS)
['audio', 'image', 'sensor', 'video']
>>> pool_kind_of(Path("pool/s01.csv")), pool_kind_of(Path("pool/cam1.MP4")), pool_kind_of(Path("notes.txt"))
('sensor', 'video', None)
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from numbers import Integral, Real
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd

from hardneg._validation import Interval, Options, validate_value
from hardneg.errors import InputError
from hardneg.io import WindowSpan, read_groups_csv
from hardneg.score._frames import FramePrep
from hardneg.score._windows import window_table

__all__ = [
    "POOL_KINDS",
    "SHORT_ITEMS",
    "PoolItem",
    "PoolKind",
    "check_frame_prep",
    "discover_pool",
    "iter_windows",
    "pool_kind_of",
    "register_pool_kind",
]

#: What happens to an item shorter than one window: one zero-padded window, or none.
SHORT_ITEMS = ("pad", "skip")


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
        A name of :data:`POOL_KINDS`: ``sensor``, ``audio``, ``video`` or ``image``.

    Examples
    --------
    >>> PoolItem("s01", "rec_a", Path("pool/s01.csv"), "sensor").kind
    'sensor'
    """

    id: str
    group: str
    path: Path
    kind: str


class PoolKind:
    """A kind of pool item: its name, the files it reads, and how an item is cut into batches.

    Class attributes
    ----------------
    name : str
        The registry name, stored in :attr:`PoolItem.kind`.
    suffixes : frozenset of str
        Lower-case suffixes (with the dot) of the files it reads.
    folder_item : bool
        Whether a folder holding such files is one item (images), rather than each file.
    timed : bool
        Whether items are cut into windows of ``window_ms`` every ``hop_ms``
        (sensor, audio) rather than taken frame by frame (video, images).
    frames : bool
        Whether batches are ``(N, H, W, 3)`` uint8 RGB frames (video, images), which a
        :class:`~hardneg.score.FramePrep` resizes (through ``frame_size``) and normalises.
    """

    name: ClassVar[str]
    suffixes: ClassVar[frozenset[str]]
    folder_item: ClassVar[bool] = False
    timed: ClassVar[bool] = False
    frames: ClassVar[bool] = False

    @classmethod
    def applies_to(cls, path: Path) -> bool:
        """Whether the file ``path`` is read by this kind."""
        return Path(path).suffix.lower() in cls.suffixes

    @classmethod
    def batches(
        cls,
        item: PoolItem,
        *,
        window_ms: float | None,
        hop_ms: float | None,
        stride: int,
        short_items: str,
        batch_size: int,
        time_col: str,
        channels: Sequence[str | int] | None,
        buffers,
        reader_options: dict,
        frame_size=None,
    ) -> Iterator[tuple[np.ndarray, WindowSpan]]:
        """The item's batches of windows, each with its :class:`~hardneg.io.WindowSpan`.

        Options are checked by :func:`iter_windows` before this is called; a
        kind uses the ones that apply to it. ``frame_size(width, height)``, given
        only to a kind with ``frames``, is the size each frame is to be resized to.
        """
        raise NotImplementedError


#: kind name -> pool kind, in registration order
POOL_KINDS: dict[str, type[PoolKind]] = {}


def register_pool_kind(cls: type[PoolKind]) -> type[PoolKind]:
    """Class decorator: add a :class:`PoolKind` subclass to :data:`POOL_KINDS` under its ``name``."""
    if cls.name in POOL_KINDS and POOL_KINDS[cls.name] is not cls:
        raise ValueError(f"a pool kind named {cls.name!r} is already registered ({POOL_KINDS[cls.name].__module__})")
    taken = {suffix: other.name for other in POOL_KINDS.values() if other is not cls for suffix in other.suffixes}
    clash = sorted(suffix for suffix in cls.suffixes if suffix in taken)
    if clash:
        raise ValueError(f"suffixes {clash} of pool kind {cls.name!r} already belong to {taken[clash[0]]!r}")
    POOL_KINDS[cls.name] = cls
    return cls


def pool_kind_of(path: Path) -> str | None:
    """The name of the pool kind that reads the file ``path``, or ``None``."""
    for kind in POOL_KINDS.values():
        if kind.applies_to(path):
            return kind.name
    return None


def check_frame_prep(items: Sequence[PoolItem], prep: FramePrep | None, scorer=None) -> None:
    """Refuse frame options (a ``prep`` that changes anything) for a pool holding a sensor or audio item.

    With a ``scorer`` whose model declares a rank-4 input (``input_shape``, as
    :class:`~hardneg.score.ONNXScorer` has), a pool holding video or images is also
    refused when the frames cannot fit the model's fixed dimensions (frames as read,
    ``(N, H, W, 3)``, for a ``(N, 3, 224, 224)`` model, say): before any item is read,
    rather than once per item.

    Examples
    --------
    >>> items = [PoolItem("cam1", "cam1", Path("pool/cam1.mp4"), "video"), PoolItem("s01", "s01", Path("s01.csv"), "sensor")]
    >>> check_frame_prep(items[:1], FramePrep(layout="nchw"))
    >>> check_frame_prep(items, FramePrep(layout="nchw"))
    Traceback (most recent call last):
    ...
    hardneg.errors.InputError: layout applies to video and image pools only; s01.csv is a sensor item
    """
    _check_frames_fit(items, prep or FramePrep(), scorer)
    given = prep.given() if prep is not None else []
    if not given:
        return
    for item in items:
        kind = POOL_KINDS.get(item.kind)
        if kind is not None and not kind.frames:
            verb = "applies" if len(given) == 1 else "apply"
            raise InputError(
                f"{', '.join(given)} {verb} to video and image pools only; {item.path} is a {item.kind} item",
                parameter=given[0],
            )


def _check_frames_fit(items, prep: FramePrep, scorer) -> None:
    expected = getattr(scorer, "input_shape", None)
    if not isinstance(expected, (list, tuple)) or len(expected) != 4:
        return
    if not any(POOL_KINDS[item.kind].frames for item in items if item.kind in POOL_KINDS):
        return
    frame = prep.frame_shape()
    fixed = [want if isinstance(want, int) and want > 0 else None for want in expected[1:]]
    if any(want is not None and got is not None and want != got for want, got in zip(fixed, frame)):
        model = ", ".join(str(d) if d is not None else "?" for d in [None, *fixed])
        names = ("3", "H", "W") if prep.layout == "nchw" else ("H", "W", "3")
        got = ", ".join(str(d) if d is not None else name for d, name in zip(frame, names))
        raise InputError(
            f"model {scorer.spec}: input {getattr(scorer, 'input_name', 'x')!r} takes shape ({model}) but the "
            f"frames of video and images have shape (N, {got}); choose --resize/--layout/--normalize/--dtype "
            "to match the model",
            parameter="model",
        )


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
    Discovery goes by names only, so empty files show it:

    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> for name in ("rec1_day1.wav", "rec1_day2.wav", "rec2_day1.mp4", "notes.txt"):
    ...     Path(tmp.name, name).touch()
    >>> items = discover_pool([tmp.name], group_regex=r"^(rec\\d+)_")
    >>> [(item.id, item.group, item.kind) for item in items]
    [('rec1_day1', 'rec1', 'audio'), ('rec1_day2', 'rec1', 'audio'), ('rec2_day1', 'rec2', 'video')]
    >>> tmp.cleanup()
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
            kind = pool_kind_of(path)
            if kind is None:
                known = sorted(set().union(*(kind.suffixes for kind in POOL_KINDS.values())))
                raise InputError(f"{path}: unknown pool file type {path.suffix!r}; use {', '.join(known)} or a folder")
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
    prep: FramePrep | None = None,
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
    prep : FramePrep, optional
        Video and images: the size, layout, scaling and dtype of the frames
        (default: as read). Refused for sensor and audio items.
    **reader_options
        More options of :func:`hardneg.io.read_sensor_logs` for CSV/Parquet
        logs (``time_unit``, ``resample_hz``, ``sort_time``).

    Yields
    ------
    batch : numpy.ndarray
        Sensor and audio: ``(N, channels, samples)`` float32; video and
        images: ``(N, H, W, 3)`` uint8 RGB, or as ``prep`` makes them.
    windows : pandas.DataFrame
        ``item, group, start_ms, end_ms`` (float64), plus ``frame`` (int64)
        for video and images; one row per batch entry.

    Raises
    ------
    InputError
        A bad option, or an item that cannot be read (naming its file). It can
        come after some batches were yielded, for a file damaged midway.

    With ``raw_spans=True`` each batch comes with a :class:`~hardneg.io.WindowSpan` of arrays instead
    of a table, which saves building a DataFrame per batch where only the arrays are needed (the mining
    engine). With ``buffers`` (a :class:`hardneg.score.BatchBuffers`) video batches are drawn from
    those reused arrays, and the caller must ``give`` each batch back once it is done with it.

    Examples
    --------
    A seven-second stereo recording at 8 kHz, in one-second windows every half second:

    >>> import tempfile, soundfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> soundfile.write(f"{tmp.name}/s01.wav", np.zeros((56000, 2), dtype=np.float32), 8000)
    >>> item = PoolItem("s01", "s01", Path(tmp.name, "s01.wav"), "audio")
    >>> scorer = lambda batch: batch.std(axis=(1, 2))  # any callable batch -> one score per window
    >>> for batch, windows in iter_windows(item, window_ms=1000, hop_ms=500, batch_size=64):
    ...     scores = scorer(batch)
    >>> batch.shape, windows.start_ms.tolist()[:3], windows.end_ms.tolist()[-1]
    ((13, 2, 8000), [0.0, 500.0, 1000.0], 7000.0)
    >>> tmp.cleanup()
    """
    if item.kind not in POOL_KINDS:
        raise InputError(f"{item.path}: unknown pool item kind {item.kind!r}; use one of {', '.join(POOL_KINDS)}")
    validate_value("short_items", short_items, [Options(SHORT_ITEMS)])
    validate_value("batch_size", batch_size, [Interval(Integral, 1, None, closed="left")])
    validate_value("stride", stride, [Interval(Integral, 1, None, closed="left")])
    batch_size, stride = int(batch_size), int(stride)
    kind = POOL_KINDS[item.kind]
    if kind.timed:
        validate_value("window_ms", window_ms, [Interval(Real, 0, None, closed="neither")])
        hop_ms = window_ms / 2.0 if hop_ms is None else hop_ms
        validate_value("hop_ms", hop_ms, [Interval(Real, 0, None, closed="neither")])
    check_frame_prep([item], prep)
    extra = {"frame_size": prep.size} if prep is not None and prep.resizes else {}
    spans = kind.batches(
        item, window_ms=window_ms, hop_ms=hop_ms, stride=stride, short_items=short_items, batch_size=batch_size,
        time_col=time_col, channels=channels, buffers=buffers, reader_options=reader_options, **extra,
    )  # fmt: skip
    if prep is not None and not prep.is_default:
        spans = _prepared(spans, prep, buffers)
    if raw_spans:
        return spans
    return (
        (batch, window_table(item.id, item.group, span.start_ms, span.end_ms, frame=span.frame))
        for batch, span in spans
    )


def _prepared(spans, prep: FramePrep, buffers):
    """Batches in the layout, scale and dtype of ``prep``; a batch copied from its buffer gives the buffer back."""
    for batch, span in spans:
        prepared = prep.apply(batch)
        if buffers is not None and prepared is not batch:
            buffers.give(batch)
        yield prepared, span


# ----------------------------------------------------------------------------- discovery


def _walk(folder: Path) -> Iterator[tuple[str, Path, str]]:
    """Items under a folder, depth first in name order; a folder holding images is one image item."""
    entries = sorted(folder.iterdir(), key=lambda p: p.name)
    for kind in POOL_KINDS.values():
        if kind.folder_item and any(p.is_file() and kind.applies_to(p) for p in entries):
            yield folder.name, folder, kind.name
    for path in entries:
        if path.is_dir():
            yield from _walk(path)
        elif path.is_file():
            kind = pool_kind_of(path)
            if kind is not None and not POOL_KINDS[kind].folder_item:
                yield path.stem, path, kind


def _compile_group_regex(group_regex: str | None) -> re.Pattern | None:
    if group_regex is None:
        return None
    try:
        return re.compile(group_regex)
    except re.error as error:
        raise InputError(
            f"group_regex {group_regex!r} is not a valid regular expression ({error})", parameter="group_regex"
        ) from None


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
