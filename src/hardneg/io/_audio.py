"""Audio files (WAV, FLAC, anything libsndfile reads) as Recordings, so audio datasets are sampled like logs."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from hardneg._progress import ProgressReporter, resolve
from hardneg.errors import InputError
from hardneg.io._groups import resolve_groups
from hardneg.io._recording import Recording, check_unique_ids

#: File suffixes read as audio (by :mod:`soundfile`, i.e. libsndfile).
AUDIO_SUFFIXES = frozenset({".wav", ".flac", ".ogg", ".aiff", ".aif"})


def read_audio_recordings(
    paths: Sequence[str | Path],
    *,
    channels: Sequence[str] | None = None,
    groups: Mapping[str, str] | str | Path | None = None,
    on_bad_file: Callable[[Path, str], None] | None = None,
    progress: ProgressReporter | None = None,
) -> list[Recording]:
    """Read audio files into Recordings: one per file, id = file stem, time 0 at the first sample.

    Samples are float32 in [-1, 1] (as :func:`soundfile.read` gives them);
    channels are named ``ch0``, ``ch1``, ... Events come from an events CSV
    whose ``recording`` column holds the file stems and whose ``t_ms`` (and
    optional ``end_ms``) count milliseconds from the start of the file.

    Parameters
    ----------
    paths : sequence of path
        Audio files; every file must have the same channel count and sample rate
        (a dataset holds windows of one shape).
    channels : sequence of str, optional
        Channels to keep, as indices (``"0"``) or names (``"ch0"``); default all.
    groups : mapping or path, optional
        ``recording -> group``, or a CSV with columns ``recording,group``.
    on_bad_file : callable, optional
        Called with ``(path, message)`` for a file that cannot be read, which is
        then left out; without it such a file raises :class:`InputError`.

    Examples
    --------
    >>> import tempfile, soundfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     soundfile.write(f"{tmp}/r01.wav", np.zeros(16000, dtype=np.float32), 16000)
    ...     recordings = read_audio_recordings([f"{tmp}/r01.wav"], groups={"r01": "site_a"})
    >>> rec = recordings[0]
    >>> rec.id, rec.group, rec.sample_rate_hz, rec.channels, rec.n_samples
    ('r01', 'site_a', 16000.0, ['ch0'], 16000)
    """
    soundfile = import_soundfile()
    if not paths:
        raise InputError("no audio files given")
    recordings: list[Recording] = []
    reference: tuple[Path, float, list[str]] | None = None
    for path in resolve(progress).track(list(map(Path, paths)), total=len(paths), description="Reading audio"):
        try:
            recording = _read_one(soundfile, path, channels)
            if reference is not None and (recording.sample_rate_hz, recording.channels) != reference[1:]:
                raise InputError(
                    f"{path}: {recording.sample_rate_hz:g} Hz with channels {recording.channels}, but {reference[0]} "
                    f"has {reference[1]:g} Hz with {reference[2]}; resample the files to one rate or pick channels "
                    "with --channels"
                )
        except InputError as error:
            if on_bad_file is None:
                raise
            on_bad_file(path, str(error))
            continue
        if reference is None:
            reference = (path, recording.sample_rate_hz, recording.channels)
        recordings.append(recording)
    if not recordings:
        raise InputError(f"none of the {len(paths)} audio files could be read; see the errors above")
    check_unique_ids(recordings)
    resolve_groups(recordings, groups)
    return recordings


def import_soundfile():
    """The :mod:`soundfile` module, or one clear error saying how to install it."""
    try:
        import soundfile
    except ImportError:
        raise InputError("reading audio needs the soundfile package: pip install 'hardneg[audio]'") from None
    return soundfile


def _read_one(soundfile, path: Path, channels: Sequence[str] | None) -> Recording:
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    try:
        samples, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (soundfile.SoundFileError, RuntimeError, OSError, ValueError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise InputError(f"{path}: cannot be read as audio ({reason}); check that the file is complete") from None
    if len(samples) == 0:
        raise InputError(f"{path}: audio file has no samples; remove it")
    keep = channel_indices(channels, samples.shape[1], path)
    return Recording(
        id=path.stem,
        group=path.stem,
        t0_ms=0.0,
        sample_rate_hz=float(rate),
        channels=[f"ch{index}" for index in keep],
        # One contiguous float32 array per channel: windows are gathered from these without another copy.
        data=[np.ascontiguousarray(samples[:, index]) for index in keep],
        source=str(path),
    )


def channel_indices(channels: Sequence[str] | None, n_channels: int, path: Path) -> list[int]:
    """The audio channels to keep, as indices: ``channels`` gives them as ``"0"``/``0`` or ``"ch0"``; None = all."""
    if not channels:
        return list(range(n_channels))
    indices = []
    for channel in channels:
        text = str(channel).strip().lower()
        text = text.removeprefix("ch")
        if not text.isdigit():
            raise InputError(
                f"channels {channel!r}: audio channels are chosen by index (0, 1, ... or ch0, ch1, ...)",
                parameter="channels",
            )
        index = int(text)
        if index >= n_channels:
            raise InputError(f"{path}: --channels {channel} is out of range; the file has {n_channels} channel(s)")
        indices.append(index)
    return indices
