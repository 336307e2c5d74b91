"""The experiment file: arms along axes, seeds, evaluation sets, the baseline and success criteria.

An experiment file is YAML; :func:`load_experiment` reads it, checks every
entry and resolves it into an :class:`Experiment`: the arms (the cross
product of the axes' levels, or a listed subset), the baseline arm of each
arm (the one that differs from it only on the axes the baseline fixes), the
evaluation sets and the criteria. Paths in the file are relative to the file.
Every message names the file and the entry (``arms.negatives.t50.hard_tier``)
and says what to write instead.

An arm's level may set options of three kinds:

- **sampling** (any option of ``hardneg sample``: ``hard_negatives``,
  ``hard_tier``, ``hard_max``, ``neg_mult``, ``window_ms`` ...): the arm trains on
  the dataset rebuilt from the experiment's dataset's recipe with those options
  changed (``hard_negatives: mined, hard_tier: 0.85`` adds the mined windows
  scoring at least 0.85);
- **training**: ``fraction`` (keep that share of the training positives),
  ``groups`` (keep the training positives of those groups), ``drop`` (channels
  left out), ``model``, ``features``;
- an axis written as ``each`` (every channel in turn) or ``{each: {name: [channels]}}``
  (every channel group in turn) makes one level ``all`` and one ``no_<name>`` per
  channel or group: a channel ablation.

Examples
--------
>>> import tempfile, pathlib
>>> from hardneg.demo import generate_world
>>> from hardneg import InputOptions, build_dataset
>>> tmp = pathlib.Path(tempfile.mkdtemp())
>>> world = generate_world(tmp / "world", n_sessions=4, session_minutes=1.0, n_no_shot_sessions=0)
>>> _ = build_dataset(world.logs, tmp / "shots", inputs=InputOptions(events=world.events, groups=world.groups))
>>> _ = (tmp / "experiment.yaml").write_text('''
... dataset: shots
... seeds: 3
... model: logreg
... baseline: {positives: all}
... arms:
...   positives:
...     all: {}
...     half: {fraction: 0.5}
... eval:
...   iid: {split: group}
... criteria: ["iid.recall >= 0.35"]
... ''')
>>> experiment = load_experiment(tmp / "experiment.yaml")
>>> [arm.name for arm in experiment.arms], experiment.seeds
(['all', 'half'], (0, 1, 2))
>>> experiment.partner(experiment.arms[1]).name, experiment.criteria[0].metric
('all', 'recall')
"""

from __future__ import annotations

import json
import math
import operator
import re
from dataclasses import dataclass, field, fields
from numbers import Integral, Real
from pathlib import Path

from hardneg._schema import EXPERIMENT_RESULT_COLUMNS, EXPERIMENT_TIMELINE_METRICS, EXPERIMENT_WINDOW_METRICS
from hardneg._validation import MAX_SEED, Interval, Options, validate_value
from hardneg.errors import InputError

__all__ = [
    "AGGREGATES",
    "ARM_SEPARATOR",
    "EVAL_KINDS",
    "OPERATORS",
    "SAMPLE_KEYS",
    "TRAIN_KEYS",
    "TTA",
    "Arm",
    "Criterion",
    "EvalSet",
    "Experiment",
    "load_experiment",
]

#: joins an arm's levels into its name (``t50+half``): safe in folder names and shells
ARM_SEPARATOR = "+"
EVAL_KINDS = ("iid", "ood")
AGGREGATES = ("mean", "max")
#: options of a level that change how the arm trains, not the dataset it trains on
TRAIN_KEYS = ("fraction", "groups", "drop", "model", "features")
OPERATORS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}
_TOP_KEYS = (
    "dataset",
    "seeds",
    "model",
    "command",
    "features",
    "baseline",
    "arms",
    "include",
    "eval",
    "criteria",
    "primary_metric",
    "n_resamples",
    "alpha",
)
_EVAL_KEYS = ("kind", "split", "dataset", "groups", "tta", "test_size", "val_size", "gap_ms", "test_groups")
_SPLIT_OPTIONS = ("test_size", "val_size", "gap_ms", "test_groups")
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_CRITERION = re.compile(r"^\s*([A-Za-z0-9_.-]+?)\.([a-z_0-9]+)\s*(>=|<=|>|<)\s*([-+]?[0-9.]+(?:[eE][-+]?[0-9]+)?)\s*$")


def _sample_keys() -> tuple[str, ...]:
    from hardneg.build import InputOptions
    from hardneg.sample import SamplingConfig

    names = {item.name for item in fields(SamplingConfig)} | {item.name for item in fields(InputOptions)}
    names |= {"hard_negatives", "hard_tier", "hard_max"}
    # "groups" on a level means positives of those groups (a training option), not a groups mapping file
    return tuple(sorted(names - {"groups"} - set(TRAIN_KEYS)))


#: options of a level that rebuild the arm's dataset (``hardneg sample`` options)
SAMPLE_KEYS = _sample_keys()
#: sampling options that name files, resolved relative to the experiment file
_PATH_KEYS = ("hard_negatives", "events")


@dataclass(frozen=True)
class TTA:
    """Test-time augmentation: ``clips`` windows per evaluated window, ``spacing_ms`` apart, centred on it."""

    clips: int
    spacing_ms: float
    aggregate: str = "mean"

    def offsets_ms(self) -> list[float]:
        """Where the clips start relative to the window: centred, e.g. 5 clips at 50 ms: -100 ... +100.

        Examples
        --------
        >>> TTA(5, 50.0).offsets_ms()
        [-100.0, -50.0, 0.0, 50.0, 100.0]
        """
        middle = (self.clips - 1) / 2.0
        return [(k - middle) * self.spacing_ms for k in range(self.clips)]


@dataclass(frozen=True)
class EvalSet:
    """Where runs are evaluated: a split's test part, groups held out of training, or another dataset."""

    name: str
    kind: str
    split: str | None = None
    split_options: dict = field(default_factory=dict)
    dataset: Path | None = None
    groups: tuple[str, ...] | None = None
    tta: TTA | None = None

    @property
    def metrics(self) -> tuple[str, ...]:
        return EXPERIMENT_WINDOW_METRICS

    @property
    def description(self) -> str:
        if self.split is not None:
            draw = "one saved split" if self.split.startswith("saved:") else f"a {self.split} split drawn per seed"
            text = f"the test part of {draw}"
        elif self.groups is not None:
            text = f"groups {', '.join(self.groups)}, held out of training in every arm"
        else:
            text = f"every window of {self.dataset}"
        if self.tta is not None:
            text += (
                f"; each window scored as the {self.tta.aggregate} of {self.tta.clips} clips "
                f"{self.tta.spacing_ms:g} ms apart"
            )
        return text

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "kind": self.kind,
            "split": self.split,
            "split_options": self.split_options,
            "dataset": None if self.dataset is None else str(self.dataset),
            "groups": None if self.groups is None else list(self.groups),
            "tta": None if self.tta is None else self.tta.__dict__,
        }


@dataclass(frozen=True)
class Criterion:
    """``eval_set.metric op target``, judged on an arm's mean over seeds."""

    text: str
    eval_set: str
    metric: str
    op: str
    target: float

    def holds(self, value: float) -> bool:
        """Whether ``value`` meets the criterion (NaN never does).

        Examples
        --------
        >>> Criterion("iid.recall >= 0.35", "iid", "recall", ">=", 0.35).holds(0.35)
        True
        """
        return not math.isnan(value) and bool(OPERATORS[self.op](value, self.target))


@dataclass(frozen=True)
class Arm:
    """One training variant: a level of every axis, the sampling options and the training options they set."""

    name: str
    levels: dict
    sample: dict
    train: dict

    def to_dict(self) -> dict:
        return {"name": self.name, "levels": self.levels, "sample": self.sample, "train": self.train}


@dataclass(frozen=True)
class Experiment:
    """A resolved experiment file (see :func:`load_experiment`)."""

    path: Path
    dataset: Path
    seeds: tuple[int, ...]
    model: str | None
    command: str | None
    features: str
    axes: dict
    baseline: dict
    arms: tuple[Arm, ...]
    eval_sets: tuple[EvalSet, ...]
    criteria: tuple[Criterion, ...]
    primary_metric: str = "f1"
    n_resamples: int = 1000
    alpha: float = 0.05

    def arm(self, name: str) -> Arm:
        return next(arm for arm in self.arms if arm.name == name)

    def partner(self, arm: Arm) -> Arm | None:
        """The arm ``arm`` is compared with: its levels, with the baseline's on the axes the baseline fixes.

        None where that is ``arm`` itself (a baseline arm) or is not among the arms run.
        """
        levels = {**arm.levels, **self.baseline}
        if levels == arm.levels:
            return None
        name = arm_name(levels, self.axes)
        return next((other for other in self.arms if other.name == name), None)

    @property
    def split_set(self) -> EvalSet | None:
        """The evaluation set whose split decides training and validation (at most one has a split)."""
        return next((item for item in self.eval_sets if item.split is not None), None)

    @property
    def held_out_groups(self) -> tuple[str, ...]:
        return tuple(group for item in self.eval_sets if item.groups for group in item.groups)

    def to_dict(self) -> dict:
        return {
            "experiment": str(self.path),
            "dataset": str(self.dataset),
            "seeds": list(self.seeds),
            "model": self.model,
            "command": self.command,
            "features": self.features,
            "axes": {axis: list(levels) for axis, levels in self.axes.items()},
            "baseline": self.baseline,
            "arms": [arm.to_dict() for arm in self.arms],
            "eval_sets": [item.to_dict() for item in self.eval_sets],
            "criteria": [item.text for item in self.criteria],
            "primary_metric": self.primary_metric,
            "n_resamples": self.n_resamples,
            "alpha": self.alpha,
        }


def arm_name(levels: dict, axes: dict) -> str:
    """An arm's name: its levels in axis order, joined by ``+``.

    Examples
    --------
    >>> arm_name({"positives": "half", "negatives": "t50"}, {"negatives": {}, "positives": {}})
    't50+half'
    """
    return ARM_SEPARATOR.join(str(levels[axis]) for axis in axes)


class _Reader:
    """Checks entries of one file; every message starts with the file and the entry."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, where: str, message: str) -> InputError:
        return InputError(f"{self.path}: {where}: {message}", parameter="experiment")

    def check(self, where: str, value, constraints: list) -> None:
        try:
            validate_value("value", value, constraints)
        except InputError as error:
            raise self.fail(where, str(error).removeprefix("value ")) from None

    def mapping(self, where: str, value, allowed: tuple[str, ...] | None = None) -> dict:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(where, f"must be a mapping (key: value), got {type(value).__name__} {value!r}")
        if allowed is not None:
            unknown = [key for key in value if key not in allowed]
            if unknown:
                raise self.fail(
                    f"{where}.{unknown[0]}" if where else str(unknown[0]), f"unknown key; use {', '.join(allowed)}"
                )
        return value

    def name(self, where: str, value) -> str:
        if not isinstance(value, str) or not _NAME.match(value):
            raise self.fail(where, f"{value!r} is not a usable name; use letters, digits, '_', '.' or '-'")
        return value

    def relative(self, value) -> Path:
        path = Path(str(value)).expanduser()
        return path if path.is_absolute() else (self.path.parent / path)


def load_experiment(path: str | Path) -> Experiment:
    """Read and check an experiment file.

    Raises
    ------
    InputError
        Naming the file and the entry, for anything the experiment cannot use.
    """
    import yaml

    path = Path(path)
    if not path.is_file():
        raise InputError(
            f"{path}: no such experiment file; write one (see `hardneg experiment --help`)", parameter="experiment"
        )
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise InputError(f"{path}: {where}not valid YAML ({problem})", parameter="experiment") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: cannot be read ({error})", parameter="experiment") from None
    reader = _Reader(path)
    raw = reader.mapping("", raw, _TOP_KEYS)
    if "dataset" not in raw:
        raise reader.fail(
            "dataset", "missing; name the dataset folder built by `hardneg sample` (relative to this file)"
        )
    dataset = reader.relative(raw["dataset"])
    if not (dataset / "index.parquet").is_file():
        raise reader.fail(
            "dataset", f"{dataset} is not a dataset folder (no index.parquet); build it with `hardneg sample`"
        )
    meta = json.loads((dataset / "meta.json").read_text()) if (dataset / "meta.json").is_file() else {}
    channels = list(meta.get("channels") or [])
    seeds = _seeds(reader, raw.get("seeds", 5))
    model, command = raw.get("model"), raw.get("command")
    if model is not None and command is not None:
        raise reader.fail("command", "give either model (hardneg trains it) or command (your trainer), not both")
    if command is not None and (not isinstance(command, str) or "{run_dir}" not in command):
        raise reader.fail(
            "command", "must be a string holding {run_dir} (where it writes <eval_set>.predictions.parquet)"
        )
    if model is None and command is None:
        model = "et"
    if model is not None:
        model = _model(reader, "model", model)
    features = _features(reader, "features", raw.get("features", "summary"))
    axes = _axes(reader, raw.get("arms"), channels)
    baseline = _baseline(reader, raw.get("baseline"), axes)
    arms = _arms(reader, axes, raw.get("include"), channels)
    eval_sets = _eval_sets(reader, raw.get("eval"), dataset, channels)
    with_tta = next((item.name for item in eval_sets if item.tta is not None), None)
    if command is not None and with_tta is not None:
        raise reader.fail(
            f"eval.{with_tta}.tta",
            "needs hardneg to score the clips; it cannot with a command (score the clips in your own trainer, "
            "or use model:)",
        )
    primary = raw.get("primary_metric", "f1")
    reader.check("primary_metric", primary, [Options(EXPERIMENT_WINDOW_METRICS)])
    n_resamples = raw.get("n_resamples", 1000)
    reader.check("n_resamples", n_resamples, [Interval(Integral, 100, None, closed="left")])
    alpha = raw.get("alpha", 0.05)
    reader.check("alpha", alpha, [Interval(Real, 0, 1, closed="neither")])
    criteria = _criteria(reader, raw.get("criteria"), eval_sets)
    return Experiment(
        path=path.resolve(),
        dataset=dataset.resolve(),
        seeds=seeds,
        model=model,
        command=command,
        features=features,
        axes=axes,
        baseline=baseline,
        arms=arms,
        eval_sets=eval_sets,
        criteria=criteria,
        primary_metric=primary,
        n_resamples=int(n_resamples),
        alpha=float(alpha),
    )


def _seeds(reader: _Reader, value) -> tuple[int, ...]:
    if isinstance(value, bool):
        raise reader.fail("seeds", f"must be a count (5) or a list of seed ids ([0, 3, 7]), got {value!r}")
    if isinstance(value, Integral):
        reader.check("seeds", value, [Interval(Integral, 1, None, closed="left")])
        return tuple(range(int(value)))
    if isinstance(value, list) and value:
        for seed in value:
            reader.check("seeds", seed, [Interval(Integral, 0, MAX_SEED, closed="both")])
        if len(set(value)) != len(value):
            raise reader.fail("seeds", f"lists a seed twice ({value}); each seed id once")
        return tuple(int(seed) for seed in value)
    raise reader.fail("seeds", f"must be a count (5) or a list of seed ids ([0, 3, 7]), got {value!r}")


def _model(reader: _Reader, where: str, value) -> str:
    from hardneg.bench import check_models

    if not isinstance(value, str):
        raise reader.fail(where, f"must be a model name or file.py:make, got {value!r}")
    spec = value
    if ":" in value and ".py:" in value:
        file_part, function = value.rsplit(":", 1)
        spec = f"{reader.relative(file_part)}:{function}"
    try:
        check_models([spec])
    except InputError as error:
        raise reader.fail(where, str(error).removeprefix("--models: ")) from None
    return spec


def _features(reader: _Reader, where: str, value) -> str:
    from hardneg.bench import check_features

    if not isinstance(value, str):
        raise reader.fail(where, f"must be a feature set name or file.py:function, got {value!r}")
    spec = value
    if ".py:" in value:
        file_part, function = value.rsplit(":", 1)
        spec = f"{reader.relative(file_part)}:{function}"
    try:
        check_features([spec])
    except InputError as error:
        raise reader.fail(where, str(error).removeprefix("--features: ")) from None
    return spec


def _axes(reader: _Reader, value, channels: list[str]) -> dict:
    """axis -> level -> options (a checked copy); ``each`` axes expanded into channel ablations."""
    if value is None:
        # not "arm": results.parquet has a column per axis beside its own "arm" column
        return {"variant": {"default": {}}}
    value = reader.mapping("arms", value)
    if not value:
        raise reader.fail("arms", "is empty; give at least one axis with its levels")
    axes = {}
    for axis, levels in value.items():
        reader.name(f"arms.{axis}", axis)
        if axis in EXPERIMENT_RESULT_COLUMNS:
            columns = ", ".join(EXPERIMENT_RESULT_COLUMNS)
            raise reader.fail(f"arms.{axis}", f"is a column of the results ({columns}); name the axis otherwise")
        if levels == "each" or (isinstance(levels, dict) and list(levels) == ["each"]):
            levels = _ablation_levels(reader, f"arms.{axis}", levels, channels)
        levels = reader.mapping(f"arms.{axis}", levels)
        if not levels:
            raise reader.fail(f"arms.{axis}", "has no level; give at least one (e.g. none: {})")
        checked = {}
        for level, options in levels.items():
            where = f"arms.{axis}.{level}"
            reader.name(where, str(level))
            checked[str(level)] = _level(reader, where, options, channels)
        axes[axis] = checked
    return axes


def _ablation_levels(reader: _Reader, where: str, value, channels: list[str]) -> dict:
    if not channels:
        raise reader.fail(where, "each: the dataset's meta.json names no channels to leave out")
    groups = {channel: [channel] for channel in channels} if value == "each" else value["each"]
    groups = reader.mapping(f"{where}.each", groups)
    levels: dict = {"all": {}}
    for name, members in groups.items():
        members = [members] if isinstance(members, str) else members
        levels[f"no_{name}"] = {"drop": list(members)}
    return levels


def _level(reader: _Reader, where: str, options, channels: list[str]) -> dict:
    options = dict(reader.mapping(where, options, (*SAMPLE_KEYS, *TRAIN_KEYS)))
    if "fraction" in options:
        reader.check(f"{where}.fraction", options["fraction"], [Interval(Real, 0, 1, closed="right")])
    if "groups" in options:
        groups = options["groups"]
        if not isinstance(groups, list) or not groups:
            raise reader.fail(f"{where}.groups", f"must be a non-empty list of group names, got {groups!r}")
        options["groups"] = [str(group) for group in groups]
    if "drop" in options:
        drop = options["drop"]
        drop = [drop] if isinstance(drop, str) else drop
        if not isinstance(drop, list) or not drop:
            raise reader.fail(f"{where}.drop", f"must be a list of channel names, got {drop!r}")
        unknown = [channel for channel in drop if str(channel) not in channels]
        if unknown:
            raise reader.fail(
                f"{where}.drop", f"no channel {unknown[0]!r} in the dataset; it has {', '.join(channels)}"
            )
        if len(set(map(str, drop))) >= len(channels):
            raise reader.fail(f"{where}.drop", "drops every channel; keep at least one")
        options["drop"] = [str(channel) for channel in drop]
    if "model" in options:
        options["model"] = _model(reader, f"{where}.model", options["model"])
    if "features" in options:
        options["features"] = _features(reader, f"{where}.features", options["features"])
    for key in _PATH_KEYS:
        if options.get(key) is not None:
            resolved = reader.relative(options[key])
            if not resolved.exists():
                raise reader.fail(f"{where}.{key}", f"{resolved} does not exist (paths are relative to this file)")
            options[key] = str(resolved.resolve())
    if "hard_tier" in options and options.get("hard_negatives") is None:
        raise reader.fail(f"{where}.hard_tier", "chooses among mined windows; give hard_negatives (a mined folder) too")
    if "hard_tier" in options:
        reader.check(f"{where}.hard_tier", options["hard_tier"], [Interval(Real, 0, 1, closed="both")])
    return options


def _baseline(reader: _Reader, value, axes: dict) -> dict:
    if value is None:
        if len(axes) == 1 and len(next(iter(axes.values()))) == 1:
            return {}
        first = next(iter(axes))
        raise reader.fail(
            "baseline",
            f"missing; name the reference level of the axes arms are compared on, e.g. baseline: "
            f"{{{first}: {next(iter(axes[first]))}}}",
        )
    value = reader.mapping("baseline", value)
    baseline = {}
    for axis, level in value.items():
        if axis not in axes:
            raise reader.fail(f"baseline.{axis}", f"is not an axis of arms ({', '.join(axes)})")
        if str(level) not in axes[axis]:
            raise reader.fail(f"baseline.{axis}", f"{level!r} is not a level of {axis} ({', '.join(axes[axis])})")
        baseline[axis] = str(level)
    return baseline


def _arms(reader: _Reader, axes: dict, include, channels: list[str]) -> tuple[Arm, ...]:
    import itertools

    names = list(axes)
    arms = []
    for combination in itertools.product(*(list(axes[axis]) for axis in names)):
        levels = dict(zip(names, combination))
        sample, train = {}, {}
        owner: dict = {}
        for axis, level in levels.items():
            for key, option in axes[axis][level].items():
                if key in owner:
                    raise reader.fail(
                        f"arms.{axis}.{level}.{key}",
                        f"is also set by arms.{owner[key]}; one axis per option, so each arm's value is clear",
                    )
                owner[key] = f"{axis}.{level}"
                (train if key in TRAIN_KEYS else sample)[key] = option
        dropped = set(train.get("drop", []))
        if channels and dropped >= set(channels):
            raise reader.fail("arms", f"arm {arm_name(levels, axes)} drops every channel; keep at least one")
        arms.append(Arm(arm_name(levels, axes), levels, sample, train))
    if include is not None:
        if not isinstance(include, list) or not include:
            raise reader.fail(
                "include", f"must be a list of arm names (levels joined by '{ARM_SEPARATOR}'), got {include!r}"
            )
        known = {arm.name: arm for arm in arms}
        unknown = [name for name in include if name not in known]
        if unknown:
            raise reader.fail("include", f"{unknown[0]!r} is not an arm; arms are named like {arms[0].name!r}")
        arms = [known[name] for name in dict.fromkeys(include)]
    return tuple(arms)


def _eval_sets(reader: _Reader, value, dataset: Path, channels: list[str]) -> tuple[EvalSet, ...]:
    from hardneg.split import STRATEGIES

    value = reader.mapping("eval", value)
    if not value:
        raise reader.fail("eval", "missing; name at least one evaluation set, e.g. eval: {iid: {split: group}}")
    sets = []
    for name, options in value.items():
        where = f"eval.{name}"
        reader.name(where, str(name))
        options = reader.mapping(where, options, _EVAL_KEYS)
        sources = [key for key in ("split", "dataset", "groups") if options.get(key) is not None]
        if len(sources) != 1:
            raise reader.fail(
                where,
                "give exactly one of split (a strategy or saved:NAME), groups (held out) or dataset (another one)",
            )
        split = options.get("split")
        if split is not None:
            split = str(split)
            if not split.startswith("saved:") and split not in STRATEGIES:
                raise reader.fail(
                    f"{where}.split", f"{split!r} is neither a strategy ({', '.join(STRATEGIES)}) nor saved:NAME"
                )
            if split.startswith("saved:") and not (dataset / "splits" / f"{split[6:]}.parquet").is_file():
                raise reader.fail(
                    f"{where}.split", f"no split {split[6:]!r} saved in {dataset}; create it with `hardneg split`"
                )
        other = options.get("dataset")
        if other is not None:
            other = reader.relative(other)
            if not (other / "index.parquet").is_file():
                raise reader.fail(f"{where}.dataset", f"{other} is not a dataset folder (no index.parquet)")
            other_meta = json.loads((other / "meta.json").read_text()) if (other / "meta.json").is_file() else {}
            if channels and list(other_meta.get("channels") or channels) != channels:
                raise reader.fail(
                    f"{where}.dataset", f"channels {other_meta.get('channels')} differ from the dataset's {channels}"
                )
            other = other.resolve()
        groups = options.get("groups")
        if groups is not None:
            if not isinstance(groups, list) or not groups:
                raise reader.fail(f"{where}.groups", f"must be a non-empty list of group names, got {groups!r}")
            groups = tuple(str(group) for group in groups)
        kind = options.get("kind", "iid" if split is not None else "ood")
        reader.check(f"{where}.kind", kind, [Options(EVAL_KINDS)])
        split_options = {key: options[key] for key in _SPLIT_OPTIONS if key in options}
        if split_options and split is None:
            raise reader.fail(f"{where}.{next(iter(split_options))}", "is an option of a split; this set has none")
        sets.append(
            EvalSet(
                name=str(name),
                kind=kind,
                split=split,
                split_options=split_options,
                dataset=other,
                groups=groups,
                tta=_tta(reader, f"{where}.tta", options.get("tta")),
            )
        )
    if sum(item.split is not None for item in sets) > 1:
        raise reader.fail("eval", "more than one set has a split; one split decides what every arm trains on")
    return tuple(sets)


def _tta(reader: _Reader, where: str, value) -> TTA | None:
    if value is None:
        return None
    value = reader.mapping(where, value, ("clips", "spacing_ms", "aggregate"))
    clips = value.get("clips", 5)
    reader.check(f"{where}.clips", clips, [Interval(Integral, 1, None, closed="left")])
    spacing = value.get("spacing_ms", 50.0)
    reader.check(f"{where}.spacing_ms", spacing, [Interval(Real, 0, None, closed="neither")])
    aggregate = value.get("aggregate", "mean")
    reader.check(f"{where}.aggregate", aggregate, [Options(AGGREGATES)])
    return TTA(int(clips), float(spacing), aggregate)


def _criteria(reader: _Reader, value, eval_sets: tuple[EvalSet, ...]) -> tuple[Criterion, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise reader.fail("criteria", f'must be a list like ["iid.recall >= 0.35"], got {value!r}')
    names = {item.name: item for item in eval_sets}
    criteria = []
    for position, text in enumerate(value):
        where = f"criteria[{position}]"
        match = _CRITERION.match(str(text))
        if not match:
            raise reader.fail(
                where, f"{text!r} is not 'EVAL.METRIC OP NUMBER' (e.g. \"iid.recall >= 0.35\"; OP one of >=, >, <=, <)"
            )
        eval_name, metric, op, target = match.groups()
        if eval_name not in names:
            raise reader.fail(where, f"{text!r}: no evaluation set {eval_name!r} ({', '.join(names)})")
        allowed = names[eval_name].metrics
        if metric not in allowed:
            hint = " (false alarms per hour need timelines)" if metric in EXPERIMENT_TIMELINE_METRICS else ""
            raise reader.fail(where, f"{text!r}: {eval_name} reports {', '.join(allowed)}, not {metric}{hint}")
        criteria.append(Criterion(str(text).strip(), eval_name, metric, op, float(target)))
    return tuple(criteria)
