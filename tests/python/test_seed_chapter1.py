"""The chapter-1 examples of shared/seed/theano-basics.txt, through a real server.

Expected values come from NumPy, never from tensord itself.
"""

import numpy
import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from tensord import shared

pytestmark = pytest.mark.usefixtures("server")
floatX = "float32"


def test_addition_eval():
    x = T.matrix("x")
    y = T.matrix("y")
    z = x + y
    assert theano.pp(z) == "(x + y)"
    xv, yv = [[1, 2], [1, 3]], [[1, 0], [3, 4]]
    out = z.eval({x: xv, y: yv})
    assert isinstance(out, np.ndarray) and out.dtype == np.float32
    np.testing.assert_allclose(out, np.add(xv, yv, dtype=np.float32))
    # eval caches its compiled function per set of inputs
    again = z.eval({x: yv, y: xv})
    np.testing.assert_allclose(again, np.add(xv, yv, dtype=np.float32))


def test_function_with_list_output():
    x, y = T.matrices("x", "y")
    addition = theano.function([x, y], [x + y])
    result = addition([[1, 2], [1, 3]], [[1, 0], [3, 4]])
    assert isinstance(result, list) and len(result) == 1
    assert result[0].dtype == np.float32
    np.testing.assert_allclose(result[0], np.array([[1, 2], [1, 3]]) + [[1, 0], [3, 4]])


def test_float64_input_is_refused_with_theano_message():
    x = T.matrix()
    y = T.matrix()
    addition = theano.function([x, y], [x + y])
    data = numpy.ones((2, 2))
    with pytest.raises(TypeError) as info:
        addition(data, numpy.zeros((2, 2)))
    args = info.value.args
    assert args[0].startswith('Bad input argument to theano function with name "')
    assert args[0].endswith('"  at index 0(0-based)')
    assert args[1] == ('TensorType(float32, matrix) cannot store a value of dtype float64 '
                       'without risking loss of precision. If you do not mind this loss, you '
                       'can: 1) explicitly cast your data to float32, or 2) set '
                       '"allow_input_downcast=True" when calling "function".')
    assert args[2] is data


def test_inputs_of_floatx_dtype():
    x, y = T.matrix(), T.matrix()
    addition = theano.function([x, y], [x + y])
    a = numpy.ones((2, 2), dtype=theano.config.floatX)
    b = numpy.zeros((2, 2), dtype=theano.config.floatX)
    np.testing.assert_allclose(addition(a, b)[0], a + b)
    c = numpy.ones((2, 2)).astype(theano.config.floatX)
    d = numpy.diag((2, 3)).astype(theano.config.floatX)
    (out,) = addition(c, d)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, c + d)


def test_allow_input_downcast():
    x, y = T.matrix(), T.matrix()
    addition = theano.function([x, y], [x + y], allow_input_downcast=True)
    a, b = numpy.ones((2, 2)), numpy.zeros((2, 2))
    (out,) = addition(a, b)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, (a + b).astype(np.float32))


def test_elementwise_multiplication():
    a, b = T.matrices("a", "b")
    av = numpy.ones((2, 2)).astype(floatX)
    bv = numpy.diag((3, 3)).astype(floatX)
    np.testing.assert_allclose((a * b).eval({a: av, b: bv}), av * bv)
    np.testing.assert_allclose(T.mul(a, b).eval({a: av, b: bv}), av * bv)
    out = T.mul(a, b, a, b).eval({a: av, b: bv})
    np.testing.assert_allclose(out, av * bv * av * bv)


def test_square():
    a = T.matrix()
    av = numpy.diag((3, 3)).astype(floatX)
    out = (a ** 2).eval({a: av})
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, av ** 2)


def test_broadcast_scalar_times_matrix():
    a = T.matrix()
    b = T.scalar()
    z = a * b
    av = numpy.diag((3, 3)).astype(floatX)
    out = z.eval({a: av, b: 3})
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, av * np.float32(3))


def test_exp_log_square_outputs():
    a = T.matrix()
    ex = theano.function([a], [T.exp(a), T.log(a), a ** 2])
    data = np.random.default_rng(0).standard_normal((3, 3)).astype(floatX)
    outs = ex(data)
    assert isinstance(outs, list) and [o.dtype for o in outs] == [np.float32] * 3
    with np.errstate(invalid="ignore"):
        expected = [np.exp(data), np.log(data), data ** 2]
    for got, want in zip(outs, expected):
        np.testing.assert_allclose(got, want, rtol=1e-5, equal_nan=True)
    assert np.array_equal(np.isnan(outs[1]), data < 0)


def test_max_with_axes():
    a = T.matrix("a")
    data = [[1, 2], [3, 4]]
    ref = np.array(data, dtype=np.float32)
    m = T.max(a).eval({a: data})
    assert isinstance(m, np.ndarray) and m.shape == () and m.dtype == np.float32
    assert m == ref.max()
    for axis in (0, 1):
        got = T.max(a, axis=axis).eval({a: data})
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, ref.max(axis=axis))


def test_zeros():
    out = T.zeros((2, 3)).eval()
    assert out.dtype == np.dtype(theano.config.floatX)
    np.testing.assert_array_equal(out, np.zeros((2, 3)))


def test_reshape_and_transpose_chain():
    a = T.lvector()
    data = np.arange(10)
    b = T.reshape(a, (5, 2))
    np.testing.assert_array_equal(b.eval({a: data}), data.reshape(5, 2))
    np.testing.assert_array_equal(a.reshape((5, 2)).T.eval({a: data}), data.reshape(5, 2).T)


def test_shared_scalar_state():
    state = shared(0)
    assert repr(state) == "<TensorType(int64, scalar)>"
    value = state.get_value()
    assert value.dtype == np.int64 and value.shape == () and value == 0
    state.set_value(1)
    value = state.get_value()
    assert value.dtype == np.int64 and value == 1


def test_shared_update():
    w = shared(1.0)
    x = T.scalar("x")
    mul = theano.function([x], updates=[(w, w * x)])
    assert mul(4) == []
    assert w.get_value() == 4.0 and w.get_value().dtype == np.float64
    mul(2)
    assert w.get_value() == 8.0


def test_givens_replace_input_by_shared_variable():
    x, y = T.vectors("x", "y")
    data = np.arange(3, dtype=floatX)
    s = shared(data)
    f = theano.function([y], x * y, givens={x: s})
    yv = np.full(3, 2, dtype=floatX)
    np.testing.assert_allclose(f(yv), data * yv)


def test_givens_replace_input_by_expression():
    x, y = T.scalars("x", "y")
    z = T.scalar("z")
    f = theano.function([z], x + y, givens=[(x, z * 2), (y, z + 1)])
    got = f(3)
    np.testing.assert_allclose(got, np.float32(3) * 2 + (np.float32(3) + 1))
    assert got.dtype == np.float32
