"""Conformance of the creation, symbolic-shape, joining and sorting ops against NumPy: the seed
chapter's examples, 0-d / empty / odd shapes, dtypes, strided (transposed) inputs, and bad
input that must come back as INVALID_ARGUMENT."""

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from tensord import errors
from tensord.graph import Apply
from tensord.tensor import shape_ops, shape_ops_join, shape_ops_tile
from tensord.tensor.type import TensorType
from harness import ALL_DTYPES, SHAPES, check, sample

OPS = {"shape", "shape_i", "make_vector", "arange", "eye", "tile", "repeat", "flatten", "join",
       "sort", "argsort"}

pytestmark = pytest.mark.usefixtures("server")

# Transposed views reach every kernel with non-contiguous strides.
VIEWS = {"plain": lambda a: a, "transposed": lambda a: a.T}
NP_VIEWS = {"plain": lambda a: a, "transposed": lambda a: a.T}


# ---- the seed chapter ----

def test_seed_creation_and_shape():
    a = T.zeros((2, 3))
    np.testing.assert_array_equal(a.eval(), np.zeros((2, 3), "float32"))
    b = T.identity_like(a)
    got = b.eval()
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, [[1, 0, 0], [0, 1, 0]])
    c = T.arange(10)
    assert c.type == TensorType("int64", (False,)) and c.ndim == 1 and c.dtype == "int64"
    np.testing.assert_array_equal(c.eval(), np.arange(10))
    m = T.matrix()
    np.testing.assert_array_equal(m.shape.eval({m: [[1, 2], [1, 3]]}), [2, 2])
    shape_fct = theano.function([m], m.shape)
    got = shape_fct([[1, 2], [1, 3]])
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, [2, 2])
    n = T.iscalar()
    np.testing.assert_array_equal(T.arange(n).shape.eval({n: 10}), [10])


def test_seed_reshape_and_join():
    a = T.arange(10)
    np.testing.assert_array_equal(T.reshape(a, (5, 2)).eval(), np.arange(10).reshape(5, 2))
    np.testing.assert_array_equal(T.arange(10).reshape((5, 2)).T.eval(),
                                  np.arange(10).reshape(5, 2).T)
    a = T.arange(10).reshape((5, 2))
    bv = np.arange(10).reshape(5, 2)[::-1]
    b = T.constant(bv)
    np.testing.assert_array_equal(T.concatenate([a, b]).eval(), np.concatenate([bv[::-1], bv]))
    np.testing.assert_array_equal(T.concatenate([a, b], axis=1).eval(),
                                  np.concatenate([bv[::-1], bv], axis=1))
    got = T.stack([a, b]).eval()
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, np.stack([bv[::-1], bv]))


# ---- shape, shape_i, make_vector ----

@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_shape_and_shape_i(rng, shape):
    x = sample(rng, SHAPES[shape], "float32")
    check(lambda a: a.shape, lambda a: np.array(a.shape, dtype="int64"), x)
    for i in range(x.ndim):
        check(lambda a: a.shape[i], lambda a: np.int64(a.shape[i]), x)
        check(lambda a: a.shape[i - x.ndim], lambda a: np.int64(a.shape[i]), x)
    if x.ndim >= 2:
        check(lambda a: a.shape[1:], lambda a: np.array(a.shape[1:], dtype="int64"), x)
        check(lambda a: a.T.shape, lambda a: np.array(a.T.shape, dtype="int64"), x)


def test_symbolic_shapes_through_make_vector(rng):
    x = sample(rng, (3, 4), "float64")
    check(lambda a: T.reshape(a, (a.shape[1], -1)), lambda a: a.reshape(4, 3), x)
    check(lambda a: a.reshape((2, a.shape[0] * 2)), lambda a: a.reshape(2, 6), x)
    check(lambda a: T.zeros((a.shape[0], 2)), lambda a: np.zeros((3, 2), "float32"), x)
    check(lambda a: T.ones(a.shape, dtype="int8"), lambda a: np.ones(a.shape, "int8"), x)
    check(lambda a: T.alloc(np.float64(7), a.shape[1], a.shape[0]),
          lambda a: np.full((4, 3), 7.0), x)
    n = np.int32(5)
    check(lambda k: T.zeros((k, 3)), lambda k: np.zeros((5, 3), "float32"), n)
    check(lambda k: T.stack([k, k * 2]), lambda k: np.array([k, k * 2], dtype="int32"), n)
    check(lambda k: T.stack([k, 2.5]), lambda k: np.array([k, 2.5], dtype="float64"), n)


# ---- arange and eye ----

@pytest.mark.parametrize("args", [(10,), (0,), (-3,), (2, 9), (9, 2), (2, 9, 3), (9, 2, -2),
                                  (-5, 5, 4), (0, 1, 7)])
@pytest.mark.parametrize("dtype", ["int32", "int64", "uint8", "int8"])
def test_arange_ints(args, dtype):
    values = [np.array(v).astype(dtype) for v in args]
    if any(v != a for v, a in zip(values, args)):
        pytest.skip("value not representable in " + dtype)
    # Theano's rule on the client's dtypes: Python defaults (start 0, step 1) are int8.
    dts = [v.dtype for v in values] + ["int8"] * (3 - len(values))
    want_dtype = "uint64" if np.result_type(*dts).kind == "u" else "int64"
    # As Theano's ARange.perform: the bounds as Python numbers (NumPy would wrap uint8 9 - 2).
    check(lambda *s: T.arange(*s), lambda *s: np.arange(*[v.item() for v in s], dtype=want_dtype),
          *values)


@pytest.mark.parametrize("args", [(0.5,), (0.0, 1.0, 0.1), (1.0, -1.0, -0.25), (2.5, 2.5),
                                  (-1.0, 3.0, 0.7), (0.0, 1e-300, 1.0)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_arange_floats(args, dtype):
    values = [np.array(v, dtype=dtype) for v in args]
    check(lambda *s: T.arange(*s), lambda *s: np.arange(*s, dtype=dtype), *values, rtol=1e-5)


def test_arange_mixed_and_explicit_dtype():
    check(lambda a, b: T.arange(a, b), lambda a, b: np.arange(a, b, dtype="float64"),
          np.int32(1), np.float64(4.5))
    check(lambda a: T.arange(a, 10, 2, dtype="float32"),
          lambda a: np.arange(a, 10, 2, dtype="float32"), np.int64(1))
    check(lambda a: T.arange(a, dtype="int16"), lambda a: np.arange(a, dtype="int16"),
          np.float64(3.7))


@pytest.mark.parametrize("n,m,k", [(3, None, 0), (2, 3, 0), (4, 3, 1), (3, 4, -2), (0, 3, 0),
                                   (3, 3, 5), (1, 1, 0)])
@pytest.mark.parametrize("dtype", ["float32", "int64", "bool", "uint8"])
def test_eye(n, m, k, dtype):
    args = [np.int32(n), np.int64(n if m is None else m), np.int8(k)]
    check(lambda a, b, c: T.eye(a, b, c, dtype=dtype),
          lambda a, b, c: np.eye(a, b, c, dtype=dtype), *args)


@pytest.mark.parametrize("dtype", ["float64", "int32", "bool"])
def test_identity_like_and_default_eye(rng, dtype):
    x = sample(rng, (3, 5), dtype)
    check(T.identity_like, lambda a: np.eye(3, 5, dtype=dtype), x)
    np.testing.assert_array_equal(T.eye(3).eval(), np.eye(3, dtype="float32"))


def test_mgrid_and_ogrid():
    for got, want in zip(theano.function([], T.mgrid[0:5, 0:3])(), np.mgrid[0:5, 0:3]):
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)
    for got, want in zip(theano.function([], T.ogrid[1:7:2, 0:4])(), np.ogrid[1:7:2, 0:4]):
        assert got.shape == want.shape
        np.testing.assert_array_equal(got, want)


# ---- tile, repeat, flatten ----

@pytest.mark.parametrize("shape,reps", [((), (3,)), ((3,), (2,)), ((3,), (2, 2)), ((2, 3), (2,)),
                                        ((2, 3), (1, 3)), ((2, 3), (0, 2)), ((0, 3), (2, 2)),
                                        ((2, 3, 4), (2, 1, 2)), ((2, 3), (2, 1, 1))])
@pytest.mark.parametrize("view", sorted(VIEWS))
def test_tile(rng, shape, reps, view):
    x = sample(rng, shape, "int16")
    check(lambda a: T.tile(VIEWS[view](a), reps), lambda a: np.tile(NP_VIEWS[view](a), reps), x)


@pytest.mark.parametrize("shape,reps", [((3,), (2,)), ((2, 3), (2, 1)), ((2, 3), (3,)),
                                        ((3,), (2, 2)), ((0, 2), (2, 3)), ((), (4,))])
def test_tile_with_symbolic_reps(rng, shape, reps):
    x = sample(rng, shape, "float32")
    k = [np.int32(r) for r in reps]
    check(lambda a, *r: T.tile(a, list(r)), lambda a, *r: np.tile(a, r), x, *k)
    check(lambda a, r0: T.tile(a, [r0] + list(reps[1:])), lambda a, r0: np.tile(a, reps), x, k[0])
    check(lambda a, n: T.tile(a, n), lambda a, n: np.tile(a, n), x, k[0])


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_tile_and_repeat_dtypes(rng, dtype):
    x = sample(rng, (2, 3), dtype)
    check(lambda a: T.tile(a, (2, 2)), lambda a: np.tile(a, (2, 2)), x)
    check(lambda a: T.repeat(a, 2, axis=0), lambda a: np.repeat(a, 2, axis=0), x)


@pytest.mark.parametrize("shape,repeats,axis", [
    ((), 3, None), ((5,), 2, None), ((5,), 0, 0), ((3, 4), 2, None), ((3, 4), 3, 1),
    ((3, 4), 2, -2), ((0, 3), 2, 0), ((0, 3), 2, 1), ((3, 4), [1, 0, 2], 0),
    ((3, 4), [2], 1), ((2, 3, 4), [0, 1, 2, 3], -1), ((2, 3), [1, 2, 3, 4, 5, 6], None)])
@pytest.mark.parametrize("view", sorted(VIEWS))
def test_repeat(rng, shape, repeats, axis, view):
    x = sample(rng, shape, "float64")
    if view == "transposed" and x.ndim >= 2:
        x = np.ascontiguousarray(x.T)  # transposed back on the server: same shape as above
        build = lambda a, r: T.repeat(a.T, r, axis=axis)
        ref = lambda a, r: np.repeat(a.T, r, axis=axis)
    else:
        build = lambda a, r: T.repeat(a, r, axis=axis)
        ref = lambda a, r: np.repeat(a, r, axis=axis)
    check(build, ref, x, np.array(repeats, dtype="int32"))
    check(lambda a: T.repeat(a if view == "plain" or a.ndim < 2 else a.T, repeats, axis=axis),
          lambda a: np.repeat(a if view == "plain" or a.ndim < 2 else a.T, repeats, axis=axis), x)


@pytest.mark.parametrize("shape,ndim", [((), 1), ((5,), 1), ((0, 3), 1), ((2, 3, 4), 1),
                                        ((2, 3, 4), 2), ((2, 3, 4), 3), ((2, 0, 4), 2)])
@pytest.mark.parametrize("view", sorted(VIEWS))
def test_flatten(rng, shape, ndim, view):
    x = sample(rng, shape, "int32")
    def ref(a):
        a = NP_VIEWS[view](a)
        return a.reshape(a.shape[:ndim - 1] + (-1,)) if a.ndim else a.reshape(1)
    check(lambda a: T.flatten(VIEWS[view](a), ndim), ref, x)
    check(lambda a: VIEWS[view](a).flatten(ndim), ref, x)


def test_flatten_types():
    assert T.flatten(T.tensor3(), 2).type == TensorType("float32", (False, False))
    assert T.flatten(T.row()).broadcastable == (False,)
    assert T.flatten(T.tensor("float32", (True, True))).broadcastable == (True,)
    assert T.scalar().flatten().broadcastable == (True,)


# ---- join / concatenate / stack ----

@pytest.mark.parametrize("shapes,axis", [(((2, 3), (4, 3)), 0), (((2, 3), (2, 5)), 1),
                                         (((2, 3), (2, 5)), -1), (((0, 3), (2, 3)), 0),
                                         (((2, 0), (2, 0)), 1), (((5,), (0,), (2,)), 0),
                                         (((2, 3, 4), (2, 1, 4), (2, 2, 4)), 1)])
@pytest.mark.parametrize("dtypes", [("float32", "float32"), ("int8", "uint8"),
                                    ("int32", "float32"), ("bool", "int16")])
def test_concatenate(rng, shapes, axis, dtypes):
    values = [sample(rng, s, dtypes[i % 2]) for i, s in enumerate(shapes)]
    check(lambda *xs: T.concatenate(list(xs), axis=axis),
          lambda *xs: np.concatenate(xs, axis=axis), *values)
    check(lambda *xs: T.join(axis, *xs), lambda *xs: np.concatenate(xs, axis=axis), *values)


def test_join_of_transposed_views(rng):
    a, b = sample(rng, (3, 2), "float64"), sample(rng, (4, 2), "float64")
    check(lambda x, y: T.concatenate([x.T, y.T], axis=1), lambda x, y: np.hstack([x.T, y.T]), a, b)
    check(lambda x, y: T.concatenate([x, y.T.T, x]), lambda x, y: np.vstack([x, y, x]), a, b)


@pytest.mark.parametrize("shape", ["scalar", "vector", "empty", "matrix", "tensor3"])
@pytest.mark.parametrize("axis", [0, -1, 1])
def test_stack(rng, shape, axis):
    values = [sample(rng, SHAPES[shape], d) for d in ("float32", "int32", "float32")]
    if not -len(SHAPES[shape]) - 1 <= axis <= len(SHAPES[shape]):
        pytest.skip("axis out of range")
    want_axis = 0 if not SHAPES[shape] else axis  # scalars become a vector (MakeVector)
    check(lambda *xs: T.stack(list(xs), axis=axis),
          lambda *xs: np.stack(xs, axis=want_axis), *values)


def test_stacklists(rng):
    vals = [sample(rng, (2,), "float64") for _ in range(4)]
    check(lambda a, b, c, d: T.stacklists([[a, b], [c, d]]),
          lambda a, b, c, d: np.array([[a, b], [c, d]]), *vals)
    s = [np.float64(v) for v in (1, 2, 3, 4)]
    check(lambda a, b, c, d: T.stacklists([[a, b], [c, d]]),
          lambda a, b, c, d: np.array([[a, b], [c, d]]), *s)


def test_lists_of_variables_are_stacked(rng):
    a, b = sample(rng, (3,), "float32"), sample(rng, (3,), "float32")
    check(lambda x, y: T.as_tensor_variable([x, y]), lambda x, y: np.stack([x, y]), a, b)
    check(lambda x, y: x + [y, x], lambda x, y: x + np.stack([y, x]), a, b)


def test_join_types():
    assert T.concatenate([T.row(), T.row()]).broadcastable == (False, False)
    assert T.concatenate([T.row(), T.matrix()], axis=1).broadcastable == (True, False)
    assert T.concatenate([T.bvector(), T.fvector()]).dtype == "float32"
    assert T.stack([T.scalar(), T.scalar()]).owner.op.wire_name == "make_vector"
    x = T.matrix()
    assert T.concatenate([x]) is x


# ---- sort / argsort ----

@pytest.mark.parametrize("shape", ["vector", "empty", "matrix", "empty_matrix", "tensor3"])
@pytest.mark.parametrize("axis", [-1, 0, 1, None])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int8", "uint8", "int64", "bool"])
def test_sort_and_argsort(rng, shape, axis, dtype):
    x = sample(rng, SHAPES[shape], dtype)
    if axis is not None and not -x.ndim <= axis < x.ndim:
        pytest.skip("axis out of range")
    check(lambda a: T.sort(a, axis=axis), lambda a: np.sort(a, axis=axis, kind="stable"), x)
    check(lambda a: T.argsort(a, axis=axis),
          lambda a: np.argsort(a, axis=axis, kind="stable").astype("int64"), x)


def test_sort_nan_last_stable_and_views(rng):
    x = np.array([[3.0, np.nan, -np.inf, 1.0, np.nan, 1.0, np.inf, -0.0, 0.0]] * 2, "float64")
    check(lambda a: a.sort(), lambda a: np.sort(a, kind="stable"), x)
    check(lambda a: a.argsort(), lambda a: np.argsort(a, kind="stable"), x)
    ints = sample(rng, (4, 6), "int8", low=-2, high=2)  # many ties: stability shows
    check(lambda a: a.T.argsort(axis=0), lambda a: np.argsort(a.T, axis=0, kind="stable"), ints)
    check(lambda a: T.sort(a.T, axis=1), lambda a: np.sort(a.T, axis=1), ints)
    check(lambda a: T.argsort(a.T, axis=None), lambda a: np.argsort(a.T, axis=None,
                                                                    kind="stable"), ints)


# ---- client-side dimshuffle helpers ----

def test_squeeze_pad_swapaxes(rng):
    x = sample(rng, (1, 3, 1, 2), "float32")
    col = T.tensor("float32", (True, False, True, False))
    f = theano.function([col], [T.squeeze(col), col.squeeze(axis=2), T.shape_padleft(col, 2),
                                T.shape_padright(col), T.shape_padaxis(col, 1),
                                T.shape_padaxis(col, -1), T.swapaxes(col, 0, -1),
                                col.swapaxes(1, 3), T.transpose(col, (3, 1, 0, 2))])
    wants = [np.squeeze(x), np.squeeze(x, 2), x[None, None], x[..., None],
             np.expand_dims(x, 1), np.expand_dims(x, -1), np.swapaxes(x, 0, -1),
             np.swapaxes(x, 1, 3), np.transpose(x, (3, 1, 0, 2))]
    for got, want in zip(f(x), wants):
        assert got.shape == want.shape
        np.testing.assert_array_equal(got, want)


# ---- bad input ----

def _run(build, *values):
    from harness import run
    return run(build, *values)


def test_runtime_errors_are_invalid_argument():
    with pytest.raises(errors.InvalidArgument, match="dimension 1 differs"):
        _run(lambda a, b: T.concatenate([a, b]), np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(errors.InvalidArgument, match=">= 0"):
        _run(lambda a, r: T.repeat(a, r), np.zeros(3), np.int32(-1))
    with pytest.raises(errors.InvalidArgument, match=">= 0"):
        _run(lambda a, r: T.repeat(a, r, axis=0), np.zeros(3), np.array([1, -1, 2], "int64"))
    with pytest.raises(errors.InvalidArgument, match="repeat counts"):
        _run(lambda a, r: T.repeat(a, r, axis=0), np.zeros(3), np.array([1, 2], "int64"))
    with pytest.raises(errors.InvalidArgument, match="step must not be 0"):
        _run(lambda a, b, c: T.arange(a, b, c), np.int64(0), np.int64(5), np.int64(0))
    with pytest.raises(errors.InvalidArgument, match="step must not be 0"):
        _run(lambda a: T.arange(0.0, a, 0.0), np.float32(1))
    with pytest.raises(errors.InvalidArgument, match="cannot reshape"):
        _run(lambda a: a.reshape((a.shape[0], 4)), np.zeros((3, 5)))
    with pytest.raises(errors.InvalidArgument, match="negative"):
        _run(lambda n: T.eye(n), np.int32(-2))
    # the server keeps serving
    check(lambda a: a.shape, lambda a: np.array(a.shape, "int64"), np.zeros((2, 3)))


def _raw(op, inputs, out_type):
    """An apply built without the client's checks, so the server's own checks are exercised."""
    return Apply(op, inputs, [out_type()]).outputs[0]


@pytest.mark.parametrize("case", ["join_axis", "join_rank", "join_scalar", "sort_axis",
                                  "repeat_float", "tile_negative", "flatten_ndim", "shape_i",
                                  "make_vector_downcast", "arange_vector", "eye_float"])
def test_compile_time_errors_are_invalid_argument(case):
    m, v, s = T.matrix(), T.vector(), T.scalar()
    fm = TensorType("float32", (False, False))
    build = {
        "join_axis": lambda: _raw(shape_ops_join.Join(0), [m, m], fm),
        "join_rank": lambda: _raw(shape_ops_join.Join(0), [m, v], fm),
        "join_scalar": lambda: _raw(shape_ops_join.Join(0), [s, s], TensorType("float32", ())),
        "sort_axis": lambda: _raw(shape_ops_join.SortOp("sort", 0), [m], fm),
        "repeat_float": lambda: _raw(shape_ops_tile.RepeatOp(0), [m, s], fm),
        "tile_negative": lambda: _raw(shape_ops_tile.Tile([2, 2]), [m], fm),
        "flatten_ndim": lambda: _raw(shape_ops_tile.Flatten(2), [v], fm),
        "shape_i": lambda: _raw(shape_ops.ShapeI(0), [v], TensorType("int64", ())),
        "make_vector_downcast": lambda: _raw(shape_ops.MakeVector("int8"), [T.iscalar()],
                                             TensorType("int8", (False,))),
        "arange_vector": lambda: _raw(shape_ops.ARange("int64"), [T.lvector()] * 3,
                                      TensorType("int64", (False,))),
        "eye_float": lambda: _raw(shape_ops.Eye("float32"), [s, s, s], fm),
    }[case]
    out = build()
    op = out.owner.op
    if case == "join_axis":
        op.axis = 2
    elif case == "sort_axis":
        op.axis = -3
    elif case == "tile_negative":
        op.reps = [2, -1]
    elif case == "flatten_ndim":
        op.ndim = 3
    elif case == "shape_i":
        op.i = 1
    inputs = [i for i in dict.fromkeys(out.owner.inputs) if i.owner is None]
    with pytest.raises(errors.InvalidArgument):
        theano.function(inputs, out)
