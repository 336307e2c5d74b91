"""``hardneg predict`` and ``hardneg mine --model DIR`` hold the data to the model's card (issue 9, item 4)."""

from __future__ import annotations

import json
import pickle

import pandas as pd
import pytest

from hardneg import InputOptions, build_dataset
from hardneg.bench import train_model
from hardneg.demo import generate_world

CHANNELS = "ax,ay,az,gx,gy,gz"
REORDERED = "gx,gy,gz,ax,ay,az"


def error_lines(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


def assert_one_error_line(result, *needles: str) -> str:
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "Traceback" not in output, output
    lines = error_lines(result)
    assert len(lines) == 1, output
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """A 100 Hz demo world (one pool log), its dataset, a model trained on it, and a 200 Hz pool log."""
    root = tmp_path_factory.mktemp("cardcli")
    world = generate_world(root / "world", n_sessions=6, session_minutes=1.0, n_no_shot_sessions=1)
    inputs = InputOptions(events=world.events, groups=world.groups)
    dataset = build_dataset(world.logs, root / "shots", inputs=inputs)
    reordered = build_dataset(
        world.logs, root / "reordered", inputs=InputOptions(events=world.events, channels=tuple(REORDERED.split(",")))
    )
    model = train_model(dataset.path, root / "model", model="logreg")
    fast = generate_world(root / "fast", n_sessions=1, session_minutes=0.5, n_no_shot_sessions=1, sample_rate_hz=200.0)
    return {
        "root": root,
        "dataset": dataset.path,
        "reordered": reordered.path,
        "model": model.path,
        "card": model.card,
        "pool": world.root / "pool",
        "fast_pool": fast.root / "pool",
    }


def test_predict_needs_trust_model(setup, cli, tmp_path):
    result = cli("predict", setup["model"], setup["dataset"], "--out", tmp_path / "p.parquet")
    assert_one_error_line(result, "--trust-model")
    assert not (tmp_path / "p.parquet").exists()


def test_predict_refuses_reordered_channels_naming_both_sides(setup, cli, tmp_path):
    result = cli("predict", setup["model"], setup["reordered"], "--trust-model", "--out", tmp_path / "p.parquet")
    line = assert_one_error_line(
        result,
        f"channels {REORDERED} at 100 Hz, 50 samples per window",
        f"expects {CHANNELS} at 100 Hz, 50 samples per window",
    )
    assert str(setup["reordered"]) in line and str(setup["model"]) in line


@pytest.mark.parametrize(
    "content",
    [b"\x80\x04garbage" * 20, b'{"model": "logreg"}', pickle.dumps({"not": "an estimator"})],
    ids=["garbage", "json", "pickled-dict"],
)
def test_a_corrupt_model_file_is_one_line_in_predict_and_mine(setup, cli, tmp_path, content):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "card.json").write_text(json.dumps(setup["card"]))
    (broken / "model.joblib").write_bytes(content)
    predicted = cli("predict", broken, setup["dataset"], "--trust-model", "--out", tmp_path / "p.parquet")
    assert_one_error_line(predicted, str(broken))
    mined = cli("mine", setup["pool"], "--model", broken, "--trust-model", "--out", tmp_path / "m", "-q")
    assert_one_error_line(mined, str(broken))


def test_mine_refuses_reordered_channels(setup, cli, tmp_path):
    result = cli(
        "mine", setup["pool"], "--model", setup["model"], "--trust-model", "--channels", REORDERED,
        "--out", tmp_path / "m", "-q",
    )  # fmt: skip
    line = assert_one_error_line(result, f"channels {REORDERED} at 100 Hz", f"expects {CHANNELS} at 100 Hz")
    assert "p01" in line and str(setup["model"]) in line
    assert not (tmp_path / "m" / "candidates.parquet").exists()


def test_mine_refuses_another_sample_rate(setup, cli, tmp_path):
    # 250 ms at 200 Hz is 50 samples, the model's window shape: only the card's rate tells them apart
    result = cli(
        "mine", setup["fast_pool"], "--model", setup["model"], "--trust-model", "--window-ms", "250",
        "--out", tmp_path / "m", "-q",
    )  # fmt: skip
    assert_one_error_line(result, "at 200 Hz, 50 samples per window", f"expects {CHANNELS} at 100 Hz")


def test_mine_takes_the_window_and_min_score_from_the_card(setup, cli, tmp_path):
    result = cli("mine", setup["pool"], "--model", setup["model"], "--trust-model", "--out", tmp_path / "m", "-q")
    assert result.returncode == 0, result.stderr
    options = json.loads((tmp_path / "m" / "mine.json").read_text())
    options = options.get("options", options)
    assert options["window_ms"] == setup["card"]["window_ms"] == 500.0
    assert options["min_score"] == setup["card"]["threshold"]
    assert options["hop_ms"] is None  # half the window, as before
    candidates = pd.read_parquet(tmp_path / "m" / "candidates.parquet")
    assert len(candidates) and ((candidates["end_ms"] - candidates["start_ms"]) == 500.0).all()
    assert (candidates["score"] >= setup["card"]["threshold"]).all()


def test_mine_refuses_a_window_of_another_length(setup, cli, tmp_path):
    result = cli(
        "mine", setup["pool"], "--model", setup["model"], "--trust-model", "--window-ms", "1000",
        "--min-score", "0.5", "--out", tmp_path / "m", "-q",
    )  # fmt: skip
    # a 1000 ms window is 100 samples, not the model's 50: refused as before, naming both sides
    assert_one_error_line(result, "100 samples per window", "50 samples per window")


def test_mine_with_explicit_values_uses_them(setup, cli, tmp_path):
    result = cli(
        "mine", setup["pool"], "--model", setup["model"], "--trust-model", "--window-ms", "500", "--hop-ms", "100",
        "--min-score", "0.01", "--out", tmp_path / "m", "-q",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    options = json.loads((tmp_path / "m" / "mine.json").read_text())
    options = options.get("options", options)
    assert (options["window_ms"], options["hop_ms"], options["min_score"]) == (500.0, 100.0, 0.01)
