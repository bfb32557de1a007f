"""Signatures: inference from examples, and check_input's conversions and error messages."""

import numpy as np
import pandas as pd
import pytest

from gannet.core.errors import InvalidArgument
from gannet.models import ColumnSpec, Schema, Signature, infer_signature


@pytest.fixture
def frame():
    return pd.DataFrame({
        "age": np.array([31, 45, 22], dtype="int64"),
        "income": [52_000.0, 81_500.5, 23_000.0],
        "plan": ["basic", "pro", "basic"],
        "active": [True, False, True],
    })


@pytest.fixture
def signature(frame):
    return infer_signature(frame)


def test_infer_from_dataframe_names_columns_and_dtypes(signature):
    assert signature.inputs.kind == "dataframe"
    assert signature.inputs.columns == (
        ColumnSpec("age", "int64"), ColumnSpec("income", "float64"),
        ColumnSpec("plan", "string"), ColumnSpec("active", "bool"),
    )
    assert signature.outputs is None


def test_infer_from_ndarray_records_and_dict_of_columns(frame):
    tensor = infer_signature(np.zeros((5, 4), dtype=np.float32), np.zeros(5, dtype=np.int64))
    assert tensor.inputs == Schema((ColumnSpec(None, "float32", (-1, 4)),), "tensor")
    assert tensor.outputs == Schema((ColumnSpec(None, "int64", (-1,)),), "tensor")
    records = infer_signature(frame.to_dict("records"))
    columns = infer_signature({k: frame[k].tolist() for k in frame.columns})
    assert records.inputs == columns.inputs == infer_signature(frame).inputs


def test_object_column_that_is_not_text_is_object():
    signature = infer_signature(pd.DataFrame({"blob": [{"a": 1}, [1, 2]]}))
    assert signature.inputs.columns[0].dtype == "object"


def test_to_dict_and_back_is_lossless(signature):
    full = Signature(signature.inputs, Schema((ColumnSpec(None, "float64", (-1, 2)),), "tensor"))
    assert Signature.from_dict(full.to_dict()) == full


def test_malformed_signature_dict_is_refused():
    with pytest.raises(InvalidArgument, match="'kind' and 'columns'"):
        Signature.from_dict({"inputs": {"kind": "dataframe"}})
    with pytest.raises(InvalidArgument, match="not one of"):
        Signature.from_dict({"inputs": {"kind": "table", "columns": []}})


def test_conforming_dataframe_is_returned_untouched(signature, frame):
    assert signature.check_input(frame) is frame


def test_records_and_dict_input_become_a_frame_in_signature_order(signature, frame):
    records = [dict(reversed(list(r.items()))) for r in frame.to_dict("records")]
    pd.testing.assert_frame_equal(signature.check_input(records), frame, check_dtype=False)
    single = signature.check_input({"plan": "pro", "active": True, "income": 1.0, "age": 3})
    assert list(single.columns) == ["age", "income", "plan", "active"]
    assert single["age"].dtype == np.int64 and len(single) == 1


def test_columns_are_put_in_signature_order(signature, frame):
    shuffled = frame[["plan", "active", "income", "age"]]
    fixed = signature.check_input(shuffled)
    assert list(fixed.columns) == ["age", "income", "plan", "active"]
    pd.testing.assert_frame_equal(fixed, frame)


def test_ndarray_for_a_dataframe_schema_is_taken_in_signature_order():
    signature = infer_signature(pd.DataFrame({"a": [1.0], "b": [2.0]}))
    fixed = signature.check_input(np.array([[1, 2], [3, 4]]))
    assert list(fixed.columns) == ["a", "b"] and fixed["b"].dtype == np.float64
    with pytest.raises(InvalidArgument, match=r"input has shape \(2, 3\), expected \(-1, 2\)"):
        signature.check_input(np.zeros((2, 3)))


def test_missing_column_is_named_with_its_dtype(signature, frame):
    with pytest.raises(InvalidArgument) as caught:
        signature.check_input(frame.drop(columns=["age"]))
    assert "input is missing column 'age' (expected int64)" in str(caught.value)


def test_misspelt_column_names_both_sides(signature, frame):
    with pytest.raises(InvalidArgument) as caught:
        signature.check_input(frame.rename(columns={"age": "agee"}))
    assert "missing column 'age' (expected int64)" in str(caught.value)
    assert "unexpected column 'agee'" in str(caught.value)


def test_unexpected_column_lists_what_the_model_takes(signature, frame):
    with pytest.raises(InvalidArgument) as caught:
        signature.check_input(frame.assign(agee=1))
    expected = "input has unexpected column 'agee' (the model takes: age, income, plan, active)"
    assert expected in str(caught.value)


def test_text_that_is_not_a_number_is_named(signature, frame):
    bad = frame.assign(age=pd.Series(["31", "abc", "22"], dtype=object))
    with pytest.raises(InvalidArgument) as caught:
        signature.check_input(bad)
    assert "column 'age' has dtype object, expected int64 (values like 'abc' cannot be" in str(
        caught.value)


def test_safe_casts_are_made_unsafe_ones_refused(signature, frame):
    widened = signature.check_input(frame.assign(income=frame["income"].astype("int64") * 0 + 7))
    assert widened["income"].dtype == np.float64
    narrowed = signature.check_input(frame.assign(age=frame["age"].astype("int32")))
    assert narrowed["age"].dtype == np.int64
    with pytest.raises(InvalidArgument, match="column 'age' has dtype float64, expected int64"):
        signature.check_input(frame.assign(age=frame["age"].astype(float)))
    with pytest.raises(InvalidArgument, match="column 'age' has missing values"):
        signature.check_input(frame.assign(age=[1.0, None, 3.0]))
    with pytest.raises(InvalidArgument, match="column 'active' has dtype int64, expected bool"):
        signature.check_input(frame.assign(active=[1, 0, 1]))
    with pytest.raises(InvalidArgument, match="column 'plan' has dtype int64, expected string"):
        signature.check_input(frame.assign(plan=[1, 2, 3]))


def test_numbers_given_as_python_objects_are_converted(signature, frame):
    fixed = signature.check_input(frame.assign(age=pd.Series([31, 45, 22], dtype=object)))
    assert fixed["age"].dtype == np.int64


def test_nullable_and_missing_values():
    signature = Signature(Schema((ColumnSpec("n", "int64"),), "dataframe"))
    fixed = signature.check_input(pd.DataFrame({"n": pd.array([1, 2], dtype="Int64")}))
    assert fixed["n"].dtype == np.int64
    with pytest.raises(InvalidArgument, match="column 'n' has dtype Int64, expected int64 \\(it "
                                              "has missing values\\)"):
        signature.check_input(pd.DataFrame({"n": pd.array([1, None], dtype="Int64")}))
    with pytest.raises(InvalidArgument, match="column 'n' has missing values, expected int64"):
        signature.check_input([{"n": 1}, {"n": None}])


def test_datetime_text_is_parsed():
    signature = infer_signature(pd.DataFrame({"t": pd.to_datetime(["2024-01-01"])}))
    fixed = signature.check_input({"t": ["2024-02-01", "2024-03-01"]})
    assert fixed["t"].dtype == signature.inputs._expected.dtypes[0]


def test_unknown_dtype_in_a_signature_is_named():
    signature = Signature(Schema((ColumnSpec("n", "int65"),), "dataframe"))
    with pytest.raises(InvalidArgument, match="unknown dtype 'int65'"):
        signature.check_input(pd.DataFrame({"n": [1]}))


def test_int_that_does_not_fit_is_refused():
    signature = Signature(Schema((ColumnSpec("n", "int32"),), "dataframe"))
    assert signature.check_input(pd.DataFrame({"n": [1, 2]}))["n"].dtype == np.int32
    with pytest.raises(InvalidArgument, match="outside the range of int32"):
        signature.check_input(pd.DataFrame({"n": [2**40]}))


def test_tensor_shape_and_dtype():
    signature = Signature(Schema((ColumnSpec(None, "float32", (-1, 4)),), "tensor"))
    array = np.zeros((3, 4), dtype=np.float32)
    assert signature.check_input(array) is array
    assert signature.check_input(np.zeros((3, 4))).dtype == np.float32
    assert signature.check_input([[1, 2, 3, 4]]).dtype == np.float32
    assert signature.check_input(pd.DataFrame(np.ones((2, 4)))).shape == (2, 4)
    with pytest.raises(InvalidArgument, match=r"input has shape \(3, 5\), expected \(-1, 4\)"):
        signature.check_input(np.zeros((3, 5)))
    with pytest.raises(InvalidArgument, match="expected float32"):
        signature.check_input(np.array([["a", "b", "c", "d"]], dtype=object))


def test_named_tensors_take_a_dict():
    signature = Signature(Schema((ColumnSpec("x", "float32", (-1, 2)),
                                  ColumnSpec("mask", "bool", (-1, 2))), "tensor"))
    fixed = signature.check_input({"x": np.ones((1, 2)), "mask": np.ones((1, 2), dtype=bool)})
    assert fixed["x"].dtype == np.float32
    with pytest.raises(InvalidArgument, match="missing tensor 'mask'"):
        signature.check_input({"x": np.ones((1, 2))})


def test_unsupported_input_type_says_what_is(signature):
    with pytest.raises(InvalidArgument, match="input of type str is not supported"):
        signature.check_input("age=3")
