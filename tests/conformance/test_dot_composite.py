"""A fused elementwise expression of a matrix product made into the product's epilogue by the
optimizer (gemm_epilogue -> dot_composite: the program applied to each block of the product's
rows as it is computed): values against NumPy for products split over threads and not, dot and
tensordot (the gradient of dot), transposed and strided operands, other inputs per row, per
column and 0-d, empty products, NaN; where the rewrite must not apply; the same training step
with and without it; and a client's own dot_composite with bad shapes refused clearly."""

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from tensord import errors
from tensord.compile.mode import Mode
from tensord.graph import Apply, Op
from tensord.tensor.type import TensorType
from harness import run

OPS = {"dot_composite"}
GRAD_OPS = set()  # made after differentiation: no gradient reaches it

pytestmark = pytest.mark.usefixtures("server")

UNFUSED = Mode().excluding("gemm_epilogue")
TOL = {"float32": 2e-5, "float64": 1e-12}


def printed(f):
    return theano.printing.debugprint(f, file="str")


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


# (m, k, n): split over the threads by rows; too small to split; a single row; k of 1.
SHAPES = [(300, 70, 50), (5, 3, 4), (1, 40, 600), (64, 1, 33)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_product_epilogue_matches_numpy(rng, dtype, shape):
    m, k, n = shape
    x, w = T.matrix(dtype=dtype), T.matrix(dtype=dtype)
    row, full, scale = T.row(dtype=dtype), T.matrix(dtype=dtype), T.scalar(dtype=dtype)
    out = T.nnet.sigmoid(T.dot(x, w)) * row + full * scale
    f = theano.function([x, w, row, full, scale], out)
    assert "DotComposite{" in printed(f), printed(f)
    xv = rng.standard_normal((m, k)).astype(dtype)
    wv = rng.standard_normal((k, n)).astype(dtype)
    rv = rng.standard_normal((1, n)).astype(dtype)
    fv = rng.standard_normal((m, n)).astype(dtype)
    sv = np.asarray(1.5, dtype=dtype)
    want = sigmoid(xv.astype("float64") @ wv) * rv + fv * 1.5
    got = f(xv, wv, rv, fv, sv)
    assert got.dtype == dtype and got.shape == (m, n)
    np.testing.assert_allclose(got, want, rtol=TOL[dtype], atol=TOL[dtype])
    unfused = theano.function([x, w, row, full, scale], out, mode=UNFUSED)
    assert "DotComposite{" not in printed(unfused)
    np.testing.assert_allclose(got, unfused(xv, wv, rv, fv, sv), rtol=TOL[dtype],
                               atol=TOL[dtype])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("activation", ["tanh", "relu", "none"])
def test_dense_layers_bias_and_activation(rng, dtype, activation):
    # The gemm pass makes dot(x, W) + b a gemm; its bias, alpha and beta become the epilogue's
    # along with the activation, a lone elementwise op. With no activation the gemm stays.
    x, w, b = T.matrix(dtype=dtype), T.matrix(dtype=dtype), T.vector(dtype=dtype)
    pre = T.dot(x, w) + b
    out = {"tanh": T.tanh(pre), "relu": T.maximum(pre, 0), "none": pre}[activation]
    f = theano.function([x, w, b], out)
    assert ("DotComposite{" in printed(f)) == (activation != "none"), printed(f)
    xv = rng.standard_normal((200, 64)).astype(dtype)
    wv = rng.standard_normal((64, 96)).astype(dtype)
    bv = rng.standard_normal(96).astype(dtype)
    want = xv.astype("float64") @ wv + bv
    want = {"tanh": np.tanh(want), "relu": np.maximum(want, 0), "none": want}[activation]
    np.testing.assert_allclose(f(xv, wv, bv), want, rtol=TOL[dtype] * 10, atol=TOL[dtype] * 10)


def test_a_gemm_with_alpha_beta_and_a_full_z(rng):
    x, w, z = T.dmatrix(), T.dmatrix(), T.dmatrix()
    f = theano.function([x, w, z], T.exp(0.5 * z - 2 * T.dot(x, w)))
    text = printed(f)
    assert "DotComposite{" in text and "gemm" not in text, text
    xv, wv = rng.standard_normal((70, 20)) * 0.1, rng.standard_normal((20, 40))
    zv = rng.standard_normal((70, 40))
    np.testing.assert_allclose(f(xv, wv, zv), np.exp(0.5 * zv - 2 * (xv @ wv)), rtol=1e-12)


@pytest.mark.parametrize("axes", [([1], [1]), ([0], [0]), ([0], [1]), ([1], [0])], ids=str)
def test_tensordot_products_and_their_transposes(rng, axes):
    # The backward pass of tanh(x W): (1 - h^2) * tensordot(g, W, [1], [1]).
    a_shape = (90, 40) if axes[0] == [1] else (40, 90)
    b_shape = (60, 40) if axes[1] == [1] else (40, 60)
    a, b, h = T.dmatrix(), T.dmatrix(), T.dmatrix()
    f = theano.function([a, b, h], (1 - h ** 2) * T.tensordot(a, b, axes=axes))
    assert "DotComposite{" in printed(f), printed(f)
    av = rng.standard_normal(a_shape).astype("float64")
    bv = rng.standard_normal(b_shape).astype("float64")
    hv = rng.uniform(-1, 1, (90, 60))
    want = (1 - hv ** 2) * np.tensordot(av, bv, axes=axes)
    np.testing.assert_allclose(f(av, bv, hv), want, rtol=1e-12, atol=1e-12)


def test_strided_and_transposed_operands(rng):
    x, w, b = T.dmatrix(), T.dmatrix(), T.drow()
    f = theano.function([x, w, b], T.tanh(T.dot(x.T, w[::2])) * b)
    assert "DotComposite{" in printed(f), printed(f)
    xv = rng.standard_normal((30, 200))
    wv = rng.standard_normal((60, 70))
    bv = rng.standard_normal((1, 70))
    np.testing.assert_allclose(f(xv, wv, bv), np.tanh(xv.T @ wv[::2]) * bv, rtol=1e-12,
                               atol=1e-12)


@pytest.mark.parametrize("shape", [(0, 4, 5), (3, 0, 5), (3, 4, 0)], ids=str)
def test_empty_products(shape):
    m, k, n = shape
    x, w = T.dmatrix(), T.dmatrix()
    f = theano.function([x, w], T.exp(T.dot(x, w)) * 2)
    assert "DotComposite{" in printed(f), printed(f)
    got = f(np.ones((m, k)), np.ones((k, n)))
    np.testing.assert_array_equal(got, np.full((m, n), 2.0))  # an empty sum is 0: exp(0) * 2


def test_nan_and_infinity_reach_their_rows():
    x, w = T.dmatrix(), T.dmatrix()
    f = theano.function([x, w], T.tanh(T.dot(x, w)) * 2)
    assert "DotComposite{" in printed(f), printed(f)
    xv = np.ones((100, 40))
    xv[7, 3] = np.nan
    xv[50, 0] = np.inf
    got = f(xv, np.ones((40, 80)))
    assert np.isnan(got[7]).all() and (got[50] == 2).all()  # tanh(inf) * 2
    assert np.isfinite(np.delete(got, [7], axis=0)).all()


def test_not_applied_where_the_product_is_read_elsewhere_or_reduced(rng):
    x, w = T.dmatrix(), T.dmatrix()
    p = T.dot(x, w)
    twice = theano.function([x, w], [T.tanh(p) * 2, p])  # the product is an output too
    assert "DotComposite{" not in printed(twice), printed(twice)
    summed = theano.function([x, w], (T.tanh(p) * 2).sum())  # folded into a reduction instead
    assert "DotComposite{" not in printed(summed), printed(summed)
    xv, wv = rng.standard_normal((20, 10)), rng.standard_normal((10, 30))
    np.testing.assert_allclose(twice(xv, wv)[0], np.tanh(xv @ wv) * 2, rtol=1e-12)
    np.testing.assert_allclose(summed(xv, wv), (np.tanh(xv @ wv) * 2).sum(), rtol=1e-12)


def test_a_training_step_is_the_same_with_and_without_it(rng):
    def step(mode):
        xs = theano.shared(rng.standard_normal((128, 30)))
        ws = [theano.shared(np.full((30, 20), 0.05)), theano.shared(np.full((20, 5), 0.05))]
        bs = [theano.shared(np.zeros(20)), theano.shared(np.zeros(5))]
        h = T.tanh(T.dot(xs, ws[0]) + bs[0])
        loss = (T.nnet.sigmoid(T.dot(h, ws[1]) + bs[1]) ** 2).mean()
        params = ws + bs
        grads = T.grad(loss, params)
        return theano.function([], loss, updates=[(p, p - 0.1 * g)
                                                  for p, g in zip(params, grads)], mode=mode)
    seed = rng.bit_generator.state
    fused = step(None)
    rng.bit_generator.state = seed
    unfused = step(UNFUSED)
    assert printed(fused).count("DotComposite{") >= 2, printed(fused)
    for _ in range(5):
        np.testing.assert_allclose(fused(), unfused(), rtol=1e-12)


class DotComposite(Op):
    """A client's own dot_composite: register 0 is dot(x, y), 1.. the other inputs."""
    wire_name = "dot_composite"

    def __init__(self, program):
        self.program = program

    def attrs(self):
        return {"dtype": np.dtype("float64"), "program": self.program}

    def make_node(self, x, y, *rest):
        return Apply(self, [x, y, *rest], [TensorType("float64", (False, False))()])


ADD = 1  # composite opcodes (test_fused_ops.py)


def test_a_clients_dot_composite_with_bad_shapes_is_refused(rng):
    with pytest.raises(errors.InvalidArgument, match=r"not aligned: 3 \(dim 1\) != 4"):
        run(lambda x, y, z: DotComposite([ADD, 0, 1, -1])(x, y, z),
            np.ones((2, 3)), np.ones((4, 5)), np.ones((2, 5)))
    # Another input that fits neither the product's rows nor its columns.
    with pytest.raises(errors.InvalidArgument, match=r"\(2, 4\).*\(3, 4\)|\(3, 4\).*\(2, 4\)"):
        run(lambda x, y, z: DotComposite([ADD, 0, 1, -1])(x, y, z),
            np.ones((2, 3)), np.ones((3, 4)), np.ones((3, 4)))
    with pytest.raises(errors.InvalidArgument, match="must be float64 matrices"):
        run(lambda x, y: DotComposite([ADD, 0, 0, -1])(x, y), np.ones(3), np.ones((3, 2)))


def test_inputs_that_broadcast_the_product_at_run_time_give_the_unfused_result():
    # The product (2, 1) is broadcast to (2, 5) by the other input, NumPy-style, as the
    # unfused graph would; rows that differ in length per block would be wrong.
    got = run(lambda x, y, z: DotComposite([ADD, 0, 1, -1])(x, y, z),
              np.ones((2, 3)), np.ones((3, 1)), np.arange(10.0).reshape(2, 5))
    np.testing.assert_array_equal(got, 3 + np.arange(10.0).reshape(2, 5))


def test_mixed_operand_dtypes_are_left_to_dot_and_gemm(rng):
    # dot and gemm cast mixed operands; the pass leaves those products alone.
    x, w = T.matrix(dtype="float32"), T.matrix(dtype="float64")
    i = T.matrix(dtype="int32")
    f = theano.function([x, w, i], [T.tanh(T.dot(x, w)) * 2, T.exp(T.dot(i, w)) * 2])
    assert "DotComposite{" not in printed(f), printed(f)
    xv = rng.standard_normal((40, 30)).astype("float32")
    wv = rng.standard_normal((30, 20)) * 0.1
    iv = rng.integers(-2, 3, (40, 30)).astype("int32")
    got = f(xv, wv, iv)
    np.testing.assert_allclose(got[0], np.tanh(xv @ wv) * 2, rtol=1e-12)
    np.testing.assert_allclose(got[1], np.exp(iv @ wv) * 2, rtol=1e-12)


def test_a_wide_product_of_few_rows_uses_every_thread_and_is_right(rng):
    # 20 rows cannot give two threads a block of rows each: the product splits by columns and
    # the epilogue runs on all of it afterwards.
    x, w, b = T.matrix(), T.matrix(), T.row()
    f = theano.function([x, w, b], T.tanh(T.dot(x, w)) * b)
    assert "DotComposite{" in printed(f), printed(f)
    xv = rng.standard_normal((20, 300)).astype("float32")
    wv = rng.standard_normal((300, 2000)).astype("float32")
    bv = rng.standard_normal((1, 2000)).astype("float32")
    np.testing.assert_allclose(f(xv, wv, bv), np.tanh(xv @ wv) * bv, rtol=2e-5, atol=2e-5)


def test_nan_guard_mode_names_the_product_that_overflowed():
    # NanGuardMode keeps the product apart, so its error names the dot, not the fused node.
    x, w = T.dmatrix(), T.dmatrix()
    f = theano.function([x, w], T.tanh(T.dot(x, w)) * 2, mode="NanGuardMode")
    assert "DotComposite{" not in printed(f), printed(f)
    with pytest.raises(errors.InvalidArgument, match=r"NanGuardMode: dot\(.*\) produced inf"):
        f(np.full((2, 2), 1e200), np.full((2, 2), 1e200))
