"""Shared machinery of the conformance suite: build an expression, run it through the real
server, compare with NumPy.

Every test module here declares `OPS`, the set of wire op names (docs/ops.md) it exercises;
test_registry_coverage.py fails when a registered op is in no module's OPS.
"""

import numpy as np

import tensord as theano
import tensord.tensor as T

# Inputs of each kind of shape the suite runs every op on: 0-d, empty, odd sizes, broadcasting.
SHAPES = {
    "scalar": (),
    "vector": (5,),
    "empty": (0,),
    "matrix": (3, 4),
    "empty_matrix": (0, 3),
    "tensor3": (2, 3, 4),
}

FLOATS = ("float32", "float64")
INTS = ("int8", "int16", "int32", "int64", "uint8")
ALL_DTYPES = FLOATS + INTS + ("bool",)


def sample(rng, shape, dtype, low=-3, high=3):
    """Random data of a dtype; ints avoid 0 where tests divide, via `low`/`high`."""
    if dtype == "bool":
        return rng.integers(0, 2, size=shape).astype(bool)
    if np.dtype(dtype).kind in "iu":
        lo = max(low, np.iinfo(dtype).min)
        return rng.integers(lo, high + 1, size=shape).astype(dtype)
    return rng.uniform(low, high, size=shape).astype(dtype)


def symbolic(value, name):
    """A symbolic input with the value's dtype and rank (no broadcastable dims)."""
    return T.tensor(str(value.dtype), (False,) * value.ndim, name=name)


def run(build, *values):
    """Compiles build(*symbolic inputs) and runs it on `values`; returns the output(s)."""
    inputs = [symbolic(v, "x%d" % i) for i, v in enumerate(values)]
    out = build(*inputs)
    return theano.function(inputs, out)(*values)


def run_with_shapes(build, *values):
    """Like run, but the same function also returns each output's `.shape`, which the server
    answers from the op's shape rule where it declares one (the shape_of pass): each must be the
    shape the kernel produced. Returns the outputs."""
    inputs = [symbolic(v, "x%d" % i) for i, v in enumerate(values)]
    out = build(*inputs)
    outs = list(out) if isinstance(out, (list, tuple)) else [out]
    results = theano.function(inputs, outs + [o.shape for o in outs])(*values)
    got, shapes = results[: len(outs)], results[len(outs) :]
    for k, (g, shape) in enumerate(zip(got, shapes)):
        assert tuple(shape) == np.shape(g), "output %d: its shape rule says %s, the kernel made %s" % (
            k,
            tuple(shape),
            np.shape(g),
        )
    return got if isinstance(out, (list, tuple)) else got[0]


def check(build, reference, *values, rtol=1e-6, atol=1e-6):
    """Runs `build` on the server and `reference` in NumPy on the same values; compares dtype,
    shape and values (NaNs must match), and the shapes the op's shape rule gives."""
    got = run_with_shapes(build, *values)
    with np.errstate(all="ignore"):  # NumPy warns where it returns nan/inf; so do we
        want = reference(*values)
    if isinstance(want, (list, tuple)):
        assert isinstance(got, list) and len(got) == len(want)
        for g, w in zip(got, want):
            _compare(g, w, rtol, atol)
    else:
        _compare(got, want, rtol, atol)


def _compare(got, want, rtol, atol):
    want = np.asarray(want)
    got = np.asarray(got)
    assert got.dtype == want.dtype, "dtype %s, NumPy gives %s" % (got.dtype, want.dtype)
    assert got.shape == want.shape, "shape %s, NumPy gives %s" % (got.shape, want.shape)
    if want.dtype.kind == "f":
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, equal_nan=True)
    else:
        np.testing.assert_array_equal(got, want)


# ---- gradients (test_gradients*.py) ----
# Those modules also declare `GRAD_OPS`, the differentiable ops whose gradient rules they verify;
# test_registry_coverage.py fails when a differentiable op is in no module's GRAD_OPS.


def grad_check(fun, *pt, seed=0, **kwargs):
    """T.verify_grad(fun, pt) (Theano's defaults: central differences, two random projections)
    with a fixed rng."""
    T.verify_grad(fun, [np.asarray(p) for p in pt], rng=np.random.RandomState(seed), **kwargs)


def smooth(rng, shape, low=-2.0, high=2.0, dtype="float64"):
    return rng.uniform(low, high, size=shape).astype(dtype)


def nonzero(rng, shape, low=0.3, high=2.0, dtype="float64"):
    """Magnitudes in [low, high] with random signs: away from the kink of abs / sgn at 0."""
    signs = rng.choice([-1.0, 1.0], size=shape)
    return (signs * rng.uniform(low, high, size=shape)).astype(dtype)


def off_integers(rng, shape, low=-3, high=3, dtype="float64"):
    """Fractional parts in (0.1, 0.4) or (0.6, 0.9): away from the jumps of floor, ceil, trunc
    and both roundings (integers and halves)."""
    base = rng.integers(low, high, size=shape)
    frac = rng.uniform(0.1, 0.4, size=shape) + 0.5 * rng.integers(0, 2, size=shape)
    return (base + frac).astype(dtype)


def distinct(rng, shape, gap=0.3, dtype="float64"):
    """Values at least `gap` apart, shuffled: no ties for max / min / sort."""
    n = int(np.prod(shape, dtype=np.int64))
    values = (rng.permutation(n) - n / 2) * gap + rng.uniform(0, gap / 3, size=n)
    return values.reshape(shape).astype(dtype)
