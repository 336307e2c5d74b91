"""A small on-disk world for the command-line tests, and a runner for ``python -m hardneg``."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

FS = 100.0
N = 3000  # 30 s at 100 Hz
CHANNELS = ["ax", "ay", "az", "gx", "gy", "gz"]


@dataclass
class World:
    root: Path
    logs: list[Path]
    events: Path
    data: dict  # recording -> DataFrame of the log


def write_log(path: Path, frame: pd.DataFrame) -> Path:
    frame.to_csv(path, index=False)
    return path


def make_log(n: int, seed: int, t0: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"t_ms": t0 + np.arange(n) * (1000.0 / FS)})
    for name in CHANNELS:
        frame[name] = np.round(rng.standard_normal(n) + (9.81 if name == "az" else 0.0), 4)
    return frame


def build_world(root: Path) -> World:
    """Two 30 s, 100 Hz IMU logs ``s1.csv``, ``s2.csv`` and ``events.csv`` with three events on each."""
    root.mkdir(parents=True, exist_ok=True)
    data = {"s1": make_log(N, 1), "s2": make_log(N, 2)}
    logs = [write_log(root / f"{rid}.csv", frame) for rid, frame in data.items()]
    events = root / "events.csv"
    events.write_text("recording,t_ms\ns1,5000\ns1,12000\ns1,20000\ns2,8000\ns2,15000\ns2,25000\n")
    return World(root, logs, events, data)


@pytest.fixture
def world(tmp_path) -> World:
    return build_world(tmp_path)


@pytest.fixture(scope="session")
def world_builder():
    """:func:`build_world`, for fixtures with a wider scope than ``tmp_path``."""
    return build_world


def run_cli(
    *args, cwd: Path | None = None, timeout: float = 120, columns: int | None = None
) -> subprocess.CompletedProcess:
    """``python -m hardneg ARGS`` as a user's shell would run it (stdout/stderr captured, so not a terminal)."""
    env = dict(os.environ)
    env.pop("COLUMNS", None)
    if columns is not None:
        env["COLUMNS"] = str(columns)
    return subprocess.run(
        [sys.executable, "-m", "hardneg", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


@pytest.fixture(scope="session")
def cli():
    """The :func:`run_cli` runner, as a fixture (test modules cannot import this conftest by name)."""
    return run_cli


@pytest.fixture
def log_maker():
    """:func:`make_log` and :func:`write_log`, as a fixture."""
    return make_log, write_log
