"""The scorer registry: what every scorer kind is, and :func:`load_scorer`, which picks the kind a spec names.

A scorer is called with a *window batch*: sensor and audio windows as a
float32 array of shape ``(N, channels, samples)``, video frames and images as
a uint8 RGB array of shape ``(N, H, W, 3)``. It returns a float64 array of
shape ``(N,)`` with scores in [0, 1] (:data:`SCORER_CONTRACT` says it for
users; video frames and images can be resized and normalised for a model with
:class:`hardneg.score.FramePrep`). A kind is a subclass of :class:`Scorer`
registered with :func:`register_scorer`; its :meth:`~Scorer.applies_to` says
which specs it loads. :func:`load_scorer` asks the kinds in
:data:`SCORER_KINDS` order and loads the spec with the first that applies.

Examples
--------
>>> import numpy as np
>>> @register_scorer
... class Constant(BaseScorer):
...     kind = "constant_example"
...
...     @classmethod
...     def applies_to(cls, spec):
...         return spec == "constant"
...
...     def _score(self, chunk):
...         return np.full(len(chunk), 0.25)
>>> Constant("constant")(np.zeros((3, 1, 8), np.float32))
array([0.25, 0.25, 0.25])
>>> del SCORER_KINDS["constant_example"]
"""

from __future__ import annotations

from numbers import Integral
from pathlib import Path
from typing import ClassVar

import numpy as np

from hardneg._validation import Constraint, Interval, validate_value
from hardneg.errors import InputError

__all__ = [
    "DEVICES",
    "SCORER_CONTRACT",
    "SCORER_KINDS",
    "SPEC_HELP",
    "BaseScorer",
    "Scorer",
    "check_device",
    "first_line",
    "load_scorer",
    "register_scorer",
    "to_numpy",
]

#: How far a score may stray outside [0, 1] from float rounding (a float32 softmax, say) before it is refused.
_RANGE_SLACK = 1e-6

#: What a scorer is given and must give back, for every pool kind: the one text of the contract
#: (``hardneg mine --help`` shows it).
SCORER_CONTRACT = (
    "A scorer is called with a batch of N windows and returns N scores, shape (N,) or (N, 1), probabilities "
    "in [0, 1] (logits with --logits); a two-class (N, 2) output is refused, so return the positive class's "
    "column. Batches by pool kind: sensor logs and audio (N, channels, samples) float32 (audio samples in "
    "[-1, 1]); video frames and images (N, H, W, 3) uint8 RGB at the file's own size, unless --resize WxH or "
    "--resize-short N (shorter side to N, aspect kept), --layout nchw (N, 3, H, W), --normalize unit (/255) or "
    "imagenet (/255, then minus mean (0.485, 0.456, 0.406), divided by std (0.229, 0.224, 0.225)) and "
    "--dtype float32 (needed by unit and imagenet) say otherwise."
)

SPEC_HELP = (
    "use model.onnx, a folder holding model.joblib and card.json, path/to/file.py:function or package.module:function"
)


class Scorer:
    """A scorer kind: a name, the specs it loads, and ``scorer(batch) -> (N,) float64 scores in [0, 1]``.

    Class attributes
    ----------------
    kind : str
        The registry name (``"onnx"``, ``"python"``, ``"sklearn"``, ``"table"``).
    option : str
        The mining option that names a spec of this kind: ``"model"`` for
        scorers that compute scores, ``"scores"`` for precomputed ones.
    reads_windows : bool
        Whether the scorer needs the windows of an item (a table of
        precomputed scores looks them up instead, see :meth:`lookup`).
    what : str
        What a spec of this kind is, in words, for messages.
    """

    kind: ClassVar[str]
    option: ClassVar[str] = "model"
    reads_windows: ClassVar[bool] = True
    what: ClassVar[str] = "model"

    @classmethod
    def applies_to(cls, spec: str) -> bool:
        """Whether ``spec`` (a path or a Python reference) names a scorer of this kind."""
        raise NotImplementedError

    @classmethod
    def from_spec(cls, spec: str, *, trust_model: bool = False, logits: bool = False, device: str = "cpu",
                  batch_size: int = 256) -> Scorer:  # fmt: skip
        """Load the scorer ``spec`` names; options a kind has no use for are ignored."""
        raise NotImplementedError

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def lookup(self, item):
        """An item's scored windows, for a kind that does not read windows."""
        raise NotImplementedError(f"{type(self).__name__} scores windows; it has no per-item lookup")


#: kind name -> scorer class, in the order :func:`load_scorer` tries them
SCORER_KINDS: dict[str, type[Scorer]] = {}


def register_scorer(cls: type[Scorer]) -> type[Scorer]:
    """Class decorator: add a :class:`Scorer` subclass to :data:`SCORER_KINDS` under its ``kind``."""
    name = cls.kind
    if name in SCORER_KINDS and SCORER_KINDS[name] is not cls:
        raise ValueError(f"a scorer kind named {name!r} is already registered ({SCORER_KINDS[name].__module__})")
    SCORER_KINDS[name] = cls
    return cls


class _Device(Constraint):
    """``cpu``, ``cuda`` or ``cuda:N``."""

    def is_satisfied_by(self, value) -> bool:
        kind, _, index = str(value).partition(":")
        return (kind == "cpu" and not index) or (kind == "cuda" and (not index or index.isdigit()))

    def describe(self) -> str:
        return "cpu, cuda or cuda:N"


#: where a scorer may run
DEVICES = _Device()


def check_device(device) -> str:
    """``device`` as text if it is ``cpu``, ``cuda`` or ``cuda:N``, else an :class:`InputError`.

    Examples
    --------
    >>> check_device("cuda:1")
    'cuda:1'
    >>> check_device("gpu")
    Traceback (most recent call last):
    ...
    hardneg.errors.InputError: device must be cpu, cuda or cuda:N, got 'gpu'
    """
    validate_value("device", device, [DEVICES])
    return str(device)


def load_scorer(
    spec: str | Path,
    *,
    trust_model: bool = False,
    logits: bool = False,
    device: str = "cpu",
    batch_size: int = 256,
) -> Scorer:
    """Load the scorer ``spec`` names (``--model``), with the first kind of :data:`SCORER_KINDS` that applies.

    Parameters
    ----------
    spec : str or path
        ``model.onnx``; ``path/to/file.py:make`` or ``package.module:make``; a
        folder with ``model.joblib`` and ``card.json`` (or the ``model.joblib``
        in it).
    trust_model : bool, default=False
        Allow unpickling a scikit-learn model (``--trust-model``).
    logits : bool, default=False
        The model gives logits: apply a sigmoid (``--logits``).
    device : {"cpu", "cuda", "cuda:N"}, default="cpu"
        Where an ONNX model runs; ``cuda`` needs onnxruntime's
        CUDAExecutionProvider (the ``onnxruntime-gpu`` package). Python and
        scikit-learn scorers choose their own device.
    batch_size : int, default=256
        The most windows passed to the model at once; scores do not depend on it.

    Returns
    -------
    Scorer
        An :class:`~hardneg.score.ONNXScorer`, :class:`~hardneg.score.PythonScorer`
        or :class:`~hardneg.score.SklearnScorer`.

    Raises
    ------
    InputError
        If the spec names nothing loadable, the model cannot be loaded, a
        scikit-learn model is given without ``trust_model``, or the device is
        not available.

    Examples
    --------
    ``models/shot.onnx`` gives an :class:`~hardneg.score.ONNXScorer`; a Python factory (here one written
    on the spot) a :class:`~hardneg.score.PythonScorer`, which takes any ``device`` since it chooses its own:

    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> _ = Path(tmp.name, "energy.py").write_text("import numpy as np\\n\\ndef make():\\n"
    ...     "    return lambda batch: 1 / (1 + np.exp(-np.mean(batch**2, axis=(1, 2))))\\n")
    >>> scorer = load_scorer(f"{tmp.name}/energy.py:make", batch_size=512)
    >>> type(scorer).__name__, scorer(np.zeros((1000, 2, 50), np.float32)).shape
    ('PythonScorer', (1000,))
    >>> load_scorer(f"{tmp.name}/energy.py:make", device="cuda").kind
    'python'
    >>> tmp.cleanup()
    """
    text = str(spec)
    if not text.strip():
        raise InputError(f"model is empty; {SPEC_HELP}", parameter="model")
    validate_value("batch_size", batch_size, [Interval(Integral, 1, None, closed="left")])
    check_device(device)
    for kind in SCORER_KINDS.values():
        if kind.applies_to(text):
            if kind.option != "model":
                raise InputError(
                    f"model {text}: looks like a {kind.what}; pass it as --{kind.option} {text}", parameter="model"
                )
            return kind.from_spec(
                text, trust_model=trust_model, logits=bool(logits), device=device, batch_size=int(batch_size)
            )
    path = Path(text)
    if path.suffix.lower() == ".py":
        raise InputError(
            f"model {text}: name the factory function in the file, e.g. --model {text}:make", parameter="model"
        )
    if not path.exists():
        raise InputError(f"model {text}: no such file or folder; {SPEC_HELP}", parameter="model")
    raise InputError(f"model {text}: not a scorer; {SPEC_HELP}", parameter="model")


class BaseScorer(Scorer):
    """Batching, sigmoid and range checks shared by the scorers that compute scores; subclasses implement ``_score``.

    ``_score(chunk)`` gets at most ``batch_size`` windows and returns one raw
    value per window, in any shape that holds exactly ``len(chunk)`` values.
    """

    kind = "base"

    def __init__(self, spec: str, *, logits: bool = False, batch_size: int = 256):
        self.spec = str(spec)
        self.logits = bool(logits)
        self.batch_size = int(batch_size)

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        batch = np.asarray(batch)
        if batch.ndim < 1:
            raise InputError(
                f"model {self.spec}: a batch must be an array with windows on its first axis", parameter="model"
            )
        n = batch.shape[0]
        if n == 0:
            # A model is never asked about an empty batch: many reject a zero batch dimension.
            return np.empty(0, dtype=np.float64)
        if n <= self.batch_size:  # the usual case, one slice: no list, no concatenation
            return self._to_probability(self._checked(self._score(batch), n))
        raw = np.concatenate(
            [self._checked(self._score(batch[start : start + self.batch_size]), min(self.batch_size, n - start))
             for start in range(0, n, self.batch_size)]
        )  # fmt: skip
        return self._to_probability(raw)

    def _score(self, chunk: np.ndarray):  # pragma: no cover - abstract
        raise NotImplementedError

    def _checked(self, values, n: int) -> np.ndarray:
        """``values`` as a float64 (n,) array; anything holding n values in one non-unit axis is squeezed."""
        values = to_numpy(values)
        try:
            values = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            raise InputError(
                f"model {self.spec}: returned {type(values).__name__}, not an array of numbers; "
                f"return one score per window, shape ({n},)",
                parameter="model",
            ) from None
        if values.size != n or sum(size != 1 for size in values.shape) > 1:
            raise InputError(
                f"model {self.spec}: returned shape {values.shape} for a batch of {n} windows; "
                f"return one score per window, shape ({n},)",
                parameter="model",
            )
        return values.reshape(n)

    def _to_probability(self, raw: np.ndarray) -> np.ndarray:
        if not self.logits:
            # min and max are NaN when a score is: scores already in [0, 1] (no NaN) pass with two reductions,
            # copied, as a model may return (and reuse) a buffer of its own, as np.clip copied it before
            low, high = float(raw.min()), float(raw.max())
            if low >= 0.0 and high <= 1.0:
                return raw.copy()
        if np.isnan(raw).any():
            raise InputError(
                f"model {self.spec}: returned NaN scores; check the model and its input windows", parameter="model"
            )
        if self.logits:
            from scipy.special import expit

            return expit(raw)
        if low < -_RANGE_SLACK or high > 1.0 + _RANGE_SLACK:
            raise InputError(
                f"model {self.spec}: scores outside [0, 1] (min {low:.6g}, max {high:.6g}); "
                "if the model outputs logits, pass --logits to apply a sigmoid",
                parameter="model",
            )
        return np.clip(raw, 0.0, 1.0)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.spec!r}, logits={self.logits}, batch_size={self.batch_size})"


def to_numpy(values):
    """Tensors (torch, tensorflow, jax) to numpy without importing any of them."""
    if isinstance(values, np.ndarray):
        return values
    for step in ("detach", "cpu", "numpy"):
        method = getattr(values, step, None)
        if callable(method):
            values = method()
    return values


def first_line(error: BaseException) -> str:
    """The first line of an error's message, or its type's name when it has none."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
