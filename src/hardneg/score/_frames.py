"""What a video frame or image goes through before the scorer sees it: size, layout, normalisation, dtype.

Video and image pools read RGB frames as ``(N, H, W, 3)`` uint8. Off-the-shelf
vision models mostly want something else (``(N, 3, 224, 224)`` float32,
ImageNet-normalised), so :class:`FramePrep` says what to do, in one place for
both kinds: the reader resizes each frame as it decodes it (PyAV for video,
Pillow for images) to :meth:`FramePrep.size`, then :meth:`FramePrep.apply`
changes the layout, scale and dtype of the whole batch at once. The default
changes nothing. :data:`SCORER_CONTRACT` says what a scorer is given and must
return, for every pool kind.

Examples
--------
>>> prep = FramePrep(resize_short=224, layout="nchw", normalize="imagenet", dtype="float32")
>>> prep.size(640, 360)
(398, 224)
>>> batch = np.full((2, 224, 398, 3), 255, dtype=np.uint8)
>>> x = prep.apply(batch)
>>> x.shape, x.dtype, [round(float(v), 3) for v in x[0, :, 0, 0]]
((2, 3, 224, 398), dtype('float32'), [2.249, 2.429, 2.64])
>>> FramePrep().is_default, FramePrep().apply(batch) is batch
(True, True)
>>> FramePrep(normalize="unit")
Traceback (most recent call last):
...
hardneg.errors.InputError: dtype uint8 cannot hold normalize='unit' values; use dtype float32
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from numbers import Integral

import numpy as np

from hardneg._validation import Interval, Options, validate_value
from hardneg.errors import InputError

__all__ = [
    "FRAME_DTYPES",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "LAYOUTS",
    "NORMALIZATIONS",
    "FramePrep",
]

#: How a batch of frames is laid out: ``(N, H, W, 3)`` or ``(N, 3, H, W)``.
LAYOUTS = ("nhwc", "nchw")
#: What is done to pixel values: nothing (0-255), ``/255`` (0-1), or ``/255`` then ImageNet's mean and std.
NORMALIZATIONS = ("none", "unit", "imagenet")
#: The element type of a batch of frames.
FRAME_DTYPES = ("uint8", "float32")
#: ImageNet's per-channel (R, G, B) mean and standard deviation, of pixels scaled to 0-1.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

_SIZE = re.compile(r"\s*(\d+)\s*[xX]\s*(\d+)\s*")
_AT_LEAST_ONE = Interval(Integral, 1, None, closed="left")


@dataclass(frozen=True)
class FramePrep:
    """How frames are prepared for a vision scorer; checked when made (an :class:`InputError` names the option).

    Parameters
    ----------
    resize : (int, int) or str, optional
        ``(width, height)`` or ``"WxH"``: every frame is resized to it (aspect not kept).
    resize_short : int, optional
        The shorter side is resized to this, the aspect kept (the longer side rounded).
        Not together with ``resize``.
    layout : {"nhwc", "nchw"}
        ``(N, H, W, 3)`` or ``(N, 3, H, W)``.
    normalize : {"none", "unit", "imagenet"}
        Pixel values as read (0-255), ``/255``, or ``/255`` then ``(x - IMAGENET_MEAN) / IMAGENET_STD``.
    dtype : {"uint8", "float32"}
        ``uint8`` holds only ``normalize="none"``.
    """

    resize: tuple[int, int] | None = None
    resize_short: int | None = None
    layout: str = "nhwc"
    normalize: str = "none"
    dtype: str = "uint8"

    def __post_init__(self):
        if self.resize is not None:
            object.__setattr__(self, "resize", _parse_size(self.resize))
        validate_value("resize_short", self.resize_short, [None, _AT_LEAST_ONE])
        if self.resize is not None and self.resize_short is not None:
            raise InputError(
                f"resize {self.resize[0]}x{self.resize[1]} and resize_short {self.resize_short} exclude each other; "
                "give one",
                parameter="resize",
            )
        validate_value("layout", self.layout, [Options(LAYOUTS)])
        validate_value("normalize", self.normalize, [Options(NORMALIZATIONS)])
        validate_value("dtype", self.dtype, [Options(FRAME_DTYPES)])
        if self.dtype == "uint8" and self.normalize != "none":
            raise InputError(
                f"dtype uint8 cannot hold normalize={self.normalize!r} values; use dtype float32", parameter="dtype"
            )

    @property
    def is_default(self) -> bool:
        """Whether frames reach the scorer as read: full size, ``(N, H, W, 3)`` uint8 RGB."""
        return self == FramePrep()

    @property
    def resizes(self) -> bool:
        """Whether frames are resized (then the reader calls :meth:`size` for each)."""
        return self.resize is not None or self.resize_short is not None

    def given(self) -> list[str]:
        """The names of the options not at their default, in field order."""
        default = FramePrep()
        return [f.name for f in fields(self) if getattr(self, f.name) != getattr(default, f.name)]

    def size(self, width: int, height: int) -> tuple[int, int]:
        """The ``(width, height)`` a ``width`` x ``height`` frame is resized to (itself when not resizing).

        Examples
        --------
        >>> FramePrep(resize_short=100).size(300, 200), FramePrep(resize_short=100).size(201, 402)
        ((150, 100), (100, 200))
        >>> FramePrep(resize=(224, 224)).size(640, 360), FramePrep().size(640, 360)
        ((224, 224), (640, 360))
        """
        if self.resize is not None:
            return self.resize
        if self.resize_short is None:
            return int(width), int(height)
        short, width, height = self.resize_short, int(width), int(height)
        if width <= height:
            return short, max(1, (2 * height * short + width) // (2 * width))  # rounded half up, in integers
        return max(1, (2 * width * short + height) // (2 * height)), short

    def frame_shape(self) -> tuple[int | None, int | None, int | None]:
        """The shape of one prepared frame, ``None`` where it depends on the file (no ``resize``).

        Examples
        --------
        >>> FramePrep(resize=(224, 160), layout="nchw").frame_shape(), FramePrep().frame_shape()
        ((3, 160, 224), (None, None, 3))
        """
        width, height = self.resize if self.resize is not None else (None, None)
        return (3, height, width) if self.layout == "nchw" else (height, width, 3)

    def apply(self, batch: np.ndarray) -> np.ndarray:
        """A ``(N, H, W, 3)`` uint8 batch (already resized) in this layout, scale and dtype, all frames at once.

        The batch itself is returned when nothing changes; otherwise a new C-contiguous array.
        """
        if self.layout == "nhwc" and self.normalize == "none" and self.dtype == "uint8":
            return batch
        x = batch.transpose(0, 3, 1, 2) if self.layout == "nchw" else batch
        if self.dtype == "uint8":
            return np.ascontiguousarray(x)
        out = x.astype(np.float32, order="C")
        if self.normalize != "none":
            out /= np.float32(255)
        if self.normalize == "imagenet":
            shape = (3, 1, 1) if self.layout == "nchw" else (3,)
            out -= np.asarray(IMAGENET_MEAN, dtype=np.float32).reshape(shape)
            out /= np.asarray(IMAGENET_STD, dtype=np.float32).reshape(shape)
        return out

    def options(self) -> dict:
        """The options not at their default, as JSON values (``resize`` as ``"WxH"``): for a run's manifest."""
        values = {name: getattr(self, name) for name in self.given()}
        if "resize" in values:
            values["resize"] = f"{self.resize[0]}x{self.resize[1]}"
        return values


def _parse_size(value) -> tuple[int, int]:
    if isinstance(value, str):
        match = _SIZE.fullmatch(value)
        pair = (int(match.group(1)), int(match.group(2))) if match else None
    else:
        try:
            pair = tuple(value)
        except TypeError:
            pair = None
    ok = (
        pair is not None
        and len(pair) == 2
        and all(isinstance(side, Integral) and not isinstance(side, bool) and side >= 1 for side in pair)
    )
    if not ok:
        raise InputError(
            f"resize must be WIDTHxHEIGHT in whole pixels, like 224x224, got {value!r}", parameter="resize"
        )
    return int(pair[0]), int(pair[1])
