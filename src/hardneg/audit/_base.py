"""What every audit check shares: its result, the context it reads, and the registry of checks.

A check is a function ``check(context) -> CheckResult`` registered under a
name with :func:`register_check`. The registry is the plug-in point
(cleanlab's Datalab issue managers are the model): a project can register
its own check next to the built-in ones and :func:`hardneg.audit.run_audit`
runs it like them. Unlike Datalab, nothing here catches a check's
exception: a check that cannot apply says so by returning ``SKIP`` with the
reason, and a check that crashes crashes the audit, so a bug is never
reported as a clean bill of health.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from hardneg import _validation
from hardneg._schema import (
    DEPLOYMENTS,
    FAIL,
    NEW_GROUPS,
    PASS,
    PREDICTION_COLUMNS,
    SEEN_GROUPS,
    SKIP,
    SPLIT_COLUMNS,
    SUBSETS,
    VERDICTS,
    WARN,
    check_columns,
)
from hardneg.errors import InputError

__all__ = [
    "CHECKS",
    "DEPLOYMENTS",
    "FAIL",
    "NEW_GROUPS",
    "PASS",
    "SEEN_GROUPS",
    "SKIP",
    "SPLIT_COLUMNS",
    "SUBSETS",
    "VERDICTS",
    "WARN",
    "AuditContext",
    "Check",
    "CheckResult",
    "check_predictions",
    "check_split_assignments",
    "jsonable",
    "register_check",
    "worst_verdict",
]

#: The audit's ``confidence``: below 0.5 an interval says nothing, and 1 is no interval at all.
_CONFIDENCE = [_validation.Interval(numbers.Real, 0.5, 1, closed="left")]
_DEPLOYMENT = [_validation.Options(DEPLOYMENTS)]


@dataclass
class CheckResult:
    """The outcome of one audit check.

    Parameters
    ----------
    check : str
        The check's registered name, e.g. ``"group_overlap"``.
    verdict : {"PASS", "WARN", "FAIL", "SKIP"}
        ``SKIP`` when the check cannot apply (the explanation says why).
    numbers : dict
        What was measured, most important first (the Markdown table shows the
        first few scalars); JSON-serialisable after :func:`jsonable`.
    explanation : str
        One paragraph for a practitioner: what was measured, what the number
        means for this split, what to do.

    Examples
    --------
    >>> CheckResult("group_overlap", "PASS", {"shared_groups": 0}, "No group is in two subsets.").verdict
    'PASS'
    """

    check: str
    verdict: str
    numbers: dict = field(default_factory=dict)
    explanation: str = ""

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {', '.join(VERDICTS)}, got {self.verdict!r}")

    def to_dict(self) -> dict:
        return {
            "check": self.check,
            "verdict": self.verdict,
            "numbers": jsonable(self.numbers),
            "explanation": self.explanation,
        }


def worst_verdict(verdicts) -> str:
    """The most severe of ``verdicts`` (``SKIP`` < ``PASS`` < ``WARN`` < ``FAIL``); ``SKIP`` if there are none.

    Examples
    --------
    >>> worst_verdict(["PASS", "SKIP", "WARN"])
    'WARN'
    """
    return max(verdicts, key=VERDICTS.index, default=SKIP)


def jsonable(value):
    """``value`` with numpy scalars and arrays as Python objects and NaN/inf as ``None`` (strict JSON)."""
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, np.ndarray, pd.Series)):
        return [jsonable(item) for item in list(value)]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, str):
        return value
    if value is pd.NA:
        return None
    return str(value)


@dataclass(frozen=True)
class Check:
    """A registered check: its name, function, and whether it reads predictions."""

    name: str
    func: Callable[[AuditContext], CheckResult]
    needs_predictions: bool = False

    @property
    def summary(self) -> str:
        doc = (self.func.__doc__ or "").strip()
        return doc.splitlines()[0] if doc else ""


#: Registered checks by name, in the order they run and are reported.
CHECKS: dict[str, Check] = {}


def register_check(name: str, needs_predictions: bool = False):
    """Register ``func(context) -> CheckResult`` as the audit check ``name``.

    Checks with ``needs_predictions=True`` are reported as ``SKIP`` by
    :func:`hardneg.audit.run_audit` when the context holds no predictions,
    without being called.

    Examples
    --------
    >>> @register_check("my_project_check")
    ... def my_check(context):
    ...     "Nothing to check yet."
    ...     return CheckResult("my_project_check", "PASS", {}, "Nothing to report.")
    >>> CHECKS["my_project_check"].summary, CHECKS["my_project_check"].needs_predictions
    ('Nothing to check yet.', False)
    >>> del CHECKS["my_project_check"]  # registered for this example only
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"a check name must be a non-empty string, got {name!r}")

    def decorator(func):
        if name in CHECKS and CHECKS[name].func is not func:
            raise ValueError(f"an audit check named {name!r} is already registered ({CHECKS[name].func.__module__})")
        CHECKS[name] = Check(name, func, needs_predictions)
        return func

    return decorator


class AuditContext:
    """Everything the checks read: the dataset, the split and, optionally, predictions.

    Expensive views (the summary features, the split joined with the index,
    the scored windows) are computed once and shared by all checks.

    Parameters
    ----------
    dataset : hardneg.Dataset
        Anything with ``.index`` (DataFrame: window_id, recording, group,
        start_ms, end_ms, label, ...), ``.windows`` (N, C, T) and ``.meta``.
    split_frame : pandas.DataFrame
        The split in long format: ``fold``, ``window_id``, ``subset``
        (train/val/test) and ``copies`` (``fold`` and ``copies`` may be
        missing: one fold, one copy each).
    split_info : dict, optional
        The split's JSON card (``name``, ``strategy``, ``parameters``,
        ``gap_ms``, ``measures``, ``counts``).
    predictions : pandas.DataFrame, optional
        ``window_id``, ``score`` in [0, 1], optionally ``fold``. Without
        ``fold``, a window's subset is the one it has in the split's only fold
        or, for a split with several folds, the subset it is scored in
        (out-of-fold predictions): test if it is a test window of some fold,
        else validation, else train.
    seed : int
        Seeds every subsample, cross-validation and bootstrap.
    confidence : float
        Level of the intervals the checks report and judge sizes by.
    deployment : {"new-groups", "seen-groups"}
        What the split's score is meant to predict. ``"new-groups"`` (the
        default): the model will meet subjects, sessions or cameras it was not
        trained on, so a group in training and test is a leak. ``"seen-groups"``:
        the model is used on the groups it was trained on (per-subject
        monitoring, a model personalised on each group's past), so shared
        groups are by design; leaks in time and placement shortcuts still
        count.

    Examples
    --------
    A small synthetic world (:func:`hardneg.demo.generate_world`: four sessions, two shooters) and a dataset built from it:

    >>> import tempfile
    >>> from hardneg import InputOptions, build_dataset
    >>> from hardneg.demo import generate_world
    >>> from hardneg.split import make_split
    >>> tmp = tempfile.TemporaryDirectory()
    >>> world = generate_world(f"{tmp.name}/world", n_sessions=4, session_minutes=1.0, n_no_shot_sessions=0)
    >>> dataset = build_dataset(world.logs, f"{tmp.name}/shots",
    ...                         inputs=InputOptions(events=world.events, groups=world.groups))
    >>> from hardneg.split import save_split, load_split
    >>> _ = save_split(dataset.path, "by-shooter", *make_split(dataset, "group", test_groups=["shooter_b"], val_size=0))
    >>> context = AuditContext(dataset, *load_split(dataset.path, "by-shooter"))
    >>> context.split_name, context.folds, context.deployment
    ('by-shooter', [0], 'new-groups')
    >>> context.subset_sizes()
    {0: {'test': 36, 'train': 34}}
    >>> context.assignments.groupby("subset").group.unique().map(list).to_dict()
    {'test': ['shooter_b'], 'train': ['shooter_a']}
    >>> tmp.cleanup()
    """

    def __init__(
        self,
        dataset,
        split_frame: pd.DataFrame,
        split_info: dict | None = None,
        predictions: pd.DataFrame | None = None,
        seed: int = 0,
        confidence: float = 0.95,
        deployment: str = NEW_GROUPS,
    ):
        self.dataset = dataset
        self.split_info = dict(split_info or {})
        self.seed = _validation.check_seed(seed)
        _validation.validate_value("confidence", confidence, _CONFIDENCE)
        self.confidence = float(confidence)
        _validation.validate_value("deployment", deployment, _DEPLOYMENT)
        self.deployment = deployment
        self.split_frame = check_split_assignments(split_frame, len(dataset.index))
        self.predictions = None if predictions is None else check_predictions(predictions, len(dataset.index))

    # ----------------------------------------------------------------- split
    @property
    def split_name(self) -> str | None:
        return self.split_info.get("name")

    @property
    def strategy(self) -> str | None:
        return self.split_info.get("strategy")

    @property
    def gap_ms(self) -> float | None:
        gap = self.split_info.get("gap_ms")
        return None if gap is None else float(gap)

    @property
    def index(self) -> pd.DataFrame:
        return self.dataset.index

    @cached_property
    def folds(self) -> list[int]:
        return sorted(int(fold) for fold in self.split_frame["fold"].unique())

    @cached_property
    def group_codes(self) -> np.ndarray:
        """Each window's group as an integer code (comparing integers is far faster than comparing strings)."""
        return pd.factorize(self.index["group"].astype(str))[0].astype(np.int64)

    @cached_property
    def assignments(self) -> pd.DataFrame:
        """The split frame joined with the window index (recording, group, group_code, times, label, kind)."""
        columns = [c for c in ("recording", "group", "start_ms", "end_ms", "label", "kind") if c in self.index]
        ids = self.split_frame["window_id"].to_numpy()
        rows = self.index[columns].iloc[ids].reset_index(drop=True)
        rows["group_code"] = self.group_codes[ids]
        return pd.concat([self.split_frame.reset_index(drop=True), rows], axis=1)

    def fold_assignments(self, fold: int) -> pd.DataFrame:
        frame = self.assignments
        return frame[frame["fold"].to_numpy() == fold]

    @cached_property
    def used_window_ids(self) -> np.ndarray:
        """Every window the split uses in some fold and subset, sorted."""
        return np.unique(self.split_frame["window_id"].to_numpy())

    def subset_sizes(self) -> dict[int, dict[str, int]]:
        counts = self.split_frame.groupby(["fold", "subset"]).size()
        return {int(fold): {str(subset): int(n) for subset, n in counts[fold].items()} for fold in self.folds}

    # ------------------------------------------------------------- features
    @property
    def sample_rate_hz(self) -> float | None:
        rate = (self.dataset.meta or {}).get("sample_rate_hz")
        return None if rate is None else float(rate)

    def features(self, name: str = "summary") -> tuple[np.ndarray, list[str]]:
        """``compute_features(dataset.windows, name)``, computed once per context."""
        cache = self.__dict__.setdefault("_features", {})
        if name not in cache:
            from hardneg.features import compute_features  # features import nothing from audit; kept lazy for speed

            cache[name] = compute_features(self.dataset.windows, name, sample_rate_hz=self.sample_rate_hz)
        return cache[name]

    # ---------------------------------------------------------- predictions
    @cached_property
    def scored(self) -> pd.DataFrame | None:
        """Predictions with the subset each was made on, the label and the group; ``None`` without predictions.

        Columns: ``window_id``, ``score``, ``fold`` (-1 when the predictions
        carry none and the split has several folds), ``subset``, ``label``,
        ``group``. Predictions on windows the split does not use are dropped.
        """
        if self.predictions is None:
            return None
        predictions = self.predictions
        split = self.split_frame[["fold", "window_id", "subset"]]
        if "fold" in predictions:
            scored = predictions.merge(split, on=["fold", "window_id"], how="inner")
        elif len(self.folds) == 1:
            scored = predictions.merge(split.drop(columns="fold"), on="window_id", how="inner")
            scored.insert(0, "fold", self.folds[0])
        else:
            # Out-of-fold predictions: each window is scored where it was held out (test before val before train).
            priority = split.assign(rank=split["subset"].map({"test": 0, "val": 1, "train": 2}))
            best = priority.sort_values(["window_id", "rank"], kind="stable").drop_duplicates("window_id")
            scored = predictions.merge(best[["window_id", "subset"]], on="window_id", how="inner")
            scored.insert(0, "fold", -1)
        ids = scored["window_id"].to_numpy()
        scored["label"] = self.index["label"].to_numpy()[ids].astype(np.int64)
        scored["group"] = self.index["group"].to_numpy()[ids]
        return scored.reset_index(drop=True)

    def scored_subset(self, subset: str) -> pd.DataFrame:
        scored = self.scored
        return scored[scored["subset"].to_numpy() == subset]

    # ------------------------------------------------------------------ misc
    def rng(self, purpose: str) -> np.random.Generator:
        """A generator seeded by the audit seed and ``purpose``, so checks do not share or shift streams."""
        return _validation.rng(self.seed, purpose)

    def random_state(self, purpose: str) -> int:
        return int(self.rng(purpose).integers(2**31 - 1))


def check_split_assignments(frame: pd.DataFrame, n_windows: int) -> pd.DataFrame:
    """Validate a split frame against a dataset of ``n_windows`` windows; return it with every column typed.

    ``fold`` and ``copies`` may be missing (one fold, one copy each).

    Examples
    --------
    >>> frame = pd.DataFrame({"window_id": [0, 1, 2], "subset": ["train", "val", "test"]})
    >>> check_split_assignments(frame, n_windows=3).columns.tolist()
    ['fold', 'window_id', 'subset', 'copies']
    >>> check_split_assignments(frame[["window_id"]], n_windows=3)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    hardneg.errors.InputError: split: column 'subset' missing; expected window_id, subset (a split holds ...)
    """
    if not isinstance(frame, pd.DataFrame):
        raise InputError(
            f"a split must be a DataFrame with columns {', '.join(SPLIT_COLUMNS)}, got {type(frame).__name__}"
        )
    check_columns(frame, ("window_id", "subset"), "split", hint=f"a split holds {', '.join(SPLIT_COLUMNS)}")
    frame = frame.copy()
    if "fold" not in frame:
        frame["fold"] = 0
    if "copies" not in frame:
        frame["copies"] = 1
    frame = frame[list(SPLIT_COLUMNS)].reset_index(drop=True)
    ids = frame["window_id"].to_numpy()
    if len(frame) == 0:
        raise InputError("split: it has no rows; make one with `hardneg split`")
    if not np.issubdtype(ids.dtype, np.integer) or ids.min() < 0 or ids.max() >= n_windows:
        raise InputError(
            f"split: window_id must be integers in [0, {n_windows}) of this dataset; the split was made for another "
            "dataset, remake it with `hardneg split`"
        )
    subsets = frame["subset"].astype(str)
    bad = ~subsets.isin(SUBSETS)
    if bad.any():
        raise InputError(f"split: subset must be one of {', '.join(SUBSETS)}, got {subsets[bad].iloc[0]!r}")
    frame["subset"] = subsets
    frame["fold"] = frame["fold"].astype(np.int64)
    frame["window_id"] = ids.astype(np.int64)
    copies = frame["copies"].to_numpy()
    if not np.issubdtype(copies.dtype, np.integer) or copies.min() < 1:
        raise InputError("split: copies must be integers >= 1")
    frame["copies"] = copies.astype(np.int64)
    if frame.duplicated(["fold", "window_id"]).any():
        row = frame[frame.duplicated(["fold", "window_id"])].iloc[0]
        raise InputError(
            f"split: window {row.window_id} appears twice in fold {row.fold}; a window has one subset per fold"
        )
    return frame


def check_predictions(predictions: pd.DataFrame, n_windows: int) -> pd.DataFrame:
    """Validate predictions (``window_id``, ``score`` in [0, 1], optional ``fold``); return a clean copy.

    Examples
    --------
    >>> check_predictions(pd.DataFrame({"window_id": [1, 0], "score": [0.25, 1]}), n_windows=2).to_numpy().tolist()
    [[1.0, 0.25], [0.0, 1.0]]
    """
    if not isinstance(predictions, pd.DataFrame):
        raise InputError(f"predictions must be a DataFrame with window_id and score, got {type(predictions).__name__}")
    check_columns(predictions, PREDICTION_COLUMNS, "predictions", hint="`hardneg predict` writes them")
    columns = ["window_id", "score"] + (["fold"] if "fold" in predictions else [])
    frame = predictions[columns].copy().reset_index(drop=True)
    ids = frame["window_id"].to_numpy()
    if len(frame) and (not np.issubdtype(ids.dtype, np.integer) or ids.min() < 0 or ids.max() >= n_windows):
        raise InputError(
            f"predictions: window_id must be integers in [0, {n_windows}) of this dataset; they were made on another "
            "dataset, run `hardneg predict` on this one"
        )
    frame["window_id"] = ids.astype(np.int64)
    score = pd.to_numeric(frame["score"], errors="coerce").to_numpy(dtype=np.float64)
    bad = ~((score >= 0) & (score <= 1))
    if bad.any():
        raise InputError(
            f"predictions: score must be a probability in [0, 1], got "
            f"{_plain(frame['score'].iloc[int(np.argmax(bad))])!r} "
            f"for window {int(ids[int(np.argmax(bad))])}; pass predict_proba()[:, 1]"
        )
    frame["score"] = score
    keys = ["fold", "window_id"] if "fold" in frame else ["window_id"]
    if "fold" in frame:
        frame["fold"] = frame["fold"].astype(np.int64)
    if frame.duplicated(keys).any():
        raise InputError(
            f"predictions: a window is scored twice for the same {' and '.join(keys)}; keep one score each"
        )
    return frame


def _plain(value):
    """A NumPy scalar as the Python number it holds, so that a message shows ``nan``, not ``np.float64(nan)``."""
    return value.item() if hasattr(value, "item") else value
