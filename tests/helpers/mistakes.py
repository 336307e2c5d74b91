"""The small project the mistake corpus (tests/cli/test_mistakes_*.py) makes its mistakes on.

One :class:`Base` per test session: a synthetic IMU world (the demo's, six 30-s sessions and two no-shot
sessions for mining), a dataset with a saved group split, a model trained on it and a mined folder; plus the
odd ones a mistake needs (a one-class dataset, one with other channels, one with other window length).
Cases never change the base: one that needs a changed file copies it into its own folder first.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from tests.helpers.cli import run_in_process


@dataclass
class Base:
    root: Path
    logs: list[Path]  # six IMU logs (parquet), recording ids s01..s06
    events: Path  # recording,t_ms
    groups: Path  # recording,group
    pool: Path  # folder of two no-shot logs
    dataset: Path  # a dataset with the saved split "hold"
    model: Path  # `hardneg train` folder (logreg on summary features)
    mined: Path  # `hardneg mine` folder of the pool with that model
    other_dataset: Path  # same world, other windows (window_ms 300): other window ids and length
    two_channels: Path  # same world, channels ax,ay only
    no_negatives: Path  # one class: positives only
    no_positives: Path  # one class: negatives only (the positives relabelled)


_BASES: dict[Path, Base] = {}


def _sample(base_root: Path, out: Path, *extra) -> Path:
    world = base_root / "world"
    logs = sorted((world / "logs").glob("*.parquet"))
    result = run_in_process(
        "sample", *logs, "--events", world / "events.csv", "--groups", world / "groups.csv", "--out", out, "-q",
        *extra,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return out


def build_base(root: Path) -> Base:
    """The base under ``root`` (built once per root and process)."""
    root = Path(root)
    if root in _BASES:
        return _BASES[root]
    from hardneg.demo import generate_world

    world = generate_world(root / "world", n_sessions=6, session_minutes=0.5, n_no_shot_sessions=2)
    dataset = _sample(root, root / "dataset")
    done = run_in_process("split", dataset, "--strategy", "group", "--name", "hold", "-q")
    assert done.returncode == 0, done.stderr
    model = root / "model"
    done = run_in_process("train", dataset, "--out", model, "--split", "hold", "-q")
    assert done.returncode == 0, done.stderr
    mined = root / "mined"
    done = run_in_process("mine", world.root / "pool", "--model", model, "--trust-model", "--out", mined, "-q")
    assert done.returncode == 0, done.stderr
    other = _sample(root, root / "other", "--window-ms", "300")
    two = _sample(root, root / "two-channels", "--channels", "ax,ay")
    no_negatives = _sample(root, root / "no-negatives", "--neg-mult", "0")
    no_positives = root / "no-positives"
    shutil.copytree(dataset, no_positives, ignore=shutil.ignore_patterns("splits"))
    index = pd.read_parquet(no_positives / "index.parquet")
    index["label"] = np.zeros(len(index), dtype=index["label"].dtype)
    index.to_parquet(no_positives / "index.parquet", index=False)
    base = Base(
        root=root,
        logs=list(world.logs),
        events=world.events,
        groups=world.groups,
        pool=world.root / "pool",
        dataset=dataset,
        model=model,
        mined=mined,
        other_dataset=other,
        two_channels=two,
        no_negatives=no_negatives,
        no_positives=no_positives,
    )
    _BASES[root] = base
    return base


def copy_dataset(source: Path, target: Path) -> Path:
    """A copy of a dataset folder to spoil."""
    shutil.copytree(source, target)
    return target


class Cases:
    """A list of mistakes: ``@cases.add`` on ``case(base, tmp) -> (args, needles)``; ``cases.ids`` for parametrize."""

    def __init__(self):
        self.by_id: dict = {}

    def add(self, case):
        name = case.__name__
        assert name not in self.by_id, name
        self.by_id[name] = case
        return case

    @property
    def ids(self) -> list[str]:
        return list(self.by_id)

    def run(self, case_id: str, base: Base, tmp: Path):
        """Run one case; return the result and the needles its error line must hold."""
        from tests.helpers.cli import run_hardneg

        args, needles = self.by_id[case_id](base, tmp)
        return run_hardneg(*args, cwd=tmp), needles
