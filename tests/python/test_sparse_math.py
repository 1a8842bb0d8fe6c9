"""tensord.sparse's operations (issue 17 item 10) against scipy / NumPy: products, elementwise
arithmetic, sums and scalings, the structured functions, transposes and format changes, on
canonical, uncanonical (unsorted, duplicate, stored zeros), empty and integer matrices."""

import numpy as np
import pytest
import scipy.sparse as sp

import tensord as theano
import tensord.tensor as T
from tensord import sparse
from sparse_cases import FORMATS, assert_sparse_equal, rand_sparse

pytestmark = pytest.mark.usefixtures("server")


# ---- operations against scipy --------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_products_with_dense_operands(fmt):
    a = rand_sparse(5, 4, fmt, seed=1)
    m, v, left = np.arange(8.0).reshape(4, 2), np.arange(4.0), np.arange(10.0).reshape(2, 5)
    x = sparse.matrix(fmt, "x", "float64")
    dm, dv, dl = T.dmatrix("m"), T.dvector("v"), T.dmatrix("l")
    outs = theano.function([x, dm, dv, dl], [
        sparse.structured_dot(x, dm), sparse.dot(x, dv), sparse.dot(dl, x),
        sparse.dot(dv, x.T), T.dot(x, dm), theano.dot(dl, x),
        x.dot(dm)])(a, m, v, left)
    want = [a @ m, a @ v, left @ a, v @ a.T, a @ m, left @ a, a @ m]
    for got, expected in zip(outs, want):
        np.testing.assert_allclose(got, expected)


def test_dot_of_two_sparse_matrices():
    a, b = rand_sparse(4, 5, "csr", seed=2), rand_sparse(5, 3, "csc", seed=3)
    x, y = sparse.csr_matrix("x", "float64"), sparse.csc_matrix("y", "float64")
    dense, structured, true = theano.function(
        [x, y], [sparse.dot(x, y), sparse.structured_dot(x, y), sparse.true_dot(x, y)])(a, b)
    np.testing.assert_allclose(dense, (a @ b).toarray())
    assert_sparse_equal(structured, a @ b, "csr")
    assert_sparse_equal(true, a @ b, "csr")


@pytest.mark.parametrize("fmt", FORMATS)
def test_elementwise_arithmetic_follows_scipy(fmt):
    a, b = rand_sparse(4, 5, fmt, seed=4), rand_sparse(4, 5, fmt, seed=5)
    b = b + (-a).multiply(b != 0).multiply(a != 0)  # some entries cancel in a + b
    d = np.arange(20.0).reshape(4, 5) - 7
    row = np.arange(5.0) + 1
    x, y = sparse.matrix(fmt, "x", "float64"), sparse.matrix(fmt, "y", "float64")
    dm, dr = T.dmatrix("d"), T.dvector("r")
    f = theano.function([x, y, dm, dr], [x + y, x - y, x * y, x + dm, dm - x, x * dm, dm * x,
                                         x * dr, x * 3, -x, sparse.sub(x, y), sparse.mul(x, y)])
    got = f(a, b, d, row)
    want = [a + b, a - b, a.multiply(b), a + d, d - a, a.multiply(d), a.multiply(d),
            a.multiply(row), a * 3, -a, a - b, a.multiply(b)]
    for g, w in zip(got, want):
        if sp.issparse(w) or sp.issparse(g):
            assert_sparse_equal(g, w, fmt)
        else:
            np.testing.assert_allclose(g, w)
    # sparse + sparse stores what scipy stores: no cancelled (zero) entries.
    total = got[0]
    expected = (a + b).tocsr() if fmt == "csr" else (a + b).tocsc()
    expected.eliminate_zeros()
    assert total.nnz == expected.nnz and not np.any(total.data == 0)


@pytest.mark.parametrize("fmt", FORMATS)
def test_sums_scalings_and_likes(fmt):
    a = rand_sparse(5, 4, fmt, seed=6)
    s_rows, s_cols = np.arange(5.0) + 1, np.arange(4.0) - 1
    x = sparse.matrix(fmt, "x", "float64")
    vr, vc = T.dvector("r"), T.dvector("c")
    f = theano.function([x, vr, vc], [
        sparse.sp_sum(x), sparse.sp_sum(x, axis=0), sparse.sp_sum(x, axis=1), x.sum(1),
        sparse.row_scale(x, vr), sparse.col_scale(x, vc), sparse.sp_ones_like(x),
        sparse.sp_zeros_like(x), sparse.structured_add_s_v(x, vc), sparse.mul_s_v(x, vc)])
    out = f(a, s_rows, s_cols)
    dense = a.toarray()
    np.testing.assert_allclose(out[0], dense.sum())
    np.testing.assert_allclose(out[1], dense.sum(0))
    np.testing.assert_allclose(out[2], dense.sum(1))
    np.testing.assert_allclose(out[3], dense.sum(1))
    assert_sparse_equal(out[4], dense * s_rows[:, None], fmt)
    assert_sparse_equal(out[5], dense * s_cols[None, :], fmt)
    assert_sparse_equal(out[6], (dense != 0).astype(float), fmt)
    assert out[7].nnz == 0 and out[7].shape == a.shape and out[7].format == fmt
    assert_sparse_equal(out[8], np.where(dense != 0, dense + s_cols[None, :], 0), fmt)
    assert_sparse_equal(out[9], dense * s_cols[None, :], fmt)


def test_structured_functions_apply_to_the_stored_entries():
    a = rand_sparse(4, 4, "csr", seed=7)
    a.data = a.data * 0.9 - 0.2  # some negative entries
    x = sparse.csr_matrix("x", "float64")
    names = ["sin", "tan", "arcsin", "arctan", "sinh", "arcsinh", "tanh", "arctanh", "rint",
             "sgn", "ceil", "floor", "log1p", "expm1", "deg2rad", "rad2deg", "trunc", "sqr",
             "abs_"]
    numpy_of = {"sgn": np.sign, "sqr": np.square, "abs_": np.abs}
    f = theano.function([x], [getattr(sparse, n)(x) for n in names] + [
        sparse.structured_exp(x), sparse.structured_sigmoid(x), sparse.structured_pow(x, 2),
        sparse.structured_minimum(x, 0.1), sparse.structured_maximum(x, 0.1),
        sparse.sqrt(sparse.abs_(x)), sparse.structured_log(sparse.abs_(x))])
    out = f(a)
    for name, got in zip(names, out):
        fn = numpy_of.get(name, getattr(np, name, None))
        np.testing.assert_allclose(got.data, fn(a.data), rtol=1e-12, err_msg=name)
        np.testing.assert_array_equal(got.indices, a.indices)
    rest = out[len(names):]
    for got, want in zip(rest, [np.exp(a.data), 1 / (1 + np.exp(-a.data)), a.data ** 2,
                                np.minimum(a.data, 0.1), np.maximum(a.data, 0.1),
                                np.sqrt(np.abs(a.data)), np.log(np.abs(a.data))]):
        np.testing.assert_allclose(got.data, want, rtol=1e-7)  # 0.1 is a floatX constant


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_arcsinh_is_accurate_from_tiny_to_huge(dtype):
    big = 1e30 if dtype == "float32" else 1e300  # x**2 overflows: must not reach it
    values = np.array([[1e-10, -3.0, big, -1e9, 0.5, 1e8, -2e8, -1e-30]], dtype)
    x = sparse.csr_matrix("x", dtype)
    got = theano.function([x], sparse.arcsinh(x))(sp.csr_matrix(values)).toarray()
    np.testing.assert_allclose(got, np.arcsinh(values), rtol=2e-7 if dtype == "float32" else 1e-15)


@pytest.mark.parametrize("fmt", FORMATS)
def test_transpose_formats_casts_and_cleaning(fmt):
    a = rand_sparse(3, 5, fmt, seed=8)
    # Row 0 unsorted, with a stored zero and column 2 stored twice.
    messy = sp.csr_matrix((np.array([1.0, 0.0, 2.0, 3.0]), np.array([2, 0, 2, 1]),
                           np.array([0, 3, 4])), shape=(2, 3))
    x = sparse.matrix(fmt, "x", "float64")
    m = sparse.csr_matrix("m", "float64")
    f = theano.function([x, m], [x.T, sparse.transpose(x), sparse.csr_from_csc(x.T),
                                 sparse.csc_from_csr(x.T), sparse.fcast(x), x.astype("int32"),
                                 x.shape, sparse.remove0(m), sparse.clean(m),
                                 sparse.ensure_sorted_indices(m), x.toarray()])
    out = f(a, messy)
    other = "csc" if fmt == "csr" else "csr"
    assert_sparse_equal(out[0], a.T, other)
    assert_sparse_equal(out[1], a.T, other)
    assert_sparse_equal(out[2], a.T, "csr")
    assert_sparse_equal(out[3], a.T, "csc")
    assert out[4].dtype == np.float32 and out[5].dtype == np.int32
    np.testing.assert_array_equal(out[6], [3, 5])
    assert out[7].nnz == 3 and not np.any(out[7].data == 0)
    # clean: the zero gone, sorted; duplicates stay (Theano's, scipy's sorted_indices).
    assert_sparse_equal(out[8], messy, "csr")
    np.testing.assert_array_equal(out[8].indices, [2, 2, 1])
    np.testing.assert_array_equal(out[8].data, [1.0, 2.0, 3.0])
    assert_sparse_equal(out[9], messy, "csr")
    np.testing.assert_array_equal(out[9].indices, [0, 2, 2, 1])  # stable: 1.0 before 2.0
    np.testing.assert_array_equal(out[9].data, [0.0, 1.0, 2.0, 3.0])
    np.testing.assert_array_equal(out[10], a.toarray())


def test_square_diagonal_and_sampling_dot():
    v, xa, ya = T.dvector("v"), T.dmatrix("xa"), T.dmatrix("ya")
    p = sparse.csr_matrix("p", "float64")
    pv = rand_sparse(3, 4, "csr", seed=9)
    xv, yv = np.arange(6.0).reshape(3, 2), np.arange(8.0).reshape(4, 2) - 3
    diag, sampled = theano.function([v, p, xa, ya], [sparse.square_diagonal(v),
                                                     sparse.sampling_dot(xa, ya, p)])(
        np.array([1.0, 2.0, 3.0]), pv, xv, yv)
    assert_sparse_equal(diag, np.diag([1.0, 2.0, 3.0]), "csc")
    assert_sparse_equal(sampled, pv.multiply(xv @ yv.T), "csr")


def test_constants_and_eval():
    a = rand_sparse(3, 3, "csc", seed=10)
    c = sparse.as_sparse_variable(a)
    assert isinstance(c, sparse.SparseConstant) and c.format == "csc" and c.data is a
    d = T.dmatrix("d")
    np.testing.assert_allclose(theano.function([d], sparse.dot(a, d))(np.eye(3)), a.toarray())
    np.testing.assert_allclose(T.dot(d, a).eval({d: np.eye(3)}), a.toarray())
    assert_sparse_equal((c * 2).eval(), a * 2, "csc")
    coo = sparse.as_sparse_variable(a.tocoo())
    assert coo.format == "csr"


# ---- inputs scipy leaves uncanonical, empty ones, integer dtypes --------------------------

def _messy(fmt):
    """Unsorted indices, a duplicate position, a stored zero, an empty major slice."""
    m = sp.csr_matrix((np.array([1.0, 0.0, 2.0, 3.0, -4.0, 5.0]),
                       np.array([2, 0, 1, 2, 2, 0]), np.array([0, 3, 3, 5, 6])), shape=(4, 3))
    return m if fmt == "csr" else sp.csc_matrix((m.data, m.indices, m.indptr), shape=(3, 4))


@pytest.mark.parametrize("fmt", FORMATS)
def test_uncanonical_inputs_are_read_as_scipy_reads_them(fmt):
    a, b = _messy(fmt), _messy(fmt) * 2
    y = np.arange(a.shape[1] * 2, dtype=float).reshape(a.shape[1], 2)
    x, z = sparse.matrix(fmt, "x", "float64"), sparse.matrix(fmt, "z", "float64")
    dy = T.dmatrix("y")
    f = theano.function([x, z, dy], [sparse.dot(x, dy), x + z, x * z, sparse.sp_sum(x, 0),
                                     x.toarray(), sparse.csr_from_csc(x.T), x * dy[:, 0]])
    out = f(a, b, y)
    np.testing.assert_allclose(out[0], a @ y)
    assert_sparse_equal(out[1], a + b, fmt)
    assert_sparse_equal(out[2], a.multiply(b), fmt)
    np.testing.assert_allclose(out[3], a.toarray().sum(0))
    np.testing.assert_allclose(out[4], a.toarray())
    assert_sparse_equal(out[5], a.T, "csr")
    assert_sparse_equal(out[6], a.toarray() * y[:, 0], fmt)


def test_empty_matrices_and_integer_dtypes():
    x = sparse.csr_matrix("x", "int64")
    d = T.lmatrix("d")
    f = theano.function([x, d], [sparse.dot(x, d), x + x, sparse.sp_sum(x, 1), x * 3])
    empty = sp.csr_matrix((0, 3), dtype="int64")
    out = f(empty, np.ones((3, 2), "int64"))
    assert out[0].shape == (0, 2) and out[1].shape == (0, 3) and out[2].shape == (0,)
    nothing = sp.csr_matrix((2, 3), dtype="int64")
    out = f(nothing, np.ones((3, 2), "int64"))
    assert out[0].dtype == np.int64 and not out[0].any() and out[1].nnz == 0
    ints = sp.csr_matrix(np.array([[0, 2, 0], [1, 0, -3]], dtype="int64"))
    out = f(ints, np.arange(6, dtype="int64").reshape(3, 2))
    np.testing.assert_array_equal(out[0], ints @ np.arange(6).reshape(3, 2))
    np.testing.assert_array_equal(out[2], [2, -2])
    assert out[3].dtype == np.int64
    np.testing.assert_array_equal(out[3].toarray(), 3 * ints.toarray())
    s, m = sparse.csr_matrix("s", "float32"), T.dmatrix("m")
    mixed = theano.function([s, m], sparse.dot(s, m))(sp.csr_matrix(np.eye(2, dtype="float32")),
                                                      np.ones((2, 2)))
    assert mixed.dtype == np.float64
