"""Shared variables on a real server: creation, get/set, dtype rules, updates."""

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from tensord import shared

pytestmark = pytest.mark.usefixtures("server")


def test_scalar_constructor_dtypes():
    assert shared(3).dtype == "int64"
    assert shared(2.5).dtype == "float64"
    assert shared(np.float32(2.5)).dtype == "float32"
    v = shared(np.float32(2.5))
    assert v.get_value().dtype == np.float32 and v.get_value() == np.float32(2.5)


def test_array_roundtrip_and_copy_semantics():
    data = np.arange(12, dtype="float32").reshape(3, 4)
    s = shared(data, name="s")
    assert repr(s) == "s" and s.type.broadcastable == (False, False)
    got = s.get_value()
    np.testing.assert_array_equal(got, data)
    got[0, 0] = 100  # a copy: the server's value is unchanged
    data[0, 1] = 100  # shared() copied the value too
    np.testing.assert_array_equal(s.get_value(), np.arange(12, dtype="float32").reshape(3, 4))


def test_set_value_keeps_dtype():
    s = shared(np.zeros(3, dtype="float32"))
    s.set_value([1, 2, 3])  # lossless conversion
    assert s.get_value().dtype == np.float32
    np.testing.assert_array_equal(s.get_value(), [1, 2, 3])
    with pytest.raises(TypeError, match="cannot store a value of dtype float64"):
        s.set_value(np.ones(3))
    with pytest.raises(TypeError, match="Wrong number of dimensions"):
        s.set_value(np.ones((2, 2), dtype="float32"))
    s.set_value(np.ones(5, dtype="float32"))  # shape may change, ndim may not
    assert s.get_value().shape == (5,)
    lenient = shared(np.zeros(2, dtype="float32"), allow_downcast=True)
    lenient.set_value(np.array([0.5, 1.5]))
    np.testing.assert_array_equal(lenient.get_value(), np.array([0.5, 1.5], "float32"))


def test_shared_in_graph_and_updates_apply_together():
    a = shared(np.ones(2, dtype="float32"), name="a")
    b = shared(np.full(2, 10.0, dtype="float32"), name="b")
    x = T.vector("x")
    f = theano.function([x], [a + b + x], updates=[(a, b), (b, a + x)])
    xv = np.array([1, 2], dtype="float32")
    (out,) = f(xv)
    np.testing.assert_array_equal(out, np.ones(2) + 10 + xv)
    # Both updates read the values from before the call.
    np.testing.assert_array_equal(a.get_value(), np.full(2, 10.0))
    np.testing.assert_array_equal(b.get_value(), np.ones(2) + xv)


def test_update_from_plain_value():
    counter = shared(0)
    inc = theano.function([], counter, updates=[(counter, counter + 1)])
    results = [int(inc()) for _ in range(3)]
    assert results == [0, 1, 2] and counter.get_value() == 3
    reset = theano.function([], updates={counter: 0})
    reset()
    assert counter.get_value() == 0


def test_shared_eval_and_broadcastable():
    s = shared(np.ones((1, 3), dtype="float32"), broadcastable=(True, False))
    assert s.broadcastable == (True, False)
    m = T.matrix()
    out = theano.function([m], m + s)(np.zeros((2, 3), dtype="float32"))
    np.testing.assert_array_equal(out, np.ones((2, 3)))
    np.testing.assert_array_equal(s.eval(), np.ones((1, 3)))
