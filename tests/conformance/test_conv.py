"""Convolution against NumPy: conv2d / conv3d and both gradient ops over odd shapes, strides,
dilations, pads, groups and filter flips, float32 (oneDNN) and float64 (im2col + BLAS), checked
against direct loops over the filter taps written here; gradients by finite differences; bad
shapes and arguments refused with clear errors."""

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from tensord import errors
from tensord.tensor.nnet import abstract_conv
from harness import check, grad_check, smooth

OPS = {"conv", "conv_grad_inputs", "conv_grad_weights"}
GRAD_OPS = OPS

pytestmark = pytest.mark.usefixtures("server")


# ---- the reference: direct loops over the taps, in float64 ----

def _pads(border_mode, taps, dilation):
    dilated = [(k - 1) * d + 1 for k, d in zip(taps, dilation)]
    if border_mode == "valid":
        return [0] * len(taps)
    if border_mode == "full":
        return [k - 1 for k in dilated]
    if border_mode == "half":
        return [k // 2 for k in dilated]
    return list(border_mode) if isinstance(border_mode, tuple) else [border_mode] * len(taps)


def _taps(w_shape, out_shape, pads, stride, dilation):
    """For each tap: its index and the strided window of the padded input it reads."""
    for tap in np.ndindex(*w_shape[2:]):
        yield tap, tuple(slice(t * d, t * d + s * (o - 1) + 1, s)
                         for t, d, s, o in zip(tap, dilation, stride, out_shape))


def _geometry(x_shape, w_shape, border_mode, stride, dilation):
    nd = len(x_shape) - 2
    stride, dilation = stride or (1,) * nd, dilation or (1,) * nd
    pads = _pads(border_mode, w_shape[2:], dilation)
    out = [(x_shape[2 + d] + 2 * pads[d] - ((w_shape[2 + d] - 1) * dilation[d] + 1)) // stride[d]
           + 1 for d in range(nd)]
    return pads, stride, dilation, out


def _flip(w, flip):
    return w[(slice(None), slice(None)) + (slice(None, None, -1),) * (w.ndim - 2)] if flip else w


def ref_conv(x, w, border_mode="valid", stride=None, dilation=None, groups=1, flip=True):
    pads, stride, dilation, out = _geometry(x.shape, w.shape, border_mode, stride, dilation)
    x64, w64 = x.astype("float64"), _flip(w.astype("float64"), flip)
    xp = np.pad(x64, [(0, 0), (0, 0)] + [(p, p) for p in pads])
    cg, og = w.shape[1], w.shape[0] // groups
    y = np.zeros((x.shape[0], w.shape[0]) + tuple(out))
    for g in range(groups):
        xs, ws = xp[:, g * cg:(g + 1) * cg], w64[g * og:(g + 1) * og]
        for tap, window in _taps(w.shape, out, pads, stride, dilation):
            y[:, g * og:(g + 1) * og] += np.einsum("nc...,oc->no...", xs[(Ellipsis,) + window],
                                                  ws[(slice(None), slice(None)) + tap])
    return y.astype(np.result_type(x, w))


def ref_grad_inputs(w, dy, x_shape, border_mode="valid", stride=None, dilation=None, groups=1,
                    flip=True):
    pads, stride, dilation, out = _geometry(x_shape, w.shape, border_mode, stride, dilation)
    w64 = _flip(w.astype("float64"), flip)
    padded = [x_shape[0], x_shape[1]] + [x_shape[2 + d] + 2 * p for d, p in enumerate(pads)]
    dxp = np.zeros(padded)
    cg, og = w.shape[1], w.shape[0] // groups
    for g in range(groups):
        for tap, window in _taps(w.shape, out, pads, stride, dilation):
            dxp[(slice(None), slice(g * cg, (g + 1) * cg)) + window] += np.einsum(
                "no...,oc->nc...", dy[:, g * og:(g + 1) * og].astype("float64"),
                w64[(slice(g * og, (g + 1) * og), slice(None)) + tap])
    crop = tuple(slice(p, p + x_shape[2 + d]) for d, p in enumerate(pads))
    return dxp[(slice(None), slice(None)) + crop].astype(np.result_type(w, dy))


def ref_grad_weights(x, dy, w_shape, border_mode="valid", stride=None, dilation=None, groups=1,
                     flip=True):
    pads, stride, dilation, out = _geometry(x.shape, w_shape, border_mode, stride, dilation)
    xp = np.pad(x.astype("float64"), [(0, 0), (0, 0)] + [(p, p) for p in pads])
    cg, og = w_shape[1], w_shape[0] // groups
    dw = np.zeros(w_shape)
    for g in range(groups):
        for tap, window in _taps(w_shape, out, pads, stride, dilation):
            patch = xp[(slice(None), slice(g * cg, (g + 1) * cg)) + window]
            summed = [0] + list(range(2, patch.ndim))  # batch and output positions
            dw[(slice(g * og, (g + 1) * og), slice(None)) + tap] = np.tensordot(
                dy[:, g * og:(g + 1) * og].astype("float64"), patch, (summed, summed))
    return _flip(dw, flip).astype(np.result_type(x, dy))


# (input shape, filter shape, border_mode, subsample, filter_dilation, num_groups)
CASES_2D = [
    ((2, 3, 7, 6), (4, 3, 3, 2), "valid", (1, 1), (1, 1), 1),
    ((2, 3, 7, 6), (4, 3, 3, 2), "full", (1, 1), (1, 1), 1),
    ((1, 2, 8, 9), (3, 2, 3, 3), "half", (1, 1), (1, 1), 1),
    ((1, 2, 8, 9), (3, 2, 2, 4), "half", (2, 3), (1, 1), 1),
    ((3, 1, 9, 7), (2, 1, 3, 3), (1, 2), (2, 1), (1, 1), 1),
    ((2, 2, 11, 10), (3, 2, 3, 2), "valid", (1, 2), (2, 3), 1),
    ((2, 2, 9, 9), (2, 2, 3, 3), "full", (3, 2), (2, 1), 1),
    ((2, 4, 6, 5), (6, 2, 3, 3), 1, (1, 1), (1, 1), 2),
    ((1, 6, 7, 7), (6, 1, 3, 3), "half", (2, 2), (1, 1), 6),  # depthwise
    ((1, 1, 5, 5), (1, 1, 5, 5), "valid", (1, 1), (1, 1), 1),  # output 1x1
    ((2, 3, 4, 5), (2, 3, 1, 1), "valid", (1, 1), (1, 1), 1),
]


def _kwargs(border, stride, dilation, groups, flip):
    return dict(border_mode=border, subsample=stride, filter_dilation=dilation, num_groups=groups,
                filter_flip=flip)


@pytest.mark.parametrize("case", CASES_2D, ids=str)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("flip", [True, False])
def test_conv2d_matches_direct_loops(rng, case, dtype, flip):
    x_shape, w_shape, border, stride, dilation, groups = case
    x, w = rng.standard_normal(x_shape).astype(dtype), rng.standard_normal(w_shape).astype(dtype)
    tol = 1e-4 if dtype == "float32" else 1e-10
    check(lambda a, b: T.nnet.conv2d(a, b, **_kwargs(border, stride, dilation, groups, flip)),
          lambda a, b: ref_conv(a, b, border, stride, dilation, groups, flip), x, w,
          rtol=tol, atol=tol)


@pytest.mark.parametrize("case", CASES_2D, ids=str)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_conv2d_gradient_ops_match_direct_loops(rng, case, dtype):
    x_shape, w_shape, border, stride, dilation, groups = case
    kw = _kwargs(border, stride, dilation, groups, True)
    x, w = rng.standard_normal(x_shape).astype(dtype), rng.standard_normal(w_shape).astype(dtype)
    y_shape = ref_conv(x, w, border, stride, dilation, groups).shape
    dy = rng.standard_normal(y_shape).astype(dtype)
    tol = 1e-4 if dtype == "float32" else 1e-10
    check(lambda a, b: abstract_conv.conv2d_grad_wrt_inputs(b, a, x_shape, **kw),
          lambda a, b: ref_grad_inputs(a, b, x_shape, border, stride, dilation, groups), w, dy,
          rtol=tol, atol=tol)
    check(lambda a, b: abstract_conv.conv2d_grad_wrt_weights(a, b, w_shape, **kw),
          lambda a, b: ref_grad_weights(a, b, w_shape, border, stride, dilation, groups), x, dy,
          rtol=tol, atol=tol)


def test_grad_inputs_takes_the_input_size_strides_leave_open(rng):
    # Stride 2 maps inputs of 7 and 8 rows to the same 3 output rows: the shape decides.
    w, dy = rng.standard_normal((2, 1, 3, 3)), rng.standard_normal((1, 2, 3, 3))
    for rows in (7, 8):
        check(lambda a, b: abstract_conv.conv2d_grad_wrt_inputs(b, a, (1, 1, rows, 7),
                                                                 subsample=(2, 2)),
              lambda a, b: ref_grad_inputs(a, b, (1, 1, rows, 7), stride=(2, 2)), w, dy)


def test_gradient_ops_take_symbolic_shapes(rng):
    x, w = rng.standard_normal((2, 2, 6, 5)), rng.standard_normal((3, 2, 3, 2))
    dy = rng.standard_normal(ref_conv(x, w).shape)
    xv, wv, dyv = T.dtensor4("x"), T.dtensor4("w"), T.dtensor4("dy")
    f = theano.function([xv, wv, dyv], [
        abstract_conv.conv2d_grad_wrt_inputs(dyv, wv, xv.shape),
        abstract_conv.conv2d_grad_wrt_weights(xv, dyv, (None, None, wv.shape[2], wv.shape[3]))])
    gi, gw = f(x, w, dy)
    np.testing.assert_allclose(gi, ref_grad_inputs(w, dy, x.shape), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(gw, ref_grad_weights(x, dy, w.shape), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("case", [
    ((2, 2, 5, 6, 4), (3, 2, 2, 3, 2), "valid", (1, 1, 1), (1, 1, 1), 1),
    ((1, 4, 6, 5, 5), (2, 2, 3, 1, 3), "half", (2, 1, 2), (1, 1, 2), 2),
    ((1, 1, 3, 4, 3), (2, 1, 2, 2, 2), "full", (1, 2, 1), (1, 1, 1), 1),
], ids=str)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_conv3d_and_its_gradient_ops(rng, case, dtype):
    x_shape, w_shape, border, stride, dilation, groups = case
    kw = _kwargs(border, stride, dilation, groups, True)
    x, w = rng.standard_normal(x_shape).astype(dtype), rng.standard_normal(w_shape).astype(dtype)
    dy = rng.standard_normal(ref_conv(x, w, border, stride, dilation, groups).shape).astype(dtype)
    tol = 1e-4 if dtype == "float32" else 1e-10
    check(lambda a, b: T.nnet.conv3d(a, b, **kw),
          lambda a, b: ref_conv(a, b, border, stride, dilation, groups), x, w, rtol=tol, atol=tol)
    check(lambda a, b: abstract_conv.conv3d_grad_wrt_inputs(b, a, x_shape, **kw),
          lambda a, b: ref_grad_inputs(a, b, x_shape, border, stride, dilation, groups), w, dy,
          rtol=tol, atol=tol)
    check(lambda a, b: abstract_conv.conv3d_grad_wrt_weights(a, b, w_shape, **kw),
          lambda a, b: ref_grad_weights(a, b, w_shape, border, stride, dilation, groups), x, dy,
          rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_empty_batch_and_strided_operands(rng, dtype):
    w = rng.standard_normal((3, 2, 2, 2)).astype(dtype)
    check(lambda a, b: T.nnet.conv2d(a, b), ref_conv, np.zeros((0, 2, 4, 4), dtype), w)
    x = rng.standard_normal((2, 4, 9, 8)).astype(dtype)
    tol = 1e-4 if dtype == "float32" else 1e-10
    check(lambda a, b: T.nnet.conv2d(a[:, ::2, ::-1, 1:], b.dimshuffle(0, 1, 3, 2)),
          lambda a, b: ref_conv(a[:, ::2, ::-1, 1:], b.transpose(0, 1, 3, 2)), x, w,
          rtol=tol, atol=tol)


def test_output_shape_helper_and_shape_rule(rng):
    assert abstract_conv.get_conv_output_shape((2, 3, 7, 6), (4, 3, 3, 2), "half", (2, 1)) == \
        (2, 4, 4, 7)
    assert abstract_conv.get_conv_output_shape((None, 3, 7, 6), (4, 3, 3, 3), (1, 2), (1, 1),
                                               (2, 1)) == (None, 4, 5, 8)
    x = T.dtensor4("x")
    w = T.dtensor4("w")
    # The shape comes from the shape rule: no convolution runs for it.
    f = theano.function([x, w], T.nnet.conv2d(x, w, border_mode="full", subsample=(2, 1)).shape)
    assert "AbstractConv" not in theano.printing.debugprint(f, file="str")
    assert tuple(f(np.zeros((2, 3, 7, 6)), np.zeros((4, 3, 3, 2)))) == (2, 4, 5, 7)


def test_older_conv_module_as_the_early_tutorials_call_it(rng):
    from tensord.tensor.nnet import conv
    x, w = rng.standard_normal((2, 1, 6, 5)), rng.standard_normal((3, 1, 3, 2))
    check(lambda a, b: conv.conv2d(a, b, image_shape=(2, 1, 6, 5), filter_shape=(3, 1, 3, 2),
                                   border_mode="full"),
          lambda a, b: ref_conv(a, b, "full"), x, w, rtol=1e-10, atol=1e-10)
    with pytest.raises(ValueError, match="'valid' or 'full'"):
        conv.conv2d(T.dtensor4(), T.dtensor4(), border_mode="half")


def test_debugprint_names_the_ops_as_theano():
    x, w = T.dtensor4("x"), T.dtensor4("w")
    cost = T.nnet.conv2d(x, w, border_mode=(1, 2), subsample=(2, 2)).sum()
    f = theano.function([x, w], T.grad(cost, [x, w]))
    text = theano.printing.debugprint(f, file="str")
    assert "AbstractConv2d_gradInputs{border_mode=(1, 2), subsample=(2, 2), filter_flip=True" in text
    assert "AbstractConv2d_gradWeights{" in text


# ---- gradients by finite differences ----

GRAD_CASES = [
    ((2, 2, 5, 4), (3, 2, 2, 3), "valid", (1, 1), (1, 1), 1, True),
    ((1, 2, 6, 5), (2, 2, 3, 2), "half", (2, 1), (1, 2), 1, False),
    ((1, 4, 5, 5), (4, 2, 2, 2), 1, (1, 2), (1, 1), 2, True),
    ((1, 1, 4, 3), (2, 1, 2, 2), "full", (1, 1), (2, 1), 1, True),
]


@pytest.mark.parametrize("case", GRAD_CASES, ids=str)
def test_conv_gradient_by_finite_differences(rng, case):
    x_shape, w_shape, border, stride, dilation, groups, flip = case
    kw = _kwargs(border, stride, dilation, groups, flip)
    grad_check(lambda x, w: T.nnet.conv2d(x, w, **kw), smooth(rng, x_shape), smooth(rng, w_shape))


@pytest.mark.parametrize("case", GRAD_CASES, ids=str)
def test_gradient_ops_gradients_by_finite_differences(rng, case):
    x_shape, w_shape, border, stride, dilation, groups, flip = case
    kw = _kwargs(border, stride, dilation, groups, flip)
    y_shape = ref_conv(np.zeros(x_shape), np.zeros(w_shape), border, stride, dilation,
                       groups).shape
    grad_check(lambda w, dy: abstract_conv.conv2d_grad_wrt_inputs(dy, w, x_shape, **kw),
               smooth(rng, w_shape), smooth(rng, y_shape))
    grad_check(lambda x, dy: abstract_conv.conv2d_grad_wrt_weights(x, dy, w_shape, **kw),
               smooth(rng, x_shape), smooth(rng, y_shape))


def test_second_order_gradient(rng):
    # d/dw of |d cost/dx|^2: the gradient ops' own gradients, compared with finite differences.
    x0 = smooth(rng, (1, 2, 5, 5))

    def fn(w):
        x = theano.shared(x0)
        g = T.grad(T.nnet.conv2d(x, w, border_mode="half").sum() ** 2, x)
        return (g ** 2).sum()
    grad_check(fn, smooth(rng, (2, 2, 3, 3)))


# ---- failures ----

def test_client_refuses_bad_arguments():
    x, w = T.dtensor4("x"), T.dtensor4("w")
    with pytest.raises(ValueError, match="border_mode"):
        T.nnet.conv2d(x, w, border_mode="same")
    with pytest.raises(ValueError, match="subsample"):
        T.nnet.conv2d(x, w, subsample=(0, 1))
    with pytest.raises(ValueError, match="border_mode pads"):
        T.nnet.conv2d(x, w, border_mode=(-1, 0))
    with pytest.raises(TypeError, match="4 dims"):
        T.nnet.conv2d(T.dmatrix(), w)
    with pytest.raises(TypeError, match="float32 or float64"):
        T.nnet.conv2d(T.itensor4(), T.itensor4())
    with pytest.raises(NotImplementedError, match="unshared"):
        T.nnet.conv2d(x, w, unshared=True)
    with pytest.raises(ValueError, match="input_shape"):
        abstract_conv.conv2d_grad_wrt_inputs(x, w, (None, None, None, 4))


@pytest.mark.parametrize("x_shape, w_shape, border, groups, message", [
    ((1, 3, 5, 5), (2, 2, 3, 3), "valid", 1, "the input has 3 channels but the filters"),
    ((1, 4, 5, 5), (3, 2, 3, 3), "valid", 2, "3 output channels do not split into 2 groups"),
    ((1, 1, 2, 5), (1, 1, 3, 3), "valid", 1, "the padded input has only 2"),
    ((1, 1, 5, 5), (1, 1, 0, 3), "valid", 1, "no taps"),
])
def test_server_refuses_operands_that_do_not_fit(x_shape, w_shape, border, groups, message):
    x, w = T.dtensor4("x"), T.dtensor4("w")
    f = theano.function([x, w], T.nnet.conv2d(x, w, border_mode=border, num_groups=groups))
    with pytest.raises(errors.InvalidArgument, match=message):
        f(np.ones(x_shape), np.ones(w_shape))


def test_server_refuses_a_gradient_of_the_wrong_shape():
    w, dy = T.dtensor4("w"), T.dtensor4("dy")
    f = theano.function([w, dy], abstract_conv.conv2d_grad_wrt_inputs(dy, w, (1, 1, 6, 6)))
    with pytest.raises(errors.InvalidArgument, match="output gradient has shape"):
        f(np.ones((2, 1, 3, 3)), np.ones((1, 2, 3, 3)))  # 6x6 gives 4x4, not 3x3
