"""Scorers: ONNX, Python factory, scikit-learn and precomputed tables, checked against numpy brute force."""

from __future__ import annotations

import pickle
import textwrap
import uuid

import numpy as np
import pandas as pd
import pytest

from hardneg.errors import InputError
from hardneg.score import (
    BaseScorer,
    ONNXScorer,
    PythonScorer,
    Scorer,
    SklearnScorer,
    TableScores,
    load_scorer,
)

try:  # onnx and onnxruntime are optional: without them only the ONNX tests are skipped
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper
except ImportError:
    onnx = ort = TensorProto = helper = None

needs_onnx = pytest.mark.skipif(ort is None, reason="needs onnx and onnxruntime")


def _save(model, path):
    # onnx 1.23 writes IR version 14, which onnxruntime 1.32 refuses; 9 with opset 17 loads everywhere.
    model.ir_version = 9
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return str(path)


def energy_onnx(path, *, sigmoid=True, batch_dim="N", channels=None, samples=None, keep_dim=False):
    """(N, C, T) float -> sigmoid(mean of squares over C and T), the same as :func:`energy_reference`."""
    nodes = [
        helper.make_node("Mul", ["x", "x"], ["sq"]),
        helper.make_node("ReduceMean", ["sq"], ["mean"], axes=[1, 2], keepdims=1 if keep_dim else 0),
    ]
    last = "mean"
    if keep_dim:
        nodes.append(helper.make_node("Squeeze", ["mean", "axes2"], ["mean1"]))  # (N, 1, 1) -> (N, 1)
        last = "mean1"
    if sigmoid:
        nodes.append(helper.make_node("Sigmoid", [last], ["y"]))
    else:
        nodes.append(helper.make_node("Identity", [last], ["y"]))
    graph = helper.make_graph(
        nodes,
        "energy",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch_dim, channels, samples])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch_dim, 1] if keep_dim else [batch_dim])],
        initializer=[helper.make_tensor("axes2", TensorProto.INT64, [1], [2])] if keep_dim else [],
    )
    return _save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)


def brightness_onnx(path, *, input_type="float"):
    """(N, H, W, 3) -> mean pixel / 255; with a uint8 input the model casts to float itself."""
    input_type = TensorProto.FLOAT if input_type == "float" else TensorProto.UINT8
    nodes, source = [], "img"
    if input_type != TensorProto.FLOAT:
        nodes.append(helper.make_node("Cast", ["img"], ["imgf"], to=TensorProto.FLOAT))
        source = "imgf"
    nodes += [
        helper.make_node("ReduceMean", [source], ["mean"], axes=[1, 2, 3], keepdims=0),
        helper.make_node("Div", ["mean", "scale"], ["score"]),
    ]
    graph = helper.make_graph(
        nodes,
        "brightness",
        [helper.make_tensor_value_info("img", input_type, ["N", "H", "W", 3])],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, ["N"])],
        initializer=[helper.make_tensor("scale", TensorProto.FLOAT, [], [255.0])],
    )
    return _save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)


def energy_reference(batch):
    energy = np.mean(np.asarray(batch, dtype=np.float64) ** 2, axis=(1, 2))
    return 1.0 / (1.0 + np.exp(-energy))


FACTORY_SOURCE = textwrap.dedent(
    """
    import numpy as np

    def make():
        def score(batch):
            energy = np.mean(np.asarray(batch, dtype=np.float64) ** 2, axis=(1, 2))
            return 1.0 / (1.0 + np.exp(-energy))
        return score

    def make_logits():
        return lambda batch: np.mean(np.asarray(batch, dtype=np.float64) ** 2, axis=(1, 2))

    def make_column():
        return lambda batch: np.full((len(batch), 1), 0.25)

    def make_wrong_shape():
        return lambda batch: np.zeros((len(batch), 2))

    def make_scalar():
        return lambda batch: 0.5

    def make_text():
        return lambda batch: ["high"] * len(batch)

    def make_nan():
        return lambda batch: np.full(len(batch), np.nan)

    def make_raises():
        def score(batch):
            raise RuntimeError("out of memory")
        return score

    def make_not_callable():
        return 42

    def broken_factory():
        raise ValueError("weights missing")

    not_a_function = 3
    """
)


@pytest.fixture
def factory_file(tmp_path):
    path = tmp_path / "energy_scorer.py"
    path.write_text(FACTORY_SOURCE)
    return path


@pytest.fixture
def energy_model(tmp_path):
    if ort is None:
        pytest.skip("needs onnx and onnxruntime")
    return energy_onnx(tmp_path / "energy.onnx")


def _batch(rng, n, channels=3, samples=40):
    return rng.normal(0.0, 1.5, size=(n, channels, samples)).astype(np.float32)


# --- ONNX and Python factory agree -----------------------------------------------------------------------------------


def test_onnx_and_python_factory_agree_with_brute_force(energy_model, factory_file):
    rng = np.random.default_rng(0)
    onnx_scorer = load_scorer(energy_model)
    python_scorer = load_scorer(f"{factory_file}:make")
    assert (onnx_scorer.kind, python_scorer.kind) == ("onnx", "python")
    assert isinstance(onnx_scorer, Scorer) and isinstance(python_scorer, Scorer)
    for n, channels, samples in [(1, 1, 1), (7, 3, 40), (300, 6, 50)]:
        batch = _batch(rng, n, channels, samples)
        a, b = onnx_scorer(batch), python_scorer(batch)
        assert a.shape == b.shape == (n,)
        assert a.dtype == b.dtype == np.float64
        np.testing.assert_allclose(a, b, atol=1e-5, rtol=0)
        np.testing.assert_allclose(b, energy_reference(batch), atol=1e-12, rtol=0)
        assert ((a >= 0) & (a <= 1)).all()


@pytest.mark.parametrize("kind", ["onnx", "python"])
def test_scores_do_not_depend_on_batch_size(kind, energy_model, factory_file):
    spec = energy_model if kind == "onnx" else f"{factory_file}:make"
    batch = _batch(np.random.default_rng(1), 37)
    reference = load_scorer(spec, batch_size=1000)(batch)
    for batch_size in (1, 5, 36, 37, 38):
        scorer = load_scorer(spec, batch_size=batch_size)
        np.testing.assert_array_equal(scorer(batch), reference)
        assert scorer(batch[:1]).shape == (1,)
        np.testing.assert_array_equal(scorer(batch[:1]), reference[:1])
        empty = scorer(batch[:0])
        assert empty.shape == (0,) and empty.dtype == np.float64


def test_python_scorer_sees_slices_of_at_most_batch_size(tmp_path):
    path = tmp_path / "counting.py"
    path.write_text(
        "SIZES = []\n"
        "def make():\n"
        "    def score(batch):\n"
        "        SIZES.append(len(batch))\n"
        "        return batch.mean(axis=(1, 2)) * 0 + 0.5\n"
        "    return score\n"
    )
    scorer = load_scorer(f"{path}:make", batch_size=4)
    scorer(np.zeros((10, 1, 3), dtype=np.float32))
    scorer(np.zeros((0, 1, 3), dtype=np.float32))  # an empty batch never reaches the model
    import sys

    module = sys.modules[scorer.function.__module__]
    assert module.SIZES == [4, 4, 2]


@needs_onnx
def test_onnx_output_with_unit_axis_is_squeezed(tmp_path):
    model = energy_onnx(tmp_path / "column.onnx", keep_dim=True)
    batch = _batch(np.random.default_rng(2), 9)
    np.testing.assert_allclose(load_scorer(model)(batch), energy_reference(batch), atol=1e-5)


@needs_onnx
def test_onnx_fixed_batch_dimension_is_fed_padded_slices(tmp_path):
    model = energy_onnx(tmp_path / "fixed.onnx", batch_dim=4, channels=3, samples=40)
    batch = _batch(np.random.default_rng(3), 10)
    scorer = load_scorer(model, batch_size=256)
    assert scorer.fixed_batch == 4
    np.testing.assert_allclose(scorer(batch), energy_reference(batch), atol=1e-5)
    np.testing.assert_allclose(scorer(batch[:1]), energy_reference(batch[:1]), atol=1e-5)


@needs_onnx
def test_onnx_input_shape_mismatch_is_refused(tmp_path):
    model = energy_onnx(tmp_path / "fixed.onnx", channels=3, samples=40)
    scorer = load_scorer(model)
    with pytest.raises(InputError, match=r"fixed\.onnx.*takes shape \(\?, 3, 40\).*\(N, 2, 40\)"):
        scorer(np.zeros((5, 2, 40), dtype=np.float32))
    with pytest.raises(InputError, match="takes shape"):
        scorer(np.zeros((5, 3), dtype=np.float32))


# --- images ------------------------------------------------------------------------------------------------------------


@needs_onnx
@pytest.mark.parametrize("input_type", ["float", "uint8"])
def test_onnx_image_model_on_uint8_frames(tmp_path, input_type):
    model = brightness_onnx(tmp_path / "bright.onnx", input_type=input_type)
    frames = np.random.default_rng(4).integers(0, 256, size=(5, 8, 6, 3), dtype=np.uint8)
    frames[0] = 255
    frames[1] = 0
    scorer = load_scorer(model, batch_size=2)
    assert scorer.input_dtype == (np.float32 if input_type == "float" else np.uint8)
    expected = frames.astype(np.float64).mean(axis=(1, 2, 3)) / 255.0
    scores = scorer(frames)
    np.testing.assert_allclose(scores, expected, atol=1e-6)
    assert scores[0] == 1.0 and scores[1] == 0.0


# --- logits and range ------------------------------------------------------------------------------------------------


@needs_onnx
def test_logits_applies_a_sigmoid(tmp_path, factory_file):
    batch = _batch(np.random.default_rng(5), 20)
    logit_model = energy_onnx(tmp_path / "logits.onnx", sigmoid=False)
    expected = energy_reference(batch)
    np.testing.assert_allclose(load_scorer(logit_model, logits=True)(batch), expected, atol=1e-5)
    np.testing.assert_allclose(load_scorer(f"{factory_file}:make_logits", logits=True)(batch), expected, atol=1e-12)


def test_logits_sigmoid_is_stable_for_large_values(tmp_path):
    path = tmp_path / "extreme.py"
    path.write_text("import numpy as np\ndef make():\n    return lambda b: np.array([-1e4, -30.0, 0.0, 30.0, 1e4])\n")
    scores = load_scorer(f"{path}:make", logits=True)(np.zeros((5, 1, 1), dtype=np.float32))
    np.testing.assert_allclose(scores, [0.0, 1 / (1 + np.exp(30)), 0.5, 1 / (1 + np.exp(-30)), 1.0])
    assert np.isfinite(scores).all()


@needs_onnx
def test_scores_outside_unit_interval_without_logits_are_refused(tmp_path, factory_file):
    batch = _batch(np.random.default_rng(6), 20) * 3  # mean of squares well above 1
    logit_model = energy_onnx(tmp_path / "logits.onnx", sigmoid=False)
    with pytest.raises(InputError, match=r"logits\.onnx: scores outside \[0, 1\].*--logits"):
        load_scorer(logit_model)(batch)
    with pytest.raises(InputError, match=r"make_logits: scores outside \[0, 1\].*--logits"):
        load_scorer(f"{factory_file}:make_logits")(batch)


def test_nan_scores_are_refused(factory_file):
    with pytest.raises(InputError, match="NaN"):
        load_scorer(f"{factory_file}:make_nan")(np.zeros((3, 1, 4), dtype=np.float32))
    with pytest.raises(InputError, match="NaN"):
        load_scorer(f"{factory_file}:make_nan", logits=True)(np.zeros((3, 1, 4), dtype=np.float32))


# --- Python factories ------------------------------------------------------------------------------------------------


def test_factory_from_package_module(tmp_path, monkeypatch):
    package = f"scorerpkg_{uuid.uuid4().hex[:8]}"
    (tmp_path / package).mkdir()
    (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / package / "energy.py").write_text(FACTORY_SOURCE)
    monkeypatch.syspath_prepend(str(tmp_path))
    scorer = load_scorer(f"{package}.energy:make")
    assert isinstance(scorer, PythonScorer) and scorer.kind == "python"
    batch = _batch(np.random.default_rng(7), 11)
    np.testing.assert_allclose(scorer(batch), energy_reference(batch), atol=1e-12)


def test_factory_file_can_import_its_neighbours(tmp_path):
    (tmp_path / f"helper_{uuid.uuid4().hex[:6]}.py").write_text("")  # unused; the neighbour below is what counts
    neighbour = f"weights_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{neighbour}.py").write_text("SCALE = 0.5\n")
    (tmp_path / "uses_neighbour.py").write_text(
        f"import numpy as np\nimport {neighbour}\ndef make():\n"
        f"    return lambda b: np.full(len(b), {neighbour}.SCALE)\n"
    )
    assert load_scorer(f"{tmp_path / 'uses_neighbour.py'}:make")(np.zeros((2, 1, 1))).tolist() == [0.5, 0.5]


def test_factory_column_output_is_squeezed(factory_file):
    scores = load_scorer(f"{factory_file}:make_column")(np.zeros((4, 2, 3), dtype=np.float32))
    assert scores.tolist() == [0.25] * 4


@pytest.mark.parametrize(
    "suffix, message",
    [
        ("make_wrong_shape", r"returned shape \(4, 2\) for a batch of 4 windows"),
        ("make_scalar", r"returned shape \(\) for a batch of 4 windows"),
        ("make_text", "not an array of numbers"),
        ("make_raises", "RuntimeError: out of memory"),
    ],
)
def test_factory_bad_output_names_the_spec(factory_file, suffix, message):
    spec = f"{factory_file}:{suffix}"
    scorer = load_scorer(spec)
    with pytest.raises(InputError, match=message) as caught:
        scorer(np.zeros((4, 2, 3), dtype=np.float32))
    assert spec in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize(
    "spec, message",
    [
        ("{dir}/missing.py:make", "not found"),
        ("{file}:no_such_function", "has no attribute 'no_such_function'"),
        ("{file}:not_a_function", "is a int, not a function"),
        ("{file}:make_not_callable", "returned a int, not a callable"),
        ("{file}:broken_factory", r"broken_factory\(\) raised ValueError: weights missing"),
        ("{file}:", "expected path/to/file.py:function"),
        ("{file}", "name the factory function"),
        ("no_such_package_hardneg.mod:make", "module no_such_package_hardneg.mod not found"),
        ("{dir}/syntax_error.py:make", "importing .* raised SyntaxError"),
    ],
)
def test_bad_python_specs_are_input_errors_naming_the_spec(tmp_path, factory_file, spec, message):
    (tmp_path / "syntax_error.py").write_text("def make(:\n")
    spec = spec.format(dir=tmp_path, file=factory_file)
    with pytest.raises(InputError, match=message) as caught:
        load_scorer(spec)
    assert spec in str(caught.value) and "\n" not in str(caught.value)


def test_two_factory_files_with_the_same_name_do_not_collide(tmp_path):
    for name, value in (("a", 0.1), ("b", 0.9)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "scorer.py").write_text(
            f"import numpy as np\ndef make():\n    return lambda b: np.full(len(b), {value})\n"
        )
    batch = np.zeros((1, 1, 1))
    first, second = (
        load_scorer(f"{tmp_path / 'a' / 'scorer.py'}:make"),
        load_scorer(f"{tmp_path / 'b' / 'scorer.py'}:make"),
    )
    assert (first(batch)[0], second(batch)[0]) == (0.1, 0.9)


# --- other specs, devices, options -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec, message",
    [
        pytest.param("{dir}/missing.onnx", "missing.onnx: no such file", marks=needs_onnx),
        pytest.param("{dir}/garbage.onnx", "garbage.onnx: onnxruntime cannot load it", marks=needs_onnx),
        ("{dir}/scores.csv", "pass it as --scores"),
        ("{dir}/nothing_here", "no such file or folder"),
        ("{dir}/empty_folder", r"not a hardneg model \(model\.joblib missing\)"),
        ("", "model is empty"),
    ],
)
def test_bad_model_specs(tmp_path, spec, message):
    (tmp_path / "garbage.onnx").write_bytes(b"not a protobuf at all")
    (tmp_path / "empty_folder").mkdir()
    with pytest.raises(InputError, match=message):
        load_scorer(spec.format(dir=tmp_path))


@needs_onnx
def test_onnx_model_with_two_inputs_is_refused(tmp_path):
    graph = helper.make_graph(
        [helper.make_node("Add", ["a", "b"], ["y"])],
        "two",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["N"]) for n in ("a", "b")],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N"])],
    )
    path = _save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), tmp_path / "two.onnx")
    with pytest.raises(InputError, match="has 2 inputs"):
        load_scorer(path)


def test_cuda_without_cuda_provider_is_a_clear_error(energy_model, monkeypatch):
    monkeypatch.setattr(ort, "get_available_providers", lambda: ["CPUExecutionProvider"])
    with pytest.raises(
        InputError, match=r"device cuda: onnxruntime's CUDAExecutionProvider is not available.*--device cpu"
    ):
        load_scorer(energy_model, device="cuda")


@pytest.mark.skipif(
    ort is not None and "CUDAExecutionProvider" in ort.get_available_providers(), reason="this onnxruntime has CUDA"
)
def test_cuda_on_this_machine_is_refused(energy_model):
    with pytest.raises(InputError, match="CUDAExecutionProvider is not available"):
        load_scorer(energy_model, device="cuda")


def test_cpu_provider_is_used(energy_model):
    assert load_scorer(energy_model).session.get_providers() == ["CPUExecutionProvider"]


@pytest.mark.parametrize("device", ["gpu", "cuda:x", "", "cpu:0"])
def test_bad_device(factory_file, device):
    with pytest.raises(InputError, match="device must be"):
        load_scorer(f"{factory_file}:make", device=device)


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, True])
def test_bad_batch_size(factory_file, batch_size):
    with pytest.raises(InputError, match="batch_size must be"):
        load_scorer(f"{factory_file}:make", batch_size=batch_size)


def test_onnx_without_onnxruntime_says_what_to_install(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # makes `import onnxruntime` raise ImportError
    (tmp_path / "model.onnx").write_bytes(b"")
    with pytest.raises(InputError, match="model.onnx: ONNX models need onnxruntime; pip install onnxruntime"):
        load_scorer(str(tmp_path / "model.onnx"))


def test_scorers_survive_pickling(energy_model, factory_file):
    batch = _batch(np.random.default_rng(8), 6)
    for spec in (energy_model, f"{factory_file}:make"):
        scorer = load_scorer(spec, batch_size=4)
        clone = pickle.loads(pickle.dumps(scorer))
        assert type(clone) is type(scorer) and clone.batch_size == 4
        np.testing.assert_array_equal(clone(batch), scorer(batch))


# --- scikit-learn ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from hardneg.bench._train import train_model
    from hardneg.demo._run import run_demo

    root = tmp_path_factory.mktemp("sk")
    demo = run_demo(root / "demo")
    model = train_model(demo.dataset.path, root / "model", model="logreg", features="rich", seed=0)
    return demo.dataset, model.path


def test_sklearn_needs_trust(trained):
    _, model_dir = trained
    with pytest.raises(InputError, match=r"unpickles model\.joblib.*--trust-model"):
        load_scorer(str(model_dir))
    with pytest.raises(InputError, match="--trust-model"):
        load_scorer(str(model_dir / "model.joblib"))


def test_sklearn_scores_raw_windows_through_the_cards_features(trained):
    import joblib

    from hardneg.bench._train import predict
    from hardneg.features import compute_features

    dataset, model_dir = trained
    scorer = load_scorer(str(model_dir), trust_model=True, batch_size=100)
    assert isinstance(scorer, SklearnScorer) and scorer.kind == "sklearn"
    windows = np.asarray(dataset.windows, dtype=np.float32)
    scores = scorer(windows)
    estimator = joblib.load(model_dir / "model.joblib")
    features, _ = compute_features(windows, "rich", sample_rate_hz=dataset.meta["sample_rate_hz"])
    np.testing.assert_allclose(scores, estimator.predict_proba(features)[:, 1], rtol=0, atol=1e-12)
    predicted = predict(model_dir, dataset.path, trust_model=True)["score"].to_numpy()
    np.testing.assert_allclose(scores, predicted, atol=1e-6)
    assert scorer(windows[:0]).shape == (0,)


def test_sklearn_refuses_windows_of_another_shape(trained):
    _, model_dir = trained
    scorer = load_scorer(str(model_dir), trust_model=True)
    with pytest.raises(InputError, match="trained on 6 channels x 50 samples"):
        scorer(np.zeros((2, 6, 49), dtype=np.float32))
    with pytest.raises(InputError, match="trained on 6 channels x 50 samples"):
        scorer(np.zeros((2, 8, 8, 3), dtype=np.uint8))


def test_sklearn_folder_made_by_hand(tmp_path):
    import json

    import joblib
    from sklearn.linear_model import LogisticRegression

    from hardneg.features import compute_features

    rng = np.random.default_rng(9)
    windows = rng.normal(size=(60, 2, 16)).astype(np.float32)
    windows[:30] *= 3
    labels = np.repeat([1, 0], 30)
    features, _ = compute_features(windows, "summary")
    joblib.dump(LogisticRegression().fit(features, labels), tmp_path / "model.joblib")
    (tmp_path / "card.json").write_text(
        json.dumps({"features": "summary", "channels": ["a", "b"], "samples_per_window": 16, "sample_rate_hz": None})
    )
    scorer = load_scorer(str(tmp_path), trust_model=True, batch_size=7)
    expected = joblib.load(tmp_path / "model.joblib").predict_proba(features)[:, 1]
    np.testing.assert_allclose(scorer(windows), expected, atol=1e-12)
    (tmp_path / "card.json").write_text("{}")
    with pytest.raises(InputError, match="card.json is unreadable or has no 'features'"):
        load_scorer(str(tmp_path), trust_model=True)


# --- precomputed scores ----------------------------------------------------------------------------------------------


def _score_table(tmp_path, rows, name="scores.csv"):
    frame = pd.DataFrame(rows, columns=["item", "start_ms", "end_ms", "score"])
    path = tmp_path / name
    if name.endswith(".parquet"):
        frame.to_parquet(path)
    else:
        frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("name", ["scores.csv", "scores.parquet"])
def test_table_scores_lookup(tmp_path, name):
    rows = [("s2", 500, 1000, 0.9), ("001", 1000, 1500, 0.2), ("s2", 0, 500, 0.4), ("001", 0, 500, 0.7)]
    table = TableScores(_score_table(tmp_path, rows, name))
    assert table.kind == "table"
    assert table.items == ["001", "s2"] and len(table) == 4 and "001" in table
    looked = table.lookup("001")
    assert looked.columns.tolist() == ["item", "group", "start_ms", "end_ms", "score"]
    assert looked["item"].tolist() == ["001", "001"]  # an id that looks numeric stays text
    assert looked["group"].tolist() == ["001", "001"]
    assert looked["start_ms"].tolist() == [0.0, 1000.0] and looked["score"].tolist() == [0.7, 0.2]
    assert looked["start_ms"].dtype == np.float64 and looked["score"].dtype == np.float64

    class Item:
        id, group = "s2", "shooter_a"

    from_item = table.lookup(Item())
    assert from_item["group"].tolist() == ["shooter_a"] * 2 and from_item["score"].tolist() == [0.4, 0.9]
    assert table.lookup("s2", group="g")["group"].tolist() == ["g", "g"]
    with pytest.raises(InputError, match="no scores for item 'missing'"):
        table.lookup("missing")


def test_table_scores_match_brute_force_for_many_items(tmp_path):
    rng = np.random.default_rng(10)
    frame = pd.DataFrame(
        {
            "item": rng.choice([f"rec{i}" for i in range(30)], size=2000),
            "start_ms": rng.integers(0, 10**6, size=2000).astype(float),
            "score": rng.random(2000),
        }
    ).drop_duplicates(["item", "start_ms"])
    frame["end_ms"] = frame["start_ms"] + 250
    path = tmp_path / "many.parquet"
    frame.sample(frac=1.0, random_state=0).to_parquet(path)
    table = TableScores(path)
    for item, expected in frame.groupby("item"):
        expected = expected.sort_values("start_ms")
        got = table.lookup(item)
        np.testing.assert_array_equal(got["start_ms"], expected["start_ms"])
        np.testing.assert_array_equal(got["score"], expected["score"])


@pytest.mark.parametrize(
    "rows, message",
    [
        ([("a", 0, 1, 1.5)], r"score 1\.5 outside \[0, 1\].*--logits"),
        ([("a", 0, 1, 0.5), ("a", 0, 1, 0.6)], "appears more than once"),
        ([("a", 5, 1, 0.5)], "ends before it starts"),
        ([("a", 0, None, 0.5)], "missing or infinite end_ms"),
        ([("a", 0, 1, "high")], "column score holds non-numbers"),
    ],
)
def test_bad_score_tables(tmp_path, rows, message):
    with pytest.raises(InputError, match=message):
        TableScores(_score_table(tmp_path, rows))


def test_score_table_missing_columns_and_logits(tmp_path):
    path = tmp_path / "partial.csv"
    pd.DataFrame({"item": ["a"], "start_ms": [0.0], "prob": [0.5]}).to_csv(path, index=False)
    with pytest.raises(InputError, match=r"column\(s\) end_ms, score not found.*found: item, start_ms, prob"):
        TableScores(path)
    table = TableScores(_score_table(tmp_path, [("a", 0, 1, 0.0), ("a", 1, 2, 3.0)]), logits=True)
    np.testing.assert_allclose(table.lookup("a")["score"], [0.5, 1 / (1 + np.exp(-3.0))])
    with pytest.raises(InputError, match="looked up per item"):
        table(np.zeros((1, 1, 1)))
    with pytest.raises(InputError, match="not found"):
        TableScores(tmp_path / "absent.csv")


def test_base_scorer_is_abstract_enough():
    assert BaseScorer.kind == "base" and ONNXScorer.kind == "onnx"
