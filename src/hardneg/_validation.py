"""Value checks declared once: constraints in the spirit of scikit-learn's ``_param_validation``.

A library function declares what each parameter accepts and calls
:func:`validate_params`; a violation raises :class:`~hardneg.errors.InputError`
whose message names the *parameter* (``window_ms must be > 0, got 0``) and
whose ``parameter`` attribute lets the command line print the flag instead
(``--window-ms must be > 0, got 0``). The seed is checked in one place
(:func:`check_seed`) and turned into randomness in one place (:func:`rng`).

Examples
--------
>>> from numbers import Real
>>> validate_params({"window_ms": 500.0}, {"window_ms": [Interval(Real, 0, None, closed="neither")]})
>>> validate_params({"window_ms": 0}, {"window_ms": [Interval(Real, 0, None, closed="neither")]})
Traceback (most recent call last):
...
hardneg.errors.InputError: window_ms must be a number > 0, got 0
>>> validate_params({"align": "left"}, {"align": [Options({"end", "center"})]})
Traceback (most recent call last):
...
hardneg.errors.InputError: align must be one of center, end; got 'left'
>>> int(rng(0, "near").integers(10)) == int(rng(0, "near").integers(10))
True
"""

from __future__ import annotations

import math
import numbers
import os
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from hardneg.errors import InputError

__all__ = [
    "MAX_SEED",
    "Constraint",
    "Interval",
    "Options",
    "Sequence",
    "check_jobs",
    "check_seed",
    "rng",
    "validate_params",
    "validate_value",
]

#: the largest seed every consumer accepts (NumPy's legacy ``RandomState`` and scikit-learn)
MAX_SEED = 2**32 - 1


class Constraint:
    """One thing a parameter may be; ``is_satisfied_by`` decides, ``describe`` says it in words."""

    def is_satisfied_by(self, value: Any) -> bool:  # pragma: no cover - interface
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover - interface
        raise NotImplementedError


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _is_integral(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


@dataclass(frozen=True)
class Interval(Constraint):
    """A number in ``[low, high]``; ``closed`` is ``"both"``, ``"left"``, ``"right"`` or ``"neither"``.

    ``type`` is :class:`numbers.Real` or :class:`numbers.Integral`; ``None`` bounds are open-ended.
    NaN and infinities never satisfy it.

    Examples
    --------
    >>> from numbers import Integral, Real
    >>> Interval(Real, 0, 1, closed="both").describe()
    'a number in [0, 1]'
    >>> Interval(Integral, 1, None, closed="left").describe()
    'an integer >= 1'
    >>> Interval(Real, 0, 1, closed="right").is_satisfied_by(0)
    False
    """

    type: type
    low: float | None
    high: float | None
    closed: str = "both"

    def __post_init__(self):
        if self.closed not in ("both", "left", "right", "neither"):
            raise ValueError(f"closed must be both, left, right or neither, got {self.closed!r}")

    def is_satisfied_by(self, value) -> bool:
        if self.type is numbers.Integral:
            if not _is_integral(value):
                return False
        elif not _is_real(value):
            return False
        if not math.isfinite(float(value)):
            return False
        left = self.closed in ("both", "left")
        right = self.closed in ("both", "right")
        if self.low is not None and (value < self.low if left else value <= self.low):
            return False
        if self.high is not None and (value > self.high if right else value >= self.high):
            return False
        return True

    def describe(self) -> str:
        what = "an integer" if self.type is numbers.Integral else "a number"
        left = self.closed in ("both", "left")
        right = self.closed in ("both", "right")
        if self.low is not None and self.high is not None:
            return f"{what} in {'[' if left else '('}{self.low:g}, {self.high:g}{']' if right else ')'}"
        if self.low is not None:
            return f"{what} {'>=' if left else '>'} {self.low:g}"
        if self.high is not None:
            return f"{what} {'<=' if right else '<'} {self.high:g}"
        return f"a finite {what.split()[-1]}"


@dataclass(frozen=True)
class Options(Constraint):
    """One of a fixed set of values (strings, usually the names of a registry).

    Examples
    --------
    >>> Options({"near", "far"}).describe()
    'one of far, near'
    """

    options: frozenset

    def __init__(self, options: Iterable):
        object.__setattr__(self, "options", frozenset(options))

    def is_satisfied_by(self, value) -> bool:
        try:
            return value in self.options
        except TypeError:  # unhashable
            return False

    def describe(self) -> str:
        return "one of " + ", ".join(sorted(map(str, self.options)))


@dataclass(frozen=True)
class Sequence(Constraint):
    """A list or tuple whose every element satisfies ``element`` (and, if set, of length ``length``)."""

    element: Constraint
    length: int | None = None

    def is_satisfied_by(self, value) -> bool:
        if not isinstance(value, (list, tuple)):
            return False
        if self.length is not None and len(value) != self.length:
            return False
        return all(self.element.is_satisfied_by(item) for item in value)

    def describe(self) -> str:
        size = f"{self.length} " if self.length is not None else ""
        return f"a list of {size}values, each {self.element.describe()}"


def _message(name: str, value, constraints: list) -> str:
    described = [c.describe() for c in constraints if c is not None]
    if None in constraints:
        described.append("None")
    if len(described) == 1 and described[0].startswith("one of"):
        return f"{name} must be {described[0]}; got {value!r}"
    return f"{name} must be {' or '.join(described)}, got {value!r}"


def validate_value(name: str, value, constraints: list) -> None:
    """Raise :class:`InputError` naming ``name`` unless ``value`` satisfies one of ``constraints``.

    ``None`` in ``constraints`` admits ``None``.

    Examples
    --------
    >>> from numbers import Real
    >>> validate_value("hop_ms", None, [None, Interval(Real, 0, None, closed="neither")])
    >>> validate_value("hop_ms", -1.0, [None, Interval(Real, 0, None, closed="neither")])
    Traceback (most recent call last):
    ...
    hardneg.errors.InputError: hop_ms must be a number > 0 or None, got -1.0
    """
    for constraint in constraints:
        if constraint is None:
            if value is None:
                return
        elif constraint.is_satisfied_by(value):
            return
    raise InputError(_message(name, value, constraints), parameter=name)


def validate_params(params: Mapping[str, Any], constraints: Mapping[str, list]) -> None:
    """Check every parameter of ``params`` that has constraints, in the constraints' order."""
    for name, allowed in constraints.items():
        if name in params:
            validate_value(name, params[name], allowed)


def check_seed(seed, name: str = "seed") -> int:
    """Return ``seed`` as an ``int`` if it is an integer in ``[0, 2**32 - 1]``, else raise :class:`InputError`.

    Examples
    --------
    >>> check_seed(7)
    7
    >>> check_seed(-1)
    Traceback (most recent call last):
    ...
    hardneg.errors.InputError: seed must be an integer in [0, 4294967295], got -1
    """
    if not _is_integral(seed) or not 0 <= seed <= MAX_SEED:
        raise InputError(f"{name} must be an integer in [0, {MAX_SEED}], got {seed!r}", parameter=name)
    return int(seed)


def check_jobs(jobs, name: str = "jobs") -> int:
    """Resolve a worker count: a positive integer, or ``-1`` (or ``0``) for every core.

    Examples
    --------
    >>> check_jobs(2)
    2
    >>> check_jobs(-1) >= 1
    True
    """
    if not _is_integral(jobs) or jobs < -1:
        message = f"{name} must be a positive integer, or -1 (or 0) for every core; got {jobs!r}"
        raise InputError(message, parameter=name)
    if jobs in (-1, 0):
        return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))
    return int(jobs)


def rng(seed: int, purpose: str | None = None) -> np.random.Generator:
    """The one way a seed becomes randomness.

    Without ``purpose`` it is ``np.random.default_rng(seed)``; with one, the
    stream is keyed by the purpose as well, so independent uses of one seed
    neither share nor shift each other's draws.

    Examples
    --------
    >>> float(rng(3).random()) == float(np.random.default_rng(3).random())
    True
    >>> float(rng(3, "a").random()) != float(rng(3, "b").random())
    True
    """
    if purpose is None:
        return np.random.default_rng(seed)
    return np.random.default_rng([seed, zlib.crc32(purpose.encode())])
