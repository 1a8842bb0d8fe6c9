"""Reduction fusion (engine/passes/fusion.h): a sum, max or min over every axis of a fused
expression (or of one elementwise op) is folded as the expression is computed, never stored.
Against NumPy, and against the same function with the pass excluded: fused chains over
broadcasting inputs, float32 sums accumulated in double, NaN, empty arrays, big arrays split
over the threads; and where the pass must leave the graph alone."""

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from tensord import errors
from tensord.compile.mode import get_mode

pytestmark = pytest.mark.usefixtures("server")

UNFUSED = get_mode("FAST_RUN").excluding("reduction_fusion")


def compiled(inputs, output, mode=None):
    fn = theano.function(inputs, output, mode=mode, on_unused_input="ignore")
    return fn, fn.describe().debugprint


def reduce_of(name, expr):
    return {"sum": T.sum, "mean": T.mean, "max": T.max, "min": T.min}[name](expr)


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(7, 5), (300, 1001), (1,), ()])
def test_chains_and_single_ops_are_reduced_as_numpy_does(name, dtype, shape):
    rng = np.random.default_rng(0)
    x = T.tensor(dtype, (False,) * len(shape))
    b = T.scalar(dtype=dtype)
    xv = rng.uniform(-2, 2, shape).astype(dtype)
    bv = np.asarray(0.25, dtype)
    ref = {"sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min}[name]
    for expr, want in [(T.tanh(x * 2 + b) * x, np.tanh(xv * 2 + bv) * xv), (T.exp(x), np.exp(xv))]:
        fn, graph = compiled([x, b], reduce_of(name, expr))
        # (Reducing a 0-d value is the value itself: the optimizer drops the reduction.)
        assert ("CAReduce{%s" % name in graph) == (len(shape) > 0), graph
        got = fn(xv, bv)
        assert got.dtype == np.dtype(dtype)
        # float32 sums accumulate in double: compare with NumPy's double sum.
        expect = ref(want.astype("float64")).astype(dtype)
        np.testing.assert_allclose(got, expect, rtol=2e-6 if dtype == "float32" else 1e-12)
        unfused, plain = compiled([x, b], reduce_of(name, expr), mode=UNFUSED)
        assert "CAReduce" not in plain
        np.testing.assert_allclose(got, unfused(xv, bv), rtol=2e-6 if dtype == "float32" else 1e-12)


def test_broadcast_operands_are_reduced_over_the_broadcast_shape():
    m, row, col = T.dmatrix(), T.drow(), T.dcol()
    fn, graph = compiled([m, row, col], (m * row + col).sum())
    assert "CAReduce{sum" in graph
    mv, rv, cv = np.ones((3, 4)), np.arange(4.0)[None, :], np.arange(3.0)[:, None]
    np.testing.assert_allclose(fn(mv, rv, cv), (mv * rv + cv).sum())
    fn, _ = compiled([row, col], (row + col).max())  # every element from broadcasting alone
    np.testing.assert_allclose(fn(rv, cv), (rv + cv).max())


def test_float32_sums_keep_every_unit():
    # 2**25 ones: a float32 accumulator stops at 2**24; the fused sum adds in double.
    x = T.fvector()
    fn, graph = compiled([x], (x * 2).sum())
    assert "CAReduce{sum" in graph
    assert fn(np.full(2 ** 25, 0.5, "float32")) == 2 ** 25


def test_nan_wins_max_and_min_wherever_it_is():
    x = T.dvector()
    fn, _ = compiled([x], [T.max(x * 2), T.min(x * 2)])
    for at in (0, 150_000, 299_999):  # the first range, a middle one, the last
        v = np.linspace(-1, 1, 300_000)
        v[at] = np.nan
        top, bottom = fn(v)
        assert np.isnan(top) and np.isnan(bottom), at


def test_empty_arrays_sum_to_zero_and_max_has_no_identity():
    x = T.dmatrix()
    total, _ = compiled([x], (x * 2).sum())
    assert total(np.zeros((0, 3))) == 0
    average, graph = compiled([x], (x * 2).mean())
    assert "CAReduce{mean" in graph
    assert np.isnan(average(np.zeros((0, 3))))  # 0 / 0, as NumPy (and the unfused mean)
    top, graph = compiled([x], (x * 2).max())
    assert "CAReduce{max" in graph
    with pytest.raises(errors.InvalidArgument, match="max of an empty array .* has no identity"):
        top(np.zeros((0, 3)))


def test_what_is_left_alone():
    x, y = T.dmatrix(), T.dmatrix()
    e = T.exp(x) * y
    # The expression is also an output, or read by something else: it is stored anyway.
    _, graph = compiled([x, y], [e.sum(), e])
    assert "CAReduce" not in graph
    _, graph = compiled([x, y], [e.sum(), (e + 1).mean()])
    assert "CAReduce{sum" not in graph  # (e + 1).mean() alone may fold
    # Reductions over some axes, or to another dtype, or of a comparison, stay as they are.
    for out in [e.sum(axis=0), e.max(axis=1), e.sum(dtype="float32"), (x > y).sum()]:
        _, graph = compiled([x, y], out)
        assert "CAReduce" not in graph, out
    # An update value is stored anyway, so the sum that reads it stays a sum.
    w = theano.shared(np.zeros((2, 2)))
    f = theano.function([x, y], e.sum(), updates=[(w, e)])
    assert "CAReduce" not in f.describe().debugprint
    np.testing.assert_allclose(f(np.zeros((2, 2)), np.ones((2, 2))), 4.0)
    np.testing.assert_allclose(w.get_value(), np.ones((2, 2)))
    # Excluding fusion means no composite at all, the reducing kind included.
    _, graph = compiled([x], T.exp(x).sum(), mode=get_mode("FAST_RUN").excluding("fusion"))
    assert "Composite" not in graph and "CAReduce" not in graph
    # NanGuardMode must name the node that first produces a NaN.
    f = theano.function([x], T.log(x).sum(), mode="NanGuardMode")
    with pytest.raises(errors.InvalidArgument, match=r"NanGuardMode: log\(.*\) produced nan at index \(0, 0\)"):
        f(-np.ones((1, 1)))


def test_gradients_next_to_fused_reductions_are_unchanged():
    x = T.dvector()
    cost = (T.tanh(x) * 3).sum()
    # The gradient of a sum fills the summed value's shape, so it reads that value too and the
    # forward sum stays unfused here; a cost the gradient does not read folds.
    fn = theano.function([x], [cost, T.grad(cost, x), (T.tanh(x) * 2).sum()])
    assert "CAReduce{sum" in fn.describe().debugprint
    xv = np.linspace(-1, 1, 11)
    c, g, other = fn(xv)
    np.testing.assert_allclose(other, (np.tanh(xv) * 2).sum(), atol=1e-12)  # about 0
    np.testing.assert_allclose(c, (np.tanh(xv) * 3).sum(), atol=1e-12)
    np.testing.assert_allclose(g, 3 * (1 - np.tanh(xv) ** 2))
