"""Pure client tests: Theano's type inference (dtype, broadcastable) and graph structure."""

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from tensord.tensor import TensorType, ops


def _op(var):
    return var.owner.op


def test_python_constants_get_theano_dtypes():
    assert T.constant(2).dtype == "int8"
    assert T.constant(300).dtype == "int16"
    assert T.constant(70000).dtype == "int32"
    assert T.constant(2 ** 40).dtype == "int64"
    assert T.constant(2 ** 63).dtype == "uint64"
    assert T.constant(-129).dtype == "int16"
    assert T.constant(1.5).dtype == "float32"  # floatX under Theano's 'custom' cast policy
    assert T.constant(np.float64(1.5)).dtype == "float64"
    assert T.constant(np.arange(3, dtype="int16")).dtype == "int16"
    assert T.constant([1, 2]).dtype == "int64"
    assert T.constant([1.0, 2.0]).dtype == "float64"
    assert T.constant(1.5, dtype="float64").dtype == "float64"
    theano.config.floatX = "float64"
    assert T.constant(0.5).dtype == "float32"  # exact in float32: Theano picks the narrower
    assert T.constant(0.1).dtype == "float64"


def test_constant_broadcastable_marks_unit_dims():
    c = T.constant(np.zeros((1, 3)))
    assert c.broadcastable == (True, False)


@pytest.mark.parametrize("a,b,expected", [
    ("float32", "float32", "float32"), ("float32", "int8", "float32"),
    ("float32", "int32", "float64"), ("float32", "int64", "float64"),
    ("int8", "int16", "int16"), ("int32", "uint8", "int32"), ("float16", "float32", "float32"),
    ("float32", "float64", "float64"), ("bool", "int8", "int8")])
def test_binary_elemwise_dtype_is_numpy_promotion(a, b, expected):
    x, y = T.tensor(a, (False,)), T.tensor(b, (False,))
    for out in (x + y, x - y, x * y, x ** y, T.add(x, y), T.mul(x, y)):
        assert out.dtype == expected


@pytest.mark.parametrize("a,b,expected", [
    ("int8", "int8", "float32"), ("int16", "int8", "float32"), ("uint8", "uint8", "float32"),
    ("bool", "bool", "float32"), ("int32", "int32", "float64"), ("int64", "int8", "float64"),
    ("int8", "uint16", "float64"), ("uint16", "uint16", "float32"),
    ("float32", "float32", "float32"), ("float32", "int8", "float32"),
    ("float32", "int32", "float64"), ("float64", "float32", "float64")])
def test_true_div_upgrades_ints_to_float(a, b, expected):
    x, y = T.tensor(a, ()), T.tensor(b, ())
    assert (x / y).dtype == expected


@pytest.mark.parametrize("dtype,expected", [("int8", "float32"), ("int16", "float32"),
                                            ("int32", "float64"), ("int64", "float64"),
                                            ("float32", "float32"), ("float64", "float64")])
def test_exp_log_upgrade_ints(dtype, expected):
    x = T.tensor(dtype, (False,))
    assert T.exp(x).dtype == expected and T.log(x).dtype == expected
    assert (-x).dtype == dtype


def test_python_scalars_keep_float32():
    x = T.matrix()
    assert (x * 2).dtype == "float32"
    assert (x * 2.5).dtype == "float32"
    assert (2 - x).dtype == "float32"
    assert (x ** 2).dtype == "float32"
    assert (x / 3).dtype == "float32"
    assert (x + np.ones((2, 2), dtype="float64")).dtype == "float64"


def test_elemwise_pads_lower_rank_inputs_with_dimshuffle():
    a, b = T.matrix("a"), T.scalar("b")
    z = a * b
    node = z.owner
    assert node.op.wire_name == "mul"
    assert [i.ndim for i in node.inputs] == [2, 2]
    padded = node.inputs[1]
    assert isinstance(_op(padded), ops.DimShuffle)
    assert _op(padded).new_order == ("x", "x") and padded.owner.inputs[0] is b
    assert padded.broadcastable == (True, True)
    assert z.broadcastable == (False, False)


def test_elemwise_broadcastable_is_and_across_inputs():
    r, c = T.row(), T.col()
    assert (r + c).broadcastable == (False, False)
    assert (r + T.row()).broadcastable == (True, False)
    v = T.vector()
    assert (r * v).broadcastable == (True, False)
    assert T.add(T.scalar(), T.scalar()).broadcastable == ()


def test_add_and_mul_take_many_inputs():
    a, b = T.matrices("a", "b")
    z = T.mul(a, b, a, b)
    assert z.owner.op.wire_name == "mul" and len(z.owner.inputs) == 4
    assert T.add(a, b, a).owner.inputs == [a, b, a]
    assert T.add(a) is a


def test_reductions():
    x = T.bmatrix()
    assert T.sum(x).type == TensorType("int64", ())
    assert T.sum(T.tensor("uint8", (False,))).dtype == "uint64"
    assert T.sum(T.matrix(), axis=0).type == TensorType("float32", (False,))
    assert T.sum(T.matrix(), axis=-1, keepdims=True).type == TensorType("float32", (False, True))
    assert T.sum(T.matrix(), dtype="float64").dtype == "float64"
    assert T.max(x, axis=1).type == TensorType("int8", (False,))
    assert T.max(T.matrix(), keepdims=True).broadcastable == (True, True)
    assert T.matrix().sum(axis=(0, 1)).ndim == 0
    assert T.sum(T.row(), axis=1).broadcastable == (True,)
    with pytest.raises(ValueError):
        T.sum(T.matrix(), axis=2)
    s = T.sum(T.tensor3(), axis=(2, 0))
    assert s.owner.op.attrs() == {"axis": [0, 2]}
    assert T.sum(T.vector()).owner.op.attrs() == {}


def test_dot_types():
    m, v = T.matrix(), T.vector()
    assert T.dot(m, m).type == TensorType("float32", (False, False))
    assert T.dot(m, v).type == TensorType("float32", (False,))
    assert T.dot(v, m).type == TensorType("float32", (False,))
    assert T.dot(v, v).type == TensorType("float32", ())
    assert T.dot(T.row(), T.col()).broadcastable == (True, True)
    assert m.dot(T.dmatrix()).dtype == "float64"
    assert T.dot(m, T.scalar()).owner.op.wire_name == "mul"  # Theano: scalar dot is a product
    assert T.dot(T.tensor3(), m).type == TensorType("float32", (False, False, False))


def test_dimshuffle_and_transpose():
    x = T.matrix()
    assert x.dimshuffle(1, 0).broadcastable == (False, False)
    y = x.dimshuffle("x", 0, "x", 1)
    assert y.broadcastable == (True, False, True, False)
    assert y.owner.op.attrs() == {"new_order": [-1, 0, -1, 1]}
    assert T.row().dimshuffle(1).broadcastable == (False,)
    with pytest.raises(ValueError):
        x.dimshuffle(0)  # dropping a non-broadcastable dim
    assert x.T.owner.op.new_order == (1, 0)
    assert T.transpose(T.tensor3(), (2, 0, 1)).owner.op.new_order == (2, 0, 1)
    assert T.col().T.broadcastable == (True, False)


def test_reshape():
    x = T.vector()
    r = T.reshape(x, (5, 2))
    assert r.type == TensorType("float32", (False, False))
    shape = r.owner.inputs[1]
    assert shape.dtype == "int64" and shape.data.tolist() == [5, 2]
    assert r.owner.op.attrs() == {"ndim": 2}
    assert x.reshape((1, -1)).broadcastable == (True, False)
    with pytest.raises(ValueError):
        x.reshape((-1, -1))
    sym = T.lvector()
    assert T.reshape(x, sym, ndim=3).ndim == 3
    with pytest.raises(ValueError):
        T.reshape(x, sym)


def test_cast_fill_alloc_zeros():
    x = T.matrix()
    assert T.cast(x, "int32").type == TensorType("int32", (False, False))
    assert T.cast(x, "float32") is x
    assert x.astype("floatX") is x
    assert T.cast(x, "float64").owner.op.attrs() == {"dtype": np.dtype("float64")}
    assert T.fill(x, 3).type == TensorType("int8", (False, False))
    assert T.fill(x, T.dscalar()).dtype == "float64"
    assert T.zeros_like(x).type == x.type
    assert T.ones_like(T.ivector()).dtype == "int32"
    a = T.alloc(T.scalar(), 2, 1, T.iscalar())
    assert a.type == TensorType("float32", (False, True, False))
    assert [i.dtype for i in a.owner.inputs[1:]] == ["int64", "int64", "int32"]
    assert T.zeros((2, 3)).type == TensorType("float32", (False, False))
    assert T.ones(4, dtype="int32").type == TensorType("int32", (False,))
    with pytest.raises(TypeError):
        T.alloc(x, 3)
    with pytest.raises(TypeError):
        T.alloc(1.0, T.scalar())
