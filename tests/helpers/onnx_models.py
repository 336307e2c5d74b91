"""Small ONNX models built with ``onnx.helper``, for tests that need a real model file."""

from __future__ import annotations

from pathlib import Path


def channel_mean_onnx(path: Path, weights, bias: float, name: str = "channel-means") -> str:
    """An NCHW image model: float32 (N, 3, 224, 224) -> (N, 1), sigmoid(channel means . weights + bias).

    Its score is easy to compute by hand, so a test can tell a frame scaled, laid out or normalised wrongly.
    """
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [
            helper.make_node("GlobalAveragePool", ["x"], ["pooled"]),
            helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),
            helper.make_node("MatMul", ["flat", "w"], ["weighted"]),
            helper.make_node("Add", ["weighted", "b"], ["z"]),
            helper.make_node("Sigmoid", ["z"], ["y"]),
        ],
        name,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 224, 224])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 1])],
        initializer=[
            helper.make_tensor("w", TensorProto.FLOAT, [3, 1], list(weights)),
            helper.make_tensor("b", TensorProto.FLOAT, [1], [bias]),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 9  # newer onnx writes an IR version (14) that onnxruntime refuses
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return str(path)
