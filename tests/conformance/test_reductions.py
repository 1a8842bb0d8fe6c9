"""Conformance of the reductions and scans against NumPy: every axis form (None, int, negative,
tuple), keepdims, 0-d and empty inputs, strided views, NaNs, and NumPy's result dtypes (prod of
small ints is int64, mean of ints float64, all/any bool, argmax int64)."""

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from harness import SHAPES, check, run, sample, symbolic
from tensord.errors import InvalidArgument
from tensord.tensor.reductions import CumOp, Reduction

OPS = {"prod", "min", "max", "sum", "all", "any", "argmax", "argmin", "max_and_argmax", "mean",
       "var", "std", "cumop"}

# NumPy warns about empty means and ddof >= n where it returns nan/inf, as we do.
pytestmark = [pytest.mark.usefixtures("server"),
              pytest.mark.filterwarnings("ignore::RuntimeWarning")]

DTYPES = ("float32", "float64", "int8", "int32", "uint8", "bool")


def axis_forms(ndim):
    """None, every int axis (and its negative twin), and tuples of several axes."""
    forms = [None]
    for a in range(ndim):
        forms += [a, a - ndim]
    if ndim >= 2:
        forms += [(0, ndim - 1), (-1, 0)]
    if ndim >= 3:
        forms += [(0, 1, 2), (1, 2)]
    return forms


def check_or_refused(build, reference, *values, rtol=1e-6, atol=1e-6, match=None):
    """check(), except where NumPy refuses (empty max/argmax): then the server must answer
    INVALID_ARGUMENT, naming the problem."""
    try:
        with np.errstate(all="ignore"):
            reference(*values)
    except ValueError:
        with pytest.raises(InvalidArgument, match=match or "empty"):
            run(build, *values)
        return
    check(build, reference, *values, rtol=rtol, atol=atol)


FOLDS = {
    "prod": (T.prod, np.prod),
    "min": (T.min, np.min),
    "max": (T.max, np.max),
    "sum": (T.sum, np.sum),
    "all": (T.all, np.all),
    "any": (T.any, np.any),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_folds(rng, shape, dtype):
    x = sample(rng, SHAPES[shape], dtype, low=-2, high=2)
    rtol = 1e-5 if dtype == "float32" else 1e-6
    for name, (fn, ref) in sorted(FOLDS.items()):
        for axis in axis_forms(x.ndim):
            for keepdims in (False, True):
                check_or_refused(lambda a: fn(a, axis=axis, keepdims=keepdims),
                                 lambda a: ref(a, axis=axis, keepdims=keepdims), x, rtol=rtol,
                                 match=name)


def flat_arg(np_fn, a, axis, keepdims=False):
    """NumPy's argmax/argmin generalised to a tuple of axes as Theano does: the reduced axes
    move to the end and are flattened in C order."""
    if axis is None or isinstance(axis, int):
        return np_fn(a, axis=axis, keepdims=keepdims)
    axes = sorted(ax % a.ndim for ax in axis)
    kept = [d for d in range(a.ndim) if d not in axes]
    moved = a.transpose(kept + axes).reshape([a.shape[d] for d in kept] + [-1])
    out = np_fn(moved, axis=-1)
    if keepdims:
        out = np.expand_dims(out, axes)
    return out


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_argmax_argmin_max_and_argmax(rng, shape, dtype):
    # A narrow range makes ties common: the first index must win, as in NumPy.
    x = sample(rng, SHAPES[shape], dtype, low=-2, high=2)
    for axis in axis_forms(x.ndim):
        for keepdims in (False, True):
            check_or_refused(lambda a: T.argmax(a, axis=axis, keepdims=keepdims),
                             lambda a: flat_arg(np.argmax, a, axis, keepdims), x, match="argmax")
            check_or_refused(lambda a: T.argmin(a, axis=axis, keepdims=keepdims),
                             lambda a: flat_arg(np.argmin, a, axis, keepdims), x, match="argmin")
            check_or_refused(
                lambda a: T.max_and_argmax(a, axis=axis, keepdims=keepdims),
                lambda a: [np.max(a, axis=axis, keepdims=keepdims),
                           flat_arg(np.argmax, a, axis, keepdims)], x, match="max_and_argmax")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_mean_var_std(rng, shape, dtype):
    x = sample(rng, SHAPES[shape], dtype)
    # NumPy sums float32 in float32; the server accumulates in float64.
    rtol = 1e-4 if dtype == "float32" else 1e-6
    for axis in axis_forms(x.ndim):
        for keepdims in (False, True):
            check(lambda a: T.mean(a, axis=axis, keepdims=keepdims),
                  lambda a: np.mean(a, axis=axis, keepdims=keepdims), x, rtol=rtol, atol=1e-5)
            for ddof in (0, 1, 2):
                for name, fn, ref in (("var", T.var, np.var), ("std", T.std, np.std)):
                    check(lambda a: fn(a, axis=axis, ddof=ddof, keepdims=keepdims),
                          lambda a: ref(a, axis=axis, ddof=ddof, keepdims=keepdims), x,
                          rtol=rtol, atol=1e-5)


def test_var_corrected_and_methods(rng):
    x = sample(rng, (4, 5), "float64") + 1e6  # a large offset is where the correction matters
    check(lambda a: T.var(a, axis=0, corrected=True), lambda a: np.var(a, axis=0), x, rtol=1e-6)
    check(lambda a: a.std(axis=1, ddof=1, corrected=True), lambda a: np.std(a, axis=1, ddof=1), x)
    check(lambda a: a.mean(axis=-1), lambda a: a.mean(axis=-1), x)
    check(lambda a: T.mean(a, dtype="float32"), lambda a: np.mean(a, dtype="float32"),
          sample(rng, (3, 4), "int32"), rtol=1e-5)


@pytest.mark.parametrize("dtype", ("float32", "float64", "int8", "int32", "uint8"))
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_ptp(rng, shape, dtype):
    x = sample(rng, SHAPES[shape], dtype)
    for axis in axis_forms(x.ndim):
        for keepdims in (False, True):
            check_or_refused(lambda a: T.ptp(a, axis=axis, keepdims=keepdims),
                             lambda a: np.ptp(a, axis=axis, keepdims=keepdims), x, match="max")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_cumsum_cumprod(rng, shape, dtype):
    x = sample(rng, SHAPES[shape], dtype, low=-2, high=2)
    rtol = 1e-5 if dtype == "float32" else 1e-6
    axes = [None] + [a for d in range(x.ndim) for a in (d, d - x.ndim)]
    for axis in axes:
        check(lambda a: T.cumsum(a, axis=axis), lambda a: np.cumsum(a, axis=axis), x, rtol=rtol)
        check(lambda a: T.cumprod(a, axis=axis), lambda a: np.cumprod(a, axis=axis), x, rtol=rtol)
    if x.ndim:
        check(lambda a: a.cumsum(axis=-1), lambda a: a.cumsum(axis=-1), x, rtol=rtol)
        check(lambda a: a.cumprod(), lambda a: a.cumprod(), x, rtol=rtol)


VIEWS = {
    "transpose": (lambda a: a.T, lambda a: a.T),
    "dimshuffle": (lambda a: a.dimshuffle(2, 0, 1), lambda a: a.transpose(2, 0, 1)),
    "broadcast_dim": (lambda a: a.dimshuffle(0, "x", 1, 2), lambda a: a[:, None]),
}

EVERY_OP = {
    "prod": (T.prod, np.prod),
    "min": (T.min, np.min),
    "all": (T.all, np.all),
    "any": (T.any, np.any),
    "argmax": (T.argmax, lambda a, axis: flat_arg(np.argmax, a, axis)),
    "argmin": (T.argmin, lambda a, axis: flat_arg(np.argmin, a, axis)),
    "mean": (T.mean, np.mean),
    "var": (T.var, np.var),
    "std": (T.std, np.std),
    "ptp": (T.ptp, np.ptp),
}


@pytest.mark.parametrize("view", sorted(VIEWS))
@pytest.mark.parametrize("dtype", ("float32", "int32"))
def test_strided_inputs(rng, view, dtype):
    x = sample(rng, (2, 3, 4), dtype, low=-2, high=2)
    v, ref_v = VIEWS[view]
    for name, (fn, ref) in sorted(EVERY_OP.items()):
        for axis in (None, 0, -1, (0, 1)):
            check(lambda a: fn(v(a), axis=axis), lambda a: ref(ref_v(a), axis=axis), x,
                  rtol=1e-5, atol=1e-5)
    for axis in (None, 0, 1, -1):
        check(lambda a: T.cumsum(v(a), axis=axis), lambda a: np.cumsum(ref_v(a), axis=axis), x)
        check(lambda a: T.cumprod(v(a), axis=axis), lambda a: np.cumprod(ref_v(a), axis=axis), x)
        check(lambda a: T.max_and_argmax(v(a), axis=axis),
              lambda a: [np.max(ref_v(a), axis=axis), np.argmax(ref_v(a), axis=axis)], x)


def test_nan_handling():
    x = np.array([[1.0, np.nan, 3.0, np.nan], [2.0, 5.0, -1.0, 0.0], [np.nan, 0.0, 0.0, 7.0]])
    for dtype in ("float32", "float64"):
        a = x.astype(dtype)
        for axis in (None, 0, 1):
            for fn, ref in [(T.min, np.min), (T.max, np.max), (T.argmax, np.argmax),
                            (T.argmin, np.argmin), (T.mean, np.mean), (T.var, np.var),
                            (T.prod, np.prod), (T.all, np.all), (T.any, np.any), (T.ptp, np.ptp),
                            (T.cumsum, np.cumsum), (T.cumprod, np.cumprod)]:
                check(lambda v: fn(v, axis=axis), lambda v: ref(v, axis=axis), a)
    # Infinities and NaN: argmax of an all -inf row is its first element; NaN still wins.
    inf = np.array([[-np.inf, -np.inf], [np.inf, np.nan], [np.nan, np.inf]])
    for fn, ref in [(T.argmax, np.argmax), (T.argmin, np.argmin)]:
        check(lambda v: fn(v, axis=1), lambda v: ref(v, axis=1), inf)
    check(lambda v: T.min(v, axis=1), lambda v: np.min(v, axis=1), -inf)


def test_integer_overflow_wraps_and_dtype_argument():
    big = np.array([2 ** 40, 2 ** 30], dtype="int64")
    check(T.prod, np.prod, big)
    check(lambda a: T.prod(a, dtype="int8"), lambda a: np.prod(a, dtype="int8"),
          np.array([5, 7, 3], dtype="int32"))
    check(T.cumprod, np.cumprod, np.array([100, 100, 100, 100, 100], dtype="uint8"))


def test_empty_reductions_with_identity_and_without():
    e = np.zeros((0, 3), "float64")
    for fn, ref in [(T.prod, np.prod), (T.all, np.all), (T.any, np.any), (T.mean, np.mean),
                    (T.var, np.var), (T.cumsum, np.cumsum)]:
        check(lambda a: fn(a, axis=0), lambda a: ref(a, axis=0), e)
        check(fn, ref, e)
    # Reducing a non-empty axis of an empty array is fine; an empty axis is refused at run time.
    check(lambda a: T.min(a, axis=1), lambda a: np.min(a, axis=1), e)
    for fn, name in [(T.min, "min"), (T.max, "max"), (T.argmax, "argmax"),
                     (T.argmin, "argmin")]:
        x = symbolic(e, "x")
        f = theano.function([x], fn(x, axis=0))
        with pytest.raises(InvalidArgument, match=r"%s of an empty array \(shape \(0, 3\)" % name):
            f(e)


def test_bad_axes_and_attrs_are_invalid_argument_at_compile_time():
    x = T.matrix("x")
    for op in ("prod", "min", "all", "argmax", "mean", "var"):
        bad = Reduction(op, (2,), lambda d: d)(x)
        with pytest.raises(InvalidArgument, match="axis 2 is out of range"):
            theano.function([x], bad)
        with pytest.raises(ValueError, match="out of range"):  # the client refuses it first
            getattr(T, op)(x, axis=-3)
    with pytest.raises(InvalidArgument, match="repeated axis"):
        theano.function([x], Reduction("min", (1, 1), lambda d: d)(x))
    with pytest.raises(InvalidArgument, match="ddof must be >= 0"):
        theano.function([x], Reduction("var", None, lambda d: d, {"ddof": -1})(x))
    bad_scan = CumOp(None, "add")
    bad_scan.mode = "div"
    with pytest.raises(InvalidArgument, match="mode must be 'add' or 'mul'"):
        theano.function([x], bad_scan(x))
    with pytest.raises(InvalidArgument, match="axis 3 is out of range"):
        theano.function([x], CumOp(3, "add")(x))
    with pytest.raises(TypeError, match="not defined for bool"):  # client or server
        b = T.tensor("bool", (False,), name="b")
        theano.function([b], T.ptp(b))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "bool"])
def test_long_rows_split_over_threads(rng, dtype):
    """Rows long enough to be folded in lanes and split over the intra-op threads: the same
    answers as NumPy, NaN included wherever it sits."""
    n = 300_001  # odd: a tail after the lanes and after the ranges
    x = sample(rng, (n,), dtype) if dtype != "float32" else rng.uniform(-1, 1, n).astype(dtype)
    v = T.vector(dtype=dtype)
    outs = [v.sum(), v.max(), v.min(), v.prod(), v.all(), v.any()]
    got = theano.function([v], outs)(x)
    # float32 sums accumulate in double here: compare with NumPy's double sum.
    total = x.sum(dtype="float64").astype(x.dtype) if dtype == "float32" else x.sum()
    want = [total, x.max(), x.min(), x.prod(), x.all(), x.any()]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-6 if dtype == "float32" else 1e-12)
    if dtype.startswith("float"):
        for at in (0, n // 2, n - 1):  # in the first range, a middle one, the tail
            y = x.copy()
            y[at] = np.nan
            s, mx, mn = theano.function([v], [v.sum(), v.max(), v.min()])(y)
            assert np.isnan(s) and np.isnan(mx) and np.isnan(mn), at


@pytest.mark.parametrize("axis", [None, 0, 1, 2, -1, (0, 1), (0, 2), (1, 2)])
def test_large_3d_reductions_split_over_threads(rng, axis):
    """Big enough to split: whole contiguous arrays as one row, kept outer dimensions over the
    threads; strided and size-1 cases alike."""
    x = rng.uniform(-1, 1, (63, 65, 67))  # rows past a multiple of 4, blocks past 2048
    v = T.tensor3(dtype="float64")
    sums = theano.function([v], [v.sum(axis=axis), v.max(axis=axis), v[:, ::2].min(axis=axis),
                                 v[:1].sum(axis=axis), v.mean(axis=axis), v.var(axis=axis),
                                 v[:, :, ::3].std(axis=axis)])
    got = sums(x)
    want = [x.sum(axis=axis), x.max(axis=axis), x[:, ::2].min(axis=axis), x[:1].sum(axis=axis),
            x.mean(axis=axis), x.var(axis=axis), x[:, :, ::3].std(axis=axis)]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)
    # float32 sums and means accumulate in double, split or not.
    f = T.tensor3(dtype="float32")
    x32 = x.astype("float32")
    got = theano.function([f], [f.sum(axis=axis), f.mean(axis=axis)])(x32)
    for g, w in zip(got, [x32.sum(axis=axis, dtype="float64"),
                          x32.mean(axis=axis, dtype="float64")]):
        assert g.dtype == np.float32
        np.testing.assert_allclose(g, w.astype("float32"), rtol=1e-6)


def test_leading_axes_fold_groups_of_rows_and_narrow_tall_arrays():
    """Reductions over leading axes fold four rows at a time into column blocks: NaN anywhere
    in a group (or in the last, shorter one) still wins; a tall array too narrow for a block
    per thread takes the kept dimension's split instead; both as NumPy."""
    rng = np.random.default_rng(3)
    m = T.dmatrix()
    outs = [m.sum(axis=0), m.max(axis=0), m.min(axis=0), m.mean(axis=0), m.var(axis=0),
            m.std(axis=0), m.prod(axis=0)]
    refs = [np.sum, np.max, np.min, np.mean, np.var, np.std, np.prod]
    f = theano.function([m], outs)
    for shape in [(9, 3000), (300_001, 4), (5, 70_001)]:
        x = rng.uniform(0.5, 1.5, shape)
        for g, ref in zip(f(x), refs):
            np.testing.assert_allclose(g, ref(x, axis=0), rtol=1e-9)
    x = rng.uniform(-1, 1, (9, 3000))
    x[5, 7] = x[8, 2999] = np.nan  # inside a group of four rows; in the last group of one
    got = f(x)
    for g, ref in zip(got[:3], refs[:3]):
        np.testing.assert_array_equal(np.isnan(g), np.isnan(ref(x, axis=0)))
    # Integer and bool folds on the same path.
    i = T.imatrix()
    xi = rng.integers(-3, 4, (9, 3000)).astype("int32")
    gi = theano.function([i], [i.sum(axis=0), i.prod(axis=0), T.all(i, axis=0),
                               T.any(i, axis=0)])(xi)
    for g, w in zip(gi, [xi.sum(axis=0), xi.prod(axis=0), xi.all(axis=0), xi.any(axis=0)]):
        np.testing.assert_array_equal(g, w)


def test_var_and_std_of_large_arrays_over_all_axes():
    x = np.random.default_rng(4).uniform(-1, 1, (257, 1031)) + 1e3
    v = T.dmatrix()
    got = theano.function([v], [v.var(), v.std(), v[:, ::2].var()])(x)
    np.testing.assert_allclose(got, [x.var(), x.std(), x[:, ::2].var()], rtol=1e-9)
