"""T.nnet's layers beyond convolution and pooling against NumPy: the activations
(ultra_fast_sigmoid, hard_sigmoid, softsign, elu, selu), batch normalization (the
batch_norm_train op with running averages, the test-time and original forms; both parameter
forms) and extra_ops.to_one_hot; their gradients by finite differences; bad arguments
refused."""

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from tensord import errors
from tensord.tensor.nnet import bn
from harness import check, grad_check, smooth

OPS = {"batch_norm_train", "batch_norm_train_grad"}  # the rest compose other ops
GRAD_OPS = {"batch_norm_train", "batch_norm_train_grad"}

pytestmark = pytest.mark.usefixtures("server")


def np_ultra_fast_sigmoid(x):
    half = np.abs(0.5 * x)
    z = np.where(half < 1.7, 1.5 * half / (1 + half),
                 np.where(half < 3, 0.935409070603099 + 0.0458812946797165 * (half - 1.7),
                          0.99505475368673))
    return (0.5 * (np.sign(x) * z + 1)).astype(x.dtype)


ACTIVATIONS = [
    (T.nnet.ultra_fast_sigmoid, np_ultra_fast_sigmoid),
    (T.nnet.hard_sigmoid, lambda x: np.clip(0.2 * x + 0.5, 0, 1).astype(x.dtype)),
    (T.nnet.softsign, lambda x: x / (1 + np.abs(x))),
    (T.nnet.elu, lambda x: np.where(x > 0, x, np.expm1(x))),
    (lambda x: T.nnet.elu(x, 0.3), lambda x: np.where(x > 0, x, 0.3 * np.expm1(x)).astype(x.dtype)),
    (T.nnet.selu, lambda x: (1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 *
                                                           np.expm1(x))).astype(x.dtype)),
]


@pytest.mark.parametrize("fn, ref", ACTIVATIONS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_activations_match_numpy(rng, fn, ref, dtype):
    x = np.concatenate([rng.uniform(-8, 8, 40), [0.0, -3.5, 3.5, 6.0, -6.0]]).astype(dtype)
    # Python float constants are floatX (float32 here), as in Theano: ~1e-8 off in float64.
    tol = 1e-6 if dtype == "float32" else 1e-7
    check(fn, ref, x.reshape(5, 9), rtol=tol, atol=tol)


@pytest.mark.parametrize("fn", [T.nnet.ultra_fast_sigmoid, T.nnet.softsign, T.nnet.elu,
                                T.nnet.selu, T.nnet.hard_sigmoid])
def test_activation_gradients(rng, fn):
    # Values away from the kinks (0 and the approximations' breakpoints).
    x = rng.choice([-1, 1], size=(3, 4)) * rng.uniform(0.4, 1.5, size=(3, 4))
    grad_check(fn, x)


def np_bn_train(x, gamma, beta, axes, eps, factor, rm, rv):
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    invstd = 1 / np.sqrt(var + eps)
    m = np.prod([x.shape[a] for a in axes])
    return ((x - mean) * gamma * invstd + beta, mean, invstd,
            rm * (1 - factor) + mean * factor, rv * (1 - factor) + var * m / (m - 1) * factor)


@pytest.mark.parametrize("shape, axes, named", [((6, 5), (0,), "per-activation"),
                                                ((4, 3, 5, 2), (0, 2, 3), "spatial"),
                                                ((4, 3, 5), (0, 2), None)])
def test_batch_normalization_train_full_parameters(rng, shape, axes, named):
    x = rng.standard_normal(shape) * 3 + 1
    pshape = tuple(1 if d in axes else s for d, s in enumerate(shape))
    gamma, beta, rm, rv = (rng.uniform(0.5, 2, pshape) for _ in range(4))
    xs, gs, bs, rms, rvs = (T.tensor("float64", tuple(s == 1 for s in v.shape))
                            for v in (x, gamma, beta, rm, rv))
    # Constants exact in float32 (Python floats are floatX constants, as in Theano).
    outs = bn.batch_normalization_train(xs, gs, bs, named or axes, 2 ** -10, 0.25, rms, rvs)
    got = theano.function([xs, gs, bs, rms, rvs], list(outs))(x, gamma, beta, rm, rv)
    for g, w in zip(got, np_bn_train(x, gamma, beta, axes, 2 ** -10, 0.25, rm, rv)):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


def test_batch_normalization_reduced_parameters_come_back_reduced(rng):
    x = rng.standard_normal((8, 3, 4, 4)).astype("float32")
    gamma, beta = np.ones(3, "float32") * 2, np.zeros(3, "float32") + 0.5
    xs, gs, bs = T.ftensor4(), T.fvector(), T.fvector()
    out, mean, invstd = bn.batch_normalization_train(xs, gs, bs, "spatial")
    assert mean.ndim == 1 and invstd.ndim == 1
    o, m, i = theano.function([xs, gs, bs], [out, mean, invstd])(x, gamma, beta)
    want = np_bn_train(x.astype("float64"), gamma[None, :, None, None],
                       beta[None, :, None, None], (0, 2, 3), 1e-4, 0.1, 0, 0)
    np.testing.assert_allclose(o, want[0], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(m, want[1].ravel(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(i, want[2].ravel(), rtol=1e-4)
    assert o.dtype == np.float32


def test_float32_batch_norm_keeps_its_digits_when_the_mean_dwarfs_the_spread(rng):
    # Activations around 1e4 with a spread of 1: computed in float32 the normalized values
    # would be off by about 1e-3 (the mean's rounding, times the inverse spread); the kernels
    # keep the arithmetic in double and round once.
    x = (1e4 + rng.standard_normal((8, 3, 6, 6))).astype("float32")
    dy = rng.standard_normal(x.shape).astype("float32")
    gamma, beta = np.ones(3, "float32"), np.zeros(3, "float32")
    xs, gs, bs, dys = T.ftensor4(), T.fvector(), T.fvector(), T.ftensor4()
    out = bn.batch_normalization_train(xs, gs, bs, "spatial")[0]
    o, dx = theano.function([xs, gs, bs, dys], [out, T.grad((out * dys).sum(), xs)])(
        x, gamma, beta, dy)
    x64, dy64 = x.astype("float64"), dy.astype("float64")
    mu = x64.mean(axis=(0, 2, 3), keepdims=True)
    invstd = 1 / np.sqrt(x64.var(axis=(0, 2, 3), keepdims=True) + 1e-4)
    xhat = (x64 - mu) * invstd
    np.testing.assert_allclose(o, xhat, atol=2e-6)
    # The gradient op reads the mean as the forward op returned it, in float32 (as Theano's and
    # cuDNN's do): its rounding (5e-4 here) bounds the gradient's accuracy.
    mean_dy = dy64.mean(axis=(0, 2, 3), keepdims=True)
    mean_dy_xhat = (dy64 * xhat).mean(axis=(0, 2, 3), keepdims=True)
    np.testing.assert_allclose(dx, invstd * (dy64 - mean_dy - xhat * mean_dy_xhat), atol=1e-3)


def test_batch_normalization_test_and_original_form(rng):
    x = rng.standard_normal((5, 4))
    gamma, beta, mean, var = (rng.uniform(0.5, 2, 4) for _ in range(4))
    xs, gs, bs, ms, vs = T.dmatrix(), T.dvector(), T.dvector(), T.dvector(), T.dvector()
    f = theano.function([xs, gs, bs, ms, vs], bn.batch_normalization_test(xs, gs, bs, ms, vs))
    np.testing.assert_allclose(f(x, gamma, beta, mean, var),
                               (x - mean) * gamma / np.sqrt(var + 1e-4) + beta, rtol=1e-9)
    g = theano.function([xs, gs, bs, ms, vs], bn.batch_normalization(xs, gs, bs, ms, vs))
    np.testing.assert_allclose(g(x, gamma, beta, mean, var), (x - mean) * (gamma / var) + beta,
                               rtol=1e-12)


def test_batch_normalization_gradients(rng):
    # Through the batch statistics: the gradient is not the one of a fixed affine map.
    x, gamma, beta = smooth(rng, (5, 3)), smooth(rng, (3,), 0.5, 2), smooth(rng, (3,))
    weights = smooth(rng, (5, 3))
    grad_check(lambda a, g, b: (bn.batch_normalization_train(a, g, b)[0] * weights).sum(),
               x, gamma, beta)
    x4 = smooth(rng, (3, 2, 3, 2))
    grad_check(lambda a, g, b: bn.batch_normalization_train(a, g, b, "spatial")[0] ** 2,
               x4, smooth(rng, (2,), 0.5, 2), smooth(rng, (2,)))


def test_gradient_through_the_returned_statistics(rng):
    # A cost that also uses the batch mean and invstd: their gradients add to x's.
    x, gamma, beta = smooth(rng, (6, 3)), smooth(rng, (3,), 0.5, 2), smooth(rng, (3,))

    def cost(a):
        out, mean, invstd = bn.batch_normalization_train(a, gamma, beta)
        return (out * x).sum() + (mean ** 2).sum() + (invstd * gamma).sum()
    grad_check(cost, x)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_batch_norm_over_strided_views_and_inner_kept_axes(rng, dtype):
    # Axes (0, 1) of a transposed view: the kept axis is the innermost one.
    x = (rng.standard_normal((5, 4, 6)) * 2 + 1).astype(dtype)
    gamma, beta = (rng.uniform(0.5, 2, (1, 1, 4)).astype(dtype) for _ in range(2))
    xs = T.tensor(dtype, (False,) * 3)
    gs, bs = T.tensor(dtype, (True, True, False)), T.tensor(dtype, (True, True, False))
    out, mean, invstd = bn.batch_normalization_train(xs.dimshuffle(0, 2, 1)[:, ::-1], gs, bs,
                                                     (0, 1), 1e-3)
    got = theano.function([xs, gs, bs], [out, mean, invstd])(x, gamma, beta)
    view = x.transpose(0, 2, 1)[:, ::-1].astype("float64")
    want = np_bn_train(view, gamma, beta, (0, 1), 1e-3, 0, 0, 0)
    tol = 1e-5 if dtype == "float32" else 1e-10
    for g, w in zip(got, want[:3]):
        np.testing.assert_allclose(g, w, rtol=tol, atol=tol)


def test_second_derivatives_through_batch_norm(rng):
    # A gradient penalty: d/dx of |d cost/dx|^2 reaches batch_norm_train_grad's own rule.
    gamma, beta, w = smooth(rng, (3,), 0.5, 2), smooth(rng, (3,)), smooth(rng, (5, 3))

    def penalty(x):
        g = T.grad((bn.batch_normalization_train(x, gamma, beta)[0] * w).sum(), x)
        return (g ** 2).sum()
    grad_check(penalty, smooth(rng, (5, 3)))
    # ... and through gamma as well.
    x0 = smooth(rng, (4, 2, 3))

    def through_gamma(g):
        x = theano.shared(x0)
        out = bn.batch_normalization_train(x, g, beta[:2], "spatial")[0]
        return (T.grad((out ** 3).sum(), x) ** 2).sum()
    grad_check(through_gamma, smooth(rng, (2,), 0.5, 2))


def test_batch_norm_refuses_parameters_that_do_not_fit():
    x = T.dmatrix()
    gamma = T.tensor("float64", (True, False))
    f = theano.function([x, gamma], bn.batch_normalization_train(x, gamma, gamma)[0])
    with pytest.raises(errors.InvalidArgument, match="gamma has shape .* does not broadcast"):
        f(np.ones((4, 3)), np.ones((1, 2)))


def test_to_one_hot():
    y = np.array([2, 0, 4, 2], "int32")
    check(lambda v: T.extra_ops.to_one_hot(v, 5, "float64"), lambda v: np.eye(5)[v], y)


def test_bad_arguments_are_refused():
    x = T.dmatrix()
    with pytest.raises(ValueError, match="axes"):
        bn.batch_normalization_train(x, T.dvector(), T.dvector(), axes="channels")
    with pytest.raises(ValueError, match="epsilon"):
        bn.batch_normalization_train(x, T.dvector(), T.dvector(), epsilon=1e-7)
    with pytest.raises(TypeError, match="parameters must have"):
        bn.batch_normalization_train(x, T.dtensor3(), T.dvector())
    with pytest.raises(ValueError, match="together"):
        bn.batch_normalization_train(x, T.dvector(), T.dvector(), running_mean=T.dvector())
    with pytest.raises(TypeError, match="integer vector"):
        T.extra_ops.to_one_hot(T.dvector(), 3)
