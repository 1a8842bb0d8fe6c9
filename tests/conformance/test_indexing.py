"""Indexing against NumPy: basic (ints, slices with negative steps, symbolic bounds, None,
Ellipsis), advanced (integer arrays, boolean masks, mixed with slices), set/inc_subtensor with
broadcasting and repeated indices, take, ifelse; and the errors bad indices give."""

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from tensord import errors
from tensord.graph import Apply
from tensord.ifelse import ifelse
from tensord.tensor import subtensor
from harness import ALL_DTYPES, check, sample

OPS = {"subtensor", "inc_subtensor", "advanced_subtensor1", "advanced_subtensor",
       "advanced_inc_subtensor1", "advanced_inc_subtensor", "ifelse"}

pytestmark = pytest.mark.usefixtures("server")

BASIC = [1, -1, slice(None), slice(1, 3), slice(None, None, -1), slice(None, None, 2),
         slice(-2, None), slice(3, 0, -2), slice(10, -10, -1), slice(5, 10), slice(-100, 100),
         (0, 1), (slice(None), -1), (slice(None, None, -1), slice(1, None, 2)), (Ellipsis, 0),
         (None, 1), (slice(None), None), (0, Ellipsis, None), ()]


@pytest.mark.parametrize("idx", BASIC, ids=str)
@pytest.mark.parametrize("shape", [(4, 5), (4, 5, 3), (0, 5)], ids=str)
def test_basic_indexing(rng, idx, shape):
    x = sample(rng, shape, "float64")
    try:
        x[idx]
    except IndexError:  # so must the server, cleanly
        with pytest.raises(errors.InvalidArgument, match="out of bounds"):
            check(lambda a: a[idx], lambda a: a, x)
        return
    check(lambda a: a[idx], lambda a: a[idx], x)


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_basic_indexing_dtypes_and_0d(rng, dtype):
    x = sample(rng, (3, 4), dtype)
    check(lambda a: a[1, 2], lambda a: a[1, 2], x)
    check(lambda a: a[::-1].T, lambda a: a[::-1].T, x)
    check(lambda a: a[...], lambda a: a[...], sample(rng, (), dtype))


def test_seed_reversed_transposed():
    a = np.arange(10).reshape((5, 2))
    check(lambda v: v[::-1].T, lambda v: v[::-1].T, a)


def test_symbolic_bounds():
    x = T.matrix("x")
    i, j, k = T.lscalars("i", "j", "k")
    f = theano.function([x, i, j, k], [x[i], x[i:j:k], x[:, j], x[-i:]])
    data = np.arange(20, dtype="float32").reshape(4, 5)
    for iv, jv, kv in [(1, 3, 1), (3, 0, -1), (-2, 4, 2), (0, -1, -2)]:
        got = f(data, iv, jv, kv)
        want = [data[iv], data[iv:jv:kv], data[:, jv], data[-iv:]]
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)


def test_out_of_range_index_is_invalid_argument():
    x, i = T.vector("x"), T.iscalar("i")
    f = theano.function([x, i], x[i])
    with pytest.raises(errors.InvalidArgument, match="out of bounds for axis 0 with size 3"):
        f(np.ones(3, "float32"), 3)
    with pytest.raises(errors.InvalidArgument, match="out of bounds"):
        theano.function([x], x[-4])(np.ones(3, "float32"))
    with pytest.raises(errors.InvalidArgument, match="step cannot be zero"):
        theano.function([x, i], x[::i])(np.ones(3, "float32"), 0)


def test_bad_index_types_are_refused():
    x = T.matrix("x")
    with pytest.raises(TypeError):
        x[T.scalar("f")]
    with pytest.raises(TypeError):
        x[np.array([0.5, 1.5])]
    with pytest.raises(IndexError):
        x[0, 0, 0]
    # Bypassing the client's checks, the server refuses a float index tensor at compile time.
    bad = subtensor.AdvancedSubtensor1()(x, T.vector("v"))
    with pytest.raises(errors.InvalidArgument, match="integer"):
        theano.function([x, bad.owner.inputs[1]], bad)
    bad = subtensor.AdvancedSubtensor([subtensor.ARRAY, 0, 0, 0])(x, T.matrix("m"))
    with pytest.raises(errors.InvalidArgument, match="integer or boolean"):
        theano.function([x, bad.owner.inputs[1]], bad)


ADVANCED = [[0, 2, 2], [-1, 0], np.array([[0, 1], [3, 3]]), ([0, 1], [1, 2]),
            (slice(None), [2, 0]), (slice(1, None), [0, 0, 1]), ([1, 2], slice(None), [0, 1]),
            (slice(None), [[0], [1]], [0, 2]), ([0, 1], 1), (1, slice(None), [0, 1]), [],
            (Ellipsis, [1]), (None, [1, 0]), ([[1]], slice(None, None, -1))]


@pytest.mark.parametrize("idx", ADVANCED, ids=str)
@pytest.mark.parametrize("dtype", ["float32", "int64"])
def test_advanced_indexing(rng, idx, dtype):
    x = sample(rng, (4, 3, 3), dtype)
    np_idx = tuple(np.asarray(a, dtype="int64") if isinstance(a, list) else a
                   for a in (idx if isinstance(idx, tuple) else (idx,)))
    check(lambda a: a[idx], lambda a: a[np_idx], x)


def test_advanced_indexing_with_symbolic_index_arrays(rng):
    x = sample(rng, (5, 4), "float64")
    i, j = np.array([4, 0, -1], dtype="int32"), np.array([[1], [3]], dtype="uint8")
    check(lambda a, p: a[p], lambda a, p: a[p], x, i)
    check(lambda a, p, q: a[p, q], lambda a, p, q: a[p, q], x, i, j)
    check(lambda a, p: a.take(p, axis=1), lambda a, p: np.take(a, p, axis=1), x, j)
    check(lambda a, p: T.take(a, p), lambda a, p: np.take(a, p), x, i)


@pytest.mark.parametrize("mask_of", [lambda x: x > 0, lambda x: x[:, 0] > 0, lambda x: x < -10])
def test_boolean_masks(rng, mask_of):
    x = sample(rng, (4, 3), "float64")
    m = mask_of(x)
    check(lambda a, b: a[b], lambda a, b: a[b], x, m)
    if m.ndim == 1:
        check(lambda a, b: a[b, 1:], lambda a, b: a[b, 1:], x, m)
        check(lambda a, b: T.set_subtensor(a[b], 0.5),
              lambda a, b: np.where(b[:, None], 0.5, a), x, m)


def test_advanced_index_errors():
    x, v = T.matrix("x"), T.lvector("v")
    f = theano.function([x, v], x[v])
    with pytest.raises(errors.InvalidArgument, match="out of bounds for axis 0 with size 2"):
        f(np.ones((2, 2), "float32"), np.array([0, 2]))
    g = theano.function([x, v], x[v, v[:1]])
    np.testing.assert_array_equal(g(np.eye(3, dtype="float32"), np.array([1, 2])), [1, 0])
    with pytest.raises(errors.InvalidArgument, match="broadcast"):
        theano.function([x, v], x[v, v[:0]])(np.ones((3, 3), "float32"), np.array([0, 1]))
    m = T.bmatrix("m")
    with pytest.raises(errors.InvalidArgument, match="boolean index did not match"):
        theano.function([x, m], x[T.cast(m, "bool")])(np.ones((2, 2), "float32"),
                                                        np.ones((2, 3), "int8"))


def test_seed_set_and_inc_subtensor():
    a = T.lmatrix("a")
    data = np.arange(10).reshape((5, 2))
    f = theano.function([a], [T.set_subtensor(a[3:], [-1, -1]), T.inc_subtensor(a[3:], [-1, -1]),
                              a])
    s, i, orig = f(data)
    np.testing.assert_array_equal(s, [[0, 1], [2, 3], [4, 5], [-1, -1], [-1, -1]])
    np.testing.assert_array_equal(i, [[0, 1], [2, 3], [4, 5], [5, 6], [7, 8]])
    np.testing.assert_array_equal(orig, data)


def _numpy_set(idx, inc):
    def ref(a, y):
        z = a.copy()
        if inc and not isinstance(idx, slice) and not (isinstance(idx, tuple) and all(
                isinstance(p, (slice, int)) for p in idx)) and not isinstance(idx, int):
            np.add.at(z, idx, y)
        elif inc:
            z[idx] += y
        else:
            z[idx] = y
        return z
    return ref


SET_CASES = [(slice(1, 3), (3,)), (slice(None, None, -2), (1, 3)), (1, ()),
             ((slice(None), 0), (4,)),
             ([0, 0, 2, 0], (3,)), ([0, 0, 2, 0], (4, 3)), (([1, 1, 3], [0, 0, 2]), ()),
             ((slice(None), [2, 2]), (4, 1)), (([0, 1], slice(None), ), (2, 1))]


@pytest.mark.parametrize("case", SET_CASES, ids=str)
@pytest.mark.parametrize("inc", [False, True])
@pytest.mark.parametrize("dtype", ["float64", "int32"])
def test_set_and_inc_subtensor(rng, case, inc, dtype):
    idx, yshape = case
    x, y = sample(rng, (4, 3), dtype), sample(rng, yshape, dtype)
    fn = T.inc_subtensor if inc else T.set_subtensor
    np_idx = tuple(np.asarray(p) if isinstance(p, list) else p for p in idx) \
        if isinstance(idx, tuple) else (np.asarray(idx) if isinstance(idx, list) else idx)
    check(lambda a, b: fn(a[idx], b), _numpy_set(np_idx, inc), x, y)


def test_set_subtensor_value_errors():
    x = T.matrix("x")
    with pytest.raises(TypeError):
        T.set_subtensor(x[0], T.matrix())  # a 2-d value for a 1-d subtensor
    with pytest.raises(TypeError):
        T.set_subtensor(x + 1, 0)
    f = theano.function([x], T.set_subtensor(x[1:], np.ones(3, "float32")))
    with pytest.raises(errors.InvalidArgument, match="cannot be broadcast"):
        f(np.zeros((3, 2), "float32"))
    # Bypassing the client: the server refuses a value of higher rank at compile time.
    y = T.tensor3("y")
    bad = Apply(subtensor.IncSubtensor([subtensor.INT, 0, 0, 0]), [x, y], [x.type()]).outputs[0]
    with pytest.raises(errors.InvalidArgument, match="rank"):
        theano.function([x, y], bad)


def test_seed_ifelse():
    z = ifelse(1, 5, 4)
    assert z.dtype == "int8"
    out = z.eval()
    assert out.dtype == np.int8 and out == 5


def test_ifelse_lists_and_symbolic_condition():
    c = T.iscalar("c")
    x, y = T.vectors("x", "y")
    outs = ifelse(c, [x, x * 2], [y, y + 1])
    f = theano.function([c, x, y], outs)
    xv, yv = np.arange(3, dtype="float32"), np.ones(3, "float32")
    for cv, want in [(1, [xv, xv * 2]), (0, [yv, yv + 1]), (-3, [xv, xv * 2])]:
        for g, w in zip(f(cv, xv, yv), want):
            np.testing.assert_array_equal(g, w)
    with pytest.raises(TypeError):
        ifelse(c, x, T.matrix())
    with pytest.raises(TypeError):
        ifelse(x, x, y)
    with pytest.raises(ValueError):
        ifelse(c, [x, x], [y])
