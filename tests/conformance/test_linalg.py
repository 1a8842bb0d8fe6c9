"""Contractions against NumPy: dot over every rank pair (0-d, empty, strided and transposed
operands), outer, tensordot, batched_dot and batched_tensordot; misaligned shapes fail cleanly."""

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from tensord import errors
from harness import check, sample

OPS = {"dot", "tensordot", "batched_dot", "batched_tensordot"}

pytestmark = pytest.mark.usefixtures("server")

DOT_SHAPES = [((), ()), ((), (3,)), ((2, 3), ()), ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)),
              ((2, 3), (3, 4)), ((2, 3, 4), (4,)), ((4,), (2, 4, 3)), ((2, 3, 4), (4, 5)),
              ((3, 4), (2, 4, 5)), ((2, 3, 4), (5, 4, 2)), ((0, 3), (3, 2)), ((2, 0), (0, 3)),
              ((0,), (0,)), ((2, 0, 3), (3,)), ((1, 3), (3, 1))]


@pytest.mark.parametrize("shapes", DOT_SHAPES, ids=str)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int8"])
def test_dot_every_rank_pair(rng, shapes, dtype):
    a, b = sample(rng, shapes[0], dtype), sample(rng, shapes[1], dtype)
    check(T.dot, np.dot, a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtypes", [("float32", "float64"), ("int8", "float32"), ("int16", "uint8"),
                                    ("bool", "bool")])
def test_dot_promotes(rng, dtypes):
    a, b = sample(rng, (2, 3, 4), dtypes[0]), sample(rng, (4, 2), dtypes[1])
    check(T.dot, np.dot, a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_dot_of_strided_views(rng, dtype):
    a = sample(rng, (4, 6, 5), dtype)
    b = sample(rng, (6, 5), dtype)
    views = [
        (lambda x, y: T.dot(x.dimshuffle(2, 0, 1), y),
         lambda x, y: np.dot(x.transpose(2, 0, 1), y)),
        (lambda x, y: T.dot(x[:, ::2, ::-1], y.T[::-1, :3]),
         lambda x, y: np.dot(x[:, ::2, ::-1], y.T[::-1, :3])),
        (lambda x, y: T.dot(x[1], y[::2].T), lambda x, y: np.dot(x[1], y[::2].T)),
        (lambda x, y: T.dot(y.T, x[:, :, 1].T), lambda x, y: np.dot(y.T, x[:, :, 1].T)),
    ]
    for build, ref in views:
        check(build, ref, a, b, rtol=1e-5, atol=1e-5)


def test_dot_types():
    assert T.dot(T.tensor3(), T.matrix()).broadcastable == (False, False, False)
    assert T.dot(T.vector(), T.tensor3()).broadcastable == (False, False)
    assert T.dot(T.row(), T.tensor3()).broadcastable == (True, False, False)


def test_dot_misaligned_is_invalid_argument():
    a, b = T.tensor3("a"), T.matrix("b")
    f = theano.function([a, b], T.dot(a, b))
    with pytest.raises(errors.InvalidArgument, match="not aligned"):
        f(np.ones((2, 3, 4), "float32"), np.ones((3, 2), "float32"))


def test_outer(rng):
    check(T.outer, np.outer, sample(rng, (3,), "float64"), sample(rng, (4,), "float64"))
    check(T.outer, np.outer, sample(rng, (3,), "int32"), sample(rng, (0,), "int32"))


TENSORDOT = [((3, 4, 5), (4, 5, 2), 2), ((3, 4), (4, 5), 1), ((2, 3), (4,), 0),
             ((3, 4, 5), (5, 3, 2), ([0, 2], [1, 0])), ((3, 4, 5), (4, 2), ([1], [0])),
             ((2, 3), (3, 2), ([-1], [-2])), ((0, 4), (4, 3), 1), ((), (), 0)]


@pytest.mark.parametrize("case", TENSORDOT, ids=str)
@pytest.mark.parametrize("dtype", ["float64", "int32"])
def test_tensordot(rng, case, dtype):
    sa, sb, axes = case
    a, b = sample(rng, sa, dtype), sample(rng, sb, dtype)
    check(lambda x, y: T.tensordot(x, y, axes), lambda x, y: np.tensordot(x, y, axes), a, b)
    check(lambda x, y: T.tensordot(x.T, y, axes) if x.ndim == 2 and sa[0] == sa[1] else
          T.tensordot(x, y, axes),
          lambda x, y: np.tensordot(x.T, y, axes) if x.ndim == 2 and sa[0] == sa[1] else
          np.tensordot(x, y, axes), a, b)


def test_tensordot_bad_axes():
    with pytest.raises(ValueError):
        T.tensordot(T.matrix(), T.matrix(), ([0, 1], [0]))
    with pytest.raises(ValueError):
        T.tensordot(T.matrix(), T.matrix(), ([2], [0]))


def _scaled_by_vector(a, b):
    """Theano's batched_dot with a vector operand: each batch item scaled."""
    if a.ndim == 1:
        return a.reshape(a.shape + (1,) * (b.ndim - 1)) * b
    return a * b.reshape(b.shape + (1,) * (a.ndim - 1))


BATCHED = [((4, 2, 3), (4, 3, 5)), ((4, 3), (4, 3)), ((4, 2, 3), (4, 3)), ((4, 3), (4, 3, 2)),
           ((4,), (4, 3)), ((4, 2, 3), (4,)), ((0, 2, 3), (0, 3, 2)), ((3, 2, 0), (3, 0, 2)),
           ((2, 3, 2, 4), (2, 4, 3))]


@pytest.mark.parametrize("shapes", BATCHED, ids=str)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int16"])
def test_batched_dot(rng, shapes, dtype):
    a, b = sample(rng, shapes[0], dtype), sample(rng, shapes[1], dtype)
    if a.ndim > 1 and b.ndim > 1:
        spec = "b...k,bkj->b...j" if b.ndim == 3 else "b...k,bk->b..."
        ref = lambda x, y: np.einsum(spec, x, y)  # noqa: E731
    else:
        ref = _scaled_by_vector
    check(T.batched_dot, ref, a, b, rtol=1e-5, atol=1e-5)


def test_batched_dot_transposed_operands(rng):
    a, b = sample(rng, (3, 4, 2), "float64"), sample(rng, (3, 5, 4), "float64")
    check(lambda x, y: T.batched_dot(x.dimshuffle(0, 2, 1), y.dimshuffle(0, 2, 1)),
          lambda x, y: np.einsum("bki,bjk->bij", x, y), a, b)


def test_batched_dot_batch_mismatch_is_invalid_argument():
    a, b = T.tensor3("a"), T.tensor3("b")
    f = theano.function([a, b], T.batched_dot(a, b))
    with pytest.raises(errors.InvalidArgument, match="batch"):
        f(np.ones((2, 3, 4), "float32"), np.ones((3, 4, 2), "float32"))


@pytest.mark.parametrize("case", [((2, 3, 4), (2, 4, 5), [[2], [1]]), ((2, 3, 4), (2, 3, 4), 2),
                                  ((2, 3, 4, 5), (2, 5, 4), [[2, 3], [2, 1]]),
                                  ((2, 3), (2, 3, 4), [[1], [1]])], ids=str)
def test_batched_tensordot(rng, case):
    sa, sb, axes = case
    a, b = sample(rng, sa, "float64"), sample(rng, sb, "float64")
    if isinstance(axes, int):
        np_axes = (list(range(len(sa) - 1 - axes, len(sa) - 1)), list(range(axes)))
    else:
        np_axes = ([d - 1 for d in axes[0]], [d - 1 for d in axes[1]])
    check(lambda x, y: T.batched_tensordot(x, y, axes),
          lambda x, y: np.stack([np.tensordot(p, q, np_axes) for p, q in zip(x, y)]), a, b)
