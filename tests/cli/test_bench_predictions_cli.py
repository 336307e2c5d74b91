"""``hardneg bench --predictions``: the folder layout in --help, a run, and one error line for a bad file."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hardneg import Dataset, InputOptions, build_dataset
from hardneg.demo import generate_world
from hardneg.split import load_split


def test_predictions_from_a_folder_on_the_command_line(tmp_path, cli):
    help_text = "".join(cli("bench", "--help").stdout.replace("│", "").split())
    assert "FOLDER/<split>/<seed>/predictions.parquet" in help_text and "--ci-method" in help_text

    world = generate_world(tmp_path / "world", n_sessions=6, session_minutes=1.0, n_no_shot_sessions=0)
    build_dataset(world.logs, tmp_path / "shots", inputs=InputOptions(events=world.events, groups=world.groups))
    made = cli("split", tmp_path / "shots", "--strategy", "group", "--name", "holdout", "-q")
    assert made.returncode == 0, made.stderr
    dataset = Dataset.load(tmp_path / "shots")
    frame = load_split(dataset.path, "holdout")[0]
    held = frame[frame["subset"] != "train"]
    rng = np.random.default_rng(0)
    labels = dataset.index["label"].to_numpy()[held["window_id"]]
    for seed in (0, 1):
        folder = tmp_path / "preds" / "mynet" / "holdout" / str(seed)
        folder.mkdir(parents=True)
        score = np.clip(0.6 * labels + 0.5 * rng.random(len(held)), 0, 1)
        pd.DataFrame({"window_id": held["window_id"], "score": score}).to_parquet(folder / "predictions.parquet")

    result = cli("bench", tmp_path / "shots", "--predictions", tmp_path / "preds" / "mynet", "--out", tmp_path / "b")
    assert result.returncode == 0, result.stderr
    printed = " ".join(result.stdout.split())
    assert "mynet" in printed and "(best baseline)" in printed and "new groups drawn like the" in printed
    assert (tmp_path / "b" / "summary.parquet").is_file() and (tmp_path / "b" / "report.html").is_file()

    # the same layout with a score that is not a probability, in every file: exit 2, one line naming the file
    for seed in (0, 1):
        path = tmp_path / "preds" / "mynet" / "holdout" / str(seed) / "predictions.parquet"
        table = pd.read_parquet(path)
        table.assign(score=table["score"] * 5 - 2).to_parquet(path)
    bad = cli("bench", tmp_path / "shots", "--predictions", tmp_path / "preds" / "mynet", "--out", tmp_path / "c")
    assert bad.returncode == 2
    lines = bad.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --predictions")
    assert "holdout/0/predictions.parquet" in lines[0] and "column score" in lines[0]


def test_the_readme_walkthrough_with_two_models(tmp_path, cli):
    """README, section 5: split with 5 group folds, predictions of two models with a fold column, one bench."""
    world = generate_world(tmp_path / "world", n_sessions=12, session_minutes=0.75, n_no_shot_sessions=0)
    build_dataset(world.logs, tmp_path / "shots", inputs=InputOptions(events=world.events, groups=world.groups))
    made = cli("split", tmp_path / "shots", "--strategy", "group", "--n-splits", "5", "--name", "groups5", "-q")
    assert made.returncode == 0, made.stderr
    dataset = Dataset.load(tmp_path / "shots")
    frame = load_split(dataset.path, "groups5")[0]
    held = frame[frame["subset"] != "train"]
    labels = dataset.index["label"].to_numpy()[held["window_id"]]
    for name, strength in (("mynet", 0.7), ("yolo", 0.3)):
        for seed in (0, 1, 2):
            rng = np.random.default_rng(seed)
            folder = tmp_path / "runs" / name / "groups5" / str(seed)
            folder.mkdir(parents=True)
            score = np.clip(strength * labels + (1 - strength) * rng.random(len(held)), 0, 1)
            table = pd.DataFrame({"window_id": held["window_id"], "score": score, "fold": held["fold"]})
            table.to_parquet(folder / "predictions.parquet")
    runs = f"{tmp_path / 'runs' / 'mynet'},{tmp_path / 'runs' / 'yolo'}"
    result = cli("bench", tmp_path / "shots", "--predictions", runs, "--out", tmp_path / "bench-mine")
    assert result.returncode == 0, result.stderr
    summary = pd.read_parquet(tmp_path / "bench-mine" / "summary.parquet")
    ap = summary.query("metric == 'average_precision'").set_index("model")["mean"]
    assert ap["mynet"] > ap["yolo"] > ap["prior"]
    assert (summary["n_seeds"] == 3).all() and (summary["split"] == "groups5").all()
