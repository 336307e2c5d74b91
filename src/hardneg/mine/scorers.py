"""Scorers for ``hardneg mine``: anything that maps a batch of windows (or frames) to scores in [0, 1].

A scorer is called with a *window batch*: sensor and audio windows as a
float32 array of shape ``(N, channels, samples)``, video frames and images as
a uint8 RGB array of shape ``(N, H, W, 3)``. It returns a float64 array of
shape ``(N,)`` with scores in [0, 1]. :func:`load_scorer` picks the kind from
``--model``:

``model.onnx``
    an ONNX model run with onnxruntime (CPU, or CUDA with ``device="cuda"``);
    the batch is cast to the model input's element type, fed in slices of
    ``batch_size`` and the output squeezed to ``(N,)``.
``path/to/file.py:make`` or ``package.module:make``
    a Python factory: ``make()`` is called once and returns the callable that
    scores batches.
a folder with ``model.joblib`` and ``card.json``
    a scikit-learn model saved by ``hardneg train``; the card's feature set is
    computed from each batch with :func:`hardneg.features.compute_features`
    and ``predict_proba(...)[:, 1]`` is the score. Loading unpickles the file,
    which runs code stored in it, so it is refused unless ``trust_model``.

``logits=True`` applies a sigmoid to whatever the model gives; without it a
score outside [0, 1] is an :class:`~hardneg.errors.InputError` suggesting
``--logits``. :class:`TableScores` serves ``--scores FILE`` instead: scores
computed elsewhere, looked up per item.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import numbers
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd

from hardneg.errors import InputError

MODEL_FILE = "model.joblib"
CARD_FILE = "card.json"
TABLE_COLUMNS = ("item", "start_ms", "end_ms", "score")

#: How far a score may stray outside [0, 1] from float rounding (a float32 softmax, say) before it is refused.
_RANGE_SLACK = 1e-6

#: onnxruntime's element types, as ``NodeArg.type`` spells them, and the numpy dtype fed for each.
_ONNX_DTYPES = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(float16)": np.float16,
    "tensor(uint8)": np.uint8,
    "tensor(int8)": np.int8,
    "tensor(uint16)": np.uint16,
    "tensor(int16)": np.int16,
    "tensor(int32)": np.int32,
    "tensor(int64)": np.int64,
    "tensor(bool)": np.bool_,
}

_SPEC_HELP = (
    "use model.onnx, a folder holding model.joblib and card.json, path/to/file.py:function or package.module:function"
)


@runtime_checkable
class Scorer(Protocol):
    """What the mining engines call: ``scorer(batch) -> (N,) float64 scores in [0, 1]``.

    ``kind`` is ``"onnx"``, ``"python"``, ``"sklearn"`` or ``"table"``.
    """

    kind: str

    def __call__(self, batch: np.ndarray) -> np.ndarray: ...


def load_scorer(
    spec: str | Path,
    *,
    trust_model: bool = False,
    logits: bool = False,
    device: str = "cpu",
    batch_size: int = 256,
) -> BaseScorer:
    """Load the scorer ``--model spec`` names.

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
    BaseScorer
        An :class:`ONNXScorer`, :class:`PythonScorer` or :class:`SklearnScorer`.

    Raises
    ------
    InputError
        If the spec names nothing loadable, the model cannot be loaded, a
        scikit-learn model is given without ``trust_model``, or the device is
        not available.

    Examples
    --------
    >>> scorer = load_scorer("models/shot.onnx", batch_size=512)  # doctest: +SKIP
    >>> scorer(windows).shape  # doctest: +SKIP
    (1000,)
    >>> load_scorer("scorers/yolo_person.py:make", device="cuda")  # doctest: +SKIP
    """
    text = str(spec)
    if not text.strip():
        raise InputError(f"--model is empty; {_SPEC_HELP}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
        raise InputError(f"--batch-size must be a positive integer, got {batch_size!r}")
    _check_device(device)
    options = {"logits": bool(logits), "batch_size": int(batch_size)}
    path = Path(text)
    if text.lower().endswith(".onnx"):
        return ONNXScorer(text, device=device, **options)
    if path.is_dir() or path.name == MODEL_FILE:
        folder = path if path.is_dir() else path.parent
        return SklearnScorer(text, folder, trust_model=trust_model, **options)
    if path.suffix.lower() in (".csv", ".tsv", ".parquet", ".pq") and ":" not in path.name:
        raise InputError(f"--model {text}: looks like a table of scores; pass it as --scores {text}")
    if ":" in text:
        return PythonScorer(text, **options)
    if path.suffix.lower() == ".py":
        raise InputError(f"--model {text}: name the factory function in the file, e.g. --model {text}:make")
    if not path.exists():
        raise InputError(f"--model {text}: no such file or folder; {_SPEC_HELP}")
    raise InputError(f"--model {text}: not a scorer; {_SPEC_HELP}")


class BaseScorer:
    """Batching, sigmoid and range checks shared by the scorers; subclasses implement ``_score``.

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
            raise InputError(f"--model {self.spec}: a batch must be an array with windows on its first axis")
        n = batch.shape[0]
        if n == 0:
            # A model is never asked about an empty batch: many reject a zero batch dimension.
            return np.empty(0, dtype=np.float64)
        raw = np.concatenate(
            [self._checked(self._score(batch[start : start + self.batch_size]), min(self.batch_size, n - start))
             for start in range(0, n, self.batch_size)]
        )  # fmt: skip
        return self._to_probability(raw)

    def _score(self, chunk: np.ndarray):  # pragma: no cover - abstract
        raise NotImplementedError

    def _checked(self, values, n: int) -> np.ndarray:
        """``values`` as a float64 (n,) array; anything holding n values in one non-unit axis is squeezed."""
        values = _to_numpy(values)
        try:
            values = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            raise InputError(
                f"--model {self.spec}: returned {type(values).__name__}, not an array of numbers; "
                f"return one score per window, shape ({n},)"
            ) from None
        if values.size != n or sum(size != 1 for size in values.shape) > 1:
            raise InputError(
                f"--model {self.spec}: returned shape {values.shape} for a batch of {n} windows; "
                f"return one score per window, shape ({n},)"
            )
        return values.reshape(n)

    def _to_probability(self, raw: np.ndarray) -> np.ndarray:
        if np.isnan(raw).any():
            raise InputError(f"--model {self.spec}: returned NaN scores; check the model and its input windows")
        if self.logits:
            from scipy.special import expit

            return expit(raw)
        low, high = float(raw.min()), float(raw.max())
        if low < -_RANGE_SLACK or high > 1.0 + _RANGE_SLACK:
            raise InputError(
                f"--model {self.spec}: scores outside [0, 1] (min {low:.6g}, max {high:.6g}); "
                "if the model outputs logits, pass --logits to apply a sigmoid"
            )
        return np.clip(raw, 0.0, 1.0)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.spec!r}, logits={self.logits}, batch_size={self.batch_size})"


class ONNXScorer(BaseScorer):
    """An ONNX model run with onnxruntime; see :func:`load_scorer`.

    The model must have one input, whose rank matches the batch (``(N, C, T)``
    or ``(N, H, W, 3)``); its fixed dimensions are checked against the batch.
    A model exported with a fixed batch dimension (often 1) is fed slices of
    that size, the last one zero-padded. The first output, holding one value
    per window, is the score. The session is rebuilt when the scorer is
    unpickled (for worker processes), since onnxruntime sessions do not pickle.

    Examples
    --------
    >>> scorer = ONNXScorer("model.onnx", device="cpu", batch_size=256)  # doctest: +SKIP
    """

    kind = "onnx"

    def __init__(self, spec: str, *, device: str = "cpu", logits: bool = False, batch_size: int = 256):
        super().__init__(spec, logits=logits, batch_size=batch_size)
        self.device = _check_device(device)
        self._open()

    def _open(self) -> None:
        ort = _import_onnxruntime(self.spec)
        path = Path(self.spec)
        if not path.is_file():
            raise InputError(f"--model {self.spec}: no such file; give the path of an .onnx model")
        available = ort.get_available_providers()
        if self.device == "cpu":
            providers = ["CPUExecutionProvider"]
        else:
            if "CUDAExecutionProvider" not in available:
                raise InputError(
                    f"--device {self.device}: onnxruntime's CUDAExecutionProvider is not available "
                    f"(available: {', '.join(available)}); install onnxruntime-gpu matching your CUDA, "
                    "or use --device cpu"
                )
            device_id = int(self.device.partition(":")[2] or 0)
            providers = [("CUDAExecutionProvider", {"device_id": device_id}), "CPUExecutionProvider"]
        options = ort.SessionOptions()
        options.log_severity_level = 3  # warnings about unused initialisers etc. are noise for a user
        try:
            self.session = ort.InferenceSession(str(path), sess_options=options, providers=providers)
        except Exception as error:  # onnxruntime raises its own exception types (Fail, InvalidGraph, ...)
            raise InputError(
                f"--model {self.spec}: onnxruntime cannot load it: {_first_line(error)}; "
                "export it again (an IR version and opset this onnxruntime supports)"
            ) from None
        inputs = self.session.get_inputs()
        if len(inputs) != 1:
            raise InputError(
                f"--model {self.spec}: the model has {len(inputs)} inputs ({', '.join(i.name for i in inputs)}); "
                "a scorer model takes one input, the batch of windows"
            )
        self.input_name = inputs[0].name
        self.input_shape = list(inputs[0].shape)
        self.input_type = inputs[0].type
        if self.input_type not in _ONNX_DTYPES:
            raise InputError(
                f"--model {self.spec}: input {self.input_name!r} is {self.input_type}; "
                f"use one of: {', '.join(_ONNX_DTYPES)}"
            )
        self.input_dtype = np.dtype(_ONNX_DTYPES[self.input_type])
        self.output_name = self.session.get_outputs()[0].name
        first = self.input_shape[0] if self.input_shape else None
        # A symbolic or missing batch dimension ('N', None) takes any batch; a fixed one dictates the slice size.
        self.fixed_batch = first if isinstance(first, int) and first > 0 else None

    def _score(self, chunk: np.ndarray) -> np.ndarray:
        self._check_shape(chunk)
        feed = chunk.astype(self.input_dtype, copy=False)
        if self.fixed_batch is None:
            return self._run(feed, len(chunk))
        size = self.fixed_batch
        parts = []
        for start in range(0, len(feed), size):
            part = feed[start : start + size]
            if len(part) < size:
                padding = np.zeros((size - len(part), *part.shape[1:]), dtype=part.dtype)
                part = np.concatenate([part, padding])
            parts.append(self._run(part, size)[: len(feed) - start])
        return np.concatenate(parts)

    def _run(self, feed: np.ndarray, n: int) -> np.ndarray:
        try:
            output = self.session.run([self.output_name], {self.input_name: np.ascontiguousarray(feed)})[0]
        except Exception as error:  # onnxruntime's own exception types
            raise InputError(f"--model {self.spec}: onnxruntime failed on a batch: {_first_line(error)}") from None
        return self._checked(output, n)

    def _check_shape(self, chunk: np.ndarray) -> None:
        expected = self.input_shape
        wrong = len(expected) != chunk.ndim or any(
            isinstance(want, int) and want > 0 and want != got for want, got in zip(expected[1:], chunk.shape[1:])
        )
        if wrong:
            shown = ", ".join(str(d) if isinstance(d, int) else "?" for d in expected)
            raise InputError(
                f"--model {self.spec}: input {self.input_name!r} takes shape ({shown}) but the windows have shape "
                f"(N, {', '.join(map(str, chunk.shape[1:]))}); choose --window-ms/--channels to match the model"
            )

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("session", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._open()


class PythonScorer(BaseScorer):
    """The callable returned by a Python factory ``path/to/file.py:make`` or ``package.module:make``.

    ``make()`` is called once, with no arguments; what it returns is called
    with each batch (float32 ``(N, C, T)`` or uint8 ``(N, H, W, 3)``, as the
    pool gives) and must return ``N`` scores (a numpy array, list or a tensor
    with ``.numpy()``; ``(N, 1)`` is squeezed). A file's folder is appended to
    ``sys.path`` so it can import modules next to it. When the scorer is
    pickled (for worker processes) the factory is imported and called again
    on the other side.

    Examples
    --------
    Given ``scorers/energy.py``::

        import numpy as np

        def make():
            return lambda batch: 1 / (1 + np.exp(-np.mean(batch**2, axis=(1, 2))))

    >>> scorer = PythonScorer("scorers/energy.py:make")  # doctest: +SKIP
    """

    kind = "python"

    def __init__(self, spec: str, *, logits: bool = False, batch_size: int = 256):
        super().__init__(spec, logits=logits, batch_size=batch_size)
        self.function = _load_factory(self.spec)

    def _score(self, chunk: np.ndarray):
        try:
            return self.function(chunk)
        except InputError:
            raise
        except Exception as error:
            raise InputError(
                f"--model {self.spec}: the scorer raised {type(error).__name__}: {_first_line(error)}"
            ) from error

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("function", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.function = _load_factory(self.spec)


class SklearnScorer(BaseScorer):
    """A scikit-learn model saved by ``hardneg train``/``bench``: ``model.joblib`` plus ``card.json``.

    Each batch of raw windows ``(N, channels, samples)`` is turned into the
    card's feature set (``card["features"]``, at ``card["sample_rate_hz"]``),
    and ``predict_proba(features)[:, 1]`` is the score. The batch must have
    the card's number of channels and samples per window.

    Examples
    --------
    >>> scorer = SklearnScorer("models/et", "models/et", trust_model=True)  # doctest: +SKIP
    """

    kind = "sklearn"

    def __init__(
        self, spec: str, folder: str | Path, *, trust_model: bool = False, logits: bool = False, batch_size: int = 256
    ):
        super().__init__(spec, logits=logits, batch_size=batch_size)
        folder = Path(folder)
        for name in (MODEL_FILE, CARD_FILE):
            if not (folder / name).is_file():
                raise InputError(
                    f"--model {self.spec}: not a hardneg model ({name} missing); make one with `hardneg train`, "
                    f"or {_SPEC_HELP}"
                )
        if not trust_model:
            raise InputError(
                f"--model {self.spec}: loading a scikit-learn model unpickles {MODEL_FILE}, which runs code stored "
                "in the file; pass --trust-model if you made it or trust where it came from"
            )
        try:
            self.card = json.loads((folder / CARD_FILE).read_text())
            self.features = self.card["features"]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise InputError(
                f"--model {self.spec}: {CARD_FILE} is unreadable or has no 'features' ({_first_line(error)}); "
                "save the model again with `hardneg train`"
            ) from None
        from hardneg.features import check_feature_set

        check_feature_set(self.features)
        channels = self.card.get("channels")
        self.n_channels = len(channels) if channels else None
        self.samples_per_window = self.card.get("samples_per_window")
        self.sample_rate_hz = self.card.get("sample_rate_hz")
        import joblib

        try:
            self.estimator = joblib.load(folder / MODEL_FILE)
        except Exception as error:  # unpickling can raise anything the stored code raises
            raise InputError(
                f"--model {self.spec}: cannot load {MODEL_FILE}: {type(error).__name__}: {_first_line(error)}; "
                "check that scikit-learn's version matches the card's"
            ) from None
        if not hasattr(self.estimator, "predict_proba"):
            raise InputError(f"--model {self.spec}: the stored model has no predict_proba; train a classifier")

    def _score(self, chunk: np.ndarray) -> np.ndarray:
        from hardneg.features import compute_features

        expected = (self.n_channels, self.samples_per_window)
        if chunk.ndim != 3 or any(want is not None and want != got for want, got in zip(expected, chunk.shape[1:])):
            raise InputError(
                f"--model {self.spec}: windows of shape (N, {', '.join(map(str, chunk.shape[1:]))}) but the model "
                f"was trained on {expected[0]} channels x {expected[1]} samples; choose --window-ms and --channels "
                "to match its card"
            )
        matrix, _ = compute_features(chunk, self.features, sample_rate_hz=self.sample_rate_hz)
        return self.estimator.predict_proba(matrix)[:, 1]


class TableScores:
    """Precomputed window scores from ``--scores FILE`` (CSV or Parquet: ``item, start_ms, end_ms, score``).

    The file is read and checked once: every value present, times finite with
    ``end_ms >= start_ms``, no window given twice, scores in [0, 1] (or logits
    turned into probabilities with ``logits=True``). :meth:`lookup` gives one
    item's windows in the window-table layout the engine writes.

    Examples
    --------
    >>> table = TableScores("scores.csv")  # doctest: +SKIP
    >>> table.lookup("s01").columns.tolist()  # doctest: +SKIP
    ['item', 'group', 'start_ms', 'end_ms', 'score']
    """

    kind = "table"

    def __init__(self, path: str | Path, *, logits: bool = False):
        from hardneg.io.tables import read_table

        self.path = Path(path)
        table = read_table(self.path, string_columns=("item",))
        missing = [name for name in TABLE_COLUMNS if name not in table.column_names]
        if missing:
            raise InputError(
                f"--scores {self.path}: column(s) {', '.join(missing)} not found; the table needs "
                f"{', '.join(TABLE_COLUMNS)} (found: {', '.join(table.column_names)})"
            )
        frame = table.select(list(TABLE_COLUMNS)).to_pandas()
        if frame["item"].isna().any():
            raise InputError(f"--scores {self.path}: row {int(frame['item'].isna().argmax())} has no item")
        items = frame["item"].astype(str).to_numpy()
        values = {}
        for name in ("start_ms", "end_ms", "score"):
            try:
                values[name] = pd.to_numeric(frame[name], errors="raise").to_numpy(np.float64)
            except (TypeError, ValueError):
                raise InputError(f"--scores {self.path}: column {name} holds non-numbers; give numbers") from None
            bad = ~np.isfinite(values[name])
            if bad.any():
                row = int(np.flatnonzero(bad)[0])
                raise InputError(f"--scores {self.path}: row {row} ({items[row]}) has a missing or infinite {name}")
        start, end, score = values["start_ms"], values["end_ms"], values["score"]
        if (end < start).any():
            row = int(np.flatnonzero(end < start)[0])
            raise InputError(f"--scores {self.path}: row {row} ({items[row]}) ends before it starts")
        if logits:
            from scipy.special import expit

            score = expit(score)
        elif (score < 0).any() or (score > 1).any():
            row = int(np.flatnonzero((score < 0) | (score > 1))[0])
            raise InputError(
                f"--scores {self.path}: row {row} ({items[row]}) has score {score[row]:g} outside [0, 1]; "
                "if the table holds logits, pass --logits"
            )
        # Sort by item then start once, so each item is one contiguous slice and lookups need no scan.
        order = np.lexsort((end, start, items))
        items, start, end, score = items[order], start[order], end[order], score[order]
        same = (items[1:] == items[:-1]) & (start[1:] == start[:-1]) & (end[1:] == end[:-1])
        if same.any():
            row = int(np.flatnonzero(same)[0])
            raise InputError(
                f"--scores {self.path}: window {items[row]} {start[row]:g}-{end[row]:g} ms appears more than once; "
                "keep one score per window"
            )
        self._items, self._start, self._end, self._score = items, start, end, score
        unique, first = np.unique(items, return_index=True)
        stops = np.append(first[1:], len(items))
        self._slices = {name: (int(a), int(b)) for name, a, b in zip(unique.tolist(), first, stops)}

    @property
    def items(self) -> list[str]:
        """The item ids the table has scores for, sorted."""
        return list(self._slices)

    def __len__(self) -> int:
        return len(self._score)

    def __contains__(self, item) -> bool:
        return _item_id(item) in self._slices

    def lookup(self, item, group: str | None = None) -> pd.DataFrame:
        """One item's scored windows: ``item, group, start_ms, end_ms, score``, sorted by ``start_ms``.

        ``item`` is an id or a pool item (anything with ``.id``, and ``.group``
        used when ``group`` is not given); the group defaults to the id.

        Raises
        ------
        InputError
            If the table has no scores for the item, so the engine reports it
            in ``errors.csv`` instead of silently mining nothing.
        """
        item_id = _item_id(item)
        if group is None:
            group = getattr(item, "group", None)
        group = item_id if group is None else str(group)
        if item_id not in self._slices:
            raise InputError(
                f"--scores {self.path}: no scores for item {item_id!r}; score it or leave it out of the pool"
            )
        a, b = self._slices[item_id]
        return pd.DataFrame(
            {
                "item": pd.Series([item_id] * (b - a), dtype=object),
                "group": pd.Series([group] * (b - a), dtype=object),
                "start_ms": self._start[a:b].copy(),
                "end_ms": self._end[a:b].copy(),
                "score": self._score[a:b].astype(np.float64),
            }
        )

    def __call__(self, batch):
        raise InputError(f"--scores {self.path}: precomputed scores are looked up per item, not computed from windows")

    def __repr__(self) -> str:
        return f"TableScores({str(self.path)!r}, {len(self)} windows, {len(self._slices)} items)"


def _item_id(item) -> str:
    return str(getattr(item, "id", item))


def _check_device(device) -> str:
    text = str(device)
    kind, _, index = text.partition(":")
    if (kind == "cpu" and not index) or (kind == "cuda" and (not index or index.isdigit())):
        return text
    raise InputError(f"--device {device!r}: use cpu, cuda or cuda:N")


def _import_onnxruntime(spec: str):
    try:
        import onnxruntime
    except ImportError:
        raise InputError(
            f"--model {spec}: ONNX models need onnxruntime; pip install onnxruntime (or onnxruntime-gpu for CUDA)"
        ) from None
    return onnxruntime


def _load_factory(spec: str) -> Callable:
    """Import ``path/to/file.py:name`` or ``package.module:name``, call ``name()`` and return the scorer it makes."""
    target, _, name = spec.rpartition(":")  # the last colon, so a Windows drive letter (C:\...) stays in the path
    if not target or not name.isidentifier():
        raise InputError(f"--model {spec}: expected path/to/file.py:function or package.module:function")
    is_file = target.endswith(".py") or "/" in target or "\\" in target
    try:
        module = _import_file(spec, Path(target)) if is_file else _import_module(spec, target)
    except InputError:
        raise
    except Exception as error:  # whatever the user's module raises while it is imported
        raise InputError(
            f"--model {spec}: importing {target} raised {type(error).__name__}: {_first_line(error)}"
        ) from None
    if not hasattr(module, name):
        raise InputError(f"--model {spec}: {target} has no attribute {name!r}; name the factory function")
    factory = getattr(module, name)
    if not callable(factory):
        raise InputError(
            f"--model {spec}: {name} is a {type(factory).__name__}, not a function; name a factory that returns "
            "the scorer"
        )
    try:
        scorer = factory()
    except Exception as error:
        raise InputError(f"--model {spec}: {name}() raised {type(error).__name__}: {_first_line(error)}") from None
    if not callable(scorer):
        raise InputError(
            f"--model {spec}: {name}() returned a {type(scorer).__name__}, not a callable; return a function that "
            "maps a batch of windows to one score per window"
        )
    return scorer


def _import_file(spec: str, path: Path):
    if not path.is_file():
        raise InputError(f"--model {spec}: file {path} not found")
    path = path.resolve()
    # One module name per file path, so two scorer files called scorer.py do not replace each other.
    module_name = f"_hardneg_scorer_{path.stem}_{hashlib.sha1(str(path).encode()).hexdigest()[:10]}"
    module_spec = importlib.util.spec_from_file_location(module_name, path)
    if module_spec is None or module_spec.loader is None:
        raise InputError(f"--model {spec}: {path} cannot be imported as Python; give a .py file")
    module = importlib.util.module_from_spec(module_spec)
    if str(path.parent) not in sys.path:
        sys.path.append(str(path.parent))  # lets the file import modules that sit next to it
    # Registered before running, as importlib does, so dataclasses and pickling find the module.
    sys.modules[module_name] = module
    try:
        module_spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    return module


def _import_module(spec: str, target: str):
    try:
        return importlib.import_module(target)
    except ModuleNotFoundError as error:
        if error.name and (target == error.name or target.startswith(error.name + ".")):
            raise InputError(
                f"--model {spec}: module {target} not found; install it, or give a file as path/to/file.py:function"
            ) from None
        raise


def _to_numpy(values):
    """Tensors (torch, tensorflow, jax) to numpy without importing any of them."""
    if isinstance(values, np.ndarray):
        return values
    for step in ("detach", "cpu", "numpy"):
        method = getattr(values, step, None)
        if callable(method):
            values = method()
    return values


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
