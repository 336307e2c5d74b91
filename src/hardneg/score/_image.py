"""The ``image`` pool kind: a folder of images (or one image file), one image per window in name order.

Examples
--------
>>> from pathlib import Path
>>> ImagePool.applies_to(Path("cams/cam3/000001.jpg")), ImagePool.folder_item
(True, True)
"""

from __future__ import annotations

import numpy as np

from hardneg.errors import InputError
from hardneg.io import WindowSpan, image_files, read_image, suffixes_of
from hardneg.score._pools import PoolKind, register_pool_kind

__all__ = ["ImagePool"]


@register_pool_kind
class ImagePool(PoolKind):
    """Image folders: ``(N, H, W, 3)`` uint8 RGB; ``frame`` is the image's index, and also its start and end."""

    name = "image"
    suffixes = suffixes_of("image")
    folder_item = True
    frames = True

    @classmethod
    def batches(cls, item, *, batch_size, frame_size=None, **_):
        files = image_files(item.path)
        if not files:
            raise InputError(f"{item.path}: no .jpg or .png images in this folder")
        frames: list[np.ndarray] = []
        index: list[int] = []
        for number, path in enumerate(files):
            array = read_image(path, frame_size)
            if frames and (array.shape != frames[0].shape or len(frames) == batch_size):
                yield _image_batch(frames, index)
                frames, index = [], []
            frames.append(array)
            index.append(number)
        if frames:
            yield _image_batch(frames, index)


def _image_batch(frames, index):
    frame = np.asarray(index, dtype=np.int64)
    return np.stack(frames), WindowSpan(frame.astype(np.float64), frame.astype(np.float64), frame)
