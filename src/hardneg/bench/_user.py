"""Models and feature sets the user brings as ``path/to/file.py:function`` or ``package.module:function``.

A *model spec* names a factory that returns a scikit-learn-compatible
estimator (``fit``, and ``predict_proba`` or ``decision_function``). Each seed
calls ``make(seed)`` when the factory takes one argument, else ``make()``,
then sets every ``random_state`` parameter the estimator has to the seed. With
``make.input = "windows"`` the estimator is fitted on the (N, C, T) float32
windows instead of a feature matrix (a network behind a scikit-learn wrapper).

A *feature spec* names a function ``(windows, index) -> 2-D matrix`` (a numpy
array or a DataFrame), one finite row per window.

Examples
--------
>>> is_spec("logreg"), is_spec("models/cnn.py:make"), is_spec("mypackage.nets:make")
(False, True, True)
>>> spec_label("models/cnn.py:make"), spec_label("mypackage.nets:make")
('cnn.make', 'mypackage.nets.make')
"""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np
import pandas as pd

from hardneg.errors import InputError
from hardneg.score import import_function

__all__ = [
    "WINDOWS_INPUT",
    "compute_user_features",
    "fit_user_estimator",
    "is_spec",
    "make_user_estimator",
    "model_input",
    "positive_scores",
    "spec_label",
]

#: The value of ``make.input`` that feeds the estimator the windows instead of a feature matrix.
WINDOWS_INPUT = "windows"
_INPUTS = ("features", WINDOWS_INPUT)


def is_spec(name: str) -> bool:
    """Whether ``name`` is a ``target:function`` spec rather than a built-in name (built-in names hold no colon)."""
    return ":" in name


def spec_label(spec: str) -> str:
    """The name a spec's rows carry in results and report: file stem (or module path), a dot, the function."""
    target, _, function = spec.rpartition(":")
    is_file = target.endswith(".py") or "/" in target or "\\" in target
    return f"{Path(target).stem if is_file else target}.{function}"


def model_input(spec: str) -> str:
    """``"features"`` or ``"windows"``: what the factory's estimator is fitted on (its ``input`` attribute)."""
    factory = import_function(spec, parameter="models", makes="an estimator")
    value = getattr(factory, "input", "features")
    if value not in _INPUTS:
        raise InputError(
            f"models {spec}: {factory.__name__}.input must be 'features' or 'windows', got {value!r}",
            parameter="models",
        )
    return value


def make_user_estimator(spec: str, seed: int):
    """A fresh estimator from the factory ``spec`` for ``seed``; one :class:`InputError` line if that fails."""
    factory = import_function(spec, parameter="models", makes="an estimator")
    function = spec.rpartition(":")[2]
    takes_seed = _takes_one_argument(factory)
    try:
        estimator = factory(seed) if takes_seed else factory()
    except Exception as error:
        call = f"{function}({seed})" if takes_seed else f"{function}()"
        raise InputError(
            f"models {spec}: {call} raised {type(error).__name__}: {_first_line(error)}", parameter="models"
        ) from None
    if not callable(getattr(estimator, "fit", None)) or not (
        callable(getattr(estimator, "predict_proba", None)) or callable(getattr(estimator, "decision_function", None))
    ):
        raise InputError(
            f"models {spec}: {function}() returned a {type(estimator).__name__}, which lacks fit and "
            "predict_proba or decision_function; return a scikit-learn-compatible classifier",
            parameter="models",
        )
    if not takes_seed and callable(getattr(estimator, "get_params", None)):
        seeded = {
            key: seed for key in estimator.get_params() if key == "random_state" or key.endswith("__random_state")
        }
        if seeded:
            estimator.set_params(**seeded)
    return estimator


def fit_user_estimator(spec: str, estimator, x, y):
    """``estimator.fit(x, y)``, with an error the user's estimator raises turned into one :class:`InputError` line."""
    try:
        estimator.fit(x, y)
    except Exception as error:
        raise InputError(
            f"models {spec}: fit raised {type(error).__name__}: {_first_line(error)}", parameter="models"
        ) from None
    return estimator


def positive_scores(estimator, x) -> np.ndarray:
    """Class-1 scores in [0, 1]: ``predict_proba[:, 1]``, else the logistic of ``decision_function``.

    Examples
    --------
    >>> class Margin:
    ...     def decision_function(self, x):
    ...         return np.asarray(x)[:, 0]
    >>> positive_scores(Margin(), np.array([[0.0], [100.0]])).tolist()
    [0.5, 1.0]
    """
    if callable(getattr(estimator, "predict_proba", None)):
        return np.asarray(estimator.predict_proba(x))[:, 1]
    margin = np.asarray(estimator.decision_function(x), dtype=np.float64).reshape(len(x), -1)[:, -1]
    # The logistic keeps the order (so every ranking metric) and puts margin 0 at 0.5, the default threshold.
    return 0.5 * (1.0 + np.tanh(0.5 * margin))


def compute_user_features(spec: str, windows, index: pd.DataFrame) -> np.ndarray:
    """Call the feature function ``spec`` on ``(windows, index)`` and check its matrix: 2-D, a row per window, finite.

    Examples
    --------
    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> _ = Path(tmp.name, "feats.py").write_text("def peak(windows, index):\\n    return windows.max(axis=2)\\n")
    >>> compute_user_features(f"{tmp.name}/feats.py:peak", np.ones((2, 1, 4)), pd.DataFrame(index=[0, 1])).tolist()
    [[1.0], [1.0]]
    >>> _ = Path(tmp.name, "bad.py").write_text("def peak(windows, index):\\n    return windows.max(axis=(1, 2))\\n")
    >>> compute_user_features(f"{tmp.name}/bad.py:peak", np.ones((2, 1, 4)), pd.DataFrame(index=[0, 1]))
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    hardneg.errors.InputError: features .../bad.py:peak: the matrix must be 2-D (one row per window), got shape (2,)
    >>> tmp.cleanup()
    """
    function = import_function(spec, parameter="features", makes="a feature matrix")
    name = spec.rpartition(":")[2]
    try:
        matrix = function(windows, index)
    except Exception as error:
        raise InputError(
            f"features {spec}: {name}(windows, index) raised {type(error).__name__}: {_first_line(error)}",
            parameter="features",
        ) from None
    try:
        matrix = np.asarray(matrix.to_numpy() if isinstance(matrix, pd.DataFrame) else matrix, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise InputError(
            f"features {spec}: the matrix must hold numbers ({_first_line(error)})", parameter="features"
        ) from None
    if matrix.ndim != 2:
        raise InputError(
            f"features {spec}: the matrix must be 2-D (one row per window), got shape {matrix.shape}",
            parameter="features",
        )
    if len(matrix) != len(index):
        raise InputError(
            f"features {spec}: the matrix has {len(matrix)} rows for {len(index)} windows; return one row per window",
            parameter="features",
        )
    if not np.isfinite(matrix).all():
        row = int(np.flatnonzero(~np.isfinite(matrix).all(axis=1))[0])
        raise InputError(
            f"features {spec}: row {row} holds a NaN or infinite value; features must be finite",
            parameter="features",
        )
    return matrix


def _takes_one_argument(factory) -> bool:
    try:
        inspect.signature(factory).bind(0)
    except TypeError:
        return False
    except ValueError:  # no signature to read (some builtins): call it without the seed
        return False
    return True


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
