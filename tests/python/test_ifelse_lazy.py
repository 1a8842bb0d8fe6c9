"""ifelse is lazy: only the taken branch's own nodes run on the server. The branch not taken
below allocates a tensor far beyond --max_tensor_bytes (it fails when it runs), so a call that
succeeds proves it was skipped. Expected values come from NumPy."""

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from tensord.ifelse import ifelse

pytestmark = pytest.mark.usefixtures("server")

HUGE = 10 ** 12  # float32 elements: 4 TB, over any --max_tensor_bytes


def test_constant_branches_give_int8():
    z = ifelse(1, 5, 4).eval()
    assert z.dtype == np.int8 and z.shape == () and z == 5
    z = ifelse(0, 5, 4).eval()
    assert z.dtype == np.int8 and z == 4


def test_branch_not_taken_is_skipped():
    c = T.lscalar("c")
    n = T.lscalar("n")
    x = T.vector("x")
    f = theano.function([c, x, n], ifelse(c, x * 2, T.alloc(np.float32(1), n) * 3))
    xv = np.array([1, 2, 3], dtype=np.float32)
    got = f(1, xv, HUGE)  # the huge alloc is in the else branch: skipped
    np.testing.assert_allclose(got, xv * 2)
    with pytest.raises(Exception):
        f(0, xv, HUGE)  # taken: it really would fail
    g = theano.function([c, x, n], ifelse(c, T.alloc(np.float32(1), n) * 3, x - 1))
    np.testing.assert_allclose(g(0, xv, HUGE), xv - 1)


def test_both_branches_match_numpy():
    c = T.scalar("c")
    x, y = T.vectors("x", "y")
    s = T.exp(x)  # shared by both branches and the condition
    out = ifelse(T.gt(s.sum(), c), [s + y, s * 2], [s - y, s.sum() * y])
    f = theano.function([c, x, y], out)
    xv = np.array([0.5, -1.0, 2.0], dtype=np.float32)
    yv = np.array([3.0, 4.0, 5.0], dtype=np.float32)
    sv = np.exp(xv)
    for cv in (0.0, 1000.0, np.nan):
        got = f(cv, xv, yv)
        if sv.sum() > cv:  # NaN compares false
            want = [sv + yv, sv * 2]
        else:
            want = [sv - yv, sv.sum() * yv]
        for g_, w in zip(got, want):
            np.testing.assert_allclose(g_, w, rtol=1e-5)


def test_nan_condition_is_true():
    c = T.scalar("c")
    x = T.vector("x")
    f = theano.function([c, x], ifelse(c, x + 1, x - 1))
    xv = np.array([1, 2], dtype=np.float32)
    np.testing.assert_allclose(f(np.nan, xv), xv + 1)
    np.testing.assert_allclose(f(0.0, xv), xv - 1)
    np.testing.assert_allclose(f(-3.0, xv), xv + 1)


def test_nested_ifelse():
    c1, c2 = T.lscalar("c1"), T.lscalar("c2")
    n = T.lscalar("n")
    x = T.vector("x")
    # Two different allocs: a node both an inner branch and the outer else need is not exclusive
    # to either and always runs.
    inner = ifelse(c2, T.alloc(np.float32(1), n), x * 2)
    f = theano.function([c1, c2, x, n], ifelse(c1, inner, T.alloc(np.float32(2), n) + 1))
    xv = np.array([1, 2], dtype=np.float32)
    np.testing.assert_allclose(f(1, 0, xv, HUGE), xv * 2)
    np.testing.assert_allclose(f(1, 1, xv, 2), [1, 1])
    np.testing.assert_allclose(f(0, 1, xv, 2), [3, 3])
    with pytest.raises(Exception):
        f(0, 0, xv, HUGE)
