"""The demo's dataset, and the `hardneg sample` command it prints, agree to the byte."""

import glob
import shlex
import subprocess
import sys

from hardneg.dataset import Dataset
from hardneg.demo._run import DEMO_CONFIG, DEMO_SESSIONS, run_demo


def test_printed_command_rebuilds_the_demo_dataset_byte_for_byte(tmp_path):
    result = run_demo(tmp_path / "demo", seed=3)
    arguments = []
    for token in shlex.split(result.command)[2:]:  # drop "hardneg sample"
        arguments += sorted(glob.glob(token)) if "*" in token else [token]
    out_index = arguments.index("--out")
    arguments[out_index + 1] = str(tmp_path / "again")
    completed = subprocess.run(
        [sys.executable, "-m", "hardneg", "sample", *arguments, "--quiet"], capture_output=True, text=True
    )
    assert completed.returncode == 0, completed.stderr
    for name in ("index.parquet", "windows.npy", "meta.json"):
        assert (result.dataset.path / name).read_bytes() == (tmp_path / "again" / name).read_bytes(), name


def test_demo_dataset_uses_the_demo_settings_and_the_shooters_as_groups(tmp_path):
    result = run_demo(tmp_path / "demo", seed=0)
    dataset = Dataset.load(result.dataset.path)
    parameters = dataset.meta["parameters"]
    for key, value in DEMO_CONFIG.items():
        assert parameters[key] == value, key
    # sessions are dealt round-robin to ceil(sessions / 2) shooters
    assert set(dataset.index["group"]) == {f"shooter_{letter}" for letter in "abcdef"[: (DEMO_SESSIONS + 1) // 2]}
    assert set(dataset.index["kind"]) == {"pos", "near", "far"}
    # mixed, motion-matched: every negative lies inside the positives' [5%, 95%] motion band
    low, high = dataset.meta["counts"]["motion_thresholds"]["positive_band"]
    negatives = dataset.index[dataset.index["label"] == 0]
    assert negatives["motion"].between(low, high).all()


def test_mining_step_finds_the_aiming_holds_and_adds_them(tmp_path):
    result = run_demo(tmp_path / "demo", seed=0, mine=True)
    step = result.mining
    assert step["candidates"] > 0
    # the aiming holds rise to the top: their share of the mined windows far exceeds their share of the time
    assert step["candidates_in_aim_holds"] / step["candidates"] > 1.5 * step["aim_time_share"]
    assert step["hard_added"] == step["candidates"]  # pool sessions have no events, so nothing is excluded
    for when in ("before", "after"):
        counts = step[when]
        assert 0 <= counts["in_aim_holds"] <= counts["false_alarms"] <= counts["windows"]
    # the point of the step: at the same recall on held-out shots, the retrained model raises fewer false alarms
    assert step["after"]["false_alarms"] < step["before"]["false_alarms"]
    hard = Dataset.load(result.root / "dataset-hard").index
    assert set(hard.loc[hard["kind"] == "hard", "recording"]) == set(step["mined_sessions"])
    assert not set(step["mined_sessions"]) & set(step["held_out_sessions"])
