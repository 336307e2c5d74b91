"""A mined folder is read from anywhere: `hardneg sample --hard-negatives` run from another directory finds the pool.

`hardneg mine` records each item's path absolute; a relative path in items.parquet is read from the mined folder.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

SCORER = "import numpy as np\n\ndef make():\n    return lambda batch: np.abs(batch).max(axis=(1, 2)) / 10.0\n"


def hardneg(*args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hardneg", *map(str, args)],
        check=False,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=180,
    )


def log(n: int, seed: int, bursts=()) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"t_ms": np.arange(n) * 10.0})
    for name in ("ax", "ay", "az"):
        frame[name] = np.round(rng.normal(0, 0.3, n), 4)
    for start in bursts:
        frame.loc[start : start + 40, "ax"] = 5.0  # loud: the scorer's hard negatives
    return frame


@pytest.fixture
def project(tmp_path):
    """Dir A: a pool of two logs and the scorer; dir B: two labelled logs and their events."""
    a, b = tmp_path / "A", tmp_path / "B"
    (a / "pool").mkdir(parents=True)
    (b / "logs").mkdir(parents=True)
    log(2000, 1, bursts=(500, 1500)).to_csv(a / "pool" / "p1.csv", index=False)
    log(2000, 2, bursts=(900,)).to_csv(a / "pool" / "p2.csv", index=False)
    (a / "scorer.py").write_text(SCORER)
    log(3000, 3).to_csv(b / "logs" / "s1.csv", index=False)
    log(3000, 4).to_csv(b / "logs" / "s2.csv", index=False)
    (b / "events.csv").write_text("recording,t_ms\ns1,10000\ns1,20000\ns2,15000\n")
    return a, b


def mine_in(a: Path) -> Path:
    """Mine the pool from inside A, with relative paths only."""
    result = hardneg("mine", "pool", "--model", "scorer.py:make", "--window-ms", 500, "--min-score", 0.4,
                     "--out", "mined", "-q", cwd=a)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return a / "mined"


def test_mined_item_paths_are_absolute(project):
    a, _ = project
    items = pd.read_parquet(mine_in(a) / "items.parquet")
    assert sorted(items["path"]) == [str((a / "pool" / name).resolve()) for name in ("p1.csv", "p2.csv")]
    assert all(Path(path).is_absolute() for path in items["path"])


def test_sample_from_another_directory_adds_the_mined_windows(project):
    a, b = project
    candidates = pd.read_parquet(mine_in(a) / "candidates.parquet")
    assert set(candidates["item"]) == {"p1", "p2"}
    result = hardneg("sample", "logs/s1.csv", "logs/s2.csv", "--events", "events.csv", "--hard-negatives",
                     "../A/mined", "--out", "dataset", "-q", cwd=b)  # fmt: skip
    assert result.returncode == 0, result.stderr
    index = pd.read_parquet(b / "dataset" / "index.parquet")
    hard = index[index["kind"] == "hard"]
    assert len(hard) == len(candidates)
    assert set(hard["recording"]) == {"p1", "p2"}


def test_a_relative_item_path_is_read_from_the_mined_folder(project):
    a, b = project
    mined = mine_in(a)
    items = pd.read_parquet(mined / "items.parquet")
    items["path"] = [str(Path("..", "pool", Path(path).name)) for path in items["path"]]  # relative to mined/
    items.to_parquet(mined / "items.parquet")
    result = hardneg("sample", "logs/s1.csv", "logs/s2.csv", "--events", "events.csv", "--hard-negatives",
                     "../A/mined", "--out", "dataset", "-q", cwd=b)  # fmt: skip
    assert result.returncode == 0, result.stderr
    index = pd.read_parquet(b / "dataset" / "index.parquet")
    assert set(index.loc[index["kind"] == "hard", "recording"]) == {"p1", "p2"}
