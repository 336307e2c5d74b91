"""The ``python`` scorer kind: what a factory ``path/to/file.py:make`` or ``package.module:make`` returns.

Examples
--------
>>> PythonScorer.applies_to("scorers/energy.py:make"), PythonScorer.applies_to("package.module:make")
(True, True)
>>> PythonScorer.applies_to("model.onnx")
False
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from hardneg.errors import InputError
from hardneg.score._base import BaseScorer, first_line, register_scorer

__all__ = ["PythonScorer", "import_function", "load_factory"]


@register_scorer
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

    That file, written to a temporary folder, and two batches scored with it:

    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> _ = Path(tmp.name, "energy.py").write_text("import numpy as np\\n\\ndef make():\\n"
    ...     "    return lambda batch: 1 / (1 + np.exp(-np.mean(batch**2, axis=(1, 2))))\\n")
    >>> scorer = PythonScorer(f"{tmp.name}/energy.py:make")
    >>> scorer(np.zeros((3, 2, 8), np.float32)).tolist(), scorer(np.full((1, 2, 8), 2, np.float32)).round(3).tolist()
    ([0.5, 0.5, 0.5], [0.982])
    >>> tmp.cleanup()
    """

    kind = "python"

    @classmethod
    def applies_to(cls, spec: str) -> bool:
        return ":" in str(spec)

    @classmethod
    def from_spec(cls, spec: str, *, logits: bool = False, batch_size: int = 256, **_):
        return cls(spec, logits=logits, batch_size=batch_size)

    def __init__(self, spec: str, *, logits: bool = False, batch_size: int = 256):
        super().__init__(spec, logits=logits, batch_size=batch_size)
        self.function = load_factory(self.spec)

    def _score(self, chunk: np.ndarray):
        try:
            return self.function(chunk)
        except InputError:
            raise
        except Exception as error:
            raise InputError(
                f"model {self.spec}: the scorer raised {type(error).__name__}: {first_line(error)}", parameter="model"
            ) from error

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("function", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.function = load_factory(self.spec)


def import_function(spec: str, *, parameter: str = "model", makes: str = "the scorer") -> Callable:
    """Import ``path/to/file.py:name`` or ``package.module:name`` and return ``name`` itself, not called.

    Every failure (malformed spec, missing file or module, an import that raises, a missing or non-callable
    attribute) is one :class:`InputError` line that names ``spec``, reported against ``parameter``; ``makes`` says
    what the function should return, for the hint.

    Examples
    --------
    >>> import_function("math:sqrt")(4.0)
    2.0
    >>> import_function("math:pi")
    Traceback (most recent call last):
    ...
    hardneg.errors.InputError: model math:pi: pi is a float, not a function; name a factory that returns the scorer
    """
    target, _, name = spec.rpartition(":")  # the last colon, so a Windows drive letter (C:\...) stays in the path
    if not target or not name.isidentifier():
        raise InputError(
            f"{parameter} {spec}: expected path/to/file.py:function or package.module:function", parameter=parameter
        )
    is_file = target.endswith(".py") or "/" in target or "\\" in target
    try:
        module = _import_file(spec, Path(target), parameter) if is_file else _import_module(spec, target, parameter)
    except InputError:
        raise
    except Exception as error:  # whatever the user's module raises while it is imported
        raise InputError(
            f"{parameter} {spec}: importing {target} raised {type(error).__name__}: {first_line(error)}",
            parameter=parameter,
        ) from None
    if not hasattr(module, name):
        raise InputError(
            f"{parameter} {spec}: {target} has no attribute {name!r}; name the factory function", parameter=parameter
        )
    function = getattr(module, name)
    if not callable(function):
        raise InputError(
            f"{parameter} {spec}: {name} is a {type(function).__name__}, not a function; name a factory that returns "
            f"{makes}",
            parameter=parameter,
        )
    return function


def load_factory(spec: str) -> Callable:
    """Import ``path/to/file.py:name`` or ``package.module:name``, call ``name()`` and return the scorer it makes."""
    factory = import_function(spec)
    name = spec.rpartition(":")[2]
    try:
        scorer = factory()
    except Exception as error:
        raise InputError(
            f"model {spec}: {name}() raised {type(error).__name__}: {first_line(error)}", parameter="model"
        ) from None
    if not callable(scorer):
        raise InputError(
            f"model {spec}: {name}() returned a {type(scorer).__name__}, not a callable; return a function that "
            "maps a batch of windows to one score per window",
            parameter="model",
        )
    return scorer


def _import_file(spec: str, path: Path, parameter: str):
    if not path.is_file():
        raise InputError(f"{parameter} {spec}: file {path} not found", parameter=parameter)
    path = path.resolve()
    # One module name per file path, so two scorer files called scorer.py do not replace each other.
    module_name = f"_hardneg_scorer_{path.stem}_{hashlib.sha1(str(path).encode()).hexdigest()[:10]}"
    module_spec = importlib.util.spec_from_file_location(module_name, path)
    if module_spec is None or module_spec.loader is None:
        raise InputError(
            f"{parameter} {spec}: {path} cannot be imported as Python; give a .py file", parameter=parameter
        )
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


def _import_module(spec: str, target: str, parameter: str):
    try:
        return importlib.import_module(target)
    except ModuleNotFoundError as error:
        if error.name and (target == error.name or target.startswith(error.name + ".")):
            raise InputError(
                f"{parameter} {spec}: module {target} not found; install it, or give a file as "
                "path/to/file.py:function",
                parameter=parameter,
            ) from None
        raise
