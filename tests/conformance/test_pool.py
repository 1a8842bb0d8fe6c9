"""Pooling against NumPy: pool_2d / pool_3d in every mode over odd shapes, strides, pads and
both border policies, checked against loops over the windows written here (Theano's region
rules); the gradient op against its own loop reference and finite differences; the second
gradient; bad arguments refused with clear errors."""

import itertools

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from tensord import errors
from tensord.tensor.signal import pool
from harness import check, distinct, grad_check

OPS = {"pool", "pool_grad", "pool_grad_grad"}
GRAD_OPS = OPS

pytestmark = pytest.mark.usefixtures("server")

MODES = ["max", "sum", "average_inc_pad", "average_exc_pad"]


# ---- the reference: each window's region, as Theano's Pool.perform defines it ----

def _out_size(size, ws, st, pad, ignore_border):
    size += 2 * pad
    if ignore_border:
        return max(0, (size - ws) // st + 1)
    if st >= ws:
        return (size - 1) // st + 1
    return max(0, (size - 1 - ws + st) // st) + 1


def _regions(size, ws, st, pad, ignore_border, inc_pad):
    """Per output index: (slice of real input elements, padded length)."""
    out = []
    for j in range(_out_size(size, ws, st, pad, ignore_border)):
        start, end = j * st, min(j * st + ws, size + 2 * pad)
        out.append((slice(max(start, pad) - pad, min(end, size + pad) - pad), end - start))
    return out


def _windows(x, ws, st, pad, ignore_border, mode):
    nd = len(ws)
    per_dim = [_regions(x.shape[x.ndim - nd + d], ws[d], st[d], pad[d], ignore_border,
                        mode == "average_inc_pad") for d in range(nd)]
    for index in itertools.product(*[range(len(r)) for r in per_dim]):
        regions = [per_dim[d][i] for d, i in enumerate(index)]
        yield index, tuple(r[0] for r in regions), int(np.prod([r[1] for r in regions]))


def ref_pool(x, ws, ignore_border=True, st=None, pad=None, mode="max"):
    nd = len(ws)
    st, pad = st or ws, pad or (0,) * nd
    lead = x.shape[:x.ndim - nd]
    shape = lead + tuple(_out_size(x.shape[x.ndim - nd + d], ws[d], st[d], pad[d], ignore_border)
                         for d in range(nd))
    y = np.zeros(shape, x.dtype)
    for index, window, padded_len in _windows(x, ws, st, pad, ignore_border, mode):
        region = x[(Ellipsis,) + window].reshape(lead + (-1,))
        if mode == "max":
            value = region.max(axis=-1)
        elif mode == "sum":
            value = region.sum(axis=-1)
        else:
            count = padded_len if mode == "average_inc_pad" else region.shape[-1]
            value = region.sum(axis=-1, dtype="float64") / count
        y[(Ellipsis,) + index] = value
    return y


def ref_pool_grad(x, gz, ws, ignore_border=True, st=None, pad=None, mode="max"):
    nd = len(ws)
    st, pad = st or ws, pad or (0,) * nd
    gx = np.zeros(x.shape)
    for index, window, padded_len in _windows(x, ws, st, pad, ignore_border, mode):
        g = gz[(Ellipsis,) + index].astype("float64")
        region = x[(Ellipsis,) + window]
        if mode == "max":  # to the maximum (distinct test data: no ties)
            mask = region == region.reshape(region.shape[:x.ndim - nd] + (-1,)).max(axis=-1)[
                (Ellipsis,) + (None,) * nd]
            gx[(Ellipsis,) + window] += mask * g[(Ellipsis,) + (None,) * nd]
        else:
            count = {"sum": 1, "average_inc_pad": padded_len,
                     "average_exc_pad": np.prod(region.shape[x.ndim - nd:])}[mode]
            gx[(Ellipsis,) + window] += (g / count)[(Ellipsis,) + (None,) * nd]
    return gx.astype(x.dtype)


# (input shape, ws, ignore_border, stride, pad)
CASES_2D = [
    ((2, 3, 6, 6), (2, 2), True, None, None),
    ((2, 3, 7, 5), (2, 2), False, None, None),
    ((1, 2, 7, 8), (3, 2), True, (2, 1), None),
    ((1, 2, 7, 8), (3, 3), False, (2, 2), None),  # overlapping, partial edge windows
    ((2, 1, 6, 7), (3, 3), True, (2, 2), (1, 1)),
    ((2, 2, 5, 5), (2, 3), True, (1, 1), (1, 2)),
    ((5, 4), (2, 3), False, (1, 2), None),  # no leading dims
    ((2, 2, 3, 4, 5), (2, 2), True, None, None),  # three leading dims
    ((1, 1, 1, 1), (2, 2), False, None, None),  # window larger than the input
    ((1, 1, 1, 1), (2, 2), True, None, None),  # ... no window at all
    ((1, 2, 3), (3, 3), True, (2, 2), None),  # rows shorter than the window by less than a stride
    ((1, 1, 3, 4), (1, 9), False, (1, 2), None),  # a window far wider than the input
]


@pytest.mark.parametrize("case", CASES_2D, ids=str)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_pool_2d_matches_window_loops(rng, case, mode, dtype):
    shape, ws, ignore_border, st, pad = case
    x = distinct(rng, shape, dtype=dtype)
    tol = 1e-5 if dtype == "float32" else 1e-12
    check(lambda a: pool.pool_2d(a, ws, ignore_border, st, pad or (0, 0), mode),
          lambda a: ref_pool(a, ws, ignore_border, st, pad, mode), x, rtol=tol, atol=tol)


@pytest.mark.parametrize("case", CASES_2D, ids=str)
@pytest.mark.parametrize("mode", MODES)
def test_pool_grad_matches_window_loops(rng, case, mode):
    shape, ws, ignore_border, st, pad = case
    x = distinct(rng, shape)
    gz = rng.standard_normal(ref_pool(x, ws, ignore_border, st, pad, mode).shape)
    op = pool.PoolGrad(ws, st, pad, ignore_border, mode)
    check(lambda a, b: op(a, b), lambda a, b: ref_pool_grad(a, b, ws, ignore_border, st, pad, mode),
          x, gz, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_pool_3d(rng, mode):
    x = distinct(rng, (2, 2, 5, 4, 6))
    for ws, ignore_border, st, pad in [((2, 2, 2), True, None, None),
                                      ((3, 2, 2), False, (2, 1, 3), None),
                                      ((2, 3, 2), True, (1, 2, 2), (1, 1, 0))]:
        check(lambda a: pool.pool_3d(a, ws, ignore_border, st, pad or (0, 0, 0), mode),
              lambda a: ref_pool(a, ws, ignore_border, st, pad, mode), x, rtol=1e-12, atol=1e-12)


def test_max_pool_2d_same_size(rng):
    x = distinct(rng, (2, 3, 4, 6))
    pooled = ref_pool(x, (2, 2))
    want = np.where(x == np.repeat(np.repeat(pooled, 2, axis=2), 2, axis=3), x, 0)
    check(lambda a: pool.max_pool_2d_same_size(a, (2, 2)), lambda a: want, x)


def test_strided_input_and_old_argument_names(rng):
    x = distinct(rng, (2, 8, 9))
    check(lambda a: pool.pool_2d(a[:, ::-1, 1::2], ds=(2, 2), st=(1, 2), ignore_border=True),
          lambda a: ref_pool(a[:, ::-1, 1::2], (2, 2), True, (1, 2)), x)


def test_max_pool_propagates_nan_and_routes_to_the_first_maximum(rng):
    x = np.array([[1.0, 5.0, 2.0, 2.0], [5.0, 0.0, np.nan, 1.0]])
    check(lambda a: pool.pool_2d(a, (2, 2), True), lambda a: ref_pool(a, (2, 2)), x)
    xs, gz = T.dmatrix(), T.dmatrix()
    f = theano.function([xs, gz], pool.PoolGrad((2, 2), None, None, True, "max")(xs, gz))
    got = f(x, np.array([[10.0, 20.0]]))
    # Ties (5 and 5) route to the first in C order; a NaN is the maximum.
    np.testing.assert_array_equal(got, [[0, 10, 0, 0], [0, 0, 20, 0]])


def first_maxima(x, ws):
    """Index into x of each disjoint (stride == ws) window's first maximum in C order, a NaN
    counting as the maximum; windows over the trailing dims, as [(window index, x index)]."""
    lead, (h, w) = x.shape[:-2], x.shape[-2:]
    routes = []
    for index in np.ndindex(*lead, h // ws[0], w // ws[1]):
        i, j = index[-2:]
        rows, cols = slice(i * ws[0], (i + 1) * ws[0]), slice(j * ws[1], (j + 1) * ws[1])
        window = x[index[:-2] + (rows, cols)].ravel()
        top = np.max(window)
        hits = np.isnan(window) if np.isnan(top) else window == top
        r, c = divmod(int(np.argmax(hits)), ws[1])
        routes.append((index, index[:-2] + (i * ws[0] + r, j * ws[1] + c)))
    return routes


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("ws", [(2, 2), (3, 3), (2, 4)], ids=str)
@pytest.mark.parametrize("left_over", [(1, 3), (0, 0)], ids=["left_over", "tiling"])
def test_disjoint_max_windows_with_ties_and_nans(rng, dtype, ws, left_over):
    # stride == ws and no padding: the kernels' tiled path (widths 2 and 3 compiled apart, 4
    # not), with many ties and some NaNs; rows and columns outside every window (zeroed first)
    # or none (every element of the gradient written once, nothing zeroed).
    shape = (2, 3, 3 * ws[0] + left_over[0], 5 * ws[1] + left_over[1])
    x = rng.integers(0, 3, shape).astype(dtype)
    x[rng.random(shape) < 0.05] = np.nan
    gz = rng.standard_normal(ref_pool(np.nan_to_num(x), ws).shape).astype(dtype)
    v = rng.standard_normal(shape).astype(dtype)
    xs, gs, vs = (T.TensorType(dtype, (False,) * 4)() for _ in range(3))
    grad = pool.PoolGrad(ws, None, None, True, "max")(xs, gs)
    f = theano.function([xs, gs, vs], [pool.pool_2d(xs, ws, True), grad,
                                       T.grad((grad * vs).sum(), gs)])
    pooled, gx, ggx = f(x, gz, v)
    np.testing.assert_array_equal(pooled, ref_pool(x, ws))
    want_gx, want_ggx = np.zeros_like(x), np.zeros_like(gz)
    for window, at in first_maxima(x, ws):
        want_gx[at] = gz[window]
        want_ggx[window] = v[at]
    np.testing.assert_array_equal(gx, want_gx)
    np.testing.assert_array_equal(ggx, want_ggx)


def test_older_downsample_module(rng):
    from tensord.tensor.signal import downsample
    x = distinct(rng, (2, 3, 7, 6))
    check(lambda a: downsample.max_pool_2d(a, (2, 3), ignore_border=True, st=(1, 2)),
          lambda a: ref_pool(a, (2, 3), True, (1, 2)), x)


def test_ignore_border_default_warns_and_keeps_partial_windows(rng):
    x = T.dtensor4()
    with pytest.warns(UserWarning, match="ignore_border"):
        y = pool.pool_2d(x, (2, 2))
    value = distinct(rng, (1, 1, 3, 3))
    np.testing.assert_array_equal(theano.function([x], y)(value), ref_pool(value, (2, 2), False))


def test_debugprint_and_shape_rule():
    x = T.dtensor4("x")
    y = pool.pool_2d(x, (3, 2), ignore_border=False, stride=(2, 2), mode="average_exc_pad")
    f = theano.function([x], T.grad(y.sum(), x))
    text = theano.printing.debugprint(f, file="str")
    assert "AveragePoolGrad{ignore_border=False, mode='average_exc_pad', ndim=2}" in text
    assert "MaxPoolGrad{ignore_border=True, mode='max', ndim=2}" in theano.printing.debugprint(
        theano.function([x], T.grad(pool.pool_2d(x, (2, 2), True).sum(), x)), file="str")
    g = theano.function([x], y.shape)
    assert "Pool{" not in theano.printing.debugprint(g, file="str")
    assert tuple(g(np.zeros((2, 3, 7, 8)))) == (2, 3, 3, 4)


# ---- gradients by finite differences (distinct values keep the maxima apart) ----

@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", [((1, 2, 5, 5), (2, 2), False, None, None),
                                  ((1, 1, 6, 5), (3, 2), True, (2, 1), (1, 1))], ids=str)
def test_pool_gradients_by_finite_differences(rng, mode, case):
    shape, ws, ignore_border, st, pad = case
    kw = dict(ws=ws, ignore_border=ignore_border, stride=st, pad=pad or (0, 0), mode=mode)
    x = distinct(rng, shape, gap=0.1)
    grad_check(lambda a: pool.pool_2d(a, **kw), x)
    gz = rng.standard_normal(ref_pool(x, ws, ignore_border, st, pad, mode).shape)
    op = pool.PoolGrad(ws, st, pad, ignore_border, mode)
    # pool_grad is linear in gz (and piecewise constant in x): check both, x away from ties.
    grad_check(lambda a, b: op(a, b), x, gz)


def test_max_pool_second_gradient(rng):
    # Hessian-vector style: the gradient of <grad(pool(x)), v> reaches pool_grad_grad.
    x0 = distinct(rng, (1, 1, 4, 4), gap=0.1)

    def fn(gz):
        x = theano.shared(x0)
        return pool.PoolGrad((2, 2), None, None, True, "max")(x, gz) ** 2
    grad_check(fn, rng.standard_normal((1, 1, 2, 2)))
    # d/dx <d sum(pool(x)^2)/dx, v> = 2 v at each window's maximum, 0 elsewhere.
    x, v = T.dmatrix("x"), T.dmatrix("v")
    g = T.grad((pool.pool_2d(x, (2, 2), True) ** 2).sum(), x)
    hv = theano.function([x, v], T.grad((g * v).sum(), x))
    value, direction = x0[0, 0], rng.standard_normal((4, 4))
    at_max = value == np.repeat(np.repeat(ref_pool(value, (2, 2)), 2, 0), 2, 1)
    np.testing.assert_allclose(hv(value, direction), np.where(at_max, 2 * direction, 0))


# ---- failures ----

def test_client_refuses_bad_arguments():
    x = T.dtensor4()
    with pytest.raises(ValueError, match="mode"):
        pool.pool_2d(x, (2, 2), True, mode="median")
    with pytest.raises(NotImplementedError, match="ignore_border=True"):
        pool.pool_2d(x, (2, 2), False, pad=(1, 1))
    with pytest.raises(NotImplementedError, match="smaller than ws"):
        pool.pool_2d(x, (2, 2), True, pad=(2, 0))
    with pytest.raises(ValueError, match="ws"):
        pool.pool_2d(x, (2, 0), True)
    with pytest.raises(TypeError, match="at least 2 dims"):
        pool.pool_2d(T.dvector(), (2, 2), True)
    with pytest.raises(TypeError, match="float32 or float64"):
        pool.pool_2d(T.imatrix(), (2, 2), True)


def test_server_refuses_a_gradient_of_the_wrong_shape():
    x, gz = T.dmatrix("x"), T.dmatrix("gz")
    f = theano.function([x, gz], pool.PoolGrad((2, 2), None, None, True, "max")(x, gz))
    with pytest.raises(errors.InvalidArgument, match="the gradient has shape"):
        f(np.ones((4, 4)), np.ones((3, 2)))
