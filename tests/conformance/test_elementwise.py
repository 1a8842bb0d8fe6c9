"""Conformance of elementwise math, comparisons and logic against NumPy: every op over 0-d,
empty, odd and broadcast shapes, strided views, the dtypes it accepts, and the edge values
(NaN, inf, division by zero, negative operands, rounding ties, integer wrap-around)."""

import math

import numpy as np
import pytest

import tensord.tensor as T
from harness import FLOATS, INTS, SHAPES, check, sample
from tensord.errors import InvalidArgument

OPS = {"int_div", "mod", "abs", "sgn", "sqr", "sqrt", "maximum", "minimum", "clip",
       "round_half_to_even", "round_half_away_from_zero", "floor", "ceil", "trunc", "expm1", "exp2",
       "log1p", "log2", "log10", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "arctan2",
       "sinh", "cosh", "tanh", "erf", "erfc", "gamma", "gammaln", "psi", "tri_gamma", "sigmoid",
       "softplus", "gt", "lt", "ge", "le", "eq", "neq", "isnan", "isinf", "isclose", "and", "or",
       "xor", "invert", "switch"}

pytestmark = pytest.mark.usefixtures("server")

NUMERIC = FLOATS + INTS
BINARY_SHAPES = [("matrix", "matrix"), ("matrix", "vector4"), ("scalar", "matrix"),
                 ("empty_matrix", "vector3"), ("tensor3", "matrix"), ("scalar", "scalar")]
SHAPE_OF = dict(SHAPES, vector4=(4,), vector3=(3,))
EDGE = np.array([0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, np.inf, -np.inf, np.nan])


def float_of(dtype):
    """Theano's upgrade_to_float: ints of <= 16 bits become float32, wider ones float64."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return dtype
    return np.dtype("float32" if dtype.itemsize <= 2 else "float64")


def _gamma(v):
    if v == 0:
        return math.copysign(math.inf, v)
    if math.isinf(v):
        return v if v > 0 else math.nan
    if math.isnan(v) or (v < 0 and v == math.floor(v)):
        return math.nan
    try:
        return math.gamma(v)
    except OverflowError:
        return math.inf


def _gammaln(v):
    if math.isinf(v) or (v <= 0 and v == math.floor(v)):
        return math.inf
    return math.nan if math.isnan(v) else math.lgamma(v)


def _psi(v):
    """scipy.special.psi by another route than the server's: the recurrence
    psi(x) = psi(x + 1) - 1/x up to x >= 30, then the asymptotic series; reflection
    psi(x) = psi(1 - x) - pi cot(pi x) for negative x. SciPy's values at the poles."""
    if math.isnan(v) or v == math.inf:
        return v
    if v == -math.inf or (v < 0 and v == math.floor(v)):
        return math.nan
    if v == 0:
        return math.copysign(math.inf, -v)
    if v < 0:  # tan has period pi: reduce first so that pi * x keeps its digits near the poles
        return _psi(1 - v) - math.pi / math.tan(math.pi * (v - round(v)))
    acc = 0.0
    while v < 30:
        acc -= 1 / v
        v += 1
    z = 1 / (v * v)
    series = z * (1 / 12 - z * (1 / 120 - z * (1 / 252 - z * (1 / 240 - z / 132))))
    return acc + math.log(v) - 0.5 / v - series


def _tri_gamma(v):
    """scipy.special.polygamma(1, x) (= zeta(2, x): +inf at the poles) the same way."""
    if math.isnan(v):
        return v
    if v == -math.inf or (v <= 0 and v == math.floor(v)):
        return math.inf
    if v == math.inf:
        return 0.0
    if v < 0:  # psi1(x) + psi1(1 - x) = pi^2 / sin^2(pi x)
        return (math.pi / math.sin(math.pi * (v - round(v)))) ** 2 - _tri_gamma(1 - v)
    acc = 0.0
    while v < 30:
        acc += 1 / (v * v)
        v += 1
    z = 1 / (v * v)
    return acc + 1 / v + z / 2 + z / v * (1 / 6 - z * (1 / 30 - z * (1 / 42 - z / 30)))


def _sigmoid(a):
    return (1.0 / (1.0 + np.exp(-a.astype("float64")))).astype(a.dtype)


def _softplus(a):
    return np.logaddexp(0.0, a.astype("float64")).astype(a.dtype)


TO_FLOAT = {
    "sqrt": (T.sqrt, np.sqrt), "floor": (T.floor, np.floor), "ceil": (T.ceil, np.ceil),
    "trunc": (T.trunc, np.trunc), "expm1": (T.expm1, np.expm1), "exp2": (T.exp2, np.exp2), "log1p": (T.log1p, np.log1p),
    "log2": (T.log2, np.log2), "log10": (T.log10, np.log10), "sin": (T.sin, np.sin),
    "cos": (T.cos, np.cos), "tan": (T.tan, np.tan), "arcsin": (T.arcsin, np.arcsin),
    "arccos": (T.arccos, np.arccos), "arctan": (T.arctan, np.arctan),
    "sinh": (T.sinh, np.sinh), "cosh": (T.cosh, np.cosh), "tanh": (T.tanh, np.tanh),
    "erf": (T.erf, np.vectorize(math.erf, otypes=[float])), "erfc": (T.erfc, np.vectorize(math.erfc, otypes=[float])),
    "gamma": (T.gamma, np.vectorize(_gamma, otypes=[float])), "gammaln": (T.gammaln, np.vectorize(_gammaln, otypes=[float])),
    "psi": (T.psi, np.vectorize(_psi, otypes=[float])),
    "tri_gamma": (T.tri_gamma, np.vectorize(_tri_gamma, otypes=[float])),
    "sigmoid": (T.nnet.sigmoid, _sigmoid), "softplus": (T.nnet.softplus, _softplus),
}


@pytest.mark.parametrize("op", sorted(TO_FLOAT))
@pytest.mark.parametrize("dtype", ["float32", "float64", "int8", "int32", "uint8"])
@pytest.mark.parametrize("shape", ["scalar", "empty", "matrix", "tensor3"])
def test_unary_upgrade_to_float(rng, op, dtype, shape):
    build, ref = TO_FLOAT[op]
    x = sample(rng, SHAPES[shape], dtype)
    fdt = float_of(dtype)
    check(build, lambda a: np.asarray(ref(a.astype(fdt))).astype(fdt), x,
          rtol=1e-5 if fdt == np.float32 else 1e-12, atol=1e-6 if fdt == np.float32 else 1e-12)


@pytest.mark.parametrize("op", sorted(TO_FLOAT))
@pytest.mark.parametrize("dtype", FLOATS)
def test_unary_edge_values(op, dtype):
    build, ref = TO_FLOAT[op]
    x = EDGE.astype(dtype)
    check(build, lambda a: np.asarray(ref(a)).astype(dtype), x, rtol=1e-5, atol=1e-6)


def test_psi_and_tri_gamma_known_values_and_recurrences():
    # mpmath, 30 digits: psi(1) = -Euler's constant, tri_gamma(1) = pi^2 / 6, ...
    x = np.array([1.0, 0.5, -0.5, 2.0, 10.0, 100.0, 1e-8, -2.5, 3.7])
    psi = [-0.5772156649015329, -1.9635100260214235, 0.03648997397857652, 0.42278433509846713,
           2.251752589066721, 4.600161852738087, -100000000.57721564, 1.103156640645243,
           1.1671535393615113]
    tri = [math.pi ** 2 / 6, math.pi ** 2 / 2, math.pi ** 2 / 2 + 4, math.pi ** 2 / 6 - 1,
           0.10516633568168575, 0.010050166663333571, 1.0000000000000002e+16, 9.539246644989124,
           0.3100378576700383]
    check(T.psi, lambda a: np.array(psi), x, rtol=1e-15, atol=1e-16)
    check(T.tri_gamma, lambda a: np.array(tri), x, rtol=1e-15, atol=0)
    # psi(x + 1) = psi(x) + 1/x, tri_gamma(x + 1) = tri_gamma(x) - 1/x^2 (odd sixteenths: no
    # pole, and x + 1 is exact).
    x = np.arange(-157, 480, 6) / 16.0
    check(lambda a: T.psi(a + 1) - T.psi(a), lambda a: 1 / a, x, rtol=1e-12, atol=1e-13)
    check(lambda a: T.tri_gamma(a) - T.tri_gamma(a + 1), lambda a: 1 / (a * a), x, rtol=1e-12,
          atol=1e-13)


def test_sigmoid_and_softplus_do_not_overflow():
    x = np.array([-1000.0, -40.0, -1e-8, 0.0, 1e-8, 40.0, 1000.0])
    check(T.sigmoid, _sigmoid, x, rtol=1e-12, atol=0)
    check(T.nnet.softplus, _softplus, x, rtol=1e-12, atol=0)
    check(T.nnet.softplus, _softplus, x.astype("float32"), rtol=1e-6, atol=0)


SAME_DTYPE_UNARY = {
    "abs": (T.abs_, np.abs, NUMERIC + ("bool",)),
    "abs operator": (lambda a: abs(a), np.abs, NUMERIC + ("bool",)),
    "sgn": (T.sgn, np.sign, NUMERIC),
    "sqr": (T.sqr, lambda a: (a * a).astype(a.dtype), NUMERIC + ("bool",)),
    "round_half_to_even": (lambda a: T.round(a, mode="half_to_even"), np.round, NUMERIC),
    "invert": (T.invert, np.invert, INTS + ("bool", "uint16", "uint64")),
    "invert operator": (lambda a: ~a, np.invert, INTS + ("bool",)),
}


@pytest.mark.parametrize("op", sorted(SAME_DTYPE_UNARY))
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_same_dtype_unary(rng, op, shape):
    build, ref, dtypes = SAME_DTYPE_UNARY[op]
    for dtype in dtypes:
        check(build, ref, sample(rng, SHAPES[shape], dtype))


def test_integer_wraparound_matches_numpy():
    for dtype in ("int8", "int32", "int64"):
        info = np.iinfo(dtype)
        x = np.array([info.min, info.min + 1, -1, 0, info.max], dtype=dtype)
        d = np.array([-1, -1, -1, -1, -1], dtype=dtype)
        check(T.abs_, np.abs, x)
        check(T.sqr, np.square, x)
        check(lambda a, b: a // b, np.floor_divide, x, d)
        check(lambda a, b: a % b, np.remainder, x, d)
        check(lambda a, b: T.int_div(b, a), lambda a, b: np.floor_divide(b, a), x, d)


def _half_away(a):
    t = np.trunc(a)
    return np.where(np.abs(a - t) >= 0.5, t + np.sign(a), t).astype(a.dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_round_ties(dtype):
    x = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999997, -0.49999997, 3.7, -3.7, 1e30,
                  np.nan, np.inf, -np.inf], dtype=dtype)
    check(lambda a: T.round(a, mode="half_to_even"), np.round, x)
    check(T.round_half_to_even, np.rint, x)
    check(T.round, _half_away, x)  # Theano's default mode
    check(lambda a: a.round(), _half_away, x)
    check(T.round_half_away_from_zero, _half_away, x.T)
    check(T.iround, lambda a: _half_away(a).astype("int64"), x[:10])


def test_rounding_integers_keeps_them():
    for dtype in INTS:
        x = np.array([-3, 0, 5], dtype=dtype) if dtype != "uint8" else np.array([0, 5], "uint8")
        check(T.round, lambda a: a, x)
        check(lambda a: T.round(a, "half_to_even"), np.round, x)


BINARY = {
    "int_div": (lambda a, b: a // b, np.floor_divide, NUMERIC),
    "int_div function": (T.intdiv, np.floor_divide, NUMERIC),
    "mod": (lambda a, b: a % b, np.remainder, NUMERIC),
    "maximum": (T.maximum, np.maximum, NUMERIC + ("bool",)),
    "minimum": (T.minimum, np.minimum, NUMERIC + ("bool",)),
    "and": (lambda a, b: a & b, np.bitwise_and, INTS + ("bool",)),
    "or": (T.or_, np.bitwise_or, INTS + ("bool",)),
    "xor": (lambda a, b: a ^ b, np.bitwise_xor, INTS + ("bool",)),
    "gt": (lambda a, b: a > b, np.greater, NUMERIC + ("bool",)),
    "lt": (T.lt, np.less, NUMERIC + ("bool",)),
    "ge": (lambda a, b: a >= b, np.greater_equal, NUMERIC + ("bool",)),
    "le": (T.le, np.less_equal, NUMERIC + ("bool",)),
    "eq": (T.eq, np.equal, NUMERIC + ("bool",)),
    "neq": (T.neq, np.not_equal, NUMERIC + ("bool",)),
}
DTYPE_PAIRS = [("float32", "float32"), ("float64", "int32"), ("int8", "uint8"),
               ("int32", "int64"), ("float32", "int16"), ("uint8", "uint8"), ("bool", "bool"),
               ("bool", "int8")]


@pytest.mark.parametrize("op", sorted(BINARY))
@pytest.mark.parametrize("shapes", BINARY_SHAPES)
def test_binary_broadcasting_and_promotion(rng, op, shapes):
    build, ref, allowed = BINARY[op]
    for dtypes in DTYPE_PAIRS:
        if np.result_type(*dtypes).name not in allowed:
            continue
        # Integers include 0 and negatives: // and % by zero give 0, like NumPy.
        a = sample(rng, SHAPE_OF[shapes[0]], dtypes[0], low=-5, high=5)
        b = sample(rng, SHAPE_OF[shapes[1]], dtypes[1], low=-3, high=3)
        check(build, ref, a, b)


def test_arctan2(rng):
    for dtypes in [("float32", "float32"), ("float64", "int8"), ("int32", "int32"), ("int8", "uint8")]:
        a, b = sample(rng, (3, 4), dtypes[0]), sample(rng, (4,), dtypes[1])
        fdt = float_of(np.result_type(a, b))
        check(T.arctan2, lambda x, y: np.arctan2(x.astype(fdt), y.astype(fdt)), a, b, rtol=1e-5)
    e = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1.0])
    check(T.arctan2, np.arctan2, e[:, None], e[None, :])


@pytest.mark.parametrize("dtype", FLOATS)
def test_float_floor_division_and_remainder_edges(dtype):
    """Division by +-0, infinities, NaN and signed zeros, every pairing, as NumPy's npy_divmod."""
    a = EDGE.astype(dtype)[:, None]
    b = EDGE.astype(dtype)[None, :]
    check(lambda x, y: x // y, np.floor_divide, a, b)
    check(lambda x, y: x % y, np.remainder, a, b)
    check(lambda x, y: divmod(x, y), lambda x, y: list(np.divmod(x, y)), a, b)
    check(T.maximum, np.maximum, a, b)
    check(T.minimum, np.minimum, a, b)
    for name, fn in [("lt", np.less), ("eq", np.equal), ("neq", np.not_equal), ("ge", np.greater_equal)]:
        check(getattr(T, name), fn, a, b)


def test_negative_operands_floor_division_and_modulo():
    a = np.arange(-7, 8, dtype="int32")[:, None]
    b = np.array([-3, -2, -1, 0, 1, 2, 3], dtype="int32")
    check(lambda x, y: x // y, np.floor_divide, a, b)
    check(lambda x, y: x % y, np.remainder, a, b)
    for dtype in ("int8", "int64", "uint8", "float32", "float64"):
        x = np.array([-7, -6, -1, 0, 1, 6, 7]).astype(dtype) if dtype != "uint8" else \
            np.array([0, 1, 6, 7, 255], dtype="uint8")
        y = np.array([-2, 3]).astype(dtype) if dtype != "uint8" else np.array([0, 2, 3], "uint8")
        check(lambda p, q: p // q, np.floor_divide, x[:, None], y)
        check(lambda p, q: p % q, np.remainder, x[:, None], y)


def test_strided_inputs(rng):
    """Transposed and broadcast views reach the kernels with their strides."""
    m = sample(rng, (4, 3), "float64")
    n = sample(rng, (3, 4), "float64")
    check(lambda a, b: T.maximum(a.T, b), lambda a, b: np.maximum(a.T, b), m, n)
    check(lambda a, b: a.T // b, lambda a, b: np.floor_divide(a.T, b), m, n)
    check(lambda a, b: T.switch(a.T > b, a.T, b), lambda a, b: np.where(a.T > b, a.T, b), m, n)
    check(lambda a, b: T.clip(b, a.T, a.T + 1), lambda a, b: np.clip(b, a.T, a.T + 1), m, n)
    check(lambda a: T.sin(a.T), lambda a: np.sin(a.T), m)
    check(lambda a: T.isclose(a.T, a.dimshuffle(1, 0)), lambda a: np.isclose(a.T, a.T), m)
    i = sample(rng, (2, 3, 4), "int16")
    check(lambda a: ~a.dimshuffle(2, 0, 1), lambda a: ~a.transpose(2, 0, 1), i)
    check(lambda a: T.isnan(a.dimshuffle(2, "x", 0, 1)),
          lambda a: np.isnan(a.transpose(2, 0, 1)[:, None]), i)


@pytest.mark.parametrize("shapes", [((3, 4), (3, 4), (3, 4)), ((), (2, 3), ()), ((4,), (3, 1), ()),
                                    ((0, 3), (3,), ()), ((2, 1, 4), (3, 1), (4,))])
def test_clip(rng, shapes):
    for dtypes in [("float32",) * 3, ("float64", "float64", "float64"), ("int32", "int8", "int8"),
                   ("int8", "float32", "float32"), ("uint8", "uint8", "uint8")]:
        x = sample(rng, shapes[0], dtypes[0], low=-5, high=5)
        lo = sample(rng, shapes[1], dtypes[1], low=-2, high=0)
        hi = sample(rng, shapes[2], dtypes[2], low=1, high=3)
        check(T.clip, np.clip, x, lo, hi)
    x = np.array([np.nan, -5.0, 0.5, 5.0, np.inf])
    check(lambda a: T.clip(a, -1.0, 1.0), lambda a: np.clip(a, -1.0, 1.0), x)
    check(lambda a: a.clip(2.0, 1.0), lambda a: np.clip(a, 2.0, 1.0), x)  # lo > hi: all hi


@pytest.mark.parametrize("dtype", NUMERIC + ("bool", "uint64"))
@pytest.mark.parametrize("shape", ["scalar", "empty", "matrix"])
def test_isnan_isinf(rng, dtype, shape):
    x = sample(rng, SHAPES[shape], dtype)
    if dtype in FLOATS and x.size:
        x.flat[0] = np.nan
        x.flat[-1] = -np.inf
    check(T.isnan, np.isnan, x)
    check(T.isinf, np.isinf, x)


@pytest.mark.parametrize("kw", [{}, {"rtol": 0.1}, {"atol": 0.5}, {"equal_nan": True},
                                {"rtol": 0.0, "atol": 0.0}])
def test_isclose_and_allclose(kw):
    a = np.array([1.0, 1.0, np.inf, -np.inf, np.inf, np.nan, np.nan, 0.0, 1e-9, 100.0])
    b = np.array([1.0, 1.0 + 1e-6, np.inf, np.inf, 1.0, np.nan, 1.0, 1e-9, 0.0, 101.0])
    for dt in ("float32", "float64"):
        check(lambda x, y: T.isclose(x, y, **kw), lambda x, y: np.isclose(x, y, **kw),
              a.astype(dt), b.astype(dt))
        check(lambda x, y: T.allclose(x, y, **kw),
              lambda x, y: np.asarray(np.allclose(x, y, **kw)), a.astype(dt), a.astype(dt))
    check(lambda x, y: T.allclose(x, y, **kw), lambda x, y: np.asarray(np.allclose(x, y, **kw)),
          a, b)
    ints = np.array([[1, 2, 3]], dtype="int32")
    check(lambda x, y: T.isclose(x, y, **kw), lambda x, y: np.isclose(x, y, **kw), ints,
          np.array([1.0, 2.00001, 3.5], dtype="float32"))
    check(lambda x, y: T.isclose(x, y, **kw), lambda x, y: np.isclose(x, y, **kw),
          np.zeros((0, 3), "int8"), ints.astype("uint8"))
    check(lambda x, y: T.allclose(x, y, **kw), lambda x, y: np.asarray(np.allclose(x, y, **kw)),
          np.zeros((0,), "float32"), np.zeros((0,), "float32"))


@pytest.mark.parametrize("cond_dtype", ["bool", "float32", "float64", "int8", "uint8"])
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4), (3, 4)), ((4,), (3, 1), ()), ((), (2, 3), (3,)),
                                    ((0, 1), (3,), ()), ((), (), ())])
def test_switch(rng, cond_dtype, shapes):
    cond = sample(rng, shapes[0], cond_dtype, low=-1, high=1)
    if cond_dtype in FLOATS and cond.size:
        cond.flat[0] = np.nan  # NaN is nonzero: true
    for dtypes in [("float32", "float32"), ("int8", "float64"), ("int16", "uint8"), ("bool", "bool")]:
        a = sample(rng, shapes[1], dtypes[0])
        b = sample(rng, shapes[2], dtypes[1])
        check(T.switch, lambda c, x, y: np.where(c, x, y), cond, a, b)
        check(T.where, lambda c, x, y: np.where(c, x, y), cond, a, b)


def test_python_scalars_and_reflected_operators(rng):
    x = sample(rng, (3, 4), "float32", low=1)
    i = sample(rng, (3, 4), "int32", low=-9, high=9)
    check(lambda a: a ** 2, lambda a: a ** np.int8(2), x, rtol=1e-6)
    check(lambda a: 2 ** a, lambda a: np.int8(2) ** a, x, rtol=1e-6)
    check(lambda a: a // 2, lambda a: a // np.int8(2), i)
    check(lambda a: 7 // a, lambda a: np.int8(7) // a, i)
    check(lambda a: a % 3, lambda a: a % np.int8(3), i)
    check(lambda a: -7 % a, lambda a: np.int8(-7) % a, i)
    check(lambda a: divmod(-7, a), lambda a: list(np.divmod(np.int8(-7), a)), i)
    check(lambda a: a < 1, lambda a: a < np.int8(1), x)
    check(lambda a: 1 < a, lambda a: np.int8(1) < a, x)
    check(lambda a: 2.5 >= a, lambda a: np.float32(2.5) >= a, x)
    check(lambda a: a & 6, lambda a: a & np.int8(6), i)
    check(lambda a: 6 | a, lambda a: np.int8(6) | a, i)
    check(lambda a: 5 ^ a, lambda a: np.int8(5) ^ a, i)
    check(lambda a: T.eq(a, 3), lambda a: a == np.int8(3), i)
    check(lambda a: T.maximum(a, 0.5), lambda a: np.maximum(a, np.float32(0.5)), x)
    check(lambda a: T.switch(a > 2, a, 0), lambda a: np.where(a > 2, a, np.int8(0)).astype(a.dtype), x)


def test_bad_input_is_a_clear_error(rng):
    f = sample(rng, (3,), "float32")
    with pytest.raises(InvalidArgument, match="cannot be broadcast"):
        check(T.maximum, np.maximum, f, sample(rng, (4,), "float32"))
    with pytest.raises(InvalidArgument, match="cannot be broadcast"):
        check(T.switch, np.where, f, f, sample(rng, (2, 4), "float32"))
    with pytest.raises(InvalidArgument, match="cannot be broadcast"):
        check(T.isclose, np.isclose, f, sample(rng, (2,), "float32"))
    b = T.bvector()
    x = T.fvector()
    for bad in (lambda: T.int_div(b > 0, b > 0), lambda: (b > 0) % (b > 0), lambda: T.sgn(b > 0),
                lambda: T.round(b > 0), lambda: x & x, lambda: ~x, lambda: T.xor(x, b)):
        with pytest.raises(TypeError, match="needs"):
            bad()
    with pytest.raises(TypeError, match="takes 3 inputs"):
        T.ops.Elemwise("clip", 3, lambda d: d[0])(x, x)
    with pytest.raises(ValueError, match="round mode"):
        T.round(x, mode="up")


@pytest.mark.parametrize("wire,nin", [("int_div", 2), ("sgn", 1), ("and", 2), ("invert", 1),
                                      ("round_half_to_even", 1)])
def test_server_refuses_types_the_client_would_refuse(wire, nin):
    """A client that skips the type checks still gets INVALID_ARGUMENT, never a crash."""
    import tensord as theano
    dtype = "bool" if wire in ("int_div", "sgn", "round_half_to_even") else "float64"
    raw = T.ops.Elemwise(wire, nin, lambda dts: dts[0])
    v = T.tensor(dtype, (False,))
    with pytest.raises(InvalidArgument, match="needs .* inputs"):
        theano.function([v], raw(*([v] * nin)))


@pytest.mark.parametrize("op", ["maximum", "gt", "mod"])
def test_big_broadcasts_split_over_the_threads_match_numpy(rng, op):
    """A lone op over 77,100 elements with broadcast and transposed operands: its rows split over
    the intra-op threads (each range's operand and output offsets, a bool output's included)."""
    build, ref, _ = BINARY[op]
    a = sample(rng, (300, 257), "float64", low=-5, high=5)
    check(build, ref, a, sample(rng, (257,), "int32", low=-3, high=3))
    check(build, ref, a, sample(rng, (300, 1), "float32", low=-3, high=3))
    check(lambda x, y: build(x.T, y), lambda x, y: ref(x.T, y),
          sample(rng, (257, 300), "float64", low=-5, high=5),
          sample(rng, (1, 257), "float64", low=-3, high=3))
