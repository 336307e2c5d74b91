"""Image files: which files of a folder are images, in what order, and reading one as RGB.

Examples
--------
>>> sorted(IMAGE_SUFFIXES)
['.jpeg', '.jpg', '.png']
>>> import tempfile
>>> from PIL import Image
>>> with tempfile.TemporaryDirectory() as tmp:
...     Image.new("RGB", (4, 3), (255, 0, 0)).save(f"{tmp}/000002.png")
...     Image.new("RGB", (4, 3)).save(f"{tmp}/000001.jpg")
...     _ = Path(tmp, "notes.txt").write_text("not an image")
...     files = image_files(tmp)
...     [path.name for path in files], read_image(files[1]).shape
(['000001.jpg', '000002.png'], (3, 4, 3))
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from hardneg.errors import InputError

__all__ = ["IMAGE_SUFFIXES", "JPEG_SUFFIXES", "image_files", "load_rgb", "read_image"]

#: File suffixes read as images.
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png"})
#: Image suffixes whose files already are JPEGs.
JPEG_SUFFIXES = frozenset({".jpg", ".jpeg"})


def image_files(folder: str | Path) -> list[Path]:
    """The images of a folder in name order (a single image file is its own list).

    An image item's ``frame`` indexes this list.
    """
    folder = Path(folder)
    if folder.is_file():
        return [folder]
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _pillow():
    """Pillow's ``PIL`` package, or the ``pip install`` that brings it (it comes with the video extra)."""
    try:
        import PIL.Image
    except ImportError:
        raise InputError("reading images needs Pillow: pip install 'hardneg[video]'") from None
    return PIL


def load_rgb(path: str | Path, size: Callable[[int, int], tuple[int, int]] | None = None) -> np.ndarray:
    """The image at ``path`` as a ``(H, W, 3)`` uint8 RGB array; Pillow's own errors propagate.

    ``size(width, height)`` gives the ``(width, height)`` to resize it to (Pillow's bilinear filter), if any.
    """
    Image = _pillow().Image

    with Image.open(path) as image:
        rgb = image.convert("RGB")
        if size is not None:
            wanted = tuple(size(*rgb.size))
            if wanted != rgb.size:  # an image already that size is left as it is
                rgb = rgb.resize(wanted, Image.Resampling.BILINEAR)
        return np.asarray(rgb, dtype=np.uint8)


def read_image(path: str | Path, size: Callable[[int, int], tuple[int, int]] | None = None) -> np.ndarray:
    """Like :func:`load_rgb`, but a file Pillow cannot read is an :class:`InputError` naming it."""
    UnidentifiedImageError = _pillow().UnidentifiedImageError

    try:
        return load_rgb(path, size)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise InputError(f"{path}: cannot be read as an image ({reason}); check that the file is complete") from None
