"""User mistakes with ``hardneg bench``, ``train``, ``predict``, ``demo`` and the command itself: each exits 2
with one ``error:`` line that names what is wrong (the file, the option), and no traceback."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from tests.helpers.cli import assert_refused
from tests.helpers.mistakes import Cases, build_base, copy_dataset

bench_cases = Cases()
train_cases = Cases()
other_cases = Cases()


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return build_base(tmp_path_factory.getbasetemp() / "mistakes-base")


def bench(base, tmp, *options, dataset=None):
    return ["bench", dataset or base.dataset, "--out", tmp / "bench", "--seeds", "1", "-q", *options]


def predictions_folder(base, tmp, frame: pd.DataFrame, split: str = "hold", seed: str = "0"):
    folder = tmp / "mynet" / split / seed
    folder.mkdir(parents=True)
    frame.to_parquet(folder / "predictions.parquet")
    return tmp / "mynet"


def held_out(base) -> pd.DataFrame:
    frame = pd.read_parquet(base.dataset / "splits" / "hold.parquet")
    return frame[frame["subset"] != "train"]


# ---------------------------------------------------------------------------- bench


@bench_cases.add
def unknown_model(base, tmp):
    return bench(base, tmp, "--models", "xgboost"), ["xgboost", "logreg"]


@bench_cases.add
def unknown_feature_set(base, tmp):
    return bench(base, tmp, "--features", "fft"), ["fft", "summary"]


@bench_cases.add
def unknown_saved_split(base, tmp):
    return bench(base, tmp, "--splits", "saved:holdout"), ["holdout"]


@bench_cases.add
def zero_seeds(base, tmp):
    return bench(base, tmp, "--seeds", "0"), ["--seeds"]


@bench_cases.add
def fractional_jobs(base, tmp):
    return bench(base, tmp, "--jobs", "1.5"), ["--jobs"]


@bench_cases.add
def jobs_minus_two(base, tmp):
    return bench(base, tmp, "--jobs", "-2"), ["--jobs"]


@bench_cases.add
def bench_test_size_above_one(base, tmp):
    return bench(base, tmp, "--splits", "random", "--test-size", "2"), ["--test-size"]


@bench_cases.add
def unknown_ci_method(base, tmp):
    return bench(base, tmp, "--ci-method", "bca"), ["--ci-method", "bca"]


@bench_cases.add
def model_spec_file_missing(base, tmp):
    return bench(base, tmp, "--models", "nothere.py:make"), ["nothere.py"]


@bench_cases.add
def model_spec_function_missing(base, tmp):
    (tmp / "mymodel.py").write_text("def build():\n    return None\n")
    return bench(base, tmp, "--models", f"{tmp / 'mymodel.py'}:make"), ["mymodel.py", "make"]


@bench_cases.add
def feature_spec_function_missing(base, tmp):
    (tmp / "feats.py").write_text("def other(windows, index):\n    return windows.mean(axis=2)\n")
    return bench(base, tmp, "--features", f"{tmp / 'feats.py'}:features"), ["feats.py", "features"]


@bench_cases.add
def feature_spec_wrong_shape(base, tmp):
    (tmp / "feats.py").write_text("def features(windows, index):\n    return windows.mean(axis=2)[:3]\n")
    return bench(base, tmp, "--features", f"{tmp / 'feats.py'}:features"), ["feats.py:features"]


@bench_cases.add
def out_from_another_run(base, tmp):
    (tmp / "bench").mkdir()
    (tmp / "bench" / "notes.txt").write_text("mine")
    return bench(base, tmp), ["--out", "--overwrite"]


@bench_cases.add
def bench_one_class_no_negatives(base, tmp):
    return bench(base, tmp, dataset=base.no_negatives), ["only positive"]


@bench_cases.add
def bench_one_class_no_positives(base, tmp):
    return bench(base, tmp, dataset=base.no_positives), ["only negative"]


@bench_cases.add
def bench_dataset_missing_meta(base, tmp):
    spoilt = copy_dataset(base.dataset, tmp / "ds")
    (spoilt / "meta.json").unlink()
    return bench(base, tmp, dataset=spoilt), ["meta.json"]


@bench_cases.add
def bench_windows_npy_corrupt(base, tmp):
    spoilt = copy_dataset(base.dataset, tmp / "ds")
    (spoilt / "windows.npy").write_bytes(b"not numpy")
    return bench(base, tmp, dataset=spoilt), ["windows.npy"]


@bench_cases.add
def predictions_folder_missing(base, tmp):
    return ["bench", base.dataset, "--out", tmp / "b", "--predictions", tmp / "nothere"], ["nothere"]


@bench_cases.add
def predictions_folder_without_layout(base, tmp):
    (tmp / "mynet").mkdir()
    held_out(base).to_parquet(tmp / "mynet" / "predictions.parquet")
    return ["bench", base.dataset, "--out", tmp / "b", "--predictions", tmp / "mynet"], ["mynet"]


@bench_cases.add
def predictions_missing_score_column(base, tmp):
    folder = predictions_folder(base, tmp, held_out(base)[["window_id"]].assign(prob=0.5))
    return ["bench", base.dataset, "--out", tmp / "b", "--predictions", folder], ["predictions.parquet", "score"]


@bench_cases.add
def predictions_of_another_dataset(base, tmp):
    frame = pd.DataFrame({"window_id": range(10_000, 10_020), "score": 0.5})
    folder = predictions_folder(base, tmp, frame)
    return ["bench", base.dataset, "--out", tmp / "b", "--predictions", folder], ["predictions.parquet", "window"]


@bench_cases.add
def predictions_for_an_unknown_split(base, tmp):
    folder = predictions_folder(base, tmp, held_out(base)[["window_id"]].assign(score=0.5), split="holdout")
    return ["bench", base.dataset, "--out", tmp / "b", "--predictions", folder], ["holdout"]


@bench_cases.add
def predictions_seed_not_a_number(base, tmp):
    folder = predictions_folder(base, tmp, held_out(base)[["window_id"]].assign(score=0.5), seed="first")
    return ["bench", base.dataset, "--out", tmp / "b", "--predictions", folder], ["first"]


@bench_cases.add
def predictions_with_models(base, tmp):
    folder = predictions_folder(base, tmp, held_out(base)[["window_id"]].assign(score=0.5))
    options = ["--predictions", folder, "--models", "logreg", "--seeds", "3"]
    return ["bench", base.dataset, "--out", tmp / "b", *options], ["--predictions", "--models and --seeds"]


# ---------------------------------------------------------------------------- train and predict


@train_cases.add
def train_unknown_model(base, tmp):
    return ["train", base.dataset, "--out", tmp / "m", "--model", "svm"], ["--model", "svm"]


@train_cases.add
def train_unknown_features(base, tmp):
    return ["train", base.dataset, "--out", tmp / "m", "--features", "deep"], ["--features", "deep"]


@train_cases.add
def train_unknown_split(base, tmp):
    return ["train", base.dataset, "--out", tmp / "m", "--split", "holdout"], ["holdout"]


@train_cases.add
def train_out_not_empty(base, tmp):
    (tmp / "m").mkdir()
    (tmp / "m" / "x.txt").write_text("x")
    return ["train", base.dataset, "--out", tmp / "m"], ["--out", "--overwrite"]


@train_cases.add
def train_one_class(base, tmp):
    return ["train", base.no_negatives, "--out", tmp / "m"], ["only positive"]


@train_cases.add
def train_without_out(base, tmp):
    return ["train", base.dataset], ["--out"]


@train_cases.add
def predict_without_trust(base, tmp):
    return ["predict", base.model, base.dataset, "--out", tmp / "p.parquet"], ["--trust-model"]


@train_cases.add
def predict_model_folder_missing(base, tmp):
    return ["predict", tmp / "nomodel", base.dataset, "--trust-model"], ["nomodel"]


@train_cases.add
def predict_model_folder_without_card(base, tmp):
    model = tmp / "model"
    shutil.copytree(base.model, model)
    (model / "card.json").unlink()
    return ["predict", model, base.dataset, "--trust-model", "--out", tmp / "p.parquet"], ["card.json"]


@train_cases.add
def predict_model_file_corrupt(base, tmp):
    model = tmp / "model"
    shutil.copytree(base.model, model)
    (model / "model.joblib").write_bytes(b"garbage")
    return ["predict", model, base.dataset, "--trust-model", "--out", tmp / "p.parquet"], ["model.joblib"]


@train_cases.add
def predict_card_not_json(base, tmp):
    model = tmp / "model"
    shutil.copytree(base.model, model)
    (model / "card.json").write_text("{")
    return ["predict", model, base.dataset, "--trust-model", "--out", tmp / "p.parquet"], ["card.json"]


@train_cases.add
def predict_dataset_of_other_channels(base, tmp):
    options = ["--trust-model", "--out", tmp / "p.parquet"]
    return ["predict", base.model, base.two_channels, *options], ["two-channels", "channels"]


@train_cases.add
def predict_dataset_of_other_window_length(base, tmp):
    options = ["--trust-model", "--out", tmp / "p.parquet"]
    return ["predict", base.model, base.other_dataset, *options], ["other", "samples"]


@train_cases.add
def predict_on_a_log_file(base, tmp):
    options = ["--trust-model", "--out", tmp / "p.parquet"]
    return ["predict", base.model, base.logs[0], *options], ["s01.parquet", "not a hardneg dataset"]


@train_cases.add
def predict_model_and_dataset_swapped(base, tmp):
    options = ["--trust-model", "--out", tmp / "p.parquet"]
    return ["predict", base.dataset, base.model, *options], ["dataset"]


# ---------------------------------------------------------------------------- demo and the command


@other_cases.add
def demo_negative_seeds(base, tmp):
    return ["demo", "--seeds", "-1", "--out", tmp / "demo", "-q"], ["--seeds"]


@other_cases.add
def demo_jobs_minus_five(base, tmp):
    return ["demo", "--jobs", "-5", "--out", tmp / "demo", "-q"], ["--jobs"]


@other_cases.add
def demo_out_is_a_file(base, tmp):
    (tmp / "demo").write_text("x")
    return ["demo", "--out", tmp / "demo", "-q"], ["demo"]


@other_cases.add
def demo_out_holds_other_files(base, tmp):
    (tmp / "demo").mkdir()
    (tmp / "demo" / "thesis.tex").write_text("x")
    return ["demo", "--out", tmp / "demo", "-q"], ["--overwrite"]


@other_cases.add
def misspelt_command(base, tmp):
    return ["smaple", "x"], ["smaple"]


@other_cases.add
def unknown_option(base, tmp):
    return ["split", base.dataset, "--stratgy", "group"], ["--stratgy"]


@other_cases.add
def option_without_value(base, tmp):
    return ["split", base.dataset, "--name"], ["--name", "`hardneg split --help`"]


@pytest.mark.parametrize("case_id", bench_cases.ids)
def test_bench_mistake(base, tmp_path, case_id):
    result, needles = bench_cases.run(case_id, base, tmp_path)
    assert_refused(result, *needles)


@pytest.mark.parametrize("case_id", train_cases.ids)
def test_train_predict_mistake(base, tmp_path, case_id):
    result, needles = train_cases.run(case_id, base, tmp_path)
    assert_refused(result, *needles)


@pytest.mark.parametrize("case_id", other_cases.ids)
def test_demo_and_command_mistake(base, tmp_path, case_id):
    result, needles = other_cases.run(case_id, base, tmp_path)
    assert_refused(result, *needles)
