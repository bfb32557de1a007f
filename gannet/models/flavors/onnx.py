"""ONNX graphs (from skl2onnx, torch.onnx, tf2onnx ...), run with onnxruntime on the CPU.

An ONNX file is data, not code, and it declares its own inputs: the package's signature is
read from the graph when none is given (a tensor schema, -1 for dynamic dimensions). The
first output is the prediction; a "probabilities" output (skl2onnx classifiers converted
with ``options={"zipmap": False}``) answers ``predict_proba``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from gannet.core.errors import InvalidArgument
from gannet.models.flavors import defined_in, versions

if TYPE_CHECKING:
    from gannet.models.manifest import ModelMeta
    from gannet.models.signature import Signature

MODEL_FILE = "model.onnx"
PROBABILITIES = "probabilities"
_RUNTIME_TYPES = {
    "tensor(float)": "float32", "tensor(double)": "float64", "tensor(float16)": "float16",
    "tensor(int64)": "int64", "tensor(int32)": "int32", "tensor(int16)": "int16",
    "tensor(int8)": "int8", "tensor(uint8)": "uint8", "tensor(bool)": "bool",
    "tensor(string)": "object",
}


class OnnxFlavor:
    name = "onnx"
    loader = "gannet.models.flavors.onnx:load"
    priority = 10

    def matches(self, model: Any) -> bool:
        if isinstance(model, (bytes, bytearray)):
            return _parse(bytes(model), quiet=True) is not None
        return defined_in(model, "onnx") and type(model).__name__ == "ModelProto"

    def save(self, model: Any, folder: Path) -> tuple[str, list[str], dict]:
        proto = _parse(bytes(model)) if isinstance(model, (bytes, bytearray)) else model
        (folder / MODEL_FILE).write_bytes(proto.SerializeToString())
        extra = {
            "inputs": [i.name for i in proto.graph.input],
            "outputs": [o.name for o in proto.graph.output],
            "opsets": {o.domain or "ai.onnx": int(o.version) for o in proto.opset_import},
        }
        return "onnx", [MODEL_FILE], extra

    def load(self, folder: Path, meta: ModelMeta) -> Any:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # errors only
        return onnxruntime.InferenceSession(
            str(Path(folder) / MODEL_FILE), options, providers=["CPUExecutionProvider"]
        )

    def predict(self, raw: Any, data: Any) -> Any:
        first = raw.get_outputs()[0].name
        return raw.run([first], _feed(raw, data))[0]

    def predict_proba(self, raw: Any, data: Any) -> Any:
        return raw.run([PROBABILITIES], _feed(raw, data))[0]

    def has_predict_proba(self, raw: Any) -> bool:
        return any(o.name == PROBABILITIES for o in raw.get_outputs())

    def signature(self, model: Any) -> Signature | None:
        from gannet.models.signature import Schema, Signature

        proto = _parse(bytes(model)) if isinstance(model, (bytes, bytearray)) else model
        initialised = {t.name for t in proto.graph.initializer}
        inputs = [i for i in proto.graph.input if i.name not in initialised]
        specs = [_spec(i, named=len(inputs) > 1) for i in inputs]
        return Signature(Schema(tuple(specs), "tensor"))

    def libraries(self) -> dict[str, str]:
        return versions("onnx", "onnxruntime", "numpy")

    def requirements(self) -> list[str]:
        return [f"onnxruntime>={v}" for v in versions("onnxruntime").values()]


def _parse(data: bytes, quiet: bool = False) -> Any:
    import onnx

    try:
        proto = onnx.load_from_string(data)
        if not proto.graph.node:
            raise ValueError("the graph has no nodes")
        return proto
    except Exception as exc:
        if quiet:
            return None
        raise InvalidArgument(f"the bytes given are not an ONNX model: {exc}") from exc


def _spec(value_info: Any, named: bool) -> Any:
    from onnx.helper import tensor_dtype_to_np_dtype

    from gannet.models.signature import ColumnSpec

    tensor = value_info.type.tensor_type
    dtype = tensor_dtype_to_np_dtype(tensor.elem_type)
    shape = tuple(d.dim_value if d.HasField("dim_value") else -1 for d in tensor.shape.dim)
    name = "string" if dtype.kind in "OUS" else dtype.name
    return ColumnSpec(value_info.name if named else None, name, shape)


def _feed(session: Any, data: Any) -> dict[str, Any]:
    """The session's inputs from an array, a dict of arrays or a DataFrame (one input per
    column when the graph takes one input per column, as skl2onnx does for mixed tables)."""
    import numpy as np

    inputs = session.get_inputs()
    if isinstance(data, dict):
        return {i.name: _typed(np.asarray(data[i.name]), i.type) for i in inputs}
    if len(inputs) == 1:
        array = data.to_numpy() if hasattr(data, "to_numpy") else np.asarray(data)
        return {inputs[0].name: _typed(array, inputs[0].type)}
    if hasattr(data, "columns"):
        return {i.name: _typed(data[i.name].to_numpy().reshape(-1, 1), i.type) for i in inputs}
    raise InvalidArgument(f"this ONNX model takes {len(inputs)} inputs "
                          f"({', '.join(i.name for i in inputs)}): pass a dict or a DataFrame")


def _typed(array: Any, runtime_type: str) -> Any:
    dtype = _RUNTIME_TYPES.get(runtime_type)
    return array if dtype is None or array.dtype == dtype else array.astype(dtype)


FLAVOR = OnnxFlavor()
load = FLAVOR.load
