"""The ``video`` pool kind: a video file decoded frame by frame (see :func:`hardneg.io.read_video_batches`).

Examples
--------
>>> VideoPool.applies_to(Path("cams/cam1.mkv")), VideoPool.timed
(True, False)
"""

from __future__ import annotations

from pathlib import Path

from hardneg.io import read_video_batches, suffixes_of
from hardneg.score._pools import PoolKind, register_pool_kind

__all__ = ["VideoPool"]


@register_pool_kind
class VideoPool(PoolKind):
    """Video files: every ``stride``-th frame as ``(N, H, W, 3)`` uint8 RGB, drawn from reused ``buffers`` if given."""

    name = "video"
    suffixes = suffixes_of("video")
    frames = True

    @classmethod
    def batches(cls, item, *, stride, batch_size, buffers=None, frame_size=None, **_):
        take = buffers.take if buffers is not None else None
        return read_video_batches(Path(item.path), stride=stride, batch_size=batch_size, take=take, size=frame_size)
