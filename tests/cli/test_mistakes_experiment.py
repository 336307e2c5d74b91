"""User mistakes with ``hardneg experiment``: each exits 2 with one ``error:`` line naming the file and the entry
(or the option), no traceback; a run that partly fails exits 0 with a ``warning:`` line per failed run."""

from __future__ import annotations

import pytest

from tests.helpers.cli import assert_refused, run_hardneg
from tests.helpers.synth import SMALL_EXPERIMENT, grouped_dataset


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("experiment-mistakes")
    grouped_dataset(root / "ds")
    return root


GOOD = SMALL_EXPERIMENT


def run(dataset, text, *options, name="x.yaml"):
    (dataset / name).write_text(text)
    return run_hardneg("experiment", dataset / name, "--out", dataset / f"out-{name}", "-q", *options)


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        (GOOD.replace("seeds: 2", "seed: 2"), ["x.yaml: seed: unknown key"]),
        (GOOD.replace("dataset: ds", "dataset: nowhere"), ["x.yaml: dataset:", "no index.parquet"]),
        (GOOD.replace("fraction: 0.5", "fraction: 1.5"), ["arms.positives.half.fraction"]),
        (GOOD.replace("{positives: all}", "{negatives: none}"), ["baseline.negatives", "not an axis"]),
        (GOOD.replace("split: group", "split: groups"), ["eval.iid.split", "'groups'"]),
        (GOOD + 'criteria: ["iid.fa_per_hour <= 2"]\n', ["criteria[0]", "fa_per_hour"]),
        (GOOD.replace("half: {fraction: 0.5}", "half: {drop: [c]}"), ["arms.positives.half.drop", "'c'"]),
        (GOOD + "arms: [\n", ["x.yaml: line", "not valid YAML"]),
        (
            GOOD.replace("model: logreg", 'command: "python train.py --out {run_dir}"').replace(
                "{split: group}", "{split: group, tta: {clips: 3}}"
            ),
            ["x.yaml: eval.iid.tta", "cannot with a command"],
        ),
    ],
)
def test_a_bad_experiment_file_is_one_error_line(dataset, text, needles):
    assert_refused(run(dataset, text), *needles)


def test_bad_options_and_missing_file(dataset):
    assert_refused(run_hardneg("experiment", dataset / "absent.yaml", "--out", dataset / "o", "-q"), "absent.yaml")
    assert_refused(run(dataset, GOOD, "--engine", "spark"), "--engine")
    assert_refused(run(dataset, GOOD, "--ray-address", "auto"), "--ray-address", "--engine ray")


def test_every_run_failing_is_exit_2_and_a_failed_run_a_warning(dataset):
    (dataset / "failing.py").write_text(
        "from sklearn.linear_model import LogisticRegression\n"
        "class NoGPU(LogisticRegression):\n    def fit(self, x, y):\n        raise RuntimeError('no GPU here')\n"
        "def always(seed):\n    return NoGPU()\n"
        "def on_one(seed):\n    if seed == 1:\n        raise RuntimeError('out of memory')\n"
        "    return LogisticRegression()\n"
        "def fails_at_once(seed):\n    raise RuntimeError('bad factory')\n"
    )
    refused = assert_refused(run(dataset, GOOD.replace("model: logreg", "model: failing.py:always"), name="a.yaml"),
                             "every run failed", "no GPU here")  # fmt: skip
    assert "4 of 4" in refused
    # a factory that cannot even make its estimator is refused before any run
    assert_refused(run(dataset, GOOD.replace("model: logreg", "model: failing.py:fails_at_once"), name="c.yaml"),
                   "c.yaml: model:", "bad factory")  # fmt: skip
    partly = run(dataset, GOOD.replace("model: logreg", "model: failing.py:on_one"), name="b.yaml")
    assert partly.returncode == 0, partly.stderr
    warnings = [line for line in partly.stderr.splitlines() if line.startswith("warning:")]
    assert any("run all/1 failed" in line and "out of memory" in line for line in warnings), partly.stderr
    assert any("incomplete grid" in line for line in warnings), partly.stderr
