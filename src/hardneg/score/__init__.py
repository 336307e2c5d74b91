"""Scoring a pool: scorer kinds, pool kinds, the window table and the read-ahead that overlaps reading with scoring.

Two registries are the plug-in points. A *scorer kind* (:data:`SCORER_KINDS`)
turns a spec (``model.onnx``, ``file.py:make``, a ``hardneg train`` folder, a
table of precomputed scores) into a :class:`Scorer`; a *pool kind*
(:data:`POOL_KINDS`) reads one kind of pool item (sensor log, audio, video,
image folder) as batches of windows. Adding a kind is one module that
subclasses :class:`Scorer` or :class:`PoolKind` and registers it, plus its
name in :data:`BUILTIN_SCORERS` or :data:`BUILTIN_POOLS` (which fix the order
the kinds are asked in).

Examples
--------
>>> list(SCORER_KINDS)
['onnx', 'sklearn', 'table', 'python']
>>> list(POOL_KINDS)
['sensor', 'audio', 'video', 'image']
>>> SCORER_KINDS["table"].applies_to("scores.parquet")
True
"""

from importlib import import_module

from hardneg.score._base import (
    SCORER_CONTRACT,
    SCORER_KINDS,
    BaseScorer,
    Scorer,
    check_device,
    load_scorer,
    register_scorer,
)
from hardneg.score._frames import FRAME_DTYPES, IMAGENET_MEAN, IMAGENET_STD, LAYOUTS, NORMALIZATIONS, FramePrep
from hardneg.score._pools import (
    POOL_KINDS,
    SHORT_ITEMS,
    PoolItem,
    PoolKind,
    check_frame_prep,
    discover_pool,
    iter_windows,
    pool_kind_of,
    register_pool_kind,
)
from hardneg.score._prefetch import BatchBuffers, read_ahead
from hardneg.score._windows import scored_window_arrow, window_table

#: The built-in scorer kinds, in the order :func:`load_scorer` asks them: the first that applies to a spec loads it
#: (``x.onnx`` before ``file.py:make``, so a Windows path with a drive letter is not taken for a factory).
BUILTIN_SCORERS = ("onnx", "sklearn", "table", "python")
#: The built-in pool kinds, in the order they are listed.
BUILTIN_POOLS = ("sensor", "audio", "video", "image")

for _name in BUILTIN_SCORERS + BUILTIN_POOLS:
    import_module(f"{__name__}._{_name}")  # each module registers its kind on import

# The kinds by name, once registered in the order above.
from hardneg.score._audio import AudioPool
from hardneg.score._image import ImagePool
from hardneg.score._onnx import ONNXScorer
from hardneg.score._python import PythonScorer, import_function
from hardneg.score._sensor import SensorPool, read_recording
from hardneg.score._sklearn import SklearnScorer
from hardneg.score._table import TableScores
from hardneg.score._video import VideoPool

__all__ = [
    "BUILTIN_POOLS",
    "BUILTIN_SCORERS",
    "FRAME_DTYPES",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "LAYOUTS",
    "NORMALIZATIONS",
    "POOL_KINDS",
    "SCORER_CONTRACT",
    "SCORER_KINDS",
    "SHORT_ITEMS",
    "AudioPool",
    "BaseScorer",
    "BatchBuffers",
    "FramePrep",
    "ImagePool",
    "ONNXScorer",
    "PoolItem",
    "PoolKind",
    "PythonScorer",
    "Scorer",
    "SensorPool",
    "SklearnScorer",
    "TableScores",
    "VideoPool",
    "check_device",
    "check_frame_prep",
    "discover_pool",
    "import_function",
    "iter_windows",
    "load_scorer",
    "pool_kind_of",
    "read_ahead",
    "read_recording",
    "register_pool_kind",
    "register_scorer",
    "scored_window_arrow",
    "window_table",
]
