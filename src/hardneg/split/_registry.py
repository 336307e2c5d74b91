"""The split strategies, by name: each says what it measures, which index columns it needs, and draws its folds.

In the spirit of scikit-learn's ``model_selection/_split.py``, the base class
:class:`SplitStrategy` does every check that is the same for all strategies
(the index has the columns, labels are 0/1, window ids are unique, the options
given apply, every fold has train, test and validation windows) and each
strategy overrides one hook, :meth:`SplitStrategy.draw_folds`. A strategy is
known by name once registered with :func:`register_split_strategy`;
:func:`~hardneg.split.make_split` finds it in :data:`SPLIT_STRATEGIES`.

Examples
--------
>>> from hardneg.split import SPLIT_STRATEGIES
>>> SPLIT_STRATEGIES["time"].columns
('window_id', 'label', 'recording', 'start_ms', 'end_ms')
>>> SPLIT_STRATEGIES["group"].measures
'how well the model generalises to groups (subjects, sessions, patients) it has never seen'
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pandas as pd

from hardneg.errors import InputError
from hardneg.split._blocks import TEST, TRAIN, VAL, check_index

__all__ = [
    "SPLIT_STRATEGIES",
    "STRATEGIES",
    "SplitContext",
    "SplitStrategy",
    "ceil_share",
    "codes_from_test",
    "register_split_strategy",
    "sk_seed",
]

#: Strategy name -> the registered :class:`SplitStrategy`, in registration order.
SPLIT_STRATEGIES: dict[str, SplitStrategy] = {}


@dataclass
class SplitContext:
    """What a strategy's :meth:`~SplitStrategy.draw_folds` works from, all checked already.

    Attributes
    ----------
    index : pandas.DataFrame
        The window index, with the strategy's columns.
    labels : ndarray of int8, shape (n_windows,)
        0 or 1 per index row.
    strategy : str
        The strategy's name, for messages.
    test_size, val_size : float
        Shares for test (holdout only) and validation.
    n_splits : int or None
        Folds; None for one holdout.
    split_rng, val_rng : numpy.random.Generator
        The draws of the test part and of validation, independent of each other.
    gap_ms : float or None
        The purge gap given; a strategy that purges sets it to the gap it used.
    test_groups : list or None
        The test groups given.
    default_gap_ms : callable
        Returns the dataset's purge gap when none is given (raises for a bare index).
    """

    index: pd.DataFrame
    labels: np.ndarray
    strategy: str
    test_size: float
    val_size: float
    n_splits: int | None
    split_rng: np.random.Generator
    val_rng: np.random.Generator
    gap_ms: float | None = None
    test_groups: list | None = None
    default_gap_ms: Callable[[], float] | None = None
    n: int = field(init=False)

    def __post_init__(self):
        self.n = len(self.index)


class SplitStrategy:
    """One way of assigning windows to train, validation and test; subclass, set the attributes, draw the folds.

    Attributes
    ----------
    name : str
        What ``make_split(..., strategy=name)`` and ``hardneg split --strategy`` call it.
    measures : str
        One sentence saying what a score on this split measures (shown in reports next to every number).
    columns : tuple of str
        The index columns it needs, ``window_id`` and ``label`` first.
    options : tuple of str
        The parameters that only some strategies use (``gap_ms``, ``test_groups``) that this one accepts.
    """

    name: ClassVar[str] = ""
    measures: ClassVar[str] = ""
    columns: ClassVar[tuple[str, ...]] = ("window_id", "label")
    options: ClassVar[tuple[str, ...]] = ()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"

    # ------------------------------------------------------------------------------------------------ the base checks

    def check_options(self, *, n_splits: int | None, gap_ms: float | None, test_groups) -> None:
        """Refuse a strategy-specific option this strategy does not use."""
        for option, value in (("gap_ms", gap_ms), ("test_groups", test_groups)):
            if value is not None and option not in self.options:
                users = [name for name, strategy in SPLIT_STRATEGIES.items() if option in strategy.options]
                leave = "; leave it out" if option == "gap_ms" else ""
                raise InputError(
                    f"{option} applies to strategy {', '.join(users)} only, not {self.name}{leave}", parameter=option
                )

    def check_index(self, index) -> tuple[pd.DataFrame, np.ndarray]:
        """The index with this strategy's :attr:`columns` checked, and its labels as int8 0/1."""
        index = check_index(index, self.columns, f"strategy {self.name}")
        labels = index["label"].to_numpy()
        if pd.isna(index["label"]).any() or not np.isin(labels, (0, 1)).all():
            raise InputError("the index's label column must hold 0 and 1 only")
        if pd.Series(index["window_id"].to_numpy(np.int64)).duplicated().any():
            raise InputError("the index repeats window ids; every window needs its own window_id")
        return index, labels.astype(np.int8)

    def iter_folds(self, ctx: SplitContext) -> Iterator[np.ndarray]:
        """The codes of each fold from :meth:`draw_folds`, each checked to have train, test and (if asked) val."""
        folds = self.draw_folds(ctx)
        for fold, codes in enumerate(folds):
            self._check_fold(codes, fold, ctx.val_size, ctx.gap_ms)
            yield codes

    def _check_fold(self, codes: np.ndarray, fold: int, val_size: float, gap: float | None) -> None:
        for code, name in ((TRAIN, "train"), (TEST, "test")) + (((VAL, "val"),) if val_size > 0 else ()):
            if not (codes == code).any():
                hint = f" after purging gap_ms={gap:g}; use a smaller --gap-ms" if gap is not None else ""
                raise InputError(
                    f"strategy {self.name}: fold {fold} has no {name} windows{hint}; change --test-size, --val-size "
                    "or --n-splits"
                )

    # ------------------------------------------------------------------------------------------------ the hook

    def draw_folds(self, ctx: SplitContext) -> list[np.ndarray]:
        """Subset codes (``TRAIN``, ``VAL``, ``TEST`` or ``UNUSED`` per index row) of every fold, in fold order."""
        raise NotImplementedError

    def describe(self, test_groups: list[str] | None = None) -> str:
        """What a score on this split measures (the chosen test groups, when named)."""
        return self.measures


def register_split_strategy(cls: type[SplitStrategy]) -> type[SplitStrategy]:
    """Class decorator: make ``cls`` known to :func:`~hardneg.split.make_split` under ``cls.name``.

    Examples
    --------
    >>> @register_split_strategy
    ... class Everything(SplitStrategy):
    ...     name = "example-all-test"
    ...     measures = "nothing useful"
    ...     def draw_folds(self, ctx):
    ...         return [np.full(ctx.n, TEST, dtype=np.int8)]
    >>> "example-all-test" in SPLIT_STRATEGIES
    True
    >>> del SPLIT_STRATEGIES["example-all-test"]
    """
    if not cls.name or not cls.measures:
        raise ValueError(f"{cls.__name__}: a split strategy needs a name and a sentence saying what it measures")
    if cls.name in SPLIT_STRATEGIES:
        raise ValueError(f"split strategy {cls.name!r} is registered already")
    SPLIT_STRATEGIES[cls.name] = cls()
    return cls


class _Measures(Mapping):
    """Strategy name -> what it measures, read from the registry (so a registered strategy shows up)."""

    def __getitem__(self, name: str) -> str:
        return SPLIT_STRATEGIES[name].measures

    def __iter__(self):
        return iter(SPLIT_STRATEGIES)

    def __len__(self) -> int:
        return len(SPLIT_STRATEGIES)

    def __repr__(self) -> str:
        return repr(dict(self))


#: Strategy name -> what a score on it measures (one sentence, shown in reports next to every number).
STRATEGIES: Mapping[str, str] = _Measures()


# ---------------------------------------------------------------------------------------------------------------------
# helpers the strategies share


def sk_seed(rng: np.random.Generator) -> int:
    """A ``random_state`` for a scikit-learn splitter, drawn from ``rng``."""
    return int(rng.integers(0, 2**31 - 1))


def ceil_share(share: float, total: int) -> int:
    """``ceil(share * total)``, scikit-learn's rounding for ``test_size``."""
    # Guarded against 0.2 * 10 = 2.0000000000000004.
    return math.ceil(round(share * total, 9))


def codes_from_test(n: int, test: np.ndarray) -> np.ndarray:
    """Codes with the rows ``test`` in TEST and every other row in TRAIN."""
    codes = np.full(n, TRAIN, dtype=np.int8)
    codes[test] = TEST
    return codes
