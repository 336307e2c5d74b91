"""README sections 2, 4, 5 and 6 on sensor logs: six 1-minute IMU sessions of three shooters and a pool of two."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tests.readme._blocks import blocks_run_by
from tests.readme._worlds import block_env, link_inputs, run_python_blocks, run_shell_block, sensor_world

HERE = "tests/readme/test_sensor_blocks.py"
#: the index columns the README's "dataset directory" table promises
INDEX_COLUMNS = {
    "window_id", "recording", "group", "start_ms", "end_ms", "label", "kind", "event_id", "event_t_ms", "motion",
    "start_sample",
}  # fmt: skip
SUMMARY_COLUMNS = {
    "model", "features", "split", "subset", "metric", "mean", "ci_low", "ci_high", "ci_method", "n_test_groups",
    "n_seeds",
}  # fmt: skip


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return sensor_world(tmp_path_factory.mktemp("readme-sensor") / "world")


@pytest.fixture(scope="module")
def shots(world, tmp_path_factory):
    """Section 2's command run as written in a folder holding ``logs/`` and ``events.csv`` (and ``pool/``)."""
    folder = link_inputs(world, tmp_path_factory.mktemp("readme-cli"), ["logs", "events.csv", "pool"])
    env = block_env(folder)
    (block,) = blocks_run_by(f"{HERE}::test_sensor_logs_command")
    ran = run_shell_block(block.text, folder, env)
    return folder, env, ran


def test_sensor_logs_command(shots, world):
    folder, _, ran = shots
    index = pd.read_parquet(folder / "shots" / "index.parquet")
    assert INDEX_COLUMNS <= set(index.columns)
    assert set(index["kind"]) == {"pos", "near", "far"} and index["recording"].nunique() == 6
    windows = np.load(folder / "shots" / "windows.npy", mmap_mode="r")
    assert windows.shape == (len(index), 6, 50)  # 500 ms at 100 Hz, six IMU channels
    # --lead-ms 100 and the default --align end: each positive ends 100 ms before its event
    pos = index[index["kind"] == "pos"]
    assert np.allclose(pos["end_ms"], pos["event_t_ms"] - 100) and np.allclose(pos["end_ms"] - pos["start_ms"], 500)
    events = pd.read_csv(world / "events.csv")
    assert len(pos) <= len(events) and len(pos) > 0
    meta = json.loads((folder / "shots" / "meta.json").read_text())
    assert meta["parameters"]["neg_min_sep_ms"] == 200 and meta["parameters"]["seed"] == 0
    # separation: no two negatives of a recording start closer than --neg-min-sep-ms 200
    negatives = index[index["label"] == 0].sort_values(["recording", "start_ms"])
    gaps = negatives.groupby("recording")["start_ms"].diff().dropna()
    assert (gaps >= 200 - 1e-9).all()
    assert "requested" in ran[0].stdout and "achieved" in ran[0].stdout


@pytest.mark.slow
def test_predictions_of_your_own_models(shots):
    """Section 5: a 5-fold group split, predictions written where the comment says, one bench of two models."""
    folder, env, _ = shots
    (block,) = blocks_run_by(f"{HERE}::test_predictions_of_your_own_models")

    def write_predictions(cwd):
        frame = pd.read_parquet(cwd / "shots" / "splits" / "groups5.parquet")
        held = frame[frame["subset"] != "train"]
        labels = pd.read_parquet(cwd / "shots" / "index.parquet")["label"].to_numpy()[held["window_id"]]
        for name, strength in (("mynet", 0.8), ("yolo", 0.3)):
            for seed in (0, 1):
                rng = np.random.default_rng(seed)
                score = strength * labels + (1 - strength) * rng.random(len(held))
                out = cwd / "runs" / name / "groups5" / str(seed)
                out.mkdir(parents=True)
                pd.DataFrame({"window_id": held["window_id"], "score": score, "fold": held["fold"]}).to_parquet(
                    out / "predictions.parquet"
                )

    run_shell_block(block.text, folder, env, hooks={"# write runs/": write_predictions})
    split = pd.read_parquet(folder / "shots" / "splits" / "groups5.parquet")
    assert list(split.columns[:4]) == ["fold", "window_id", "subset", "copies"] and split["fold"].nunique() == 5
    assert (folder / "shots" / "splits" / "groups5.json").is_file()
    summary = pd.read_parquet(folder / "bench-mine" / "summary.parquet")
    assert SUMMARY_COLUMNS <= set(summary.columns)
    ap = summary.query("metric == 'average_precision' and subset == 'test'").set_index("model")["mean"]
    assert ap["mynet"] > ap["yolo"] > ap["prior"]
    assert (summary["n_seeds"] == 2).all() and (summary["split"] == "groups5").all()
    assert (folder / "bench-mine" / "report.html").is_file()


@pytest.mark.slow
def test_mining_loop(shots):
    """Section 6: train, mine the pool, and the same dataset again with the mined windows."""
    folder, env, _ = shots
    (block,) = blocks_run_by(f"{HERE}::test_mining_loop")
    ran = run_shell_block(block.text, folder, env)
    assert {path.name for path in (folder / "model").iterdir()} == {"card.json", "model.joblib"}
    mined = folder / "mined"
    for name in ("candidates.parquet", "items.parquet", "stats.json", "stats.md", "errors.csv", "mine.json"):
        assert (mined / name).is_file(), name
    assert list((mined / "tiers").glob("conf_min_*.csv"))
    items = pd.read_parquet(mined / "items.parquet")
    assert set(items["item"]) == {"p01", "p02"}
    candidates = pd.read_parquet(mined / "candidates.parquet")
    assert len(candidates) > 0 and np.allclose(candidates["end_ms"] - candidates["start_ms"], 500)
    assert (mined / "snapshots").is_dir()
    # the pool has no groups, so --exclude-groups-from can leave nothing out, and says so
    assert "--exclude-groups-from" in ran[1].stderr

    # --like: the same positives and the same near and far draws, plus at most 500 mined windows
    before = pd.read_parquet(folder / "shots" / "index.parquet")
    after = pd.read_parquet(folder / "shots-hard" / "index.parquet")
    hard = after[after["kind"] == "hard"]
    assert 0 < len(hard) <= min(500, len(candidates)) and (hard["label"] == 0).all()
    columns = ["recording", "start_ms", "end_ms", "kind"]
    assert after.loc[after["kind"] != "hard", columns].reset_index(drop=True).equals(before[columns])
    assert "built like" in " ".join(ran[2].stdout.split())


@pytest.mark.slow
def test_python_api(world, tmp_path):
    """Section 4's blocks, in order in one interpreter, in a folder with logs/, events.csv, groups.csv and pool/."""
    folder = link_inputs(world, tmp_path / "py", ["logs", "events.csv", "groups.csv", "pool"])
    blocks = blocks_run_by(f"{HERE}::test_python_api")
    assert len(blocks) == 4
    look = (
        "print(json.dumps({'kinds': sorted(ds.index.kind.unique()), 'shape': list(X.shape),\n"
        "    'split_columns': list(frame.columns), 'verdicts': {r.check: r.verdict for r in report},\n"
        "    'models': sorted(bench.summary.model.unique()), 'candidates': len(mined.candidates),\n"
        "    'candidate_columns': list(mined.candidates.columns),\n"
        "    'hard': int((shots_hard.index.kind == 'hard').sum())}))\n"
    )
    seen = run_python_blocks([block.text for block in blocks], folder, block_env(tmp_path), look)
    assert seen["kinds"] == ["far", "near", "pos"] and seen["shape"][1:] == [6, 50]
    assert seen["split_columns"][:4] == ["fold", "window_id", "subset", "copies"]
    assert seen["verdicts"]["group_overlap"] == "PASS"
    assert seen["models"] == ["et", "logreg", "majority", "prior", "stratified"]
    assert 0 < seen["hard"] <= min(500, seen["candidates"])
    assert seen["candidate_columns"][:5] == ["item", "group", "start_ms", "end_ms", "score"]

    index = pd.read_parquet(folder / "shots" / "index.parquet")
    groups = pd.read_csv(world / "groups.csv").set_index("recording")["group"]
    assert (index["group"] == index["recording"].map(groups)).all()  # groups.csv was read
    for name in ("by-group.parquet", "by-group.json", "by-group.audit.json", "by-group.audit.md"):
        assert (folder / "shots" / "splits" / name).is_file(), name
    summary = pd.read_parquet(folder / "shots-bench" / "summary.parquet")
    assert SUMMARY_COLUMNS <= set(summary.columns) and set(summary["split"]) == {"by-group", "random"}
    assert (folder / "mined" / "candidates.parquet").is_file() and (folder / "model" / "card.json").is_file()


def test_stream_commands(shots):
    """Section 7: score logs and pool every 50 ms with section 6's model, evaluate under two rules."""
    folder, env, _ = shots
    if not (folder / "model" / "card.json").is_file():  # section 6 makes it; this test may run alone
        run_shell_block("hardneg train shots --model et --out model\n", folder, env)
    (block,) = blocks_run_by(f"{HERE}::test_stream_commands")
    ran = run_shell_block(block.text, folder, env)
    scores = pd.read_parquet(folder / "timeline" / "scores.parquet")
    assert list(scores.columns) == ["recording", "t_ms", "score"]
    assert set(scores["recording"]) == {"s01", "s02", "s03", "s04", "s05", "s06", "p01", "p02"}
    assert np.allclose(scores.groupby("recording")["t_ms"].diff().dropna(), 50.0)
    metrics = json.loads((folder / "on-timeline" / "metrics.json").read_text())
    assert metrics["rule"] == "target" and metrics["rule_params"] == {"target_start_ms": -600, "target_end_ms": 0}
    assert metrics["operating_point"]["chosen_on"] == ["s05", "s06"] and not metrics["operating_point"]["same_recordings"]
    assert sorted(metrics["reported_on"]) == ["p01", "p02", "s01", "s02", "s03", "s04"]
    assert metrics["tp"] + metrics["fn"] == len(pd.read_csv(folder / "events.csv").query("recording in @metrics['reported_on']"))
    curve = pd.read_parquet(folder / "on-timeline" / "curve.parquet")
    assert {"threshold", "tp", "fp", "fn", "recall", "fa_per_hour"} <= set(curve.columns)
    for name in ("detections.parquet", "per_recording.csv", "report.md", "report.html"):
        assert (folder / "on-timeline" / name).is_file(), name
    collar = json.loads((folder / "as-sed-eval" / "metrics.json").read_text())
    assert collar["rule"] == "collar" and collar["rule_params"]["collar_ms"] == 200 and collar["threshold"] == 0.5
    assert ran[1].returncode == 0 and ran[2].returncode == 0


def test_experiment_command(shots):
    """Section 8: the experiment file as written (beside shots and mined), then the command."""
    from tests.readme._blocks import EXPERIMENT, readme_blocks

    folder, env, _ = shots
    if not (folder / "mined" / "candidates.parquet").is_file():  # section 6 makes them; this test may run alone
        run_shell_block(
            "hardneg train shots --model et --out model\n"
            "hardneg mine pool/ --model model --trust-model --window-ms 500 --hop-ms 250 --out mined\n",
            folder, env,
        )  # fmt: skip
    (yaml_block,) = [block for block in readme_blocks() if block.heading == EXPERIMENT and block.language == "yaml"]
    (folder / "experiment.yaml").write_text(yaml_block.text)
    (block,) = blocks_run_by(f"{HERE}::test_experiment_command")
    ran = run_shell_block(block.text, folder, env)
    assert ran[0].returncode == 0, ran[0].stderr
    out = folder / "comparison"
    runs = sorted(path.relative_to(out / "runs").as_posix() for path in (out / "runs").glob("*/*/metrics.json"))
    arms = [f"{n}+{p}" for n in ("none", "mined", "t50") for p in ("all", "half")]
    assert runs == sorted(f"{arm}/{seed}/metrics.json" for arm in arms for seed in range(5))
    results = pd.read_parquet(out / "results.parquet")
    assert list(results.columns) == ["arm", "negatives", "positives", "seed", "eval_set", "metric", "value"]
    comparisons = pd.read_parquet(out / "comparisons.parquet")
    f1 = comparisons[comparisons["metric"] == "f1"]
    # every positive subset has its own no-negatives baseline
    assert dict(zip(f1["arm"], f1["baseline"])) == {
        "mined+all": "none+all", "t50+all": "none+all", "mined+half": "none+half", "t50+half": "none+half",
    }  # fmt: skip
    assert set(f1["label"]) <= {"significant", "directional", "no effect"} and (f1["n_pairs"] == 5).all()
    # the delta is the mean of per-seed differences of results.parquet, paired by seed
    values = results[(results["metric"] == "f1")].pivot(index="seed", columns="arm", values="value")
    for row in f1.itertuples():
        assert np.isclose(row.mean_delta, (values[row.arm] - values[row.baseline]).mean())
    criteria = pd.read_parquet(out / "criteria.parquet")
    assert set(criteria["criterion"]) == {"iid.recall >= 0.35", "iid.roc_auc > 0.6"} and len(criteria) == 12
    assert (out / "report.md").is_file() and (out / "report.html").is_file()
