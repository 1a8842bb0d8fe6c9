"""The chapter-1 examples of shared/seed/theano-basics.txt that use the op library (creation,
shape, indexing, joining, switch, ifelse), through a real server. Expected values come from
NumPy expressions of the same computation."""

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from tensord.ifelse import ifelse

pytestmark = pytest.mark.usefixtures("server")


def test_creation():
    a = T.zeros((2, 3))
    np.testing.assert_array_equal(a.eval(), np.zeros((2, 3)))
    np.testing.assert_array_equal(T.identity_like(a).eval(), np.eye(2, 3))
    c = T.arange(10)
    np.testing.assert_array_equal(c.eval(), np.arange(10))
    assert (c.ndim, c.dtype, str(c.type)) == (1, "int64", "TensorType(int64, vector)")


def test_symbolic_shape():
    a = T.matrix()
    np.testing.assert_array_equal(a.shape.eval({a: [[1, 2], [1, 3]]}), [2, 2])
    shape_fct = theano.function([a], a.shape)
    np.testing.assert_array_equal(shape_fct([[1, 2], [1, 3]]), [2, 2])
    n = T.iscalar()
    np.testing.assert_array_equal(T.arange(n).shape.eval({n: 10}), [10])


def test_reshape_slice_transpose_chain():
    np.testing.assert_array_equal(T.reshape(T.arange(10), (5, 2)).eval(),
                                  np.arange(10).reshape(5, 2))
    np.testing.assert_array_equal(T.arange(10).reshape((5, 2))[::-1].T.eval(),
                                  np.arange(10).reshape(5, 2)[::-1].T)


def test_elementwise_examples():
    a, b = T.matrices("a", "b")
    ones = np.ones((2, 2)).astype(theano.config.floatX)
    diag = np.diag((3, 3)).astype(theano.config.floatX)
    np.testing.assert_array_equal((a * b).eval({a: ones, b: diag}), ones * diag)
    np.testing.assert_array_equal(T.mul(a, b, a, b).eval({a: ones, b: diag}), ones * diag * ones * diag)
    cond = T.vector("cond")
    x, y = T.vectors("x", "y")
    got = T.switch(cond, x, y).eval({cond: [1, 0], x: [10, 10], y: [3, 2]})
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, np.where([1, 0], [10, 10], [3, 2]))


def test_ifelse_constant_branches():
    z = ifelse(1, 5, 4).eval()
    assert z.dtype == np.int8 and z.shape == () and z == 5


def test_concatenate_stack_and_subtensor_updates():
    a = T.arange(10).reshape((5, 2))
    b = a[::-1]
    an = np.arange(10).reshape(5, 2)
    bn = an[::-1]
    np.testing.assert_array_equal(b.eval(), bn)
    np.testing.assert_array_equal(T.concatenate([a, b]).eval(), np.concatenate([an, bn]))
    np.testing.assert_array_equal(T.concatenate([a, b], axis=1).eval(),
                                  np.concatenate([an, bn], axis=1))
    np.testing.assert_array_equal(T.stack([a, b]).eval(), np.stack([an, bn]))
    expected = an.copy()
    expected[3:] = [-1, -1]
    np.testing.assert_array_equal(T.set_subtensor(a[3:], [-1, -1]).eval(), expected)
    expected = an.copy()
    expected[3:] += [-1, -1]
    np.testing.assert_array_equal(T.inc_subtensor(a[3:], [-1, -1]).eval(), expected)
    np.testing.assert_array_equal(a.eval(), an)  # the original is untouched
