"""Every op the client can build, run on a real server and compared with NumPy."""

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T

pytestmark = pytest.mark.usefixtures("server")


def _run(inputs, output, *values):
    return theano.function(inputs, output)(*values)


def _f32(rng, *shape):
    return rng.standard_normal(shape).astype("float32")


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 1)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_sum(rng, axis, keepdims):
    x = T.matrix()
    data = _f32(rng, 3, 4)
    out = _run([x], T.sum(x, axis=axis, keepdims=keepdims), data)
    want = np.sum(data, axis=axis, keepdims=keepdims)
    assert out.dtype == np.float32 and out.shape == want.shape
    np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-5)


def test_sum_widens_small_ints_and_takes_dtype():
    x = T.bmatrix()
    data = np.full((4, 50), 100, dtype="int8")  # overflows int8 if not widened
    out = _run([x], x.sum(axis=1), data)
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, data.sum(axis=1, dtype=np.int64))
    f = T.matrix()
    fdata = np.random.default_rng(1).standard_normal((3, 3)).astype("float32")
    out = _run([f], T.sum(f, dtype="float64"), fdata)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, fdata.astype(np.float64).sum(), rtol=1e-6)


@pytest.mark.parametrize("axis", [None, 0, 1])
def test_max_keeps_dtype(rng, axis):
    x = T.imatrix()
    data = rng.integers(-100, 100, size=(3, 5)).astype("int32")
    out = _run([x], T.max(x, axis=axis, keepdims=True), data)
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out, np.max(data, axis=axis, keepdims=True))


def test_reshape(rng):
    x = T.matrix()
    data = _f32(rng, 3, 4)
    for shape in [(12,), (4, 3), (2, -1), (-1, 2, 3), (1, 12)]:
        out = _run([x], x.reshape(shape), data)
        np.testing.assert_array_equal(out, data.reshape(shape))
    shp = T.lvector()
    out = theano.function([x, shp], T.reshape(x, shp, ndim=2))(data, np.array([6, 2]))
    np.testing.assert_array_equal(out, data.reshape(6, 2))


def test_dimshuffle(rng):
    x = T.tensor3()
    data = _f32(rng, 2, 3, 4)
    out = _run([x], x.dimshuffle(2, 0, 1), data)
    np.testing.assert_array_equal(out, data.transpose(2, 0, 1))
    out = _run([x], x.dimshuffle(0, "x", 1, 2), data)
    np.testing.assert_array_equal(out, data[:, None])
    row = T.row()
    rdata = _f32(rng, 1, 5)
    out = _run([row], row.dimshuffle(1), rdata)
    np.testing.assert_array_equal(out, rdata[0])
    m = T.matrix()
    mdata = _f32(rng, 2, 5)
    np.testing.assert_array_equal(_run([m], m.T, mdata), mdata.T)


@pytest.mark.parametrize("sa,sb", [((3, 4), (4, 5)), ((3, 4), (4,)), ((4,), (4, 5)),
                                   ((4,), (4,))])
def test_dot(rng, sa, sb):
    a = T.tensor("float32", (False,) * len(sa))
    b = T.tensor("float64", (False,) * len(sb))
    av, bv = _f32(rng, *sa), rng.standard_normal(sb)
    out = _run([a, b], T.dot(a, b), av, bv)
    want = np.dot(av, bv)
    assert out.dtype == np.float64 and out.shape == want.shape
    np.testing.assert_allclose(out, want, rtol=1e-6)


def test_cast(rng):
    x = T.matrix()
    data = _f32(rng, 3, 3) * 10
    out = _run([x], T.cast(x, "int32"), data)
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out, data.astype(np.int32))
    i = T.ivector()
    out = _run([i], i.astype("float64"), np.array([1, -2, 3], dtype="int32"))
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [1.0, -2.0, 3.0])


def test_fill_zeros_like_ones_like(rng):
    x = T.matrix()
    data = _f32(rng, 2, 3)
    out = _run([x], T.fill(x, 7), data)
    assert out.dtype == np.int8
    np.testing.assert_array_equal(out, np.full((2, 3), 7))
    out = _run([x], T.zeros_like(x), data)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, np.zeros_like(data))
    out = _run([x], T.ones_like(x, dtype="int64"), data)
    np.testing.assert_array_equal(out, np.ones((2, 3), dtype="int64"))


def test_alloc(rng):
    v = T.vector()
    n = T.iscalar()
    vdata = _f32(rng, 3)
    out = theano.function([v, n], T.alloc(v, n, 2, 3))(vdata, 4)
    np.testing.assert_array_equal(out, np.broadcast_to(vdata, (4, 2, 3)))
    out = T.ones((2, 1), dtype="int16").eval()
    assert out.dtype == np.int16
    np.testing.assert_array_equal(out, np.ones((2, 1)))


def test_binary_ops_with_mixed_dtypes(rng):
    i, f = T.ivector(), T.fvector()
    iv = np.array([1, 2, 3], dtype="int32")
    fv = np.array([0.5, -1.5, 2.0], dtype="float32")
    outs = theano.function([i, f], [i + f, i - f, i * f, f / i, i / i, -i, f ** 2])(iv, fv)
    want = [iv + fv, iv - fv, iv * fv, fv / iv, iv / iv, -iv, fv ** 2]
    for got, w in zip(outs, want):
        assert got.dtype == w.dtype, (got.dtype, w.dtype)
        np.testing.assert_allclose(got, w, rtol=1e-6)


def test_small_int_division_is_float32():
    b = T.bvector()
    data = np.array([1, 2, 3], dtype="int8")
    out = _run([b], b / 2, data)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, data / np.float32(2))


def test_broadcasting_row_and_col(rng):
    r, c = T.row(), T.col()
    rv, cv = _f32(rng, 1, 4), _f32(rng, 3, 1)
    out = _run([r, c], r + c, rv, cv)
    np.testing.assert_allclose(out, rv + cv)


def test_constant_outputs_and_passthrough(rng):
    x = T.vector()
    data = _f32(rng, 4)
    out = theano.function([x], [x, x * 1, T.constant(np.arange(3))])(data)
    np.testing.assert_array_equal(out[0], data)
    np.testing.assert_array_equal(out[1], data)
    np.testing.assert_array_equal(out[2], np.arange(3))


def test_float64_mode():
    theano.config.floatX = "float64"
    x = T.matrix()
    data = np.random.default_rng(3).standard_normal((2, 2))
    out = _run([x], T.exp(x) * 0.1, data)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, np.exp(data) * 0.1, rtol=1e-12)


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_modes_agree(rng, mode):
    x, y = T.matrices("x", "y")
    xv, yv = _f32(rng, 3, 3), _f32(rng, 3, 3)
    f = theano.function([x, y], (x + y) * x - T.exp(y) / 2, mode=mode)
    np.testing.assert_allclose(f(xv, yv), (xv + yv) * xv - np.exp(yv) / 2, rtol=1e-5,
                               atol=1e-6)


def test_large_tensors_cross_the_wire():
    # 32 MiB each way: well over gRPC's 4 MiB default, so both ends must have raised the limit.
    x = T.vector()
    data = np.arange(8 * 1024 * 1024, dtype="float32")
    out = _run([x], x * 2, data)
    np.testing.assert_array_equal(out, data * 2)
