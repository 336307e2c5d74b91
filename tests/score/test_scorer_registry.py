"""Every registered scorer kind keeps the contract: a name, what it applies to, and a minimal instance that scores.

In the style of imbalanced-learn's ``test_common.py``: the checks loop over the
registry, so a new kind is checked as soon as it is registered, and one without
an example below fails :func:`test_every_kind_has_an_example`.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hardneg._schema import SCORED_WINDOW_COLUMNS
from hardneg.errors import InputError
from hardneg.score import BUILTIN_SCORERS, SCORER_KINDS, PoolItem, Scorer, load_scorer, register_scorer

N, CHANNELS, SAMPLES = 5, 2, 16


def _batch() -> np.ndarray:
    return np.random.default_rng(0).normal(0.0, 1.0, (N, CHANNELS, SAMPLES)).astype(np.float32)


def _onnx(tmp_path: Path) -> str:
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Mul", ["x", "x"], ["sq"]),
         helper.make_node("ReduceMean", ["sq"], ["mean"], axes=[1, 2], keepdims=0),
         helper.make_node("Sigmoid", ["mean"], ["y"])],
        "energy",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", CHANNELS, SAMPLES])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N"])],
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 9  # an IR version every onnxruntime of the last years loads
    path = tmp_path / "energy.onnx"
    onnx.save(model, str(path))
    return str(path)


def _python(tmp_path: Path) -> str:
    path = tmp_path / "energy_scorer.py"
    path.write_text(
        textwrap.dedent(
            """
            import numpy as np

            def make():
                return lambda batch: 1.0 / (1.0 + np.exp(-np.mean(np.asarray(batch, np.float64) ** 2, axis=(1, 2))))
            """
        )
    )
    return f"{path}:make"


def _sklearn(tmp_path: Path) -> str:
    import joblib
    from sklearn.linear_model import LogisticRegression

    from hardneg.features import compute_features

    windows = np.random.default_rng(1).normal(size=(40, CHANNELS, SAMPLES)).astype(np.float32)
    windows[:20] *= 3
    features, _ = compute_features(windows, "summary")
    folder = tmp_path / "model"
    folder.mkdir()
    joblib.dump(LogisticRegression().fit(features, np.repeat([1, 0], 20)), folder / "model.joblib")
    card = {"features": "summary", "channels": ["a", "b"], "samples_per_window": SAMPLES, "sample_rate_hz": None}
    (folder / "card.json").write_text(json.dumps(card))
    return str(folder)


def _table(tmp_path: Path) -> str:
    path = tmp_path / "scores.csv"
    pd.DataFrame({"item": ["a", "a", "b"], "start_ms": [0.0, 500.0, 0.0], "end_ms": [1000.0, 1500.0, 1000.0],
                  "score": [0.2, 0.9, 0.5]}).to_csv(path, index=False)  # fmt: skip
    return str(path)


#: kind name -> a function of a temporary folder that returns the spec of a minimal scorer of that kind
EXAMPLES = {"onnx": _onnx, "python": _python, "sklearn": _sklearn, "table": _table}

KINDS = list(SCORER_KINDS)


def test_registry_holds_the_builtin_kinds_in_order():
    assert tuple(KINDS[: len(BUILTIN_SCORERS)]) == BUILTIN_SCORERS


def test_every_kind_has_an_example():
    missing = sorted(set(KINDS) - set(EXAMPLES))
    assert not missing, f"add a minimal example for scorer kind(s) {missing} to EXAMPLES"


@pytest.mark.parametrize("name", KINDS)
def test_every_kind_has_a_name_and_says_what_it_applies_to(name):
    kind = SCORER_KINDS[name]
    assert issubclass(kind, Scorer) and kind.kind == name
    assert kind.option in ("model", "scores") and isinstance(kind.reads_windows, bool) and kind.what
    assert kind.applies_to("") is False  # an empty spec names nothing
    assert callable(kind.from_spec)


@pytest.mark.parametrize("name", KINDS)
def test_a_minimal_instance_scores_a_tiny_input(name, tmp_path):
    kind = SCORER_KINDS[name]
    spec = EXAMPLES[name](tmp_path)
    assert kind.applies_to(spec)
    # the kind a spec goes to is the first in registry order that applies: this one
    assert next(k for k in SCORER_KINDS.values() if k.applies_to(spec)) is kind
    scorer = kind.from_spec(spec, trust_model=True, logits=False, device="cpu", batch_size=2)
    assert isinstance(scorer, Scorer) and scorer.kind == name
    if scorer.reads_windows:
        scores = scorer(_batch())
        assert scores.shape == (N,) and scores.dtype == np.float64
        assert ((scores >= 0) & (scores <= 1)).all()
        assert scorer(_batch()[:0]).shape == (0,)
        assert type(load_scorer(spec, trust_model=True)) is kind
    else:
        windows = scorer.lookup(PoolItem("a", "g", Path("a.csv"), "sensor"))
        assert tuple(windows.columns) == SCORED_WINDOW_COLUMNS
        assert windows["group"].tolist() == ["g", "g"] and windows["score"].dtype == np.float64
        with pytest.raises(InputError, match=f"--{kind.option}"):
            load_scorer(spec)  # pointed to the option that takes it


def test_a_second_kind_with_a_taken_name_is_refused():
    class Impostor(Scorer):
        kind = KINDS[0]

    with pytest.raises(ValueError, match="already registered"):
        register_scorer(Impostor)
