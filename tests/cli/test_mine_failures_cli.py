"""`hardneg mine` when items fail: every item failing is one `error:` line and exit 2, some failing is a warning.

A run over many files leaves a broken one out and goes on (errors.csv); a run where every item fails
for one reason (a wrong --time-col, a scorer or model that does not fit the windows, a missing extra)
has produced nothing and says why instead.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.helpers.synth import burst_pool

SCORERS = textwrap.dedent(
    """
    import numpy as np

    def make():
        return lambda batch: np.abs(batch).mean(axis=(1, 2))

    def wrong_shape():
        return lambda batch: np.zeros((len(batch), 2))
    """
)


def run(*args, cwd=None, pythonpath=None) -> subprocess.CompletedProcess:
    """``python -m hardneg mine ARGS``; ``pythonpath`` goes first on the path (to hide an installed package)."""
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(pythonpath), env.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "hardneg", "mine", *map(str, args)],
        check=False, capture_output=True, text=True, cwd=cwd, env=env, timeout=180,
    )  # fmt: skip


def error_line(result: subprocess.CompletedProcess) -> str:
    """The one `error:` line of a refused run (and nothing that looks like a traceback)."""
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1 and len(lines) == 1, result.stderr
    return errors[0]


@pytest.fixture
def pool(tmp_path):
    """Three 10 s logs at 100 Hz, silent but for one burst each (loudness 0.5, 0.7, 0.9), and the scorers."""
    folder = burst_pool(tmp_path / "pool")
    (tmp_path / "scorers.py").write_text(SCORERS)
    return folder, tmp_path / "scorers.py"


def test_a_wrong_time_col_fails_every_item_and_stops_with_its_reason(pool, tmp_path):
    folder, scorers = pool
    out = tmp_path / "mined"
    line = error_line(run(folder, "--model", f"{scorers}:make", "--window-ms", 500, "--time-col", "time", "--out", out))
    assert line.startswith("error: every pool item failed (3 items): ")
    assert "--time-col 'time' not found" in line and "a.csv" in line
    # nothing is kept that would make the next run skip the items: the same --out runs once the option is fixed
    fixed = run(folder, "--model", f"{scorers}:make", "--window-ms", 500, "--out", out, "-q")
    assert fixed.returncode == 0, fixed.stderr
    assert len(pd.read_parquet(out / "items.parquet")) == 3


def test_a_scorer_returning_the_wrong_shape_stops_the_run(pool, tmp_path):
    folder, scorers = pool
    line = error_line(run(folder, "--model", f"{scorers}:wrong_shape", "--window-ms", 500, "--out", tmp_path / "m"))
    assert "every pool item failed (3 items)" in line
    assert "returned shape (39, 2) for a batch of 39 windows" in line


def test_an_onnx_model_whose_input_does_not_fit_the_windows_stops_the_run(pool, tmp_path):
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from onnx import TensorProto, helper

    folder, _ = pool
    # takes (N, 1, 100) windows: one second at 100 Hz, but the run cuts half a second
    graph = helper.make_graph(
        [helper.make_node("ReduceMean", ["x", "axes"], ["score"], keepdims=0)],
        "mean",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 1, 100])],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, [None])],
        initializer=[helper.make_tensor("axes", TensorProto.INT64, [2], [1, 2])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    onnx.save(model, tmp_path / "mean.onnx")
    line = error_line(run(folder, "--model", tmp_path / "mean.onnx", "--window-ms", 500, "--out", tmp_path / "m"))
    assert "every pool item failed (3 items)" in line
    assert "takes shape (?, 1, 100) but the windows have shape (N, 1, 50)" in line and "--window-ms" in line


@pytest.mark.parametrize(
    ("module", "file_name", "extra"), [("av", "clip.mp4", "video"), ("soundfile", "call.wav", "audio")]
)
def test_a_missing_extra_names_the_pip_install(pool, tmp_path, module, file_name, extra):
    _, scorers = pool
    media = tmp_path / "media"
    media.mkdir()
    for stem in ("one", "two"):
        (media / f"{stem}_{file_name}").write_bytes(b"not read: the reader is missing")
    hidden = tmp_path / "hidden"
    (hidden / module).mkdir(parents=True)
    (hidden / module / "__init__.py").write_text(f"raise ImportError({f'No module named {module}'!r})\n")
    result = run(media, "--model", f"{scorers}:make", "--window-ms", 500, "--out", tmp_path / "m", pythonpath=hidden)
    line = error_line(result)
    assert "every pool item failed (2 items)" in line
    assert f"pip install 'hardneg[{extra}]'" in line


def test_some_items_failing_prints_the_reasons_and_warns(pool, tmp_path):
    folder, scorers = pool
    (folder / "d.csv").write_text("t_ms,ax\n0,1\n10,oops\n")
    (folder / "e.csv").write_text("t_ms,ax\n0,1\n10,oops\n")
    (folder / "f.csv").write_text("t_ms,ay\n0,1\n10,2\n")
    out = tmp_path / "mined"
    result = run(folder, "--model", f"{scorers}:make", "--window-ms", 500, "--channels", "ax", "--out", out)
    assert result.returncode == 0, result.stderr
    assert "3 failed" in result.stdout
    summary = " ".join(result.stdout.split())  # rich wraps long lines
    assert "failed, 2 items: non-numeric value 'oops'" in summary and "(first: " in summary
    assert "failed, 1 item: " in summary and "f.csv" in summary
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "3 of 6 pool items failed" in warnings[0] and "errors.csv" in warnings[0]
    assert "Traceback" not in result.stderr
    quiet = run(folder, "--model", f"{scorers}:make", "--window-ms", 500, "--channels", "ax", "--out", out,
                "--overwrite", "-q")  # fmt: skip
    assert quiet.returncode == 0 and quiet.stdout == ""
    assert quiet.stderr.startswith("warning: 3 of 6 pool items failed and were left out (2 as ")


def test_a_run_with_no_candidates_warns(pool, tmp_path):
    folder, scorers = pool
    result = run(folder, "--model", f"{scorers}:make", "--window-ms", 500, "--min-score", 0.95, "--out",
                 tmp_path / "m", "-q")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        "warning: --min-score 0.95: no window scored at least it (best 0.900), so there are no candidates; lower it"
    ]


def test_excluding_groups_of_a_dataset_without_groups_from_a_pool_without_groups_warns(pool, tmp_path):
    from hardneg import InputOptions, SamplingConfig, build_dataset

    folder, scorers = pool
    logs = tmp_path / "logs"
    logs.mkdir()
    for name in ("s1", "s2"):
        x = np.sin(np.arange(3000) / 7.0)
        pd.DataFrame({"t_ms": np.arange(3000) * 10.0, "ax": x}).to_csv(logs / f"{name}.csv", index=False)
    events = tmp_path / "events.csv"
    events.write_text("recording,t_ms\ns1,10000\ns2,12000\n")
    build_dataset(sorted(logs.glob("*.csv")), tmp_path / "ds", inputs=InputOptions(events=events),
                  config=SamplingConfig(neg_mult=1))  # fmt: skip
    base = [folder, "--model", f"{scorers}:make", "--window-ms", 500, "-q"]
    result = run(*base, "--exclude-groups-from", tmp_path / "ds", "--out", tmp_path / "m1")
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith("warning: --exclude-groups-from ")
    assert "left out no pool item, as the pool has no groups" in result.stderr
    # the pool has groups now (every item in group g), the dataset still has none
    groups = tmp_path / "groups.csv"
    groups.write_text("recording,group\na,g\nb,g\nc,g\n")
    grouped = run(*base, "--groups", groups, "--exclude-groups-from", tmp_path / "ds", "--out", tmp_path / "m2")
    assert grouped.returncode == 0, grouped.stderr
    assert "left out no pool item, as the dataset has no groups" in grouped.stderr
    # both without groups but sharing an item: something was left out, nothing to warn about
    pd.DataFrame({"t_ms": np.arange(1000) * 10.0, "ax": np.zeros(1000)}).to_csv(folder / "s1.csv", index=False)
    shared = run(*base, "--exclude-groups-from", tmp_path / "ds", "--out", tmp_path / "m3")
    assert shared.returncode == 0 and shared.stderr == "", shared.stderr


def test_the_folder_of_a_run_where_every_item_failed_is_left_reusable(pool, tmp_path):
    folder, scorers = pool
    out = tmp_path / "mined"
    error_line(run(folder, "--model", f"{scorers}:wrong_shape", "--window-ms", 500, "--out", out))
    assert sorted(path.name for path in out.iterdir()) == ["mine.json", "shards"]
    assert not any(Path(out, "shards").iterdir())


INTERRUPTING = textwrap.dedent(
    """
    import os
    import signal

    import numpy as np

    CALLS = {"n": 0}

    def make():
        stop_at = int(os.environ["HARDNEG_TEST_CTRL_C_AT"])
        # as in an interactive shell: a test runner may have left SIGINT ignored, and children inherit that
        try:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        except ValueError:  # not the main thread: the inherited handling stays
            pass

        def score(batch):
            CALLS["n"] += 1
            if CALLS["n"] == stop_at:
                os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C, while this item is being scored
            return np.abs(batch).mean(axis=(1, 2))

        return score
    """
)


@pytest.mark.parametrize("stop_at", [3, 1])
def test_ctrl_c_says_what_was_kept_and_resume_finishes_the_same_files(pool, tmp_path, monkeypatch, stop_at):
    folder, _ = pool
    (tmp_path / "interrupting.py").write_text(INTERRUPTING)
    whole, stopped = tmp_path / "whole", tmp_path / "stopped"
    args = [folder, "--model", f"{tmp_path / 'interrupting.py'}:make", "--window-ms", 500, "-q"]
    monkeypatch.setenv("HARDNEG_TEST_CTRL_C_AT", "1000000")
    assert run(*args, "--out", whole).returncode == 0
    monkeypatch.setenv("HARDNEG_TEST_CTRL_C_AT", str(stop_at))
    result = run(*args, "--out", stopped)
    assert result.returncode == 130, result.stderr
    assert "Traceback" not in result.stderr and "nothing was written" not in result.stderr
    if stop_at == 3:  # one small batch per item: two items were scored before the third call
        assert result.stderr == (
            f"interrupted; 2 of 3 pool items were finished and are kept in {stopped / 'shards'}; "
            "run the same command with --resume to continue\n"
        )
        assert len(list((stopped / "shards").glob("*.parquet"))) == 2
        again = [*args, "--out", stopped, "--resume"]
    else:
        assert (
            result.stderr
            == f"interrupted before any pool item was finished; run the same command again to start {stopped}\n"
        )
        again = [*args, "--out", stopped]
    monkeypatch.setenv("HARDNEG_TEST_CTRL_C_AT", "1000000")
    finished = run(*again)
    assert finished.returncode == 0, finished.stderr
    for name in ("candidates.parquet", "items.parquet", "errors.csv", "stats.json", "tiers/conf_min_0.50.csv"):
        assert (whole / name).read_bytes() == (stopped / name).read_bytes(), name
