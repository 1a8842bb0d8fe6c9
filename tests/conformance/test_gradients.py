"""Gradients of the elementwise ops against central finite differences (T.verify_grad): every
unary op on smooth domains and several ranks, the binary and ternary ops with broadcasting
(whose gradients go through sum_to_like), float32 cases, the gradient-steering ops, and the
errors: a wrong gradient raises GradientError, a non-differentiable op raises InvalidArgument.

Reductions, linear algebra and second derivatives: test_gradients_reduce.py; shape ops and
indexing: test_gradients_shape.py.
"""

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from tensord import errors
from tensord.gradient import GradientError, disconnected_grad, grad_clip, zero_grad
from harness import distinct, grad_check, nonzero, off_integers, smooth

pytestmark = pytest.mark.usefixtures("server")


def _uniform(low, high):
    return lambda rng, shape: smooth(rng, shape, low, high)


REAL, POSITIVE, UNIT = _uniform(-2, 2), _uniform(0.5, 3), _uniform(-0.9, 0.9)

# wire name -> (the client function, a domain where it is smooth).
UNARY = {
    "abs": (T.abs_, nonzero),
    "neg": (T.neg, REAL),
    "exp": (T.exp, REAL),
    "log": (T.log, POSITIVE),
    "sqr": (T.sqr, REAL),
    "sqrt": (T.sqrt, POSITIVE),
    "expm1": (T.expm1, REAL),
    "exp2": (T.exp2, REAL),
    "log1p": (T.log1p, _uniform(-0.5, 2)),
    "log2": (T.log2, POSITIVE),
    "log10": (T.log10, POSITIVE),
    "sin": (T.sin, REAL),
    "cos": (T.cos, REAL),
    "tan": (T.tan, _uniform(-1.2, 1.2)),
    "arcsin": (T.arcsin, UNIT),
    "arccos": (T.arccos, UNIT),
    "arctan": (T.arctan, REAL),
    "sinh": (T.sinh, REAL),
    "cosh": (T.cosh, REAL),
    "tanh": (T.tanh, REAL),
    "erf": (T.erf, REAL),
    "erfc": (T.erfc, REAL),
    "gamma": (T.gamma, _uniform(0.5, 3.5)),
    "gammaln": (T.gammaln, _uniform(0.3, 4)),
    "psi": (T.psi, _uniform(0.5, 4)),
    "sigmoid": (T.nnet.sigmoid, _uniform(-3, 3)),
    "softplus": (T.nnet.softplus, _uniform(-3, 3)),
    # Piecewise constant: zero gradients, which finite differences off the jumps agree with.
    "sgn": (T.sgn, nonzero),
    "floor": (T.floor, off_integers),
    "ceil": (T.ceil, off_integers),
    "trunc": (T.trunc, off_integers),
    "round_half_to_even": (T.round_half_to_even, off_integers),
    "round_half_away_from_zero": (T.round_half_away_from_zero, off_integers),
}


def _multiples(rng, shape_a, shape_b):
    """(a, b) with a / b off the integers: mod and int_div are smooth there."""
    b = nonzero(rng, shape_b, 0.5, 2.0)
    return b * off_integers(rng, shape_a, -2, 2), b


def _pair(sample_a, sample_b):
    return lambda rng, shape_a, shape_b: (sample_a(rng, shape_a), sample_b(rng, shape_b))


# wire name -> (the client function, a sampler of (a, b) given their shapes).
BINARY = {
    "add": (lambda a, b: a + b, _pair(REAL, REAL)),
    "sub": (lambda a, b: a - b, _pair(REAL, REAL)),
    "mul": (lambda a, b: a * b, _pair(REAL, REAL)),
    "true_div": (lambda a, b: a / b, _pair(REAL, nonzero)),
    "pow": (lambda a, b: a ** b, _pair(POSITIVE, REAL)),
    "maximum": (T.maximum, _pair(REAL, REAL)),
    "minimum": (T.minimum, _pair(REAL, REAL)),
    "arctan2": (T.arctan2, _pair(nonzero, nonzero)),
    "mod": (lambda a, b: a % b, _multiples),
    "int_div": (lambda a, b: a // b, _multiples),
}

# Same shapes, NumPy broadcasting of size-1 dims (verify_grad declares them broadcastable),
# lower ranks padded on the left, 0-d with n-d.
SHAPE_PAIRS = [((), ()), ((5,), (5,)), ((2, 3), (2, 3)), ((3, 1), (1, 4)), ((2, 3, 2), (2,)),
               ((), (2, 3)), ((2, 1, 3), (4, 1))]

GRAD_OPS = set(UNARY) | set(BINARY) | {"clip", "switch", "sum_to_like", "disconnected_grad",
                                       "zero_grad", "grad_clip"}


@pytest.mark.parametrize("shape", [(), (5,), (2, 3), (2, 3, 2)], ids=str)
@pytest.mark.parametrize("op", sorted(UNARY))
def test_unary(rng, op, shape):
    fn, domain = UNARY[op]
    grad_check(fn, domain(rng, shape))


@pytest.mark.parametrize("op", ["exp", "log", "sqrt", "tanh", "sigmoid", "arcsin", "gammaln",
                                "abs", "floor"])
def test_unary_float32(rng, op):
    fn, domain = UNARY[op]
    grad_check(fn, domain(rng, (2, 3)).astype("float32"))


@pytest.mark.parametrize("shapes", SHAPE_PAIRS, ids=str)
@pytest.mark.parametrize("op", sorted(BINARY))
def test_binary_with_broadcasting(rng, op, shapes):
    fn, sampler = BINARY[op]
    grad_check(fn, *sampler(rng, *shapes))


@pytest.mark.parametrize("op", ["add", "mul", "true_div", "pow", "maximum"])
def test_binary_float32(rng, op):
    fn, sampler = BINARY[op]
    a, b = sampler(rng, (3, 1), (1, 4))
    grad_check(fn, a.astype("float32"), b.astype("float32"))


def test_mixed_precision_operands(rng):
    # float32 * float64 upcasts; each gradient comes back in its input's dtype.
    grad_check(lambda a, b: T.tanh(a) * b, smooth(rng, (2, 3)).astype("float32"),
               smooth(rng, (2, 3)), abs_tol=1e-2)


@pytest.mark.parametrize("shapes", [[(2, 3)] * 3, [(2, 3), (1, 3), (2, 1)], [(), (3,), (2, 3)]],
                         ids=str)
def test_variadic_add_and_mul(rng, shapes):
    values = [smooth(rng, s) for s in shapes]
    grad_check(lambda *xs: T.add(*xs), *values)
    grad_check(lambda *xs: T.mul(*xs), *values)
    grad_check(lambda a, b, c: a * b + c * a, *values)  # one input used twice


def test_power_with_constant_exponents(rng):
    x = smooth(rng, (2, 3), 0.5, 2)
    for p in (2, 3, 0.5, -1.5):
        grad_check(lambda a: a ** p, x)
    grad_check(lambda b: np.float64(1.7) ** b, smooth(rng, (4,)))


@pytest.mark.parametrize("shapes", [((2, 3), (), ()), ((2, 3), (2, 1), (1, 3)), ((4,), (4,), (4,))],
                         ids=str)
def test_clip(rng, shapes):
    # x spread over [-2.2, 2.2] with bounds near +-1: entries clipped on each side, none tied.
    x = _spread(rng, shapes[0])
    lo, hi = -1.07 + smooth(rng, shapes[1], 0, 0.1), 1.03 + smooth(rng, shapes[2], 0, 0.1)
    grad_check(T.clip, x, lo, hi)
    grad_check(lambda a: T.clip(a, -0.5, 0.75), x)


def _spread(rng, shape):
    n = int(np.prod(shape))
    x = rng.permutation(np.linspace(-2.2, 2.2, n)) + rng.uniform(0, 0.05, size=n)
    return x.reshape(shape)


def test_clip_float32(rng):
    x = _spread(rng, (2, 3)).astype("float32")
    grad_check(lambda a: T.clip(a, np.float32(-1.01), np.float32(1.02)), x)


@pytest.mark.parametrize("shapes", [((2, 3), (2, 3)), ((3, 1), (1, 4)), ((5,), ())], ids=str)
def test_switch(rng, shapes):
    a, b = smooth(rng, shapes[0]), smooth(rng, shapes[1])
    # The condition comes from a comparison: no gradient flows to it.
    grad_check(lambda x, y: T.switch(x > 0.1, T.sin(x) * y, x * y ** 2), a, b)
    mask = rng.integers(0, 2, size=np.broadcast(a, b).shape).astype(bool)
    grad_check(lambda x, y: T.switch(mask, x, y), a, b)
    grad_check(lambda x: T.switch(mask, x, 2.0), a)


def test_relu_softmax_and_crossentropy(rng):
    grad_check(T.nnet.relu, nonzero(rng, (3, 4)))
    grad_check(lambda x: T.nnet.relu(x, 0.1), nonzero(rng, (3, 4)))
    grad_check(T.nnet.softmax, smooth(rng, (3, 4)))
    grad_check(T.nnet.log_softmax, smooth(rng, (3, 4)))
    target = np.eye(4)[[0, 3, 1]]
    grad_check(lambda x: T.nnet.categorical_crossentropy(T.nnet.softmax(x), target),
               smooth(rng, (3, 4)))
    grad_check(lambda p: T.nnet.binary_crossentropy(p, 0.3), smooth(rng, (5,), 0.1, 0.9))


# ---- the gradient-steering ops: their rules are checked against the true derivative of
# what they leave ----

def test_zero_grad_and_disconnected_grad(rng):
    x, y = smooth(rng, (2, 3)), smooth(rng, (3,))
    # zero_grad(y) is a constant as far as the gradient goes: d/dx of x * c.
    grad_check(lambda a: a * zero_grad(T.constant(y)), x)
    grad_check(lambda a: a * disconnected_grad(T.constant(y)), x)
    # Only the path around them counts: sum(x * stop(x)) has gradient stop(x) = x.
    a = T.dmatrix("a")
    for stop in (zero_grad, disconnected_grad):
        got = theano.function([a], theano.grad(T.sum(T.exp(a) * stop(a)), a))(x)
        np.testing.assert_allclose(got, np.exp(x) * x, rtol=1e-12)


def test_grad_clip(rng):
    x = smooth(rng, (2, 3))
    # Gradients within the bounds pass unchanged: a correct gradient.
    grad_check(lambda a: grad_clip(T.sin(a), -2.0, 2.0) * 0.5, x)
    a = T.dmatrix("a")
    got = theano.function([a], theano.grad(T.sum(grad_clip(a, -0.5, 0.5) ** 3), a))(x)
    np.testing.assert_allclose(got, np.clip(3 * x ** 2, -0.5, 0.5), rtol=1e-12)


def test_sum_to_like_in_broadcast_gradients(rng):
    # The gradients of broadcast operands reduce over the broadcast dims (sum_to_like).
    x, r, c = T.dmatrix("x"), T.drow("r"), T.dcol("c")
    gr, gc = theano.grad(T.sum(T.exp(x * r + c)), [r, c])
    assert gr.type == r.type and gc.type == c.type
    xv, rv, cv = smooth(rng, (3, 4)), smooth(rng, (1, 4)), smooth(rng, (3, 1))
    got_r, got_c = theano.function([x, r, c], [gr, gc])(xv, rv, cv)
    e = np.exp(xv * rv + cv)
    np.testing.assert_allclose(got_r, (xv * e).sum(0, keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(got_c, e.sum(1, keepdims=True), rtol=1e-12)
    assert "sum_to_like" in _wire_ops(gr) and "sum_to_like" in _wire_ops(gc)
    # sum_to_like's own gradient (a broadcast back): second derivatives through it.
    grad_check(lambda a, b: T.grad(T.sum(T.sin(a * b) * a), b), xv, rv)
    grad_check(lambda a, b: T.grad(T.sum(T.sin(a * b) * a), a), xv, cv)


def _wire_ops(var, seen=None):
    """The wire names of the ops var is computed by."""
    seen = set() if seen is None else seen
    if var.owner is not None:
        seen.add(getattr(var.owner.op, "wire_name", None))
        for v in var.owner.inputs:
            _wire_ops(v, seen)
    return seen


# ---- errors ----

def test_wrong_gradients_raise_gradient_error(rng):
    x = smooth(rng, (2, 3), 0.5, 2)
    # zero_grad hides one factor of x * x: the symbolic gradient is half the numeric one.
    with pytest.raises(GradientError) as err:
        grad_check(lambda a: zero_grad(a) * a, x)
    assert err.value.arg == 0 and err.value.shape == (2, 3)
    assert "argument 0" in str(err.value)
    # Hiding a whole input of two: only argument 1's gradient is wrong.
    with pytest.raises(GradientError) as err:
        grad_check(lambda a, b: a * T.exp(zero_grad(b)), x, smooth(rng, (3,)))
    assert err.value.arg == 1
    # A gradient clipped below its true size is wrong too.
    with pytest.raises(GradientError):
        grad_check(lambda a: grad_clip(a, -0.01, 0.01) * 3.0, x)


def test_gradient_through_a_non_differentiable_float_op_is_refused(rng):
    # psi's gradient is tri_gamma, which has no gradient: the third derivative of gammaln.
    x = T.dscalar("x")
    d1 = theano.grad(T.gammaln(x), x)
    d2 = theano.grad(d1, x)
    np.testing.assert_allclose(theano.function([x], d2)(2.5), 0.4903577561002349, rtol=1e-9)
    with pytest.raises(errors.InvalidArgument, match="not defined"):
        theano.grad(d2, x)
    with pytest.raises(errors.InvalidArgument, match="tri_gamma.*not defined"):
        theano.grad(T.tri_gamma(x) * x, x)


def test_non_differentiable_comparisons_stop_gradients(rng):
    # Comparisons, argmax and friends are non-differentiable but not errors: as in Theano, the
    # gradient through them is zero.
    x = T.dvector("x")
    xv = distinct(rng, (4,))
    g = theano.grad(T.sum(T.cast(x > 0, "float64")), x)
    np.testing.assert_array_equal(theano.function([x], g)(xv), np.zeros(4))
    g = theano.grad(T.sum(x * T.argmax(x)), x)
    np.testing.assert_allclose(theano.function([x], g)(xv), np.full(4, np.argmax(xv)))
    grad_check(lambda a: a * T.argmax(a) + T.cast(T.isnan(a), "float64"), xv)
