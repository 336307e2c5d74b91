"""Benchmarking the user's own models (``file.py:make``) and feature functions (``file.py:feats``), with baselines."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

from hardneg import InputOptions, build_dataset
from hardneg.bench import run_bench
from hardneg.demo import generate_world
from hardneg.errors import InputError
from hardneg.models import BASELINES

PIPELINE = """
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler


def make(seed):
    return Pipeline([("scale", StandardScaler()), ("logreg", LogisticRegression(random_state=seed))])
"""

WINDOWS = """
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

SEEN = []


def _flatten(windows):
    SEEN.append(windows.shape)
    assert windows.ndim == 3 and windows.dtype.name == "float32", (windows.shape, windows.dtype)
    return windows.reshape(len(windows), -1)


def make():
    return make_pipeline(FunctionTransformer(_flatten), StandardScaler(), LogisticRegression(max_iter=500))


make.input = "windows"
"""

FEATURES = """
import pandas as pd


def feats(windows, index):
    return pd.DataFrame({"peak": windows.max(axis=(1, 2)), "start": index["start_ms"].to_numpy() % 1000.0})
"""

BROKEN = """
class NoScores:
    def fit(self, x, y):
        return self


def no_scores():
    return NoScores()


class FailsToFit:
    def fit(self, x, y):
        raise ValueError("bad shapes")

    def predict_proba(self, x):
        return None


def fails_to_fit():
    return FailsToFit()


def raises(seed):
    raise RuntimeError("no GPU here")


def nan_feats(windows, index):
    import numpy as np
    out = np.zeros((len(windows), 2))
    out[3, 1] = np.nan
    return out


def short_feats(windows, index):
    import numpy as np
    return np.zeros((len(windows) - 1, 2))
"""


@pytest.fixture(scope="module")
def dataset_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("world")
    world = generate_world(root / "world", n_sessions=4, session_minutes=1.0, n_no_shot_sessions=0)
    return build_dataset(world.logs, root / "shots", inputs=InputOptions(events=world.events, groups=world.groups)).path


@pytest.fixture(scope="module")
def user_files(tmp_path_factory):
    root = tmp_path_factory.mktemp("user")
    for name, text in {"mymodel": PIPELINE, "flat": WINDOWS, "myfeats": FEATURES, "broken": BROKEN}.items():
        (root / f"{name}.py").write_text(textwrap.dedent(text))
    return root


@pytest.fixture(scope="module")
def bench(dataset_dir, user_files, tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "out"
    models = ["logreg", f"{user_files}/mymodel.py:make", f"{user_files}/flat.py:make"]
    return run_bench(dataset_dir, out, models=models, features=["summary"], splits=["random"], seeds=2)


def test_user_models_are_benchmarked_with_the_baselines(bench):
    results = bench.results
    assert set(results["model"]) == {"logreg", "mymodel.make", "flat.make", *BASELINES}
    # The windows model runs once per split and seed, under the feature name "windows".
    assert set(results.loc[results["model"] == "flat.make", "features"]) == {"windows"}
    assert set(results.loc[results["model"] == "mymodel.make", "features"]) == {"summary"}
    for model in ("mymodel.make", "flat.make"):
        rows = results[(results["model"] == model) & (results["subset"] == "test")]
        assert set(rows["seed"]) == {0, 1}
        auc = rows.loc[rows["metric"] == "roc_auc", "value"]
        assert auc.notna().all() and auc.mean() > 0.6, (model, auc.tolist())
    report = (bench.out / "report.md").read_text()
    assert "mymodel.make" in report and "flat.make" in report


def test_a_user_model_scores_the_same_windows_as_a_builtin(bench):
    # mymodel.make is logreg without class weights: it sees the same splits and scores the same windows.
    scores = bench.scores
    user = scores[scores["model"] == "mymodel.make"].sort_values(["seed", "fold", "window_id"])
    builtin = scores[scores["model"] == "logreg"].sort_values(["seed", "fold", "window_id"])
    assert user["window_id"].tolist() == builtin["window_id"].tolist()
    assert user["score"].between(0, 1).all()


def test_predictions_parquet_has_one_row_per_out_of_sample_window(bench):
    predictions = pd.read_parquet(bench.out / "predictions.parquet")
    assert list(predictions.columns) == ["model", "features", "split", "seed", "fold", "window_id", "score"]
    keys = ["model", "features", "split", "seed", "fold", "window_id"]
    assert not predictions.duplicated(keys).any()
    expected = bench.scores[bench.scores["subset"].isin(["val", "test"])]
    assert len(predictions) == len(expected)
    assert set(predictions["model"]) == {"logreg", "mymodel.make", "flat.make", *BASELINES}
    pd.testing.assert_frame_equal(predictions, bench.scores[predictions.columns.tolist()])


def test_a_user_feature_function_is_benchmarked_with_a_builtin_model(dataset_dir, user_files, tmp_path):
    result = run_bench(
        dataset_dir, tmp_path / "out", models=["logreg"], features=["summary", f"{user_files}/myfeats.py:feats"],
        splits=["random"], seeds=2,
    )  # fmt: skip
    results = result.results
    assert set(results["features"]) == {"summary", "myfeats.feats"}
    rows = results[(results["model"] == "logreg") & (results["features"] == "myfeats.feats")]
    assert set(rows["seed"]) == {0, 1} and rows["value"].notna().any()


def test_a_factory_without_a_seed_argument_gets_random_state_set(user_files):
    from hardneg.bench._user import make_user_estimator

    model = make_user_estimator(f"{user_files}/flat.py:make", 7)
    assert model.get_params()["logisticregression__random_state"] == 7


@pytest.mark.parametrize(
    ("parameter", "spec", "needle"),
    [
        ("models", "missing.py:make", "file missing.py not found"),
        ("models", "{root}/mymodel.py:nothing", "has no attribute 'nothing'"),
        ("models", "{root}/broken.py:raises", "raises(0) raised RuntimeError: no GPU here"),
        ("models", "{root}/broken.py:no_scores", "predict_proba or decision_function"),
        ("models", "{root}/broken.py:fails_to_fit", "fit raised ValueError: bad shapes"),
        ("features", "{root}/broken.py:nan_feats", "row 3 holds a NaN"),
        ("features", "{root}/broken.py:short_feats", "one row per window"),
    ],
)
def test_bad_user_specs_are_one_input_error_naming_the_spec(dataset_dir, user_files, tmp_path, parameter, spec, needle):
    spec = spec.format(root=user_files)
    options = {"models": ["logreg"], "features": ["summary"], parameter: [spec]}
    with pytest.raises(InputError) as caught:
        run_bench(dataset_dir, tmp_path / "out", splits=["random"], seeds=1, **options)
    message = str(caught.value)
    assert "\n" not in message and spec in message and needle in message, message
    assert caught.value.parameter == parameter


@pytest.mark.parametrize(
    ("option", "spec"),
    [
        ("--models", "missing.py:make"),
        ("--models", "{root}/broken.py:raises"),
        ("--models", "{root}/broken.py:no_scores"),
        ("--features", "{root}/broken.py:nan_feats"),
    ],
)
def test_bad_user_specs_exit_2_with_one_error_line(dataset_dir, user_files, tmp_path, option, spec):
    spec = spec.format(root=user_files)
    args = ["bench", dataset_dir, "--out", tmp_path / "out", "--splits", "random", "--seeds", "1", "-q"]
    args += ["--models", "logreg", "--features", "summary"] if option == "--features" else ["--features", "summary"]
    proc = subprocess.run(
        [sys.executable, "-m", "hardneg", *map(str, args), option, spec],
        check=False, capture_output=True, text=True, timeout=120, env=dict(os.environ),
    )  # fmt: skip
    output = proc.stdout + proc.stderr
    assert proc.returncode == 2, output
    assert "Traceback" not in output, output
    lines = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and spec in lines[0], proc.stderr


def test_decision_function_scores_become_probabilities():
    from hardneg.bench._user import positive_scores

    class Margin:
        def decision_function(self, x):
            return np.asarray(x)[:, 0]

    scores = positive_scores(Margin(), np.array([[-50.0], [0.0], [2.0]]))
    assert scores[0] < 1e-6 and scores[1] == 0.5 and 0.5 < scores[2] < 1


def test_user_models_fit_in_worker_processes_as_in_one(dataset_dir, user_files, tmp_path, bench):
    models = ["logreg", f"{user_files}/mymodel.py:make", f"{user_files}/flat.py:make"]
    parallel = run_bench(
        dataset_dir, tmp_path / "out", models=models, features=["summary"], splits=["random"], seeds=2, jobs=2
    )
    pd.testing.assert_frame_equal(parallel.results, bench.results)
    assert (parallel.out / "predictions.parquet").read_bytes() == (bench.out / "predictions.parquet").read_bytes()
