"""The wire formats: V2 tensors and /predict bodies to model input (what they refuse is
InvalidInput, 422), outputs back to JSON, and the OpenAPI document."""

import numpy as np
import pandas as pd
import pytest

from gannet.core.errors import BadRequest, InvalidInput
from gannet.models.signature import ColumnSpec, Schema, Signature
from gannet.serving.server.codecs import FrameCodec, MatrixCodec, TensorCodec, codec_for
from gannet.serving.server.openapi import openapi_document
from gannet.serving.server.protocol import datatype_of, tensor_json, v2_array, v2_inputs

NUMERIC = Signature(Schema((ColumnSpec("a", "float64"), ColumnSpec("b", "float64")), "dataframe"))
MIXED = Signature(Schema((ColumnSpec("age", "int64"), ColumnSpec("city", "string"),
                          ColumnSpec("vip", "bool")), "dataframe"))
IMAGE = Signature(Schema((ColumnSpec(None, "float32", (-1, 2, 2)),), "tensor"))


def test_the_codec_follows_the_signature():
    assert isinstance(codec_for(NUMERIC), MatrixCodec)
    assert isinstance(codec_for(MIXED), FrameCodec)
    assert isinstance(codec_for(IMAGE), TensorCodec)
    assert isinstance(codec_for(None), FrameCodec)


@pytest.mark.parametrize(("name", "datatype"), [
    ("bool", "BOOL"), ("int8", "INT8"), ("int32", "INT32"), ("int64", "INT64"),
    ("uint8", "UINT8"), ("uint64", "UINT64"), ("float32", "FP32"), ("float64", "FP64"),
    ("float16", "FP16"), ("string", "BYTES"), ("object", "BYTES"), ("category", "BYTES"),
])
def test_datatypes(name, datatype):
    assert datatype_of(name) == datatype
    if name not in ("string", "object", "category"):
        assert datatype_of(np.dtype(name)) == datatype


def test_v2_data_may_be_flat_or_nested():
    flat = v2_array({"name": "x", "shape": [2, 2], "datatype": "INT32", "data": [1, 2, 3, 4]})
    nested = v2_array({"name": "x", "shape": [2, 2], "datatype": "INT32", "data": [[1, 2], [3, 4]]})
    assert flat.dtype == np.int32 and flat.tolist() == nested.tolist() == [[1, 2], [3, 4]]
    text = v2_array({"name": "t", "shape": [2], "datatype": "BYTES", "data": ["a", "b"]})
    assert text.tolist() == ["a", "b"]


@pytest.mark.parametrize(("item", "message"), [
    ({"shape": [2], "datatype": "INT64", "data": [1.5, 2]}, "not int64"),
    ({"shape": [1], "datatype": "UINT8", "data": [300]}, "outside the range of uint8"),
    ({"shape": [1], "datatype": "BOOL", "data": [1]}, "not bool"),
    ({"shape": [2, 2], "datatype": "FP32", "data": [1, 2, 3]}, "has 3 values but its shape"),
    ({"shape": [-1], "datatype": "FP32", "data": [1]}, "non-negative integers"),
])
def test_v2_values_that_would_change_are_refused(item, message):
    with pytest.raises(InvalidInput, match="input 'x'") as caught:
        v2_array({"name": "x", **item})
    assert message in caught.value.message


def test_a_v2_request_needs_named_inputs_with_data():
    with pytest.raises(InvalidInput, match="non-empty 'inputs'"):
        v2_inputs({"inputs": []})
    with pytest.raises(InvalidInput, match="input 'a' has no 'data'"):
        v2_inputs({"inputs": [{"name": "a", "shape": [1], "datatype": "FP32"}]})


@pytest.mark.parametrize(("doc", "where"), [
    ({"inputs": [{"name": "a", "shape": [1], "datatype": "FP32",
                  "parameters": {"binary_data_size": 4}}]}, "input 'a'"),
    ({"inputs": [{"name": "a", "shape": [1], "datatype": "FP32", "data": [1.0]}],
      "outputs": [{"name": "predict", "parameters": {"binary_data": True}}]},
     "output 'predict'"),
    ({"inputs": [{"name": "a", "shape": [1], "datatype": "FP32", "data": [1.0]}],
      "parameters": {"binary_data_output": True}}, "'binary_data_output'"),
])
def test_the_binary_tensor_extension_is_refused_never_ignored(doc, where):
    with pytest.raises(BadRequest, match="binary tensor extension") as caught:
        v2_inputs(doc)
    assert where in caught.value.message and "JSON 'data'" in caught.value.hint
    off = {**doc, "parameters": {"binary_data_output": False}, "outputs": [
        {"name": "predict", "parameters": {"binary_data": False}}]}
    if "data" in doc["inputs"][0]:  # asking for no binary data is fine
        assert v2_inputs(off) == doc["inputs"]


def test_matrix_codec_reads_every_body_shape_to_the_same_rows():
    codec = MatrixCodec(NUMERIC)
    expected = [[1.0, 2.0], [3.0, 4.0]]
    bodies = [
        [{"a": 1, "b": 2.0}, {"b": 4, "a": 3}],
        {"records": [{"a": 1.0, "b": 2.0}, {"a": 3.0, "b": 4.0}]},
        {"columns": {"b": [2, 4], "a": [1, 3]}},
        {"dataframe_split": {"columns": ["a", "b"], "data": expected}},
        expected,
    ]
    for body in bodies:
        payload = codec.from_predict(body)
        assert payload.rows == 2 and payload.data.dtype == np.float64
        assert payload.data.tolist() == expected, body
    v2 = codec.from_v2([{"name": "b", "shape": [2, 1], "datatype": "INT64", "data": [2, 4]},
                        {"name": "a", "shape": [2], "datatype": "FP32", "data": [1, 3]}])
    assert v2.data.tolist() == expected


def test_a_batch_is_one_dataframe_the_signature_takes_as_is():
    codec = MatrixCodec(NUMERIC)
    payloads = [codec.from_predict([{"a": i, "b": -i}]) for i in range(3)]
    frame = codec.merge(payloads)
    assert isinstance(frame, pd.DataFrame) and frame.shape == (3, 2)
    assert NUMERIC.check_input(frame) is frame  # the fast path: nothing converted again
    assert frame["a"].tolist() == [0.0, 1.0, 2.0]


@pytest.mark.parametrize(("body", "message"), [
    ([{"a": 1.0}], "input is missing column 'b' (expected float64)"),
    ([{"a": 1.0, "b": 2.0, "c": 3.0}], "input has unexpected column 'c'"),
    ([{"a": "x", "b": 2.0}], "column 'a' has dtype"),
    ([[1.0, 2.0, 3.0]], "expected (-1, 2)"),
    ({"columns": {"a": [1.0], "b": [1.0, 2.0]}}, "different lengths (a: 1, b: 2)"),
    ({"nothing": 1}, "a /predict body is"),
    ("text", "a /predict body is"),
])
def test_matrix_codec_errors_name_what_is_wrong(body, message):
    with pytest.raises(InvalidInput) as caught:
        MatrixCodec(NUMERIC).from_predict(body)
    assert message in caught.value.message


def test_frame_codec_keeps_mixed_columns_until_the_batch():
    codec = FrameCodec(MIXED)
    one = codec.from_predict([{"age": 30, "city": "Oslo", "vip": True}])
    two = codec.from_predict({"columns": {"age": [40, 50], "city": ["Rome", "Lima"],
                                          "vip": [False, True]}})
    frame = codec.merge([one, two])
    assert frame.to_dict("list") == {"age": [30, 40, 50], "city": ["Oslo", "Rome", "Lima"],
                                     "vip": [True, False, True]}
    with pytest.raises(InvalidInput, match="missing column 'vip'"):
        codec.from_predict([{"age": 1, "city": "x"}])
    assert codec.example().rows == 1


def test_tensor_codec_checks_shape_and_concatenates():
    codec = TensorCodec(IMAGE)
    one = codec.from_predict({"inputs": [[[1, 2], [3, 4]]]})
    two = codec.from_v2([{"name": "any", "shape": [2, 2, 2], "datatype": "FP32",
                          "data": list(range(8))}])
    merged = codec.merge([one, two])
    assert merged.shape == (3, 2, 2) and merged.dtype == np.float32
    with pytest.raises(InvalidInput, match=r"expected \(-1, 2, 2\)"):
        codec.from_predict([[1, 2, 3]])
    assert codec.example().data.shape == (1, 2, 2)


def test_tensor_json_is_flat_row_major():
    out = tensor_json("predict_proba", np.array([[0.25, 0.75], [1.0, 0.0]]))
    assert out["shape"] == [2, 2] and out["datatype"] == "FP64"
    assert list(out["data"]) == [0.25, 0.75, 1.0, 0.0]
    labels = tensor_json("predict", np.array(["yes", "no"], dtype=object))
    assert labels == {"name": "predict", "datatype": "BYTES", "shape": [2], "data": ["yes", "no"]}


def test_openapi_types_follow_the_signature():
    doc = openapi_document(MIXED, "m")
    record = doc["components"]["schemas"]["Record"]
    assert record["properties"] == {"age": {"type": "integer"}, "city": {"type": "string"},
                                    "vip": {"type": "boolean"}}
    assert record["additionalProperties"] is False


@pytest.mark.parametrize("signature", [None, NUMERIC, MIXED, IMAGE],
                         ids=["none", "numeric", "mixed", "tensor"])
def test_the_openapi_document_is_valid_for_every_kind_of_signature(signature):
    from openapi_spec_validator import validate

    validate(openapi_document(signature, "m"))


@pytest.mark.parametrize("rows", [1, 2, 200])  # small bodies are scanned; big ones tested first
@pytest.mark.parametrize("bad", [None, True, False])
def test_a_null_or_a_boolean_among_numbers_is_found_in_any_size_and_shape(rows, bad):
    records = [{"a": 2.5 + i, "b": 3.5} for i in range(rows)]
    records[-1]["b"] = bad
    numeric, mixed = codec_for(NUMERIC), codec_for(MIXED)
    columns = {"a": [r["a"] for r in records], "b": [r["b"] for r in records]}
    attempts = {
        "records": lambda: numeric.from_records(records),
        "rows": lambda: numeric.from_rows([[r["a"], r["b"]] for r in records]),
        "columns": lambda: numeric.from_mapping(columns, "columns"),
        "v2": lambda: numeric.from_v2([{"name": k, "datatype": "FP64", "shape": [rows],
                                        "data": v} for k, v in columns.items()]),
        "mixed": lambda: mixed.from_records([{"age": 30, "city": "x", "vip": True}] * (rows - 1)
                                            + [{"age": bad, "city": "x", "vip": True}]),
        "tensor": lambda: codec_for(IMAGE).from_rows([[[1.0, 2.0], [3.0, bad]]] * rows),
    }
    for shape, attempt in attempts.items():
        with pytest.raises(InvalidInput, match="null|true/false|values like") as caught:
            attempt()
        named = "'age'" if shape == "mixed" else "input" if shape == "tensor" else "'b'"
        assert named in str(caught.value), (shape, str(caught.value))


def test_numbers_that_are_zero_or_one_are_not_taken_for_booleans():
    rows = [[0.0, 1.0], [1, 0]] * 50
    assert codec_for(NUMERIC).from_rows(rows).data.tolist() == [[0.0, 1.0], [1.0, 0.0]] * 50


@pytest.mark.parametrize("value", [{"a": 1}, [], "x"])
def test_v2_values_that_are_not_numbers_are_named(value):
    tensor = {"name": "b", "shape": [2], "datatype": "FP64", "data": [1.0, value]}
    with pytest.raises(InvalidInput, match=r"input 'b' \(FP64\) has (values like|ragged)"):
        v2_array(tensor)
