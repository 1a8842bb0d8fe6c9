"""Ops on views: dimshuffle/transpose outputs share their input's buffer with permuted strides,
so every kernel must read non-contiguous inputs correctly. References are NumPy's."""

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T

pytestmark = pytest.mark.usefixtures("server")


@pytest.fixture
def data(rng):
    return {
        "a": rng.standard_normal((3, 4)).astype("float32"),
        "b": rng.standard_normal((3, 5)).astype("float32"),
        "c": rng.standard_normal((4, 3)).astype("float32"),
        "v": rng.standard_normal(3).astype("float32"),
        "t3": rng.standard_normal((2, 3, 4)).astype("float64"),
    }


def test_dot_of_transposed_operands(data):
    a, b, c, v = T.matrix("a"), T.matrix("b"), T.matrix("c"), T.vector("v")
    f = theano.function([a, b, c, v], [T.dot(a.T, b), T.dot(c, a), T.dot(a.T, v),
                                        T.dot(v, c.T), T.dot(c.T, a.T)])
    got = f(data["a"], data["b"], data["c"], data["v"])
    A, B, C, V = data["a"], data["b"], data["c"], data["v"]
    for g, want in zip(got, [A.T @ B, C @ A, A.T @ V, V @ C.T, C.T @ A.T]):
        np.testing.assert_allclose(g, want, rtol=1e-5, atol=1e-5)


def test_elementwise_and_reductions_on_views(data):
    a, c = T.matrix("a"), T.matrix("c")
    f = theano.function([a, c], [T.exp(a.T), a.T + c, T.sum(a.T, axis=0), T.max(a.T, axis=1),
                                 -(a.T), T.cast(a.T, "int32")])
    A, C = data["a"], data["c"]
    got = f(A, C)
    wants = [np.exp(A.T), A.T + C, A.T.sum(axis=0), A.T.max(axis=1), -A.T, A.T.astype("int32")]
    for g, want in zip(got, wants):
        assert g.shape == want.shape and g.dtype == want.dtype
        np.testing.assert_allclose(g, want, rtol=1e-6)


def test_reshape_of_a_view_copies_in_c_order(data):
    a = T.matrix("a")
    out = theano.function([a], a.T.reshape((-1,)))(data["a"])
    np.testing.assert_array_equal(out, data["a"].T.reshape(-1))


def test_permuted_tensor3(data):
    t = T.dtensor3("t")
    p = t.dimshuffle(2, 0, 1)
    f = theano.function([t], [p, p * 2 + t.dimshuffle(2, 0, 1), T.sum(p, axis=(0, 2)),
                              p.reshape((4, 6))])
    X = data["t3"]
    P = X.transpose(2, 0, 1)
    got = f(X)
    for g, want in zip(got, [P, P * 2 + P, P.sum(axis=(0, 2)), P.reshape(4, 6)]):
        np.testing.assert_allclose(g, want, rtol=1e-12)


def test_shared_update_with_a_transposed_value(rng):
    value = rng.standard_normal((3, 3)).astype("float64")
    w = theano.shared(value)
    step = theano.function([], updates=[(w, w.T)])
    step()
    np.testing.assert_array_equal(w.get_value(), value.T)
    step()
    np.testing.assert_array_equal(w.get_value(), value)
