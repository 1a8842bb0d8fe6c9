"""conv + bias (+ relu) fused by the optimizer into conv_fused (oneDNN's bias and relu post-op
for float32, a loop after the GEMM for float64): values against NumPy loops (test_conv's
reference), NaN and -inf through the relu, where the rewrite must not apply (a pre-activation
that the gradient reads, a convolution used twice), gradients unchanged by it, and a bias that
does not fit refused with a clear error."""

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from tensord import errors
from tensord.compile.mode import Mode
from tensord.tensor.nnet import conv2d
from test_conv import ref_conv

OPS = {"conv_fused"}
GRAD_OPS = set()  # made after differentiation: no gradient reaches it

pytestmark = pytest.mark.usefixtures("server")

UNFUSED = Mode().excluding("conv_epilogue")


def layer(x, w, b, relu, **kw):
    y = conv2d(x, w, **kw) + b.dimshuffle("x", 0, "x", "x")
    return T.maximum(y, 0) if relu else y


def ref_layer(x, w, b, relu, border_mode="valid", subsample=(1, 1), filter_flip=True):
    y = ref_conv(x, w, border_mode, subsample, flip=filter_flip) + b[None, :, None, None]
    return np.maximum(y, 0) if relu else y


def printed(f):
    return theano.printing.debugprint(f, file="str")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("kw", [dict(border_mode="valid"),
                                dict(border_mode="half", subsample=(2, 2), filter_flip=False)],
                         ids=["valid", "half_stride2_noflip"])
def test_fused_layer_matches_loops(rng, dtype, relu, kw):
    x = rng.standard_normal((2, 3, 9, 8)).astype(dtype)
    w = rng.standard_normal((4, 3, 3, 3)).astype(dtype)
    b = rng.standard_normal(4).astype(dtype)
    xs, ws, bs = T.tensor4(dtype=dtype), T.tensor4(dtype=dtype), T.vector(dtype=dtype)
    f = theano.function([xs, ws, bs], layer(xs, ws, bs, relu, **kw))
    text = printed(f)
    assert "AbstractConv2d_bias{" in text, text
    assert ("activation='relu'" in text) == relu, text
    assert "maximum" not in text and "add" not in text, text
    tol = 1e-4 if dtype == "float32" else 1e-10
    np.testing.assert_allclose(f(x, w, b), ref_layer(x, w, b, relu, **kw), rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_relu_keeps_nan_and_zeroes_minus_infinity(rng, dtype):
    x = rng.standard_normal((1, 2, 4, 4)).astype(dtype)
    x[0, 0, 0, 0], x[0, 1, 3, 3] = np.nan, -np.inf
    w = np.abs(rng.standard_normal((3, 2, 1, 1))).astype(dtype)  # 1x1 taps: NaN and -inf stay put
    b = np.zeros(3, dtype)
    xs, ws, bs = T.tensor4(dtype=dtype), T.tensor4(dtype=dtype), T.vector(dtype=dtype)
    got = theano.function([xs, ws, bs], layer(xs, ws, bs, True))(x, w, b)
    assert np.isnan(got[0, :, 0, 0]).all()
    assert (got[0, :, 3, 3] == 0).all()
    np.testing.assert_allclose(got, ref_layer(x, w, b, True), rtol=1e-5)


def test_relu_applied_leaving_onednns_blocked_layout(rng):
    # 16 channels in, 12 out (one and a half blocks of 8): oneDNN writes a blocked result that
    # conv_fused copies out with relu applied, the last block partly padding.
    x = rng.standard_normal((2, 16, 10, 9)).astype("float32")
    x[0, :, 4, 4] = np.nan  # every output channel's window over (4, 4) sees it
    x[1, 3, 0, 0] = np.inf
    w = rng.standard_normal((12, 16, 3, 3)).astype("float32")
    b = rng.standard_normal(12).astype("float32")
    xs, ws, bs = T.ftensor4(), T.ftensor4(), T.fvector()
    got = theano.function([xs, ws, bs], layer(xs, ws, bs, True, border_mode="half"))(x, w, b)
    want = ref_layer(x, w, b, True, border_mode="half")
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    assert np.isnan(got[0, :, 3:6, 3:6]).all()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_bias_of_one_value_broadcasts_over_the_channels(rng, dtype):
    x = rng.standard_normal((2, 2, 5, 5)).astype(dtype)
    w = rng.standard_normal((3, 2, 2, 2)).astype(dtype)
    b = np.array([0.5], dtype)
    xs, ws, bs = T.tensor4(dtype=dtype), T.tensor4(dtype=dtype), T.vector(dtype=dtype)
    f = theano.function([xs, ws, bs], layer(xs, ws, bs, True))
    assert "AbstractConv2d_bias" in printed(f)
    tol = 1e-5 if dtype == "float32" else 1e-10
    np.testing.assert_allclose(f(x, w, b), np.maximum(ref_conv(x, w) + 0.5, 0), rtol=tol,
                               atol=tol)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_one_filter_broadcasts_over_a_bias_of_several_channels(rng, dtype):
    # As NumPy (and the add the node replaced): (N, 1, H, W) + (1, 3, 1, 1) is (N, 3, H, W).
    x = rng.standard_normal((2, 2, 5, 5)).astype(dtype)
    w = rng.standard_normal((1, 2, 2, 2)).astype(dtype)
    b = np.array([-0.5, 0.0, 0.5], dtype)
    xs, ws, bs = T.tensor4(dtype=dtype), T.tensor4(dtype=dtype), T.vector(dtype=dtype)
    f = theano.function([xs, ws, bs], layer(xs, ws, bs, True))
    assert "AbstractConv2d_bias" in printed(f)
    got = f(x, w, b)
    assert got.shape == (2, 3, 4, 4)
    tol = 1e-5 if dtype == "float32" else 1e-10
    np.testing.assert_allclose(got, np.maximum(ref_conv(x, w) + b[None, :, None, None], 0),
                               rtol=tol, atol=tol)


def test_signed_zeros_as_the_maximum_written(rng):
    # maximum(x, +0) keeps x = -0, maximum(+0, x) gives +0 and maximum(x, -0) gives -0 for
    # negative x: only the first is conv_fused's relu, and each result, signs of zeros
    # included, is what the unfused graph computes. The bias -0 and 1x1 filters of 1 make
    # results of either sign of zero.
    x = rng.standard_normal((1, 2, 3, 3))
    x[0, :, 0, :] = 0.0
    x[0, :, 1, :] = -0.0
    w, b = np.ones((2, 2, 1, 1)), np.array([-0.0, -0.0])
    xs, ws, bs = T.dtensor4(), T.dtensor4(), T.dvector()
    y = conv2d(xs, ws) + bs.dimshuffle("x", 0, "x", "x")
    for out, fused in [(T.maximum(y, 0), True), (T.maximum(0, y), False),
                       (T.maximum(y, -0.0), False)]:
        f = theano.function([xs, ws, bs], out)
        assert ("activation='relu'" in printed(f)) == fused, printed(f)
        got, want = f(x, w, b), theano.function([xs, ws, bs], out, mode=UNFUSED)(x, w, b)
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(np.signbit(got), np.signbit(want))


def test_training_graph_fuses_the_bias_not_the_relu_and_gradients_agree(rng):
    x = rng.standard_normal((2, 3, 7, 7))
    ws = theano.shared(rng.standard_normal((4, 3, 3, 3)))
    bs = theano.shared(rng.standard_normal(4))
    xs = T.dtensor4()
    loss = (layer(xs, ws, bs, True) ** 2).sum()
    outputs = [loss] + T.grad(loss, [ws, bs])
    fused = theano.function([xs], outputs)
    text = printed(fused)
    # relu's gradient reads the pre-activation, so the maximum stays; the bias is fused.
    assert "AbstractConv2d_bias{" in text and "activation='relu'" not in text, text
    plain = theano.function([xs], outputs, mode=UNFUSED)
    assert "AbstractConv2d_bias" not in printed(plain)
    for got, want in zip(fused(x), plain(x)):
        np.testing.assert_allclose(got, want, rtol=1e-10)


def test_a_convolution_used_twice_is_not_fused(rng):
    xs, ws, bs = T.dtensor4(), T.dtensor4(), T.dvector()
    y = conv2d(xs, ws)
    f = theano.function([xs, ws, bs], [y + bs.dimshuffle("x", 0, "x", "x"), y])
    assert "AbstractConv2d_bias" not in printed(f)
    # A bias that varies along a spatial dim is no per-channel bias either.
    g = theano.function([xs, ws, bs], conv2d(xs, ws) + bs.dimshuffle("x", "x", "x", 0))
    assert "AbstractConv2d_bias" not in printed(g)


def test_a_bias_that_does_not_fit_the_channels_is_refused(rng):
    xs, ws, bs = T.dtensor4(), T.dtensor4(), T.dvector()
    f = theano.function([xs, ws, bs], layer(xs, ws, bs, True))
    with pytest.raises(errors.InvalidArgument, match="does not broadcast over 3 output"):
        f(rng.standard_normal((1, 2, 4, 4)), rng.standard_normal((3, 2, 2, 2)), np.ones(2))
