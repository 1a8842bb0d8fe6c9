"""Conformance of the walking skeleton's ops against NumPy, over shapes (0-d, empty,
broadcasting) and dtypes."""

import itertools

import numpy as np
import pytest

import tensord.tensor as T
from harness import ALL_DTYPES, FLOATS, INTS, SHAPES, check, run, sample

OPS = {"add", "sub", "mul", "true_div", "neg", "exp", "log", "pow", "dot", "sum", "max",
       "reshape", "dimshuffle", "cast", "fill", "alloc"}

pytestmark = pytest.mark.usefixtures("server")

BINARY = {
    "add": (lambda a, b: a + b, np.add),
    "sub": (lambda a, b: a - b, np.subtract),
    "mul": (lambda a, b: a * b, np.multiply),
    "true_div": (lambda a, b: a / b, np.true_divide),
}


def theano_true_div_dtype(a, b):
    """Theano's true_div: NumPy's promotion, then ints become float32 (<= 16 bits) or float64."""
    d = np.result_type(a, b)
    if d.kind in "iub":
        return np.float32 if d.itemsize <= 2 else np.float64
    return d


@pytest.mark.parametrize("op", sorted(BINARY))
@pytest.mark.parametrize("shapes", [("matrix", "matrix"), ("matrix", "vector4"), ("scalar", "matrix"),
                                    ("empty_matrix", "vector3"), ("tensor3", "matrix")])
@pytest.mark.parametrize("dtypes", [("float32", "float32"), ("float64", "int32"), ("int8", "uint8"),
                                    ("int32", "int64"), ("float32", "int16")])
def test_binary_broadcasting_and_promotion(rng, op, shapes, dtypes):
    shape_of = dict(SHAPES, vector4=(4,), vector3=(3,))
    a = sample(rng, shape_of[shapes[0]], dtypes[0], low=1)
    b = sample(rng, shape_of[shapes[1]], dtypes[1], low=1)
    build, ref = BINARY[op]
    if op == "true_div":
        check(build, lambda x, y: np.true_divide(x, y).astype(theano_true_div_dtype(x, y)), a, b,
              rtol=1e-6 if np.result_type(a, b) != np.float32 else 1e-5)
    else:
        check(build, ref, a, b)


@pytest.mark.parametrize("dtype", FLOATS + INTS)
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_unary(rng, dtype, shape):
    x = sample(rng, SHAPES[shape], dtype, low=1)
    check(lambda a: -a, np.negative, x)
    float_dtype = x.dtype if x.dtype.kind == "f" else (np.float32 if x.dtype.itemsize <= 2 else np.float64)
    check(T.exp, lambda a: np.exp(a.astype(float_dtype)), x, rtol=1e-5)
    check(T.log, lambda a: np.log(a.astype(float_dtype)), x, rtol=1e-5)


def test_log_of_negative_is_nan_and_exp_overflows_to_inf():
    check(T.log, np.log, np.array([-1.0, 0.0, 1.0], dtype="float32"))
    check(T.exp, np.exp, np.array([1000.0, -1000.0], dtype="float64"))


@pytest.mark.parametrize("dtypes", [("float32", "float32"), ("float64", "float64"), ("int64", "int64"),
                                    ("int32", "int8")])
def test_pow(rng, dtypes):
    a = sample(rng, (3, 4), dtypes[0], low=0, high=4)
    b = sample(rng, (4,), dtypes[1], low=0, high=3)
    check(lambda x, y: x ** y, np.power, a, b, rtol=1e-5)


@pytest.mark.parametrize("shapes", [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
                                    ((0, 3), (3, 2)), ((2, 0), (0, 3))])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
def test_dot(rng, shapes, dtype):
    a, b = sample(rng, shapes[0], dtype), sample(rng, shapes[1], dtype)
    check(T.dot, np.dot, a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 2), (0, 1, 2)])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int8", "uint8", "bool"])
def test_sum_and_max(rng, axis, dtype):
    x = sample(rng, SHAPES["tensor3"], dtype)
    check(lambda a: T.sum(a, axis=axis), lambda a: np.sum(a, axis=axis), x, rtol=1e-5)
    check(lambda a: T.max(a, axis=axis), lambda a: np.max(a, axis=axis), x)
    check(lambda a: T.sum(a, axis=axis, keepdims=True), lambda a: np.sum(a, axis=axis, keepdims=True),
          x, rtol=1e-5)


def test_sum_of_empty_and_max_with_nan():
    check(lambda a: T.sum(a, axis=0), lambda a: np.sum(a, axis=0), np.zeros((0, 3), "float32"))
    check(T.max, np.max, np.array([1.0, np.nan, 3.0]))


@pytest.mark.parametrize("shape,new", [((12,), (3, 4)), ((3, 4), (-1,)), ((2, 3, 4), (4, -1)),
                                       ((0, 3), (3, 0)), ((), (1, 1))])
def test_reshape(rng, shape, new):
    x = sample(rng, shape, "float64")
    check(lambda a: a.reshape(new), lambda a: a.reshape(new), x)


@pytest.mark.parametrize("pattern", [(1, 0), ("x", 0, 1), (0, "x", 1), (1, "x", 0, "x")])
def test_dimshuffle(rng, pattern):
    x = sample(rng, (3, 4), "int16")
    order = [p for p in pattern if p != "x"]

    def ref(a):
        out = a.transpose(order)
        for i, p in enumerate(pattern):
            if p == "x":
                out = np.expand_dims(out, i)
        return out
    check(lambda a: a.dimshuffle(*pattern), ref, x)


@pytest.mark.parametrize("src,dst", list(itertools.product(["float64", "int32", "bool", "uint8"],
                                                           ["float32", "int8", "bool", "int64"])))
def test_cast(rng, src, dst):
    x = sample(rng, (2, 3), src)
    check(lambda a: T.cast(a, dst), lambda a: a.astype(dst), x)


def test_fill_and_alloc(rng):
    m = sample(rng, (3, 4), "float32")
    check(lambda a: T.fill(a, 2.5), lambda a: np.full_like(a, 2.5), m)
    v = sample(rng, (4,), "int32")
    check(lambda a: T.alloc(a, 3, 4), lambda a: np.broadcast_to(a, (3, 4)), v)
    check(lambda a: T.alloc(a, 0, 4), lambda a: np.broadcast_to(a, (0, 4)), v)


def test_bad_input_is_a_clear_invalid_argument(rng):
    from tensord.errors import InvalidArgument
    with pytest.raises(InvalidArgument, match="cannot be broadcast"):
        check(lambda a, b: a + b, np.add, sample(rng, (3,), "float32"), sample(rng, (4,), "float32"))
    with pytest.raises(InvalidArgument, match="not aligned"):
        check(T.dot, np.dot, sample(rng, (2, 3), "float32"), sample(rng, (4,), "float32"))
    with pytest.raises(InvalidArgument, match="cannot reshape"):
        check(lambda a: a.reshape((4, 4)), None, sample(rng, (3, 4), "float32"))


def test_float32_sum_does_not_drift():
    # Adding 0.1 a million times in float32 drifts by about 1%; NumPy (pairwise) and Theano
    # (float64 accumulator) do not.
    x = np.full(1_000_000, 0.1, dtype="float32")
    got = np.asarray(run(T.sum, x))
    np.testing.assert_allclose(got, np.sum(x.astype("float64")), rtol=1e-6)
    assert got.dtype == np.float32
