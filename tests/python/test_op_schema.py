"""The client's copy of the op schema and the type rules read from it (no server needed)."""

import pathlib
from importlib import resources

import pytest

import tensord.tensor as T

CHECKED_IN = pathlib.Path(__file__).resolve().parents[2] / "proto/tensord/v1/op_schema.json"


def test_packaged_schema_is_the_checked_in_one():
    packaged = resources.files("tensord._proto.v1").joinpath("op_schema.json").read_text("utf-8")
    assert packaged == CHECKED_IN.read_text("utf-8"), (
        "the client's op_schema.json is stale: run clients/python/generate_protos.sh")


def test_elementwise_ops_print_theanos_names():
    x = T.bvector()
    assert str((x & x).owner.op) == "Elemwise{and_,no_inplace}"
    assert str(abs(x).owner.op) == "Elemwise{abs_,no_inplace}"
    assert str(T.fill(x, x).owner.op) == "Elemwise{second,no_inplace}"
    assert str(T.mod(x, x).owner.op) == "Elemwise{mod,no_inplace}"


def test_promotion_folds_left_as_the_servers_does():
    # NumPy's all-at-once result_type says float32; the server promotes pair by pair.
    a, b, c = T.tensor("int8", ()), T.tensor("uint16", ()), T.tensor("float32", ())
    assert T.add(a, b, c).dtype == "float64"


def test_refusals_use_the_servers_wording():
    b = T.tensor("bool", (False,))
    with pytest.raises(TypeError, match=r"^op 'sub': not defined for bool inputs"):
        b - b
    with pytest.raises(TypeError, match=r"^op 'xor': needs integer or bool inputs, got float32, "
                                        r"bool$"):
        T.xor(T.fvector(), b)
