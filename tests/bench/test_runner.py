"""The benchmark runner: results against a hand fit, baselines, resume, parallel equals serial, train/predict."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from hardneg.bench._runner import RESULT_COLUMNS, run_bench
from hardneg.audit import AuditContext, read_predictions
from hardneg.bench._train import predict, train_model
from hardneg.dataset import Dataset
from hardneg.demo._run import run_demo
from hardneg.errors import InputError
from hardneg.features import compute_features
from hardneg.models import BASELINES, make_model
from hardneg.split import make_split


@pytest.fixture(scope="module")
def demo_dataset(tmp_path_factory):
    return run_demo(tmp_path_factory.mktemp("demo") / "demo", seed=1).dataset.path


@pytest.fixture(scope="module")
def bench(demo_dataset, tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "out"
    return run_bench(demo_dataset, out, models=["logreg"], features=["summary"], splits=["random", "group"], seeds=2)


def test_results_are_long_format_with_baselines(bench):
    results = bench.results
    assert list(results.columns) == RESULT_COLUMNS
    assert set(results["model"]) == {"logreg", *BASELINES}
    assert set(results["split"]) == {"random", "group"}
    assert set(results["seed"]) == {0, 1}
    assert set(results["subset"]) == {"val", "test"}
    assert {"average_precision", "roc_auc", "f1", "ece", "brier", "f1_at_val_threshold"} <= set(results["metric"])
    for name in ("results.parquet", "scores.parquet", "report.md", "report.html", "bench.json"):
        assert (bench.out / name).is_file(), name


def test_a_result_equals_a_fit_by_hand(bench, demo_dataset):
    dataset = Dataset.load(demo_dataset)
    frame, _ = make_split(dataset, "group", seed=1)
    features, _ = compute_features(dataset.windows, "summary", sample_rate_hz=dataset.meta["sample_rate_hz"])
    labels = dataset.index["label"].to_numpy()
    train = frame[frame["subset"] == "train"]
    train_ids = np.repeat(train["window_id"].to_numpy(), train["copies"].to_numpy())
    test_ids = frame.loc[frame["subset"] == "test", "window_id"].to_numpy()
    model = make_model("logreg", 1).fit(features[train_ids], labels[train_ids])
    score = model.predict_proba(features[test_ids])[:, 1]
    got = bench.results.query("model == 'logreg' and split == 'group' and seed == 1 and subset == 'test'")
    got = got.set_index("metric")["value"]
    assert got["roc_auc"] == pytest.approx(roc_auc_score(labels[test_ids], score), abs=1e-12)
    assert got["average_precision"] == pytest.approx(average_precision_score(labels[test_ids], score), abs=1e-12)
    scores = bench.scores.query("model == 'logreg' and split == 'group' and seed == 1 and subset == 'test'")
    np.testing.assert_allclose(scores.sort_values("window_id")["score"], score[np.argsort(test_ids)], atol=1e-12)


def test_prior_baseline_scores_chance(bench):
    prior = bench.results.query("model == 'prior' and subset == 'test' and metric == 'roc_auc'")
    assert np.allclose(prior["value"], 0.5)


def test_rerun_resumes_everything_and_a_lost_part_is_redone(bench, demo_dataset):
    before = (bench.out / "results.parquet").read_bytes()
    again = run_bench(
        demo_dataset, bench.out, models=["logreg"], features=["summary"], splits=["random", "group"], seeds=2
    )
    assert again.meta["resumed_parts"] == again.meta["combinations"]
    parts = sorted((bench.out / "parts").glob("*[0-9a-f].parquet"))
    parts[0].unlink()
    third = run_bench(
        demo_dataset, bench.out, models=["logreg"], features=["summary"], splits=["random", "group"], seeds=2
    )
    assert third.meta["resumed_parts"] == third.meta["combinations"] - 1
    assert (bench.out / "results.parquet").read_bytes() == before


def test_other_parameters_in_the_same_folder_are_refused(bench, demo_dataset):
    with pytest.raises(InputError, match="other parameters"):
        run_bench(demo_dataset, bench.out, models=["logreg"], features=["summary"], splits=["random"], seeds=2)


def test_two_jobs_give_the_same_results_as_one(bench, demo_dataset, tmp_path):
    parallel = run_bench(
        demo_dataset,
        tmp_path / "p",
        models=["logreg"],
        features=["summary"],
        splits=["random", "group"],
        seeds=2,
        jobs=2,
    )
    pd.testing.assert_frame_equal(parallel.results, bench.results)


def test_unknown_split_names_are_refused_with_the_choices(demo_dataset, tmp_path):
    with pytest.raises(InputError, match="neither a strategy"):
        run_bench(demo_dataset, tmp_path / "x", models=["logreg"], splits=["bogus"], seeds=1)


def test_train_saves_a_card_and_predict_scores_every_window(demo_dataset, tmp_path):
    trained = train_model(demo_dataset, tmp_path / "model", model="logreg", features="summary", seed=0)
    card = json.loads((tmp_path / "model" / "card.json").read_text())
    assert card["model"] == "logreg" and card["features"] == "summary"
    assert 0.0 <= card["threshold"] <= 1.0
    assert len(card["dataset_sha256"]) == 64
    assert {"scikit-learn", "numpy"} <= set(card["versions"])
    predictions = predict(trained.path, demo_dataset, trust_model=True)
    dataset = Dataset.load(demo_dataset)
    assert predictions["window_id"].tolist() == list(range(len(dataset)))
    assert predictions["score"].between(0, 1).all()
    path = tmp_path / "predictions.parquet"
    predictions.to_parquet(path)
    frame, info = make_split(dataset, "group", seed=0)
    assert len(AuditContext(dataset, frame, info, predictions=read_predictions(path)).scored) > 0
    predictions.assign(score=predictions["score"] + 2).to_parquet(path)
    with pytest.raises(InputError):
        AuditContext(dataset, frame, info, predictions=read_predictions(path))
