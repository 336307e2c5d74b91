"""The ``audio`` pool kind: an audio file (anything libsndfile reads) cut into windows, read block by block.

Examples
--------
>>> AudioPool.applies_to(Path("calls/r01.flac")), AudioPool.timed
(True, True)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hardneg.errors import InputError
from hardneg.io import WindowPlan, WindowSpan, channel_indices, import_soundfile, plan_windows, suffixes_of
from hardneg.score._pools import PoolKind, register_pool_kind

__all__ = ["AudioPool"]


@register_pool_kind
class AudioPool(PoolKind):
    """Audio files: ``(N, channels, samples)`` float32 windows; only the samples the windows need are read."""

    name = "audio"
    suffixes = suffixes_of("audio")
    timed = True

    @classmethod
    def batches(cls, item, *, window_ms, hop_ms, short_items, batch_size, channels, **_):
        soundfile = import_soundfile()
        path = item.path
        try:
            with soundfile.SoundFile(str(path)) as audio:
                rate, n_frames, n_channels = float(audio.samplerate), int(audio.frames), int(audio.channels)
                keep = _audio_channels(channels, n_channels, path)
                if n_frames == 0:
                    raise InputError(f"{path}: audio file has no samples; remove it from the pool")
                plan = plan_windows(n_frames, rate, window_ms, hop_ms, short_items, path)
                yield from _audio_batches(item, audio, plan, rate, window_ms, batch_size, keep, n_frames)
        except InputError:
            raise
        except (soundfile.SoundFileError, RuntimeError, OSError, ValueError) as error:
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise InputError(f"{path}: cannot be read as audio ({reason}); check that the file is complete") from None


def _audio_channels(channels, n_channels: int, path: Path) -> np.ndarray | None:
    # The same choice as `hardneg sample` makes for audio recordings: indices, "0" or "ch0".
    return None if not channels else np.array(channel_indices(channels, n_channels, path), dtype=np.int64)


def _audio_batches(item, audio, plan: WindowPlan, rate, window_ms, batch_size, keep, n_frames):
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
