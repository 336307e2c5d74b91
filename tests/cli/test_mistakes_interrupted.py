"""Ctrl-C says, per command, what was kept and how to continue (never "nothing was written" where something was).

The bench run is interrupted for real (a model that sends SIGINT to its own process while fitting) and then
resumed; the other commands get a KeyboardInterrupt where they start working, in process.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from tests.helpers.cli import run_in_process
from tests.helpers.mistakes import build_base

INTERRUPTING = textwrap.dedent(
    """
    import os
    import signal

    from pathlib import Path

    from sklearn.linear_model import LogisticRegression


    class Interrupting(LogisticRegression):
        def fit(self, X, y, sample_weight=None):
            # counted in a file: the bench may import this module afresh for each part
            counter = Path(os.environ["HARDNEG_TEST_FITS"])
            fits = int(counter.read_text()) + 1 if counter.exists() else 1
            counter.write_text(str(fits))
            if fits == int(os.environ["HARDNEG_TEST_CTRL_C_AT"]):
                os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while this part is being fitted
            return super().fit(X, y, sample_weight=sample_weight)


    def make():
        # as in an interactive shell: a test runner may have left SIGINT ignored, and children inherit that
        try:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        except ValueError:
            pass
        return Interrupting(max_iter=200)
    """
)


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return build_base(tmp_path_factory.getbasetemp() / "mistakes-base")


def bench(base, tmp_path, stop_at: int, quiet: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ, HARDNEG_TEST_CTRL_C_AT=str(stop_at), HARDNEG_TEST_FITS=str(tmp_path / "fits"))
    args = ["bench", base.dataset, "--out", tmp_path / "bench", "--models", f"{tmp_path / 'interrupting.py'}:make",
            "--features", "summary", "--splits", "random", "--seeds", "2", "--jobs", "1"] + (["-q"] if quiet else [])  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "hardneg", *map(str, args)],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip


def test_ctrl_c_in_bench_says_what_was_kept_and_a_rerun_resumes_it(base, tmp_path):
    (tmp_path / "interrupting.py").write_text(INTERRUPTING)
    stopped = bench(base, tmp_path, stop_at=2)  # one (model, features, split, seed) part is done
    assert stopped.returncode == 130, stopped.stderr
    assert "Traceback" not in stopped.stderr and "nothing was written" not in stopped.stderr
    done = [path for path in (tmp_path / "bench" / "parts").glob("*.parquet") if ".scores." not in path.name]
    n = len(done)  # the model's first seed, and the baselines fitted before its second
    assert n >= 1 and all(path.with_suffix(".scores.parquet").is_file() for path in done)
    # the last line (scikit-learn may warn above it, e.g. a logistic regression that did not converge)
    assert stopped.stderr.splitlines()[-1] + "\n" == (
        f"interrupted; {n} finished parts (model x features x split x seed) kept in {tmp_path / 'bench' / 'parts'}; "
        "run the same command again to resume where it stopped (the finished parts are not fitted again)\n"
    )
    finished = bench(base, tmp_path, stop_at=10**6, quiet=False)
    assert finished.returncode == 0, finished.stderr
    assert f"({n} resumed)" in " ".join(finished.stdout.split())


def test_ctrl_c_in_bench_before_any_part(base, tmp_path):
    (tmp_path / "interrupting.py").write_text(INTERRUPTING)
    stopped = bench(base, tmp_path, stop_at=1)
    assert stopped.returncode == 130, stopped.stderr
    assert stopped.stderr == "interrupted before any combination was finished; run the same command again to start\n"


def _interrupt(*args, **kwargs):
    raise KeyboardInterrupt


@pytest.mark.parametrize(
    ("command", "target", "kept"),
    [
        ("sample", "hardneg.build.build_dataset", "no dataset was written"),
        ("split", "hardneg.audit.audit_split", "the split is saved whole or not at all"),
        ("audit", "hardneg.audit.audit_split", "no audit file was written"),
        ("train", "hardneg.bench.train_model", "no model was written"),
        ("predict", "hardneg.bench.predict", "no predictions were written"),
        ("demo", "hardneg.demo.run_demo", "what the demo made so far stays in --out"),
        ("mine", "hardneg.mine.mine", "before any pool item was scored"),  # once mining, mine counts what it kept
    ],
)
def test_ctrl_c_says_what_each_command_kept(base, tmp_path, monkeypatch, command, target, kept):
    from hardneg.cli.main import INTERRUPTED

    if command == "split":  # the split is saved in the dataset: not in the shared one
        shutil.copytree(base.dataset, tmp_path / "dataset")
    module, name = target.rsplit(".", 1)
    monkeypatch.setattr(f"{module}.{name}", _interrupt)
    args = {
        "sample": [*base.logs[:2], "--events", base.events, "--out", tmp_path / "out"],
        "split": [tmp_path / "dataset", "--name", "ctrl-c"],
        "audit": [base.dataset, "--split", "hold"],
        "train": [base.dataset, "--out", tmp_path / "model"],
        "predict": [base.model, base.dataset, "--trust-model", "--out", tmp_path / "p.parquet"],
        "demo": ["--out", tmp_path / "demo"],
        "mine": [base.pool, "--model", base.model, "--trust-model", "--out", tmp_path / "mined"],
    }[command]
    result = run_in_process(command, *args, "-q")
    assert result.returncode == 130
    assert result.stderr == INTERRUPTED[command] + "\n"
    assert kept in result.stderr and "Traceback" not in result.stderr
    if command == "split":  # stopped in its audit: the split was saved, and --overwrite makes it again, audited
        monkeypatch.undo()
        assert run_in_process(command, *args, "-q").returncode == 2
        assert run_in_process(command, *args, "-q", "--overwrite").returncode == 0
        assert (tmp_path / "dataset" / "splits" / "ctrl-c.audit.json").is_file()
