"""split, audit, bench, train and predict from the command line, on the demo dataset."""

import json

import pandas as pd
import pytest

from hardneg.demo._run import run_demo


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return run_demo(tmp_path_factory.mktemp("demo") / "demo", seed=2).dataset.path


def error_lines(result):
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


def test_split_writes_frame_info_and_audit_and_strict_audit_fails_a_random_split(dataset, cli):
    result = cli("split", dataset, "--strategy", "random", "--name", "rand")
    assert result.returncode == 0, result.stderr
    for suffix in (".parquet", ".json", ".audit.json", ".audit.md"):
        assert (dataset / "splits" / f"rand{suffix}").is_file(), suffix
    frame = pd.read_parquet(dataset / "splits" / "rand.parquet")
    assert list(frame.columns) == ["fold", "window_id", "subset", "copies"]
    assert "Audit of split rand" in result.stdout
    strict = cli("audit", dataset, "--split", "rand", "--strict")
    assert strict.returncode == 1
    audit = json.loads((dataset / "splits" / "rand.audit.json").read_text())
    verdicts = {check["check"]: check["verdict"] for check in audit["checks"]}
    assert verdicts["group_overlap"] == "FAIL" and audit["verdict"] == "FAIL"


def test_group_split_passes_group_overlap_and_strict_does_not_fail(dataset, cli):
    assert cli("split", dataset, "--strategy", "group", "--name", "bygroup").returncode == 0
    strict = cli("audit", dataset, "--split", "bygroup", "--strict")
    audit = json.loads((dataset / "splits" / "bygroup.audit.json").read_text())
    verdicts = {check["check"]: check["verdict"] for check in audit["checks"]}
    assert verdicts["group_overlap"] == "PASS"
    assert strict.returncode == (1 if audit["verdict"] == "FAIL" else 0)


def test_oversampling_touches_only_training_positives(dataset, cli):
    result = cli("split", dataset, "--strategy", "group", "--name", "boosted", "--oversample-pos-to", "0.3")
    assert result.returncode == 0, result.stderr
    frame = pd.read_parquet(dataset / "splits" / "boosted.parquet")
    labels = pd.read_parquet(dataset / "index.parquet").set_index("window_id")["label"]
    frame["label"] = frame["window_id"].map(labels)
    assert (frame.loc[frame["subset"] != "train", "copies"] == 1).all()
    assert (frame.loc[frame["label"] == 0, "copies"] == 1).all()
    train = frame[frame["subset"] == "train"]
    share = (train["copies"] * train["label"]).sum() / train["copies"].sum()
    assert share >= 0.3


def test_train_predict_and_audit_the_predictions(dataset, cli, tmp_path):
    cli("split", dataset, "--strategy", "group", "--name", "forpred", "--overwrite")
    trained = cli("train", dataset, "--model", "logreg", "--split", "forpred", "--out", tmp_path / "model")
    assert trained.returncode == 0, trained.stderr
    card = json.loads((tmp_path / "model" / "card.json").read_text())
    assert card["split"] == "forpred" and card["threshold_chosen_on"] == "val"
    predicted = cli("predict", tmp_path / "model", dataset, "--trust-model", "--out", tmp_path / "p.parquet")
    assert predicted.returncode == 0, predicted.stderr
    audited = cli("audit", dataset, "--split", "forpred", "--predictions", tmp_path / "p.parquet")
    assert audited.returncode == 0, audited.stderr
    audit = json.loads((dataset / "splits" / "forpred.audit.json").read_text())
    verdicts = {check["check"]: check["verdict"] for check in audit["checks"]}
    # the demo's group holdout tests two of its six shooters, so the spread across test groups is measured too
    frame = pd.read_parquet(dataset / "splits" / "forpred.parquet")
    index = pd.read_parquet(dataset / "index.parquet")
    assert index.loc[frame.loc[frame["subset"] == "test", "window_id"], "group"].nunique() >= 2
    for check in ("prediction_clustering", "roc_below_chance", "calibration", "val_test_gap", "per_group_spread"):
        assert verdicts[check] != "SKIP", check


def test_bench_marks_the_random_split_untrustworthy(dataset, cli, tmp_path):
    out = tmp_path / "bench"
    result = cli(
        "bench", dataset, "--models", "logreg", "--features", "summary", "--splits", "random,group",
        "--seeds", "2", "--out", out,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "FAIL ⚠" in result.stdout
    results = pd.read_parquet(out / "results.parquet")
    assert set(results["model"]) == {"logreg", "prior", "stratified", "majority"}
    report = (out / "report.md").read_text()
    assert "Untrustworthy splits: `random`" in report
    html = (out / "report.html").read_text()
    assert "data:image/png;base64," in html and "http://" not in html and "https://" not in html


@pytest.mark.parametrize(
    "args, needle",
    [
        (("split", "{d}", "--strategy", "bogus"), "bogus"),
        (("split", "{d}", "--strategy", "group", "--test-groups", "nobody"), "nobody"),
        (("audit", "{d}", "--split", "missing"), "missing"),
        (("bench", "{d}", "--models", "bogus", "--out", "{t}/b"), "--models"),
        (("train", "{d}", "--model", "bogus", "--out", "{t}/m"), "--model"),
        (("predict", "{t}", "{d}"), "not a hardneg model"),
    ],
)
def test_bad_input_is_one_error_line_and_exit_2(dataset, cli, tmp_path, args, needle):
    result = cli(*(str(arg).format(d=dataset, t=tmp_path) for arg in args))
    assert result.returncode == 2, result.stdout + result.stderr
    lines = error_lines(result)
    assert len(lines) == 1 and needle in lines[0], result.stderr
    assert "Traceback" not in result.stderr
