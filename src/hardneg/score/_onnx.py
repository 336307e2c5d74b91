"""The ``onnx`` scorer kind: a ``model.onnx`` run with onnxruntime (CPU, or CUDA with ``device="cuda"``).

The batch is cast to the model input's element type, fed in slices of
``batch_size`` and the output squeezed to ``(N,)``.

Examples
--------
>>> ONNXScorer.applies_to("models/shot.onnx"), ONNXScorer.applies_to("models/shot.py:make")
(True, False)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hardneg.errors import InputError
from hardneg.score._base import BaseScorer, check_device, first_line, register_scorer

__all__ = ["ONNXScorer"]

#: onnxruntime's element types, as ``NodeArg.type`` spells them, and the numpy dtype fed for each.
_ONNX_DTYPES = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(float16)": np.float16,
    "tensor(uint8)": np.uint8,
    "tensor(int8)": np.int8,
    "tensor(uint16)": np.uint16,
    "tensor(int16)": np.int16,
    "tensor(int32)": np.int32,
    "tensor(int64)": np.int64,
    "tensor(bool)": np.bool_,
}


@register_scorer
class ONNXScorer(BaseScorer):
    """An ONNX model run with onnxruntime; see :func:`load_scorer`.

    The model must have one input, whose rank matches the batch (``(N, C, T)``
    or ``(N, H, W, 3)``); its fixed dimensions are checked against the batch.
    A model exported with a fixed batch dimension (often 1) is fed slices of
    that size, the last one zero-padded. The first output, holding one value
    per window, is the score. The session is rebuilt when the scorer is
    unpickled (for worker processes), since onnxruntime sessions do not pickle.

    Examples
    --------
    A model built on the spot with the ``onnx`` package: the mean of each ``(2, 8)`` window.

    >>> import tempfile, onnx
    >>> from onnx import TensorProto, helper
    >>> graph = helper.make_graph(
    ...     [helper.make_node("ReduceMean", ["x"], ["y"], axes=[1, 2], keepdims=0)], "mean",
    ...     [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2, 8])],
    ...     [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N"])])
    >>> tmp = tempfile.TemporaryDirectory()
    >>> onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9),
    ...           f"{tmp.name}/model.onnx")
    >>> scorer = ONNXScorer(f"{tmp.name}/model.onnx", device="cpu", batch_size=256)
    >>> scorer(np.full((3, 2, 8), 0.25)).tolist()
    [0.25, 0.25, 0.25]
    >>> tmp.cleanup()
    """

    kind = "onnx"

    @classmethod
    def applies_to(cls, spec: str) -> bool:
        return str(spec).lower().endswith(".onnx")

    @classmethod
    def from_spec(cls, spec: str, *, device: str = "cpu", logits: bool = False, batch_size: int = 256, **_):
        return cls(spec, device=device, logits=logits, batch_size=batch_size)

    def __init__(self, spec: str, *, device: str = "cpu", logits: bool = False, batch_size: int = 256):
        super().__init__(spec, logits=logits, batch_size=batch_size)
        self.device = check_device(device)
        self._open()

    def _open(self) -> None:
        ort = _import_onnxruntime(self.spec)
        path = Path(self.spec)
        if not path.is_file():
            raise InputError(f"model {self.spec}: no such file; give the path of an .onnx model", parameter="model")
        available = ort.get_available_providers()
        if self.device == "cpu":
            providers = ["CPUExecutionProvider"]
        else:
            if "CUDAExecutionProvider" not in available:
                raise InputError(
                    f"device {self.device}: onnxruntime's CUDAExecutionProvider is not available "
                    f"(available: {', '.join(available)}); install onnxruntime-gpu matching your CUDA, "
                    "or use --device cpu",
                    parameter="device",
                )
            device_id = int(self.device.partition(":")[2] or 0)
            providers = [("CUDAExecutionProvider", {"device_id": device_id}), "CPUExecutionProvider"]
        options = ort.SessionOptions()
        options.log_severity_level = 3  # warnings about unused initialisers etc. are noise for a user
        # Mining reads the next item on another thread while this session runs: workers that spin between runs
        # (onnxruntime's default) take the cores that reading needs. Off, mining 30 hours of logs with a tiny
        # model took 0.7x the CPU time and 0.76x the wall time on a 2-CPU machine.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self.session = ort.InferenceSession(str(path), sess_options=options, providers=providers)
        except Exception as error:  # onnxruntime raises its own exception types (Fail, InvalidGraph, ...)
            raise InputError(
                f"model {self.spec}: onnxruntime cannot load it: {first_line(error)}; "
                "export it again (an IR version and opset this onnxruntime supports)",
                parameter="model",
            ) from None
        inputs = self.session.get_inputs()
        if len(inputs) != 1:
            raise InputError(
                f"model {self.spec}: the model has {len(inputs)} inputs ({', '.join(i.name for i in inputs)}); "
                "a scorer model takes one input, the batch of windows",
                parameter="model",
            )
        self.input_name = inputs[0].name
        self.input_shape = list(inputs[0].shape)
        self.input_type = inputs[0].type
        if self.input_type not in _ONNX_DTYPES:
            raise InputError(
                f"model {self.spec}: input {self.input_name!r} is {self.input_type}; "
                f"use one of: {', '.join(_ONNX_DTYPES)}",
                parameter="model",
            )
        self.input_dtype = np.dtype(_ONNX_DTYPES[self.input_type])
        self.output_name = self.session.get_outputs()[0].name
        first = self.input_shape[0] if self.input_shape else None
        # A symbolic or missing batch dimension ('N', None) takes any batch; a fixed one dictates the slice size.
        self.fixed_batch = first if isinstance(first, int) and first > 0 else None

    def _score(self, chunk: np.ndarray) -> np.ndarray:
        self._check_shape(chunk)
        feed = chunk.astype(self.input_dtype, copy=False)
        if self.fixed_batch is None:
            return self._run(feed, len(chunk))
        size = self.fixed_batch
        parts = []
        for start in range(0, len(feed), size):
            part = feed[start : start + size]
            if len(part) < size:
                padding = np.zeros((size - len(part), *part.shape[1:]), dtype=part.dtype)
                part = np.concatenate([part, padding])
            parts.append(self._run(part, size)[: len(feed) - start])
        return np.concatenate(parts)

    def _run(self, feed: np.ndarray, n: int) -> np.ndarray:
        try:
            output = self.session.run([self.output_name], {self.input_name: np.ascontiguousarray(feed)})[0]
        except Exception as error:  # onnxruntime's own exception types
            raise InputError(
                f"model {self.spec}: onnxruntime failed on a batch: {first_line(error)}", parameter="model"
            ) from None
        return self._checked(output, n)

    def _check_shape(self, chunk: np.ndarray) -> None:
        expected = self.input_shape
        wrong = len(expected) != chunk.ndim or any(
            isinstance(want, int) and want > 0 and want != got for want, got in zip(expected[1:], chunk.shape[1:])
        )
        if wrong:
            shown = ", ".join(str(d) if isinstance(d, int) else "?" for d in expected)
            # rank 4 is frames (video, images): their size and layout are options too
            fix = "--resize/--layout/--normalize/--dtype" if chunk.ndim == 4 else "--window-ms/--channels"
            raise InputError(
                f"model {self.spec}: input {self.input_name!r} takes shape ({shown}) but the windows have shape "
                f"(N, {', '.join(map(str, chunk.shape[1:]))}); choose {fix} to match the model",
                parameter="model",
            )

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("session", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._open()


def _import_onnxruntime(spec: str):
    try:
        import onnxruntime
    except ImportError:
        raise InputError(
            f"model {spec}: ONNX models need onnxruntime; pip install onnxruntime (or onnxruntime-gpu for CUDA)",
            parameter="model",
        ) from None
    return onnxruntime
