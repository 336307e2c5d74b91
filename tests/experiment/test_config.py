"""The experiment file: the issue's interface file as written, each mistake one message naming file and entry."""

from __future__ import annotations

import os

import pytest

from hardneg.errors import InputError
from hardneg.experiment import load_experiment
from tests.experiment.conftest import write_experiment

CHANNELS = ["ax", "ay", "az", "gx", "gy", "gz"]


@pytest.fixture
def folder(world, tmp_path):
    """A folder beside which ``shots`` and ``mined`` lie (links to the session's), as a user's project would."""
    os.symlink(world.dataset, tmp_path / "shots")
    os.symlink(world.mined, tmp_path / "mined")
    return tmp_path


def interface(tiers) -> str:
    """The issue's interface file, with tiers inside the fixture's mined scores."""
    low, high = tiers
    return f"""\
dataset: shots                     # a hardneg dataset directory
seeds: 5
model: et                          # a built-in name, file.py:make, or:
# command: "python train.py --train {{train_dataset}} --seed {{seed}} --out {{run_dir}}"
baseline: {{negatives: none}}
arms:
  negatives:
    none: {{}}
    t50: {{hard_negatives: mined, hard_tier: {low}}}
    t85: {{hard_negatives: mined, hard_tier: {high}}}
  positives:
    all: {{}}
    half: {{fraction: 0.5}}
eval:
  iid: {{split: group}}              # a strategy drawn per seed, or saved:NAME
criteria: ["iid.recall >= 0.35"]
"""


def test_the_interface_file_works_as_written(folder, world):
    experiment = load_experiment(write_experiment(folder, interface(world.tiers)))
    assert experiment.seeds == (0, 1, 2, 3, 4)
    assert experiment.model == "et" and experiment.command is None
    names = [arm.name for arm in experiment.arms]
    assert names == ["none+all", "none+half", "t50+all", "t50+half", "t85+all", "t85+half"]
    # each positive subset gets its own baseline: only the negatives axis is fixed
    partners = {arm.name: getattr(experiment.partner(arm), "name", None) for arm in experiment.arms}
    assert partners == {
        "none+all": None, "none+half": None, "t50+all": "none+all", "t50+half": "none+half",
        "t85+all": "none+all", "t85+half": "none+half",
    }  # fmt: skip
    t50_half = experiment.arm("t50+half")
    assert t50_half.sample == {"hard_negatives": str(world.mined.resolve()), "hard_tier": world.tiers[0]}
    assert t50_half.train == {"fraction": 0.5}
    assert [(item.name, item.kind, item.split) for item in experiment.eval_sets] == [("iid", "iid", "group")]
    (criterion,) = experiment.criteria
    assert (criterion.eval_set, criterion.metric, criterion.op, criterion.target) == ("iid", "recall", ">=", 0.35)


def test_paths_are_relative_to_the_file_not_the_working_directory(folder, world, tmp_path, monkeypatch):
    sub = folder / "plans" / "may"
    sub.mkdir(parents=True)
    (sub / "factory.py").write_text(
        "from sklearn.linear_model import LogisticRegression\n\ndef make(seed):\n    return LogisticRegression()\n"
    )
    text = interface(world.tiers).replace("dataset: shots", "dataset: ../../shots")
    text = text.replace("hard_negatives: mined", "hard_negatives: ../../mined").replace(
        "model: et", "model: factory.py:make"
    )
    path = write_experiment(sub, text)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    experiment = load_experiment(path)
    assert experiment.dataset == world.dataset.resolve()
    assert experiment.arm("t85+all").sample["hard_negatives"] == str(world.mined.resolve())
    assert experiment.model == f"{sub / 'factory.py'}:make"
    # the same names relative to the working directory are not found
    with pytest.raises(InputError, match=r"dataset: .*is not a dataset folder"):
        load_experiment(write_experiment(sub, interface(world.tiers), "cwd.yaml"))


def test_channels_each_expands_into_all_and_one_level_per_channel(folder):
    path = write_experiment(
        folder,
        "dataset: shots\nmodel: logreg\nbaseline: {channels: all}\narms: {channels: each}\neval: {iid: {split: group}}\n",
    )
    experiment = load_experiment(path)
    assert list(experiment.axes["channels"]) == ["all", *(f"no_{channel}" for channel in CHANNELS)]
    assert [arm.name for arm in experiment.arms] == ["all", *(f"no_{channel}" for channel in CHANNELS)]
    for channel in CHANNELS:
        arm = experiment.arm(f"no_{channel}")
        assert arm.train == {"drop": [channel]} and arm.sample == {}
        assert experiment.partner(arm).name == "all"
    groups = write_experiment(
        folder,
        "dataset: shots\nmodel: logreg\nbaseline: {sensor: all}\n"
        "arms: {sensor: {each: {acc: [ax, ay, az], gyro: [gx, gy, gz]}}}\neval: {iid: {split: group}}\n",
        "groups.yaml",
    )
    experiment = load_experiment(groups)
    assert {arm.name: arm.train for arm in experiment.arms} == {
        "all": {}, "no_acc": {"drop": ["ax", "ay", "az"]}, "no_gyro": {"drop": ["gx", "gy", "gz"]},
    }  # fmt: skip


BASE = """\
dataset: shots
seeds: 3
model: logreg
baseline: {negatives: none}
arms:
  negatives:
    none: {}
    t50: {hard_negatives: mined, hard_tier: 0.5}
  positives:
    all: {}
    half: {fraction: 0.5}
eval:
  iid: {split: group}
criteria: ["iid.recall >= 0.35"]
"""


def _swap(old: str, new: str):
    def change(text: str) -> str:
        assert old in text, old
        return text.replace(old, new)

    return change


MISTAKES = {
    "unknown top-level key": (_swap("model: logreg", "modle: logreg"), "modle", "unknown key"),
    "missing dataset": (_swap("dataset: shots\n", ""), "dataset", "missing"),
    "dataset not a dataset": (_swap("dataset: shots", "dataset: nowhere"), "dataset", "nowhere"),
    "seeds zero": (_swap("seeds: 3", "seeds: 0"), "seeds", ">= 1"),
    "seeds twice": (_swap("seeds: 3", "seeds: [1, 4, 1]"), "seeds", "twice"),
    "seeds negative": (_swap("seeds: 3", "seeds: [0, -2]"), "seeds", "-2"),
    "seeds text": (_swap("seeds: 3", "seeds: five"), "seeds", "five"),
    "seeds bool": (_swap("seeds: 3", "seeds: true"), "seeds", "True"),
    "unknown axis in baseline": (_swap("{negatives: none}", "{negativs: none}"), "baseline.negativs", "not an axis"),
    "level not of the axis": (_swap("{negatives: none}", "{negatives: t99}"), "baseline.negatives", "t99"),
    "level of another axis": (_swap("{negatives: none}", "{negatives: half}"), "baseline.negatives", "half"),
    "fraction 0": (_swap("fraction: 0.5", "fraction: 0"), "arms.positives.half.fraction", "0"),
    "fraction 1.5": (_swap("fraction: 0.5", "fraction: 1.5"), "arms.positives.half.fraction", "1.5"),
    "drop unknown channel": (
        _swap("    half: {fraction: 0.5}", "    half: {fraction: 0.5}\n    no_q: {drop: [ax, qx]}"),
        "arms.positives.no_q.drop",
        "'qx'",
    ),
    "drop every channel": (
        _swap("    half: {fraction: 0.5}", "    half: {fraction: 0.5}\n    none: {drop: [ax, ay, az, gx, gy, gz]}"),
        "arms.positives.none.drop",
        "every channel",
    ),
    "drop set by two axes": (
        _swap(
            "  positives:\n",
            "  acc:\n    gone: {drop: [ax, ay, az]}\n  gyro:\n    gone: {drop: [gx, gy, gz]}\n  positives:\n",
        ),
        "arms.gyro.gone.drop",
        "also set by arms.acc.gone",
    ),
    "hard_tier without hard_negatives": (
        _swap("{hard_negatives: mined, hard_tier: 0.5}", "{hard_tier: 0.5}"),
        "arms.negatives.t50.hard_tier",
        "hard_negatives",
    ),
    "hard_tier out of range": (
        _swap("hard_tier: 0.5", "hard_tier: 1.5"),
        "arms.negatives.t50.hard_tier",
        "1.5",
    ),
    "path that does not exist": (
        _swap("hard_negatives: mined", "hard_negatives: mined-elsewhere"),
        "arms.negatives.t50.hard_negatives",
        "relative to this file",
    ),
    "unknown level option": (_swap("fraction: 0.5", "fracton: 0.5"), "arms.positives.half.fracton", "unknown key"),
    "two eval sets with a split": (
        _swap("  iid: {split: group}", "  iid: {split: group}\n  later: {split: time}"),
        "eval",
        "more than one",
    ),
    "eval set with two sources": (
        _swap("  iid: {split: group}", "  iid: {split: group, groups: [shooter_a]}"),
        "eval.iid",
        "exactly one",
    ),
    "unknown split strategy": (_swap("{split: group}", "{split: groupe}"), "eval.iid.split", "groupe"),
    "missing saved split": (_swap("{split: group}", "{split: 'saved:mine'}"), "eval.iid.split", "mine"),
    "bad tta": (
        _swap("{split: group}", "{split: group, tta: {clips: 5, aggregate: median}}"),
        "eval.iid.tta.aggregate",
        "median",
    ),
    "bad criterion text": (_swap('"iid.recall >= 0.35"', '"iid.recall at least 0.35"'), "criteria[0]", "EVAL.METRIC"),
    "criterion on unknown eval set": (_swap('"iid.recall', '"ood.recall'), "criteria[0]", "no evaluation set 'ood'"),
    "criterion on unknown metric": (_swap('"iid.recall', '"iid.recal'), "criteria[0]", "not recal"),
    "criterion on a timeline metric": (
        _swap('"iid.recall >= 0.35"', '"iid.fa_per_hour <= 2"'),
        "criteria[0]",
        "timelines",
    ),
    "include naming an unknown arm": (
        _swap("criteria:", "include: [none+all, t50+al]\ncriteria:"),
        "include",
        "'t50+al'",
    ),
    "option set by two axes": (
        _swap("    half: {fraction: 0.5}", "    half: {fraction: 0.5, hard_tier: 0.9, hard_negatives: mined}"),
        "arms.positives.half.hard_tier",
        "also set by arms.negatives.t50",
    ),
    "axis named like a results column": (
        _swap("  positives:\n", "  seed:\n    one: {}\n  positives:\n"),
        "arms.seed",
        "column of the results",
    ),
    "primary metric": (_swap("criteria:", "primary_metric: f2\ncriteria:"), "primary_metric", "f2"),
    "too few resamples": (_swap("criteria:", "n_resamples: 10\ncriteria:"), "n_resamples", "10"),
    "unknown model": (_swap("model: logreg", "model: logreggg"), "model", "logreggg"),
}


@pytest.mark.parametrize("name", list(MISTAKES))
def test_each_mistake_gives_one_message_naming_the_file_and_the_entry(folder, name):
    change, entry, detail = MISTAKES[name]
    path = write_experiment(folder, change(BASE))
    with pytest.raises(InputError) as caught:
        load_experiment(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: {entry}: "), message
    assert detail in message.removeprefix(f"{path}: {entry}: "), message
    assert "\n" not in message and caught.value.parameter == "experiment"


def test_the_base_file_of_the_mistakes_is_itself_valid(folder):
    experiment = load_experiment(write_experiment(folder, BASE))
    assert len(experiment.arms) == 4


def test_invalid_yaml_names_line_and_column(folder):
    path = write_experiment(folder, BASE.replace("  positives:\n", "  positives:\n   bad: [1, 2\n"))
    with pytest.raises(InputError) as caught:
        load_experiment(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: line ") and "column" in message and "not valid YAML" in message, message
    line = int(message.split("line ")[1].split(",")[0])
    assert 8 <= line <= 13, message  # where the unclosed list is, not line 1
    assert "\n" not in message


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(InputError, match=r"no such experiment file"):
        load_experiment(tmp_path / "nothing.yaml")


def test_without_arms_one_default_arm_runs(folder):
    experiment = load_experiment(
        write_experiment(folder, "dataset: shots\nmodel: logreg\neval: {iid: {split: group}}\n")
    )
    assert [arm.name for arm in experiment.arms] == ["default"] and experiment.baseline == {}
    assert "arm" not in experiment.axes  # results.parquet has its own arm column beside one per axis


def test_include_keeps_the_listed_arms_in_their_order(folder):
    path = write_experiment(folder, BASE.replace("criteria:", "include: [t50+half, none+half]\ncriteria:"))
    experiment = load_experiment(path)
    assert [arm.name for arm in experiment.arms] == ["t50+half", "none+half"]
    assert experiment.partner(experiment.arm("t50+half")).name == "none+half"


def test_a_criterion_holds_at_its_target_only_for_the_inclusive_operators():
    from hardneg.experiment import Criterion

    at = {op: Criterion(f"iid.recall {op} 0.35", "iid", "recall", op, 0.35).holds(0.35) for op in (">=", ">", "<=", "<")}
    assert at == {">=": True, ">": False, "<=": True, "<": False}
    assert not Criterion("iid.recall >= 0.35", "iid", "recall", ">=", 0.35).holds(float("nan"))
