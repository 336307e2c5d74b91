"""``hardneg bench --predictions DIR``: predictions made elsewhere, evaluated with baselines, intervals and a report."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score

from hardneg import Dataset, InputOptions, build_dataset
from hardneg.bench import run_bench
from hardneg.demo import generate_world
from hardneg.errors import InputError
from hardneg.split import load_split, make_split, save_split


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("external")
    world = generate_world(root / "world", n_sessions=8, session_minutes=1.0, n_no_shot_sessions=0)
    built = build_dataset(world.logs, root / "shots", inputs=InputOptions(events=world.events, groups=world.groups))
    frame, info = make_split(built, "group", seed=0, n_splits=3)
    save_split(built.path, "groups3", frame, info)
    return Dataset.load(built.path)


def _predict(dataset: Dataset, folder, split="groups3", seeds=(0, 1), with_fold=True):
    """A model trained elsewhere: a logistic regression on every 10th sample, per fold, one folder per seed."""
    x = np.asarray(dataset.windows).reshape(len(dataset), -1)[:, ::10]
    y = dataset.index["label"].to_numpy()
    frame = load_split(dataset.path, split)[0]
    for seed in seeds:
        parts = []
        for fold, rows in frame.groupby("fold"):
            train = rows.loc[rows["subset"] == "train", "window_id"].to_numpy()
            # with folds: validation and test windows; out-of-fold (no fold column): each window once, where tested
            keep = rows["subset"] != "train" if with_fold else rows["subset"] == "test"
            held = rows.loc[keep, "window_id"].to_numpy()
            model = LogisticRegression(C=0.05 * (seed + 1), max_iter=300).fit(x[train], y[train])
            parts.append(pd.DataFrame({"window_id": held, "score": model.predict_proba(x[held])[:, 1], "fold": fold}))
        table = pd.concat(parts, ignore_index=True)
        if not with_fold:
            table = table.drop(columns="fold")
        (folder / split / str(seed)).mkdir(parents=True, exist_ok=True)
        table.to_parquet(folder / split / str(seed) / "predictions.parquet", index=False)
    return folder


def test_predictions_are_evaluated_like_a_fitted_model(dataset, tmp_path):
    folder = _predict(dataset, tmp_path / "mycnn")
    result = run_bench(dataset.path, tmp_path / "bench", predictions=[folder])
    assert sorted(result.results["model"].unique()) == ["majority", "mycnn", "prior", "stratified"]
    assert set(result.results["features"]) == {"predictions"}
    # every fold's test AP is scikit-learn's on the file's scores
    labels = dataset.index["label"].to_numpy()
    split = load_split(dataset.path, "groups3")[0]
    for seed in (0, 1):
        table = pd.read_parquet(folder / "groups3" / str(seed) / "predictions.parquet")
        for fold in range(3):
            test = split.query("fold == @fold and subset == 'test'")["window_id"]
            rows = table[(table["fold"] == fold) & table["window_id"].isin(test)]
            expected = average_precision_score(labels[rows["window_id"]], rows["score"])
            found = result.results.query(
                "model == 'mycnn' and seed == @seed and fold == @fold and subset == 'test' and "
                "metric == 'average_precision'"
            )["value"]
            assert found.item() == pytest.approx(expected, abs=1e-12)
    summary = pd.read_parquet(tmp_path / "bench" / "summary.parquet")
    row = summary.query("model == 'mycnn' and metric == 'average_precision'").iloc[0]
    assert row["ci_method"] == "cluster" and row["n_seeds"] == 2 and row["n_test_groups"] == dataset.index["group"].nunique()
    assert row["ci_low"] < row["mean"] < row["ci_high"]
    report = (tmp_path / "bench" / "report.md").read_text()
    assert "mycnn" in report and "predictions" in report and "prior (baseline)" in report
    # the audit of the split also ran the checks that read predictions
    checks = {check["check"] for check in result.audits["groups3"]["checks"]}
    assert "calibration" in checks and "roc_below_chance" in checks


def test_out_of_fold_predictions_without_a_fold_column(dataset, tmp_path):
    folder = _predict(dataset, tmp_path / "oof", seeds=(3,), with_fold=False)
    result = run_bench(dataset.path, tmp_path / "bench", predictions=[folder])
    assert sorted(result.results.query("model == 'oof'")["seed"].unique()) == [3]
    test = result.scores.query("model == 'oof' and subset == 'test'")
    assert len(test) == len(dataset) and test["window_id"].is_unique  # every window tested once
    assert any("threshold 0.5" in note for note in result.meta["notes"])  # no validation predictions


def test_one_broken_file_is_left_out_and_the_rest_evaluated(dataset, tmp_path):
    folder = _predict(dataset, tmp_path / "model")
    (folder / "groups3" / "1" / "predictions.parquet").write_bytes(b"not parquet")
    result = run_bench(dataset.path, tmp_path / "bench", predictions=[folder])
    assert sorted(result.results.query("model == 'model'")["seed"].unique()) == [0]
    assert any("left out" in note and "groups3/1/predictions.parquet" in note for note in result.meta["notes"])
    assert result.meta["resumed_parts"] == 0  # a fresh run: nothing resumed, whatever was left out


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.assign(score=t["score"] * 10), r"row \d+, column score: .* is not a probability in \[0, 1\]"),
        (lambda t: t.assign(window_id=t["window_id"] + 10**6), r"row 0, column window_id: .* is not a window"),
        (lambda t: t.drop(columns="score"), r"column 'score' missing"),
    ],
)
def test_every_file_failing_for_one_reason_names_the_file_row_and_column(dataset, tmp_path, change, message):
    folder = _predict(dataset, tmp_path / "bad", seeds=(0,))
    path = folder / "groups3" / "0" / "predictions.parquet"
    change(pd.read_parquet(path)).to_parquet(path, index=False)
    with pytest.raises(InputError, match=message) as raised:
        run_bench(dataset.path, tmp_path / "bench", predictions=[folder])
    assert str(path) in str(raised.value) and raised.value.parameter == "predictions"


def test_layout_mistakes_are_named(dataset, tmp_path):
    with pytest.raises(InputError, match="not a folder"):
        run_bench(dataset.path, tmp_path / "bench", predictions=[tmp_path / "missing"])
    (tmp_path / "m" / "groups3" / "first").mkdir(parents=True)
    with pytest.raises(InputError, match="a seed folder must be a non-negative integer"):
        run_bench(dataset.path, tmp_path / "bench", predictions=[tmp_path / "m"])
    a = _predict(dataset, tmp_path / "a", seeds=(0, 1))
    b = _predict(dataset, tmp_path / "b", seeds=(0,))
    with pytest.raises(InputError, match="every model needs the same seeds"):
        run_bench(dataset.path, tmp_path / "bench", predictions=[a, b])


def test_two_models_are_compared_on_the_same_draws(dataset, tmp_path):
    a = _predict(dataset, tmp_path / "cnn", seeds=(0, 1))
    b = _predict(dataset, tmp_path / "yolo", seeds=(0, 1))
    result = run_bench(dataset.path, tmp_path / "bench", predictions=[a, b])
    summary = result.summary.query("metric == 'roc_auc'").set_index("model")
    # the same predictions under two names: the same numbers, drawn on the same groups
    assert summary.loc["cnn", ["mean", "ci_low", "ci_high"]].tolist() == summary.loc["yolo", ["mean", "ci_low", "ci_high"]].tolist()
