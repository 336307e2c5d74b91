"""`hardneg mine` end to end on sensor logs: brute force, Python vs ONNX scorer, kill and resume, errors, exclusion."""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

FS = 100.0
WINDOW_MS = 500.0
HOP_MS = 250.0
T = int(WINDOW_MS * FS / 1000)
HOP = int(HOP_MS * FS / 1000)

SCORER_SOURCE = textwrap.dedent(
    """
    import os
    import numpy as np

    CALLS = {"n": 0}

    def score(batch):
        # sigmoid of (mean square of the window - 1): loud windows score high
        energy = np.mean(np.asarray(batch, dtype=np.float64) ** 2, axis=(1, 2))
        return 1.0 / (1.0 + np.exp(-(energy - 1.0) * 2.0))

    def make():
        return score

    def make_dying():
        kill_after = int(os.environ["HARDNEG_TEST_KILL_AFTER"])

        def dying(batch):
            CALLS["n"] += 1
            if CALLS["n"] > kill_after:
                os._exit(137)  # a hard kill: no cleanup, no flush
            return score(batch)

        return dying
    """
)


def brute_score(values: np.ndarray) -> float:
    # scorers receive float32 batches, as the contract says
    energy = np.mean(values.astype(np.float32).astype(np.float64) ** 2)
    return 1.0 / (1.0 + np.exp(-(energy - 1.0) * 2.0))


@pytest.fixture
def pool(tmp_path):
    """Four logs: bursts of loud motion at known places; one with a group prefix per subject."""
    rng = np.random.default_rng(0)
    folder = tmp_path / "pool"
    folder.mkdir()
    data = {}
    for index, name in enumerate(["subjA_s1", "subjA_s2", "subjB_s1", "subjC_s1"]):
        n = 1000 + 137 * index
        values = rng.normal(0, 0.5, (n, 3))
        for start in rng.choice(n - 60, 4, replace=False):
            values[start : start + 60] *= 2.5  # loud, but not so loud that float32 scores saturate at 1.0 and tie
        frame = pd.DataFrame(values, columns=["ax", "ay", "az"])
        frame.insert(0, "t_ms", np.arange(n) * (1000.0 / FS))
        frame.to_csv(folder / f"{name}.csv", index=False)
        data[name] = values.T
    (tmp_path / "scorer.py").write_text(SCORER_SOURCE)
    return folder, data, tmp_path / "scorer.py"


def brute_windows(data: dict) -> pd.DataFrame:
    rows = []
    for item, values in data.items():
        n = values.shape[1]
        for start in range(0, n - T + 1, HOP):
            rows.append((item, start * 1000.0 / FS, brute_score(values[:, start : start + T])))
    return pd.DataFrame(rows, columns=["item", "start_ms", "score"])


def brute_nms(windows: pd.DataFrame, min_score: float, nms_ms: float) -> pd.DataFrame:
    kept = []
    for item, block in windows[windows["score"] >= min_score].groupby("item"):
        chosen = []
        for row in block.sort_values(["score", "start_ms"], ascending=[False, True]).itertuples():
            if all(abs(row.start_ms - other) >= nms_ms for other in chosen):
                chosen.append(row.start_ms)
        kept += [(item, start) for start in chosen]
    return pd.DataFrame(kept, columns=["item", "start_ms"]).sort_values(["item", "start_ms"]).reset_index(drop=True)


def run_mine(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "hardneg", "mine", *map(str, args)], capture_output=True, text=True, env=env
    )


def common(folder, out, scorer):
    return [folder, "--model", f"{scorer}:make", "--out", out, "--window-ms", WINDOW_MS, "--hop-ms", HOP_MS,
            "--min-score", "0.5", "--group-regex", r"^(subj[A-Z])"]  # fmt: skip


def test_items_and_candidates_match_brute_force(pool, tmp_path):
    folder, data, scorer = pool
    out = tmp_path / "mined"
    result = run_mine(*common(folder, out, scorer))
    assert result.returncode == 0, result.stderr
    expected = brute_windows(data)
    items = pd.read_parquet(out / "items.parquet").set_index("item")
    for item, block in expected.groupby("item"):
        assert items.loc[item, "n_windows"] == len(block)
        assert items.loc[item, "max_score"] == pytest.approx(block["score"].max(), abs=1e-9)
        assert items.loc[item, "argmax_ms"] == block.loc[block["score"].idxmax(), "start_ms"]
    assert dict(items["group"]) == {"subjA_s1": "subjA", "subjA_s2": "subjA", "subjB_s1": "subjB", "subjC_s1": "subjC"}
    candidates = pd.read_parquet(out / "candidates.parquet")
    got = candidates[["item", "start_ms"]].sort_values(["item", "start_ms"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, brute_nms(expected, 0.5, WINDOW_MS), check_dtype=False)
    tiers = pd.read_csv(out / "tiers" / "conf_min_0.50.csv")
    assert set(tiers["item"]) == set(items.index[items["max_score"] >= 0.5])


def test_onnx_scorer_gives_the_same_result_as_the_python_one(pool, tmp_path):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    folder, _, scorer = pool
    # energy = mean(x^2) over (channels, samples); score = sigmoid(2 * (energy - 1))
    nodes = [
        helper.make_node("Mul", ["x", "x"], ["squared"]),
        helper.make_node("ReduceMean", ["squared", "axes"], ["energy"], keepdims=0),
        helper.make_node("Sub", ["energy", "one"], ["centred"]),
        helper.make_node("Mul", ["centred", "four"], ["logit"]),
        helper.make_node("Sigmoid", ["logit"], ["score"]),
    ]
    graph = helper.make_graph(
        nodes,
        "energy",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 3, T])],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, [None])],
        initializer=[
            helper.make_tensor("axes", TensorProto.INT64, [2], [1, 2]),
            helper.make_tensor("one", TensorProto.FLOAT, [], [1.0]),
            helper.make_tensor("four", TensorProto.FLOAT, [], [2.0]),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9  # onnxruntime 1.3x rejects onnx 1.23's default IR version 14
    onnx.save(model, tmp_path / "energy.onnx")
    python_out, onnx_out = tmp_path / "py", tmp_path / "ox"
    assert run_mine(*common(folder, python_out, scorer)).returncode == 0
    args = common(folder, onnx_out, scorer)
    args[args.index("--model") + 1] = tmp_path / "energy.onnx"
    result = run_mine(*args)
    assert result.returncode == 0, result.stderr
    a, b = pd.read_parquet(python_out / "items.parquet"), pd.read_parquet(onnx_out / "items.parquet")
    assert a["item"].tolist() == b["item"].tolist()
    np.testing.assert_allclose(a["max_score"], b["max_score"], atol=1e-5)
    ca, cb = pd.read_parquet(python_out / "candidates.parquet"), pd.read_parquet(onnx_out / "candidates.parquet")
    assert ca[["item", "start_ms"]].equals(cb[["item", "start_ms"]])


def test_killed_run_resumes_to_the_same_files(pool, tmp_path):
    folder, _, scorer = pool
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    assert run_mine(*common(folder, whole, scorer)).returncode == 0
    env = {**__import__("os").environ, "HARDNEG_TEST_KILL_AFTER": "2"}
    args = common(folder, killed, scorer)
    args[args.index("--model") + 1] = f"{scorer}:make_dying"
    first = run_mine(*args, env=env)
    assert first.returncode == 137  # killed mid-run
    assert not (killed / "candidates.parquet").exists()
    resumed = run_mine(*common(folder, killed, scorer), "--resume")
    assert resumed.returncode == 2 and "other options" in resumed.stderr  # the model spec is part of the options
    args_resume = [*args, "--resume"]
    env_done = {**env, "HARDNEG_TEST_KILL_AFTER": "1000000"}
    finished = run_mine(*args_resume, env=env_done)
    assert finished.returncode == 0, finished.stderr
    for name in ("candidates.parquet", "items.parquet", "tiers/conf_min_0.50.csv", "errors.csv", "stats.json"):
        assert (whole / name).read_bytes() == (killed / name).read_bytes(), name


def test_a_corrupt_file_lands_in_errors_and_the_rest_is_mined(pool, tmp_path):
    folder, data, scorer = pool
    (folder / "subjD_s1.csv").write_text("t_ms,ax,ay,az\n0,1,2\n1,oops,3,4\n")
    out = tmp_path / "mined"
    result = run_mine(*common(folder, out, scorer))
    assert result.returncode == 0, result.stderr
    errors = pd.read_csv(out / "errors.csv")
    assert errors["item"].tolist() == ["subjD_s1"]
    assert "subjD_s1.csv" in errors["error"].iloc[0]
    assert set(pd.read_parquet(out / "items.parquet")["item"]) == set(data)
    assert "1 failed" in result.stdout


def test_existing_out_is_refused_without_resume_or_overwrite(pool, tmp_path):
    folder, _, scorer = pool
    out = tmp_path / "mined"
    assert run_mine(*common(folder, out, scorer)).returncode == 0
    again = run_mine(*common(folder, out, scorer))
    assert again.returncode == 2 and "--resume" in again.stderr
    assert run_mine(*common(folder, out, scorer), "--overwrite").returncode == 0


def test_groups_of_a_dataset_are_excluded(pool, tmp_path):
    from hardneg import InputOptions, SamplingConfig, build_dataset

    folder, data, scorer = pool
    # a dataset whose only group is subjA: the pool's subjA items must be left out
    logs = sorted(folder.glob("subjA_*.csv"))
    events = tmp_path / "events.csv"
    events.write_text("recording,t_ms\nsubjA_s1,3000\nsubjA_s2,4000\n")
    groups = tmp_path / "groups.csv"
    groups.write_text("recording,group\nsubjA_s1,subjA\nsubjA_s2,subjA\n")
    build_dataset(logs, tmp_path / "ds", inputs=InputOptions(events=events, groups=groups),
                  config=SamplingConfig(neg_mult=1))  # fmt: skip
    out = tmp_path / "mined"
    result = run_mine(*common(folder, out, scorer), "--exclude-groups-from", tmp_path / "ds")
    assert result.returncode == 0, result.stderr
    assert set(pd.read_parquet(out / "items.parquet")["item"]) == {"subjB_s1", "subjC_s1"}
    stats = json.loads((out / "stats.json").read_text())
    assert stats["excluded_items"] == 2


def test_a_folder_prepared_by_a_run_that_scored_nothing_is_reused(pool, tmp_path):
    """A run that stopped before scoring anything (an unreachable Ray cluster) does not need --overwrite."""
    folder, _, scorer = pool
    out = tmp_path / "started"
    (out / "shards").mkdir(parents=True)
    (out / "mine.json").write_text("{}\n")  # options of a run that never got going
    done = run_mine(*common(folder, out, scorer))
    assert done.returncode == 0, done.stderr
    assert (out / "candidates.parquet").is_file()
    (out / "notes.txt").write_text("someone's file")  # anything else in the folder: refused as before
    again = run_mine(*common(folder, out, scorer))
    assert again.returncode == 2 and "--resume" in again.stderr
