"""Gradients of reductions (axis, keepdims, ddof), scans, sort and the contractions (dot,
tensordot, batched_dot, batched_tensordot at several rank combinations) against central finite
differences; and second derivatives (verify_grad of functions that return a gradient:
hessian-vector products) for each op family."""

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from tensord.ifelse import ifelse
from harness import distinct, grad_check, nonzero, off_integers, smooth

pytestmark = pytest.mark.usefixtures("server")

GRAD_OPS = {"sum", "mean", "prod", "max", "min", "max_and_argmax", "var", "std", "cumop",
            "sort", "dot", "tensordot", "batched_dot", "batched_tensordot"}

AXES = [((5,), None), ((5,), 0), ((2, 3), None), ((2, 3), 0), ((2, 3), -1), ((2, 3, 2), 1),
        ((2, 3, 2), (0, 2)), ((2, 3, 2), (2, 1, 0))]


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("shape,axis", AXES, ids=str)
@pytest.mark.parametrize("op", ["sum", "mean", "max", "min", "max_and_argmax", "ptp"])
def test_reductions(rng, op, shape, axis, keepdims):
    fn = {"sum": T.sum, "mean": T.mean, "max": T.max, "min": T.min, "ptp": T.ptp,
          "max_and_argmax": lambda x, axis, keepdims: T.max_and_argmax(x, axis, keepdims)[0]}[op]
    grad_check(lambda x: fn(x, axis=axis, keepdims=keepdims), distinct(rng, shape))


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("shape,axis", AXES, ids=str)
def test_prod(rng, shape, axis, keepdims):
    grad_check(lambda x: T.prod(x, axis=axis, keepdims=keepdims), nonzero(rng, shape, 0.5, 1.5))


@pytest.mark.parametrize("zeros", [[0], [0, 4]], ids=["one_zero", "two_zeros"])
def test_prod_with_zeros(rng, zeros):
    # The product is a polynomial: its gradient is defined (and finite) at zeros too.
    x = nonzero(rng, (2, 3), 0.5, 1.5)
    x.flat[zeros] = 0.0
    grad_check(T.prod, x)
    grad_check(lambda a: T.prod(a, axis=1), x)
    grad_check(lambda a: T.prod(a, axis=0), x)


@pytest.mark.parametrize("ddof", [0, 1])
@pytest.mark.parametrize("shape,axis", [((5,), None), ((2, 3), None), ((2, 3), 0), ((3, 4), -1),
                                        ((2, 3, 2), (0, 2))], ids=str)
@pytest.mark.parametrize("op", ["var", "std"])
def test_moments(rng, op, shape, axis, ddof):
    fn = getattr(T, op)
    x = distinct(rng, shape)  # no constant rows: std is smooth where the variance is > 0
    grad_check(lambda a: fn(a, axis=axis, ddof=ddof), x)
    grad_check(lambda a: fn(a, axis=axis, ddof=ddof, keepdims=True), x)


@pytest.mark.parametrize("op", ["var", "std"])
def test_moments_corrected_and_float32(rng, op):
    fn = getattr(T, op)
    grad_check(lambda a: fn(a, axis=1, corrected=True), distinct(rng, (2, 4)))
    grad_check(lambda a: fn(a, axis=0), distinct(rng, (4, 3)).astype("float32"))


@pytest.mark.parametrize("shape,axis", [((5,), None), ((5,), 0), ((2, 3), None), ((2, 3), 0),
                                        ((2, 3), 1), ((2, 3), -1), ((2, 3, 2), 1)], ids=str)
@pytest.mark.parametrize("mode", ["cumsum", "cumprod"])
def test_cumulative(rng, mode, shape, axis):
    grad_check(lambda x: getattr(T, mode)(x, axis=axis), nonzero(rng, shape, 0.5, 1.5))


@pytest.mark.parametrize("shape,axis", [((5,), -1), ((5,), 0), ((3, 4), -1), ((3, 4), 0),
                                        ((2, 3, 2), 1), ((2, 3), None)], ids=str)
def test_sort(rng, shape, axis):
    x = distinct(rng, shape)
    grad_check(lambda a: T.sort(a, axis=axis), x)
    # The weights differ per position, so a permutation error would show.
    weights = np.arange(1.0, x.size + 1).reshape(np.sort(x, axis=axis).shape)
    grad_check(lambda a: T.sort(a, axis=axis) * weights, x)


def test_reductions_float32(rng):
    x = distinct(rng, (3, 4)).astype("float32")
    for fn in (T.sum, T.mean, T.max, lambda a: T.prod(a, axis=0), lambda a: T.cumsum(a, 1),
               lambda a: T.sort(a, 0)):
        grad_check(fn, x)


# ---- contractions ----

DOT_SHAPES = [((4,), (4,)), ((3, 4), (4,)), ((4,), (4, 2)), ((3, 4), (4, 2)), ((), (3, 2)),
              ((3, 2), ()), ((2, 3, 4), (4, 2)), ((1, 4), (4, 1))]


@pytest.mark.parametrize("shapes", DOT_SHAPES, ids=str)
def test_dot(rng, shapes):
    grad_check(T.dot, smooth(rng, shapes[0]), smooth(rng, shapes[1]))


def test_dot_float32_and_operators(rng):
    a, b = smooth(rng, (3, 4)), smooth(rng, (4, 2))
    grad_check(T.dot, a.astype("float32"), b.astype("float32"))
    grad_check(lambda x, y: T.tanh(T.dot(x, y)).T, a, b)
    grad_check(lambda x, y: T.outer(x, y), smooth(rng, (3,)), smooth(rng, (2,)))


@pytest.mark.parametrize("shapes,axes", [
    (((2, 3, 4), (3, 4, 2)), 2), (((2, 3), (3, 2)), 1), (((2, 3), (2, 2)), 0),
    (((2, 3, 4), (4, 3)), [[1, 2], [1, 0]]), (((3, 2, 2), (2, 3)), [[0], [1]]),
    (((4,), (4,)), 1)], ids=str)
def test_tensordot(rng, shapes, axes):
    grad_check(lambda a, b: T.tensordot(a, b, axes), smooth(rng, shapes[0]),
               smooth(rng, shapes[1]))


@pytest.mark.parametrize("shapes", [((2, 3, 4), (2, 4, 2)), ((2, 3), (2, 3)), ((2, 3, 4), (2, 4)),
                                    ((2, 3), (2, 3, 2)), ((3,), (3, 2, 2)), ((2, 3), (2,))],
                         ids=str)
def test_batched_dot(rng, shapes):
    grad_check(T.batched_dot, smooth(rng, shapes[0]), smooth(rng, shapes[1]))


@pytest.mark.parametrize("shapes,axes", [
    (((2, 3, 4), (2, 4, 2)), [[2], [1]]), (((2, 3, 4), (2, 3, 4)), [[1, 2], [1, 2]]),
    (((2, 3, 2), (2, 2, 3)), 1), (((2, 4, 3), (2, 3)), [[2], [1]]),
    (((2, 2, 3), (2, 3, 2, 2)), [[1, 2], [2, 1]])], ids=str)
def test_batched_tensordot(rng, shapes, axes):
    grad_check(lambda a, b: T.batched_tensordot(a, b, axes), smooth(rng, shapes[0]),
               smooth(rng, shapes[1]))


# ---- second derivatives: verify_grad of a gradient (hessian-vector products) ----

def _grad_of(cost):
    """x -> d cost(x) / dx, a function verify_grad can check in turn."""
    return lambda x: T.grad(cost(x), x)


SECOND = {
    "elementwise": (lambda x: T.sum(T.tanh(x) ** 3), lambda r: smooth(r, (2, 3))),
    "transcendental": (lambda x: T.sum(T.exp(x) * T.sin(x) + T.sqrt(x) / x + T.gammaln(x)
                                       + T.nnet.sigmoid(x) * T.erf(x)),
                       lambda r: smooth(r, (5,), 0.5, 2)),
    "binary_broadcast": (lambda x: T.sum(x ** T.constant(np.array([[1.5, 2.5, 3.0]]))
                                         / (1 + x[0] ** 2)), lambda r: smooth(r, (2, 3), 0.5, 2)),
    "sum_mean_var": (lambda x: T.sum(T.sum(x, axis=0) ** 3) + T.mean(x ** 2) * T.var(x, axis=1)
                     .sum() + T.std(x), lambda r: distinct(r, (3, 4))),
    "prod_max": (lambda x: T.sum(T.prod(x, axis=1) ** 2) + T.sum(T.max(x, axis=0) ** 3),
                 lambda r: distinct(r, (3, 4)) / 3),
    "softmax": (lambda x: T.sum(T.nnet.softmax(x) * np.arange(12.0).reshape(3, 4) ** 0.5),
                lambda r: smooth(r, (3, 4))),
    "cumop_sort": (lambda x: T.sum(T.cumsum(x ** 2, axis=0) * T.cumprod(x, axis=1))
                   + T.sum(T.sort(x, axis=1) ** 3 * np.arange(4.0)),
                   lambda r: distinct(r, (3, 4)) / 2),
    "dot": (lambda w: T.sum(T.tanh(T.dot(w, np.linspace(-1, 1, 4)))) + T.sum(T.dot(w, w.T) ** 2),
            lambda r: smooth(r, (3, 4))),
    "tensordot": (lambda x: T.sum(T.sin(T.tensordot(x, x, [[0], [0]]))) + T.sum(
        T.batched_dot(x.dimshuffle(0, 1, "x"), x.dimshuffle(0, "x", 1)) ** 2),
                  lambda r: smooth(r, (3, 4))),
    "subtensor": (lambda x: T.sum(x[1:, ::-1] ** 3) + T.sum(x[[0, 2, 0]] ** 2 * x[0])
                  + T.sum(T.set_subtensor(x[1], 1.0) ** 3), lambda r: smooth(r, (3, 4))),
    "indexing_updates": (lambda x: T.sum(T.inc_subtensor(x[[0, 2, 0]], x[1] ** 2) ** 3)
                         + T.sum(T.set_subtensor(x[:, [3, 1]], T.exp(x[:, :2])) ** 2)
                         + T.sum(x[x > 0] ** 3), lambda r: smooth(r, (3, 4))),
    "piecewise": (lambda x: T.sum(T.maximum(x, 0.1) ** 3 + T.clip(x, -0.5, 0.5) ** 2 * x
                                  + T.switch(x > 0, x ** 3, T.abs_(x) ** 2.5) + T.floor(x) * x),
                  lambda r: off_integers(r, (2, 3), -2, 2) + 0.01),
    "moments_prod": (lambda x: T.std(x, axis=0, ddof=1).sum() ** 2 + T.prod(x ** 2)
                     + T.sum(T.prod(x, axis=1) * T.mean(x, axis=1, keepdims=True).T)
                     + T.var(x, axis=1, keepdims=True).sum() ** 2,
                     lambda r: nonzero(r, (3, 3), 0.5, 1.5)),
    "alloc_join_ifelse": (lambda x: T.sum(T.alloc(x[0], 2, 3) ** 3) + T.sum(ifelse(
        T.gt(x[1], -10), T.stack([x[0], x[1] ** 2, x[2]]), x) ** 3), lambda r: smooth(r, (3,))),
    "shape": (lambda x: T.sum(T.tile(x.T, (2, 1)) ** 3) + T.sum(T.concatenate([x, x ** 2]) ** 2)
              + T.sum(T.repeat(x.flatten(), 2) ** 3 * x.reshape((12,))[::-1].repeat(2)),
              lambda r: smooth(r, (3, 4))),
}


@pytest.mark.parametrize("family", sorted(SECOND))
def test_second_derivatives(rng, family):
    cost, sample = SECOND[family]
    grad_check(_grad_of(cost), sample(rng))


# prod's gradient stays differentiable at zeros: hessians there are exact (Theano raises).
@pytest.mark.parametrize("zeros", [[6], [0, 6], [0, 3, 6]],
                         ids=["one_zero", "two_zeros", "three_zeros"])
def test_second_derivative_of_prod_at_zeros(rng, zeros):
    x = nonzero(rng, (3, 3), 0.5, 1.5)
    x.flat[zeros] = 0.0
    grad_check(_grad_of(lambda a: T.sum(T.sin(T.prod(a, axis=0)))), x)


def test_hessian_of_two_inputs_and_third_derivative(rng):
    # Mixed partials: d/dy of d(cost)/dx, and a third derivative of an elementwise chain.
    x, y = T.dvector("x"), T.dvector("y")
    grad_check(lambda a, b: T.grad(T.sum(T.exp(a * b) * b ** 2), a), smooth(rng, (3,)),
               smooth(rng, (3,)))
    grad_check(lambda a: T.grad(T.sum(T.grad(T.sum(T.sin(a) * a ** 3), a) ** 2), a),
               smooth(rng, (4,)))
    # A full hessian row by row matches NumPy's formula.
    cost = T.sum(T.dot(x, y) ** 2)
    gx = T.grad(cost, x)
    h = theano.function([x, y], [T.grad(gx[i], x) for i in range(3)])(
        np.array([0.5, 1.0, -1.0]), np.array([1.0, 2.0, 3.0]))
    yv = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(np.stack(h), 2 * np.outer(yv, yv), rtol=1e-12)
