"""The sparse-matrix wire ops (engine/ops/defs/sparse.h) on CSR and CSC components against
scipy.sparse and NumPy index arithmetic: canonical matrices, duplicate and unsorted entries,
empty slices and empty matrices; their gradients by finite differences; malformed components
refused with errors naming the component."""

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from tensord import errors
from tensord.graph import Apply, Op
from tensord.tensor.type import TensorType
from harness import check, grad_check

sp = pytest.importorskip("scipy.sparse")

OPS = {"sparse_dense_dot", "sparse_sampled_dot", "dense_from_sparse", "sparse_gather",
       "sparse_from_dense", "sparse_values_at", "sparse_union", "sparse_eliminate_zeros",
       "sparse_transpose_structure", "sparse_same_shape"}
GRAD_OPS = {"sparse_dense_dot", "sparse_sampled_dot", "dense_from_sparse", "sparse_gather",
            "sparse_from_dense", "sparse_values_at", "sparse_eliminate_zeros"}

pytestmark = pytest.mark.usefixtures("server")

FORMATS = ("csr", "csc")


class Wire(Op):
    """A sparse wire op built by name: output types (dtype, ndim) given by the test."""

    def __init__(self, wire_name, outputs, **attrs):
        self.wire_name = wire_name
        self._outputs = outputs
        self._attrs = attrs

    def attrs(self):
        return dict(self._attrs)

    def make_node(self, *inputs):
        inputs = [T.as_tensor_variable(i) for i in inputs]
        outs = [TensorType(d if d != "in0" else inputs[0].dtype, (False,) * n)()
                for d, n in self._outputs]
        return Apply(self, inputs, outs)


def wire(name, fmt, *inputs, outputs=(("in0", 1),), **attrs):
    return Wire(name, list(outputs), format=fmt, **attrs)(*inputs)


def dot(fmt, d, i, p, s, y, transpose=False):
    """sparse_dense_dot, its output in NumPy's promotion of data and y."""
    dtype = str(np.result_type(T.as_tensor_variable(d).dtype, T.as_tensor_variable(y).dtype))
    return wire("sparse_dense_dot", fmt, d, i, p, s, y, outputs=[(dtype, 2)], transpose=transpose)


def parts(m):
    """(data, indices, indptr, shape) of a scipy matrix, as they travel."""
    return m.data, m.indices, m.indptr, np.array(m.shape, dtype=np.int64)


def rows_cols(m, fmt):
    major = np.repeat(np.arange(len(m.indptr) - 1), np.diff(m.indptr))
    return (major, m.indices) if fmt == "csr" else (m.indices, major)


def random_matrix(fmt, shape=(5, 7), density=0.35, dtype="float64", seed=0, duplicates=False):
    """A random matrix of `fmt`; with duplicates, some positions stored twice and the slices
    left unsorted (what CSR/CSC allow and scipy keeps until sum_duplicates)."""
    rng = np.random.default_rng(seed)
    m = sp.random(*shape, density=density, format=fmt, dtype=dtype, random_state=seed)
    if not duplicates:
        return m
    coo = m.tocoo()
    extra = rng.choice(coo.nnz, size=max(1, coo.nnz // 3), replace=False) if coo.nnz else []
    rows = np.concatenate([coo.row, coo.row[extra]])
    cols = np.concatenate([coo.col, coo.col[extra]])
    vals = np.concatenate([coo.data, rng.uniform(-1, 1, len(extra))]).astype(dtype)
    order = rng.permutation(len(rows))
    built = (sp.csr_matrix if fmt == "csr" else sp.csc_matrix)(
        (vals[order], (rows[order], cols[order])), shape=shape)
    # The constructor sums duplicates; rebuild the raw arrays with them kept, unsorted.
    major, minor = (rows, cols) if fmt == "csr" else (cols, rows)
    n_major = shape[0] if fmt == "csr" else shape[1]
    slot = np.argsort(major[order], kind="stable")
    indptr = np.concatenate([[0], np.cumsum(np.bincount(major, minlength=n_major))])
    raw = (sp.csr_matrix if fmt == "csr" else sp.csc_matrix)(
        (vals[order][slot], minor[order][slot].astype(np.int32), indptr.astype(np.int32)),
        shape=shape)
    assert not raw.has_canonical_format and np.allclose(raw.toarray(), built.toarray())
    return raw


MATRICES = [dict(), dict(duplicates=True), dict(shape=(0, 4)), dict(shape=(4, 0)),
            dict(shape=(6, 3), density=0.0), dict(shape=(1, 9), density=0.9)]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("transpose", [False, True])
@pytest.mark.parametrize("kind", range(len(MATRICES)))
def test_sparse_dense_dot(fmt, transpose, kind):
    m = random_matrix(fmt, **MATRICES[kind])
    a = m.toarray()
    rows = a.shape[1] if not transpose else a.shape[0]
    y = np.random.default_rng(1).uniform(-1, 1, (rows, 3))
    check(lambda d, i, p, s, y: dot(fmt, d, i, p, s, y, transpose),
          lambda *_: (a.T if transpose else a) @ y, *parts(m), y)


@pytest.mark.parametrize("dtypes", [("float32", "float32"), ("float32", "float64"),
                                    ("int32", "int64")])
def test_sparse_dense_dot_dtypes_promote(dtypes):
    m = random_matrix("csr", dtype="float64")
    data = (m.data * 10).astype(dtypes[0])
    y = np.arange(21).reshape(7, 3).astype(dtypes[1])
    a = sp.csr_matrix((data, m.indices, m.indptr), shape=m.shape).toarray()
    check(lambda d, i, p, s, y: dot("csr", d, i, p, s, y),
          lambda *_: a @ y, data, m.indices, m.indptr, np.array(m.shape, np.int64), y,
          rtol=1e-5)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", range(len(MATRICES)))
def test_sparse_sampled_dot(fmt, kind):
    m = random_matrix(fmt, **MATRICES[kind])
    rng = np.random.default_rng(2)
    a, b = rng.uniform(-1, 1, (m.shape[0], 4)), rng.uniform(-1, 1, (m.shape[1], 4))
    r, c = rows_cols(m, fmt)
    check(lambda i, p, s, a, b: wire("sparse_sampled_dot", fmt, i, p, s, a, b,
                                     outputs=[("float64", 1)]),
          lambda *_: (a[r] * b[c]).sum(axis=1), m.indices, m.indptr,
          np.array(m.shape, np.int64), a, b)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", range(len(MATRICES)))
def test_dense_from_sparse_adds_duplicates(fmt, kind):
    m = random_matrix(fmt, **MATRICES[kind])
    check(lambda d, i, p, s: wire("dense_from_sparse", fmt, d, i, p, s, outputs=[("in0", 2)]),
          lambda *_: m.toarray(), *parts(m))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", range(len(MATRICES)))
def test_sparse_gather(fmt, kind):
    m = random_matrix(fmt, **MATRICES[kind])
    y = np.random.default_rng(3).uniform(-1, 1, m.shape)
    r, c = rows_cols(m, fmt)
    check(lambda y, i, p, s: wire("sparse_gather", fmt, y, i, p, s), lambda *_: y[r, c],
          y, m.indices, m.indptr, np.array(m.shape, np.int64))


@pytest.mark.parametrize("fmt", FORMATS)
def test_sparse_gather_broadcasts_rows_and_columns(fmt):
    m = random_matrix(fmt, shape=(4, 6), density=0.5)
    r, c = rows_cols(m, fmt)
    i, p, s = m.indices, m.indptr, np.array(m.shape, np.int64)
    for pattern, value, want in [((True, False), np.arange(6.0).reshape(1, 6), c * 1.0),
                                 ((False, True), np.arange(4.0).reshape(4, 1), r * 1.0)]:
        y = T.tensor("float64", pattern)
        f = theano.function([y], wire("sparse_gather", fmt, y, i, p, s))
        np.testing.assert_array_equal(f(value), want)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int16"])
def test_sparse_from_dense_matches_scipy(fmt, dtype):
    rng = np.random.default_rng(4)
    x = (rng.uniform(-2, 2, (5, 6)) * (rng.uniform(size=(5, 6)) < 0.4)).astype(dtype)
    if dtype != "int16":
        x[0, 1], x[2, 2] = np.nan, -0.0  # NaN is stored, -0.0 is not (NumPy's nonzero)
    want = (sp.csr_matrix if fmt == "csr" else sp.csc_matrix)(x)
    check(lambda x: wire("sparse_from_dense", fmt, x,
                         outputs=[("in0", 1), ("int32", 1), ("int32", 1)]),
          lambda x: [want.data, want.indices, want.indptr], x)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("shape", [(0, 3), (3, 0), (2, 2)])
def test_sparse_from_dense_empty(fmt, shape):
    x = np.zeros(shape)
    want = (sp.csr_matrix if fmt == "csr" else sp.csc_matrix)(x)
    check(lambda x: wire("sparse_from_dense", fmt, x,
                         outputs=[("in0", 1), ("int32", 1), ("int32", 1)]),
          lambda x: [want.data, want.indices, want.indptr], x)


EMPTY = dict(shape=(5, 7), density=0.0)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("pair", [(MATRICES[0], MATRICES[1]), (MATRICES[1], MATRICES[0]),
                                  (MATRICES[1], MATRICES[1]), (EMPTY, MATRICES[1]),
                                  (MATRICES[1], EMPTY)])
def test_sparse_values_at(fmt, pair):
    src = random_matrix(fmt, seed=5, **pair[0])
    at = random_matrix(fmt, seed=6, **pair[1])
    r, c = rows_cols(at, fmt)
    check(lambda d, i, p, ai, ap, s: wire("sparse_values_at", fmt, d, i, p, ai, ap, s),
          lambda *_: src.toarray()[r, c], src.data, src.indices, src.indptr, at.indices,
          at.indptr, np.array(src.shape, np.int64))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kinds", [(0, 1), (1, 1), (4, 0), (0, 5)])
def test_sparse_union(fmt, kinds):
    a = random_matrix(fmt, seed=7, **MATRICES[kinds[0]])
    b = random_matrix(fmt, seed=8, **MATRICES[kinds[1]])
    if a.shape != b.shape:
        b = random_matrix(fmt, seed=8, shape=a.shape, duplicates=True)
    ones = lambda m: (sp.csr_matrix if fmt == "csr" else sp.csc_matrix)(
        (np.ones(len(m.indices)), m.indices, m.indptr), shape=m.shape)
    want = ones(a) + ones(b)  # sorted, each position once
    want.sort_indices()
    check(lambda ia, pa, ib, pb, s: wire("sparse_union", fmt, ia, pa, ib, pb, s,
                                         outputs=[("int32", 1), ("int32", 1)]),
          lambda *_: [want.indices, want.indptr], a.indices, a.indptr, b.indices, b.indptr,
          np.array(a.shape, np.int64))


@pytest.mark.parametrize("fmt", FORMATS)
def test_sparse_eliminate_zeros_matches_scipy(fmt):
    m = random_matrix(fmt, shape=(6, 5), density=0.6, duplicates=True)
    m.data[::3] = 0
    m.data[1] = np.nan
    want = m.copy()
    want.eliminate_zeros()
    check(lambda d, i, p, s: wire("sparse_eliminate_zeros", fmt, d, i, p, s,
                                  outputs=[("in0", 1), ("int32", 1), ("int32", 1)]),
          lambda *_: [want.data, want.indices, want.indptr], *parts(m))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", range(len(MATRICES)))
def test_sparse_transpose_structure_is_the_other_format(fmt, kind):
    m = random_matrix(fmt, **MATRICES[kind])
    m.data = np.arange(1, len(m.data) + 1, dtype=np.float64)  # entry p holds p + 1
    other = m.tocsc() if fmt == "csr" else m.tocsr()  # no duplicate summing: a stable move
    check(lambda i, p, s: wire("sparse_transpose_structure", fmt, i, p, s,
                               outputs=[("int32", 1), ("int32", 1), ("int64", 1)]),
          lambda *_: [other.indices, other.indptr, (other.data - 1).astype(np.int64)],
          m.indices, m.indptr, np.array(m.shape, np.int64))


def test_int64_index_components_are_taken():
    m = random_matrix("csr")
    check(lambda d, i, p, s: wire("dense_from_sparse", "csr", d, i, p, s, outputs=[("in0", 2)]),
          lambda *_: m.toarray(), m.data, m.indices.astype(np.int64),
          m.indptr.astype(np.int64), np.array(m.shape, np.int64))


# ---- gradients

def constant_structure(m):
    return (T.constant(m.indices), T.constant(m.indptr),
            T.constant(np.array(m.shape, np.int64)))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("transpose", [False, True])
def test_sparse_dense_dot_grad(fmt, transpose):
    m = random_matrix(fmt, shape=(4, 5), density=0.5, duplicates=True)
    i, p, s = constant_structure(m)
    y = np.random.default_rng(9).uniform(-1, 1, (4 if transpose else 5, 3))
    grad_check(lambda d, y: dot(fmt, d, i, p, s, y, transpose),
               m.data, y)


@pytest.mark.parametrize("fmt", FORMATS)
def test_sparse_sampled_dot_grad(fmt):
    m = random_matrix(fmt, shape=(4, 5), density=0.5, duplicates=True)
    i, p, s = constant_structure(m)
    rng = np.random.default_rng(10)
    grad_check(lambda a, b: wire("sparse_sampled_dot", fmt, i, p, s, a, b,
                                 outputs=[("float64", 1)]),
               rng.uniform(-1, 1, (4, 3)), rng.uniform(-1, 1, (5, 3)))


@pytest.mark.parametrize("fmt", FORMATS)
def test_dense_from_sparse_and_gather_grads(fmt):
    m = random_matrix(fmt, shape=(4, 5), density=0.5, duplicates=True)
    i, p, s = constant_structure(m)
    grad_check(lambda d: wire("dense_from_sparse", fmt, d, i, p, s, outputs=[("in0", 2)]),
               m.data)
    grad_check(lambda y: wire("sparse_gather", fmt, y, i, p, s),
               np.random.default_rng(11).uniform(-1, 1, (4, 5)))


def test_sparse_gather_grad_sums_over_broadcast_dims():
    m = random_matrix("csr", shape=(4, 6), density=0.5, duplicates=True)
    i, p, s = constant_structure(m)
    y = T.tensor("float64", (True, False))
    w = np.random.default_rng(12).uniform(-1, 1, m.nnz)
    g = T.grad((wire("sparse_gather", "csr", y, i, p, s) * w).sum(), y)
    _, c = rows_cols(m, "csr")
    np.testing.assert_allclose(theano.function([y], g)(np.ones((1, 6))),
                               np.bincount(c, weights=w, minlength=6)[None, :])


@pytest.mark.parametrize("fmt", FORMATS)
def test_sparse_values_at_grad(fmt):
    src = random_matrix(fmt, shape=(4, 5), density=0.5, seed=13, duplicates=True)
    at = random_matrix(fmt, shape=(4, 5), density=0.5, seed=14, duplicates=True)
    i, p, s = constant_structure(src)
    grad_check(lambda d: wire("sparse_values_at", fmt, d, i, p, T.constant(at.indices),
                              T.constant(at.indptr), s), src.data)


@pytest.mark.parametrize("fmt", FORMATS)
def test_sparse_from_dense_grad(fmt):
    # Finite differences where no entry is zero (moving a zero would change the pattern) ...
    rng = np.random.default_rng(15)
    out = [("in0", 1), ("int32", 1), ("int32", 1)]
    grad_check(lambda x: wire("sparse_from_dense", fmt, x, outputs=out)[0],
               rng.uniform(0.5, 2, (3, 4)))
    # ... and exactly where some are: each kept entry gets its data's gradient, zeros none.
    x = np.array([[0.0, 2.0, 0.0], [3.0, 0.0, 4.0]])
    xs = T.dmatrix()
    data = wire("sparse_from_dense", fmt, xs, outputs=out)[0]
    w = np.array([10.0, 20.0, 30.0])
    got = theano.function([xs], T.grad((data * w).sum(), xs))(x)
    order = [(0, 1), (1, 0), (1, 2)] if fmt == "csr" else [(1, 0), (0, 1), (1, 2)]
    want = np.zeros_like(x)
    for weight, pos in zip(w, order):
        want[pos] = weight
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("fmt", FORMATS)
def test_sparse_eliminate_zeros_grad_keeps_duplicates_apart(fmt):
    m = random_matrix(fmt, shape=(4, 5), density=0.6, duplicates=True)
    i, p, s = constant_structure(m)
    out = [("in0", 1), ("int32", 1), ("int32", 1)]
    grad_check(lambda d: wire("sparse_eliminate_zeros", fmt, d, i, p, s, outputs=out)[0],
               m.data + np.sign(m.data) * 0.5)
    data = m.data.copy()
    data[::2] = 0
    ds = T.dvector()
    kept = wire("sparse_eliminate_zeros", fmt, ds, i, p, s, outputs=out)[0]
    w = np.arange(1.0, 1 + np.count_nonzero(data))
    got = theano.function([ds], T.grad((kept * w).sum(), ds))(data)
    want = np.zeros_like(data)
    want[data != 0] = w
    np.testing.assert_array_equal(got, want)


# ---- malformed components

def run_dense(fmt, data, indices, indptr, shape):
    d, i, p, s = T.dvector(), T.ivector(), T.ivector(), T.lvector()
    f = theano.function([d, i, p, s], wire("dense_from_sparse", fmt, d, i, p, s,
                                           outputs=[("in0", 2)]))
    return f(np.asarray(data, np.float64), np.asarray(indices, np.int32),
             np.asarray(indptr, np.int32), np.asarray(shape, np.int64))


@pytest.mark.parametrize("components, message", [
    (([1.0, 2.0], [0, 1], [0, 1, 2, 2], (2, 2)), r"indptr has 4 entries.*rows \+ 1 = 3"),
    (([1.0, 2.0], [0, 1], [1, 1, 2], (2, 2)), "indptr must start at 0"),
    (([1.0, 2.0], [0, 1], [0, 2, 1], (2, 2)), "indptr decreases at 2"),
    (([1.0, 2.0], [0, 1], [0, 1, 1], (2, 2)), "indptr ends at 1 but there are 2"),
    (([1.0, 2.0], [0, 2], [0, 1, 2], (2, 2)), r"indices\[1\] = 2 is outside \[0, 2\)"),
    (([1.0, 2.0], [0, -1], [0, 1, 2], (2, 2)), r"indices\[1\] = -1 is outside"),
    (([1.0], [0, 1], [0, 1, 2], (2, 2)), "data has 1 entries but indices has 2"),
    (([], [], [0], (-1, 2)), "outside"),
    (([], [], [0, 0], (1, 2, 3)), "must hold 2 values"),
])
def test_malformed_components_are_refused(components, message):
    with pytest.raises(errors.InvalidArgument, match=message):
        run_dense("csr", *components)


def test_csc_errors_name_columns():
    with pytest.raises(errors.InvalidArgument, match=r"columns \+ 1 = 4"):
        run_dense("csc", [1.0], [0], [0, 1, 1], (2, 3))


def test_bad_format_and_operands_are_refused():
    m = random_matrix("csr")
    d, i, p, s = (T.constant(v) for v in parts(m))
    with pytest.raises(errors.InvalidArgument, match="format must be 'csr' or 'csc', got 'coo'"):
        theano.function([], wire("dense_from_sparse", "coo", d, i, p, s, outputs=[("in0", 2)]))
    with pytest.raises(errors.InvalidArgument, match="data must be a numeric vector"):
        theano.function([], wire("dense_from_sparse", "csr", T.constant(m.data > 0), i, p, s,
                                 outputs=[("in0", 2)]))
    y = T.dmatrix()
    f = theano.function([y], dot("csr", d, i, p, s, y))
    with pytest.raises(errors.InvalidArgument, match="the dense operand has 5 rows.*needs 7"):
        f(np.ones((5, 2)))
    g = theano.function([y], wire("sparse_gather", "csr", y, i, p, s))
    with pytest.raises(errors.InvalidArgument, match=r"\(1, 7\) does not match the sparse shape"):
        g(np.ones((1, 7)))  # size 1 broadcasts only where the type says so
    a = T.dmatrix()
    h = theano.function([a, y], wire("sparse_sampled_dot", "csr", i, p, s, a, y,
                                     outputs=[("float64", 1)]))
    with pytest.raises(errors.InvalidArgument, match="must be \\(rows, k\\) and \\(cols, k\\)"):
        h(np.ones((5, 2)), np.ones((7, 3)))


def well_formed(indices, indptr, shape, data_size=None):
    """The components' contract (sparse.h), restated in NumPy for a csr reading."""
    rows, cols = (int(v) for v in shape)
    if not (0 <= rows <= 2 ** 62 and 0 <= cols <= 2 ** 62) or len(indptr) != rows + 1:
        return False
    if indptr[0] != 0 or np.any(np.diff(indptr) < 0) or indptr[-1] != len(indices):
        return False
    if data_size is not None and data_size != len(indices):
        return False
    return bool(np.all((indices >= 0) & (indices < cols)))


def damaged(rng, rows, cols):
    """A random csr matrix's (data, indices, indptr), one component damaged half of the time."""
    m = sp.random(rows, cols, density=0.5, format="csr", random_state=rng)
    data, indices, indptr = m.data.copy(), m.indices.copy(), m.indptr.copy()
    damage = int(rng.integers(0, 8))  # 0-3: one component damaged; else well formed
    if damage == 0 and len(indices):
        indices[rng.integers(len(indices))] = rng.choice([-1, cols, cols + 3])
    elif damage == 1:
        indptr[rng.integers(len(indptr))] += rng.choice([-2, -1, 1, 2])
    elif damage == 2:
        indptr = indptr[:-1] if rng.uniform() < 0.5 else np.append(indptr, indptr[-1])
    elif damage == 3:
        data = np.append(data, 1.0) if rng.uniform() < 0.5 else data[1:]
    return data, indices, indptr


def test_random_components_are_computed_or_refused_never_misread():
    """Random, often damaged components (two patterns each time, damaged independently, and
    sometimes the shape) through every op that reads a pattern: each call matches scipy's
    reading of well-formed components and is INVALID_ARGUMENT for any other, and the server
    keeps answering. Bounded: 150 draws over small sizes."""
    rng = np.random.default_rng(16)
    d, i, p, s = T.dvector(), T.ivector(), T.ivector(), T.lvector()
    bi, bp = T.ivector(), T.ivector()
    y = T.dmatrix()
    fns = {
        "dense": theano.function([d, i, p, s], wire("dense_from_sparse", "csr", d, i, p, s,
                                                    outputs=[("in0", 2)])),
        "values_at": theano.function([d, i, p, bi, bp, s],
                                     wire("sparse_values_at", "csr", d, i, p, bi, bp, s)),
        "union": theano.function([i, p, bi, bp, s], wire("sparse_union", "csr", i, p, bi, bp, s,
                                                          outputs=[("int32", 1), ("int32", 1)])),
        "transpose": theano.function([i, p, s], wire(
            "sparse_transpose_structure", "csr", i, p, s,
            outputs=[("int32", 1), ("int32", 1), ("int64", 1)])),
        "dot": theano.function([d, i, p, s, y], dot("csc", d, i, p, s, y, True)),
    }
    counts = {"computed": 0, "refused": 0}

    def expect(ok, name, *args):
        """fns[name](*args) if the components are well formed, else its INVALID_ARGUMENT."""
        counts["computed" if ok else "refused"] += 1
        if ok:
            return fns[name](*args)
        with pytest.raises(errors.InvalidArgument):
            fns[name](*args)
        return None

    for _ in range(150):
        rows, cols = (int(v) for v in rng.integers(0, 4, size=2))
        data, indices, indptr = damaged(rng, rows, cols)
        _, b_indices, b_indptr = damaged(rng, rows, cols)
        shape = np.array([rows, cols], np.int64)
        if rng.uniform() < 0.1:
            shape[rng.integers(2)] = rng.choice([-1, -(2 ** 40), 2 ** 63 - 1])
        a_ok = well_formed(indices, indptr, shape)
        b_ok = well_formed(b_indices, b_indptr, shape)
        data_ok = a_ok and len(data) == len(indices)
        a = sp.csr_matrix((data, indices, indptr), shape=shape) if data_ok else None
        ones = lambda ix, ip: sp.csr_matrix((np.ones(len(ix)), ix, ip), shape=shape)
        got = expect(data_ok, "dense", data, indices, indptr, shape)
        if got is not None:
            np.testing.assert_array_equal(got, a.toarray())
        got = expect(data_ok and b_ok, "values_at", data, indices, indptr, b_indices, b_indptr,
                     shape)
        if got is not None:
            b = ones(b_indices, b_indptr)
            np.testing.assert_array_equal(got, a.toarray()[rows_cols(b, "csr")])
        got = expect(a_ok and b_ok, "union", indices, indptr, b_indices, b_indptr, shape)
        if got is not None:
            want = ones(indices, indptr) + ones(b_indices, b_indptr)
            want.sort_indices()
            np.testing.assert_array_equal(got[0], want.indices)
            np.testing.assert_array_equal(got[1], want.indptr)
        got = expect(a_ok, "transpose", indices, indptr, shape)
        if got is not None:
            ranked = sp.csr_matrix((np.arange(1.0, len(indices) + 1), indices, indptr),
                                   shape=shape).tocsc()  # entry p holds p + 1
            np.testing.assert_array_equal(got[0], ranked.indices)
            np.testing.assert_array_equal(got[1], ranked.indptr)
            np.testing.assert_array_equal(got[2], ranked.data.astype(np.int64) - 1)
        # The same arrays read as a csc matrix of the transposed shape: A.T @ y with A = a.T.
        yv = rng.uniform(-1, 1, (max(cols, 0), 2))
        got = expect(data_ok, "dot", data, indices, indptr, shape[::-1].copy(), yv)
        if got is not None:
            np.testing.assert_allclose(got, a.toarray() @ yv)
    assert counts["computed"] > 150 and counts["refused"] > 150, counts


def test_zero_element_matrices_with_huge_dims_are_refused_before_any_work():
    # No elements, so no bytes: only the slice count (an indptr of 2**33 + 1 entries, or of
    # 2**40 + 1) says how big the work would be, and --max_tensor_bytes refuses it.
    x = T.dmatrix()
    f = theano.function([x], wire("sparse_from_dense", "csr", x,
                                  outputs=[("in0", 1), ("int32", 1), ("int32", 1)]))
    with pytest.raises(errors.ResourceExhausted):
        f(np.zeros((2 ** 33, 0)))
    i, p, s = T.ivector(), T.ivector(), T.lvector()
    g = theano.function([i, p, s], wire("sparse_transpose_structure", "csr", i, p, s,
                                        outputs=[("int32", 1), ("int32", 1), ("int64", 1)]))
    with pytest.raises(errors.ResourceExhausted):
        g(np.zeros(0, np.int32), np.zeros(2, np.int32), np.array([1, 2 ** 40]))
    np.testing.assert_array_equal(f(np.zeros((3, 0)))[2], [0, 0, 0, 0])  # still answering


def test_sparse_same_shape():
    a, b = T.lvector(), T.ivector()
    f = theano.function([a, b], Wire("sparse_same_shape", [("int64", 1)])(a, b))
    np.testing.assert_array_equal(f(np.array([3, 4]), np.array([3, 4], np.int32)), [3, 4])
    with pytest.raises(errors.InvalidArgument, match=r"shapes \(3, 4\) and \(4, 3\) differ"):
        f(np.array([3, 4]), np.array([4, 3], np.int32))
    with pytest.raises(errors.InvalidArgument, match="must hold 2 values"):
        f(np.array([3, 4, 5]), np.array([3, 4], np.int32))
