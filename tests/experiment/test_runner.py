"""Running an experiment on the synthetic world: the grid, resuming after a kill, failed runs, a command arm, CRN."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hardneg.dataset import Dataset
from hardneg.errors import InputError
from hardneg.experiment import RunSpec, run_experiment
from tests.experiment.conftest import grid_yaml, write_experiment

ISSUE_COMPARISON_COLUMNS = [
    "arm", "baseline", "eval_set", "metric", "n_pairs", "mean_delta", "ci_low", "ci_high", "wilcoxon_p", "p_holm",
    "label", "seeds_needed",
]  # fmt: skip
ARMS = [f"{n}+{p}" for n in ("none", "mined_all", "t50", "t90") for p in ("all", "half")]


def _metrics_files(out: Path) -> dict[Path, tuple[bytes, int]]:
    return {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in sorted(out.glob("runs/*/*/metrics.json"))}


# ------------------------------------------------------------------------------------ (a) the grid


def test_grid_writes_every_run_folder_and_table(grid):
    out = grid.out
    assert grid.runs["status"].tolist() == ["done"] * 40
    assert [arm.name for arm in grid.experiment.arms] == ARMS
    for arm in ARMS:
        for seed in range(5):
            run = out / "runs" / arm / str(seed)
            for name in ("config.json", "iid.predictions.parquet", "metrics.json", "log.txt"):
                assert (run / name).is_file(), run / name
            assert not (run / "error.txt").exists()
            config = json.loads((run / "config.json").read_text())
            assert (config["arm"], config["seed"]) == (arm, seed)
            metrics = json.loads((run / "metrics.json").read_text())
            assert set(metrics["eval"]["iid"]) >= {"f1", "precision", "recall", "roc_auc", "windows"}
    results = pd.read_parquet(out / "results.parquet")
    assert list(results.columns) == ["arm", "negatives", "positives", "seed", "eval_set", "metric", "value"]
    assert len(results) == 40 * len(grid.experiment.eval_sets[0].metrics)
    comparisons = pd.read_parquet(out / "comparisons.parquet")
    assert set(ISSUE_COMPARISON_COLUMNS) <= set(comparisons.columns)
    # every non-baseline arm against the none arm of its own positive subset
    pairs = comparisons[["arm", "baseline"]].drop_duplicates().values.tolist()
    assert pairs == [[arm, "none+" + arm.split("+")[1]] for arm in ARMS[2:]]
    ranked = comparisons["metric"].isin(["f1", "roc_auc", "recall"])
    assert (comparisons.loc[ranked, "n_pairs"] == 5).all()
    criteria = pd.read_parquet(out / "criteria.parquet")
    assert len(criteria) == 8 * 2 and set(criteria["arm"]) == set(ARMS)
    for name in ("summary.parquet", "factors.parquet", "runs.parquet", "report.md", "report.html"):
        assert (out / name).is_file(), name
    report = (out / "report.md").read_text()
    for arm in ARMS:
        assert f"{arm}" in report


def test_grid_comparisons_carry_labels_and_seed_advice(grid):
    comparisons = grid.tables["comparisons"]
    assert set(comparisons["label"]) <= {"significant", "directional", "no effect"}
    assert len(set(comparisons["label"])) >= 2  # the grid holds both kinds of outcome
    assert (comparisons["p_holm"] >= comparisons["wilcoxon_p"] - 1e-15).all()
    assert (comparisons["p_holm"] <= 1.0).all()
    not_significant = comparisons["label"] != "significant"
    assert comparisons.loc[~not_significant, "seeds_needed"].isna().all()
    # with 5 paired seeds the two-sided Wilcoxon p can never fall below 0.0625: nothing is significant here
    assert not (~not_significant).any() and comparisons["wilcoxon_p"].min() >= 0.0625 - 1e-12
    defined = not_significant & comparisons["mean_delta"].abs().gt(0)
    assert comparisons.loc[defined, "seeds_needed"].notna().any()
    assert (comparisons.loc[defined & comparisons["seeds_needed"].notna(), "seeds_needed"] >= 2).all()
    assert not comparisons["reachable"].any()
    report = (grid.out / "report.md").read_text()
    assert "seeds" in report and "directional" in report


def test_grid_runs_share_evaluation_windows_and_positive_subsets(grid, world):
    """Common random numbers: at seed k every arm tests and validates on the same windows, and the 'half'
    arms keep the same positives whatever their negative set."""
    from hardneg.experiment._run import split_frame, training_windows

    experiment = grid.experiment
    base = Dataset.load(experiment.dataset)
    keys = base.index["recording"].astype(str) + "@" + base.index["start_sample"].astype(str)
    for seed in range(5):
        tested = {
            arm: tuple(pd.read_parquet(grid.out / "runs" / arm / str(seed) / "iid.predictions.parquet")["window_id"])
            for arm in ARMS
        }
        assert len(set(tested.values())) == 1
        frame = split_frame(base, experiment.split_set, seed)
        assert set(tested["none+all"]) == set(frame.loc[frame["subset"] == "test", "window_id"])
        chosen, validation = {}, {}
        for arm in experiment.arms:
            config = json.loads((grid.out / "runs" / arm.name / str(seed) / "config.json").read_text())
            dataset = Dataset.load(config["train_dataset"])
            spec = RunSpec(arm=arm, seed=seed, run_dir="", base_dataset=str(experiment.dataset),
                           arm_dataset=config["train_dataset"], model="logreg", command=None, features="summary",
                           eval_sets=experiment.eval_sets, held_out=(), workdir="")  # fmt: skip
            train, val = training_windows(spec, base, dataset, frame)
            index = dataset.index.set_index("window_id").loc[train]
            positives = index[index["label"] == 1]
            chosen[arm.name] = set(positives["recording"].astype(str) + "@" + positives["start_sample"].astype(str))
            validation[arm.name] = tuple(val)
            log = (grid.out / "runs" / arm.name / str(seed) / "log.txt").read_text()
            assert f"({len(positives)} positive), {len(val)} validation windows" in log
        assert len(set(validation.values())) == 1
        train_positive = frame.loc[frame["subset"] == "train", "window_id"].to_numpy()
        train_positive = train_positive[base.index["label"].to_numpy()[train_positive] == 1]
        assert chosen["none+all"] == set(keys[train_positive])
        for negatives in ("none", "mined_all", "t50", "t90"):
            assert chosen[f"{negatives}+all"] == chosen["none+all"]
            assert chosen[f"{negatives}+half"] == chosen["none+half"]
        assert chosen["none+half"] < chosen["none+all"]
        assert len(chosen["none+half"]) == math.ceil(0.5 * len(chosen["none+all"]))
    # another seed keeps another half
    assert len({tuple(sorted(_half_positives(grid, seed))) for seed in range(5)}) > 1


def _half_positives(grid, seed):
    from hardneg.experiment._run import split_frame, training_windows

    experiment = grid.experiment
    base = Dataset.load(experiment.dataset)
    arm = experiment.arm("none+half")
    spec = RunSpec(arm=arm, seed=seed, run_dir="", base_dataset=str(experiment.dataset),
                   arm_dataset=str(experiment.dataset), model="logreg", command=None, features="summary",
                   eval_sets=experiment.eval_sets, held_out=(), workdir="")  # fmt: skip
    frame = split_frame(base, experiment.split_set, seed)
    train, _ = training_windows(spec, base, base, frame)
    return train[base.index["label"].to_numpy()[train] == 1].tolist()


def test_tiers_add_fewer_mined_windows_than_all(grid, world):
    counts = {}
    for negatives in ("none", "mined_all", "t50", "t90"):
        config = json.loads((grid.out / "runs" / f"{negatives}+all" / "0" / "config.json").read_text())
        index = Dataset.load(config["train_dataset"]).index
        counts[negatives] = int((index["kind"] == "hard").sum()) if "kind" in index else 0
    mined = pd.read_parquet(world.mined / "candidates.parquet")["score"]
    assert counts["none"] == 0
    assert counts["mined_all"] > counts["t50"] > counts["t90"] > 0
    assert counts["t90"] <= int((mined >= world.tiers[1]).sum())


# ------------------------------------------------------------------------------------ (b) resume after a kill


def test_resume_after_a_kill_skips_finished_runs_and_equals_a_fresh_run(grid, world, tmp_path):
    path = write_experiment(world.root, grid_yaml(world.tiers), "resumed.yaml")
    out = tmp_path / "out"
    code = f"from hardneg.experiment import run_experiment; run_experiment({str(path)!r}, {str(out)!r}, jobs=1)"
    process = subprocess.Popen([sys.executable, "-c", code], start_new_session=True, env=dict(os.environ),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    deadline = time.monotonic() + 120
    try:
        while len(list(out.glob("runs/*/*/metrics.json"))) < 4:
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline, "no run finished in 120 s"
            time.sleep(0.02)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    before = _metrics_files(out)
    assert 4 <= len(before) < 40, len(before)
    assert not (out / "results.parquet").exists()
    time.sleep(0.01)  # a rewrite would carry a later mtime
    result = run_experiment(path, out, jobs=2)
    finished = {(p.parent.parent.name, int(p.parent.name)) for p in before}
    status = {(row.arm, row.seed): row.status for row in result.runs.itertuples()}
    assert {key for key, value in status.items() if value == "resumed"} == finished
    assert {key for key, value in status.items() if value == "done"} == set(status) - finished
    after = _metrics_files(out)
    for file, (content, mtime) in before.items():
        assert after[file] == (content, mtime), file
    assert len(after) == 40
    for name in ("results.parquet", "comparisons.parquet", "criteria.parquet", "summary.parquet"):
        assert (out / name).read_bytes() == (grid.out / name).read_bytes(), name
    # a third run redoes nothing
    assert set(run_experiment(path, out, jobs=2).runs["status"]) == {"resumed"}


def test_a_changed_arm_is_redone_and_the_others_resumed(world, tmp_path):
    text = grid_yaml(world.tiers, seeds="2").replace("t90: {hard_negatives: mined", "t90: {hard_negatives: mined")
    path = write_experiment(world.root, text, "changed.yaml")
    out = tmp_path / "out"
    run_experiment(path, out, jobs=2)
    write_experiment(world.root, text.replace("half: {fraction: 0.5}", "half: {fraction: 0.6}"), "changed.yaml")
    runs = run_experiment(path, out, jobs=2).runs
    redone = runs[runs["status"] == "done"]
    assert set(redone["arm"]) == {arm for arm in ARMS if arm.endswith("+half")}
    assert set(runs.loc[runs["status"] == "resumed", "arm"]) == {arm for arm in ARMS if arm.endswith("+all")}


# ------------------------------------------------------------------------------------ (c) (d) failed runs

FLAKY = """\
import os
from pathlib import Path

from sklearn.linear_model import LogisticRegression


def make(seed):
    (Path(__file__).parent / "pids").mkdir(exist_ok=True)
    (Path(__file__).parent / "pids" / str(os.getpid())).touch()
    if seed == 3:
        raise RuntimeError("no licence for seed three")
    return LogisticRegression(max_iter=500, random_state=seed)
"""


def test_an_injected_failing_run_is_recorded_and_the_rest_go_on(world, tmp_path):
    folder = tmp_path / "plan"
    folder.mkdir()
    os.symlink(world.dataset, folder / "shots")
    (folder / "failing.py").write_text(FLAKY)
    path = write_experiment(folder, """\
dataset: shots
seeds: 5
model: logreg
n_resamples: 200
baseline: {model: plain}
arms:
  model:
    plain: {}
    flaky: {model: failing.py:make}
  positives:
    all: {}
    half: {fraction: 0.5}
eval:
  iid: {split: group}
""")  # fmt: skip
    result = run_experiment(path, tmp_path / "out", jobs=2)
    runs = result.runs
    failed = runs[runs["status"] == "failed"]
    assert failed[["arm", "seed"]].values.tolist() == [["flaky+all", 3], ["flaky+half", 3]]
    assert (runs.loc[runs["status"] != "failed", "status"] == "done").all() and len(runs) == 20
    for arm in ("flaky+all", "flaky+half"):
        run = tmp_path / "out" / "runs" / arm / "3"
        error = (run / "error.txt").read_text()
        assert "no licence for seed three" in error.splitlines()[0] and "Traceback" in error
        assert not (run / "metrics.json").exists()
        assert "no licence for seed three" in failed.set_index("arm").loc[arm, "error"]
    comparisons = result.tables["comparisons"]
    assert set(comparisons["arm"]) == {"flaky+all", "flaky+half"}
    ranked = comparisons["metric"].isin(["f1", "roc_auc", "recall"])
    assert (comparisons.loc[ranked, "n_pairs"] == 4).all() and (comparisons.loc[ranked, "unpaired"] == 1).all()
    results = result.tables["results"]
    assert sorted(set(results.loc[results["arm"] == "flaky+all", "seed"])) == [0, 1, 2, 4]
    report = (tmp_path / "out" / "report.md").read_text()
    assert "**failed**: " in report and "no licence for seed three" in report
    assert "incomplete grid: 2 of 20 runs failed" in report
    # the runs went to two worker processes, not this one
    workers = {int(name.name) for name in (folder / "pids").iterdir()} - {os.getpid()}
    assert len(workers) >= 2
    # run again: the failed runs are retried (and fail again), the finished ones resumed
    again = run_experiment(path, tmp_path / "out", jobs=2).runs
    assert again.loc[again["status"] == "failed", "seed"].tolist() == [3, 3]
    assert (again.loc[again["status"] != "failed", "status"] == "resumed").all()


def test_every_run_failing_for_one_reason_is_an_input_error(world, tmp_path):
    folder = tmp_path / "plan"
    folder.mkdir()
    os.symlink(world.dataset, folder / "shots")
    path = write_experiment(folder, """\
dataset: shots
seeds: 3
model: logreg
baseline: {positives: all}
arms:
  positives:
    all: {groups: [nobody]}
    half: {groups: [nobody], fraction: 0.5}
eval:
  iid: {split: group}
""")  # fmt: skip
    with pytest.raises(InputError) as caught:
        run_experiment(path, tmp_path / "out")
    message = str(caught.value)
    assert message.startswith("every run failed (6 of 6: ") and "one class only" in message
    assert "error.txt" in message and "\n" not in message


# ------------------------------------------------------------------------------------ (f) an external command

TRAIN = textwrap.dedent('''\
    """A team's own trainer: mean and spread per channel, a logistic regression, one predictions file per set."""
    import argparse
    import json
    import sys
    from pathlib import Path

    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    parser = argparse.ArgumentParser()
    for flag in ("--train", "--negatives", "--seed", "--out", "--eval"):
        parser.add_argument(flag, required=True)
    args = parser.parse_args()
    seed = int(args.seed)
    if seed == 1:
        print("cuda: out of memory on seed one", file=sys.stderr)
        sys.exit(1)


    def features(windows):
        return np.concatenate([windows.mean(axis=2), windows.std(axis=2)], axis=1)


    train = Path(args.train)
    index = pd.read_parquet(train / "index.parquet")
    windows = np.load(train / "windows.npy")
    assert len(index) == len(windows) and (index["window_id"].to_numpy() == np.arange(len(index))).all()
    model = LogisticRegression(max_iter=2000, random_state=seed).fit(features(windows), index["label"].to_numpy())
    Path(args.out, "negatives.txt").write_text(args.negatives)
    if seed == 2:
        sys.exit(0)  # forgets to write its predictions
    for name, item in json.loads(Path(args.eval).read_text()).items():
        ids = np.asarray(item["window_ids"], dtype=np.int64)
        data = np.load(Path(item["dataset"]) / "windows.npy", mmap_mode="r")[ids]
        score = model.predict_proba(features(np.asarray(data, dtype=np.float64)))[:, 1] if len(ids) else []
        pd.DataFrame({"window_id": ids, "score": score}).to_parquet(item["predictions"])
''')


def _threshold(labels, scores) -> float:
    """Max F1 over the distinct validation scores (score >= t), the highest threshold among ties."""
    from sklearn.metrics import f1_score

    best, chosen = -1.0, math.nan
    for t in sorted(set(scores.tolist()), reverse=True):
        value = f1_score(labels, (scores >= t).astype(int), zero_division=0)
        if value > best + 1e-12:
            best, chosen = value, t
    return chosen


def test_an_external_command_arm_is_scored_by_hardneg_from_its_predictions(world, tmp_path):
    from sklearn.metrics import average_precision_score, f1_score, precision_score, recall_score, roc_auc_score

    folder = tmp_path / "plan"
    folder.mkdir()
    os.symlink(world.dataset, folder / "shots")
    os.symlink(world.mined, folder / "mined")
    (folder / "train.py").write_text(TRAIN)
    path = write_experiment(folder, f"""\
dataset: shots
seeds: 4
command: "{sys.executable} train.py --train {{train_dataset}} --negatives {{negatives}} --seed {{seed}} --out {{run_dir}} --eval {{eval_sets}}"
n_resamples: 200
baseline: {{negatives: none}}
arms:
  negatives:
    none: {{}}
    t50: {{hard_negatives: mined, hard_tier: {world.tiers[0]}}}
eval:
  iid: {{split: group}}
""")  # fmt: skip
    result = run_experiment(path, tmp_path / "out", jobs=2)
    runs = result.runs.set_index(["arm", "seed"])
    for arm in ("none", "t50"):
        assert runs.loc[(arm, 0), "status"] == runs.loc[(arm, 3), "status"] == "done"
        assert runs.loc[(arm, 1), "status"] == runs.loc[(arm, 2), "status"] == "failed"
        exited = runs.loc[(arm, 1), "error"]
        assert "exited with status 1" in exited and "cuda: out of memory on seed one" in exited
        silent = runs.loc[(arm, 2), "error"]
        run_dir = (tmp_path / "out" / "runs" / arm / "2").resolve()
        assert f"wrote no {run_dir / 'val.predictions.parquet'}" in silent
    negatives = (tmp_path / "out" / "runs" / "t50" / "0" / "negatives.txt").read_text()
    assert negatives == str(world.mined.resolve())
    assert (tmp_path / "out" / "runs" / "none" / "0" / "negatives.txt").read_text() == "none"
    labels = Dataset.load(world.dataset).index.set_index("window_id")["label"]
    for arm in ("none", "t50"):
        for seed in (0, 3):
            run = tmp_path / "out" / "runs" / arm / str(seed)
            metrics = json.loads((run / "metrics.json").read_text())
            val = pd.read_parquet(run / "val.predictions.parquet")
            threshold = _threshold(labels.loc[val["window_id"]].to_numpy(), val["score"].to_numpy())
            assert metrics["threshold"] == pytest.approx(threshold, abs=0)
            test = pd.read_parquet(run / "iid.predictions.parquet")
            y, score = labels.loc[test["window_id"]].to_numpy(), test["score"].to_numpy()
            predicted = (score >= threshold).astype(int)
            expected = {
                "f1": f1_score(y, predicted, zero_division=np.nan),
                "precision": precision_score(y, predicted, zero_division=np.nan),
                "recall": recall_score(y, predicted, zero_division=np.nan),
                "roc_auc": roc_auc_score(y, score),
                "average_precision": average_precision_score(y, score),
                "fpr": float(predicted[y == 0].mean()),
            }
            for name, value in expected.items():
                assert metrics["eval"]["iid"][name] == pytest.approx(value, rel=1e-12, nan_ok=True), (arm, seed, name)
            values = result.tables["results"].query("arm == @arm and seed == @seed and metric == 'f1'")["value"]
            assert values.tolist() == pytest.approx([expected["f1"]], nan_ok=True)
    comparisons = result.tables["comparisons"]
    ranked = comparisons["metric"].isin(["f1", "roc_auc", "recall"])
    assert (comparisons.loc[ranked, "n_pairs"] == 2).all() and (comparisons.loc[ranked, "unpaired"] == 0).all()
