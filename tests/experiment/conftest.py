"""A small synthetic world for the experiment tests: a dataset, mined hard negatives, one 4 x 2 x 5 grid.

Built once per session: 8 one-minute shooting sessions (4 shooters) and 2 sessions without a shot, a
beat-free dataset of 500 ms windows, a logistic regression trained on it and the no-shot sessions mined at
every score (min_score 0), so tiers can be chosen from the mined scores' quantiles. The grid (negative sets
none, all mined and two tiers x positive subsets all and half x 5 seeds, ``logreg``, 200 resamples) runs once
with two jobs and is shared, read-only, by the tests that check its tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest


@dataclass(frozen=True)
class World:
    root: Path
    dataset: Path
    mined: Path
    world: object
    #: two hard tiers inside the mined scores' range (their 50 % and 90 % quantiles, rounded down)
    tiers: tuple[float, float]


def write_experiment(folder: Path, text: str, name: str = "experiment.yaml") -> Path:
    path = Path(folder) / name
    path.write_text(text)
    return path


def grid_yaml(tiers, *, seeds="5", extra_negatives: str = "", model: str = "logreg", tail: str = "") -> str:
    """The issue's interface file with the fixture's mined folder and tiers, plus an ``all`` mined arm."""
    low, high = tiers
    return f"""\
dataset: shots
seeds: {seeds}
model: {model}
n_resamples: 200
baseline: {{negatives: none}}
arms:
  negatives:
    none: {{}}
    mined_all: {{hard_negatives: mined}}
    t50: {{hard_negatives: mined, hard_tier: {low}}}
    t90: {{hard_negatives: mined, hard_tier: {high}}}{extra_negatives}
  positives:
    all: {{}}
    half: {{fraction: 0.5}}
eval:
  iid: {{split: group}}
criteria: ["iid.recall >= 0.35", "iid.roc_auc > 0.6"]
{tail}"""


@pytest.fixture(scope="session")
def world(tmp_path_factory) -> World:
    from hardneg import InputOptions, build_dataset
    from hardneg.bench import train_model
    from hardneg.demo import generate_world
    from hardneg.mine import MineOptions, mine
    from hardneg.sample import SamplingConfig

    root = tmp_path_factory.mktemp("experiment-world")
    files = generate_world(root / "world", seed=0, n_sessions=8, session_minutes=1.0, n_no_shot_sessions=2)
    dataset = build_dataset(
        files.logs, root / "shots", inputs=InputOptions(events=files.events, groups=files.groups),
        config=SamplingConfig(window_ms=500.0, neg_mult=2),
    )  # fmt: skip
    model = train_model(dataset.path, root / "model", model="logreg", features="summary")
    mined = mine(
        files.no_shot_logs, root / "mined",
        MineOptions(model=str(model.path), window_ms=500.0, hop_ms=250.0, nms_ms=250.0, groups=str(files.groups),
                    min_score=0.0),
        trust_model=True,
    )  # fmt: skip
    scores = mined.candidates["score"].to_numpy()
    low, high = (float(np.floor(q * 1e4) / 1e4) for q in np.quantile(scores, [0.5, 0.9]))
    assert 0 < low < high < scores.max()
    return World(root=root, dataset=dataset.path, mined=root / "mined", world=files, tiers=(low, high))


@pytest.fixture(scope="session")
def grid(world, tmp_path_factory):
    """The 4 negative sets x 2 positive subsets x 5 seeds experiment, run once with two jobs."""
    from hardneg.experiment import run_experiment

    path = write_experiment(world.root, grid_yaml(world.tiers), "grid.yaml")
    out = tmp_path_factory.mktemp("grid") / "out"
    return run_experiment(path, out, jobs=2)
