"""The random ops over shapes (0-d, empty, odd), dtypes and strided parameters; samples are
checked against what NumPy's definition allows (ranges, row sums, permutations, uniqueness),
the distributions' statistics are in tests/python/test_random_*.py. Gradients: no gradient
flows through a draw (the grad rules return none), while costs built on samples still
differentiate wrt everything else, checked with verify_grad."""

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from tensord.sandbox.rng_mrg import MRG_RandomStreams
from tensord.tensor.raw_random import RandomFunction
from tensord.tensor.shared_randomstreams import RandomStreams

OPS = {"mrg_uniform", "random_normal", "random_binomial", "random_multinomial", "random_choice",
       "random_permutation"}
GRAD_OPS = set(OPS)

pytestmark = pytest.mark.usefixtures("server")

SIZES = [(), (0,), (5,), (3, 4), (0, 3), (2, 3, 5)]


def run(rv, *inputs_and_values):
    inputs = list(inputs_and_values[::2])
    return theano.function(inputs, rv)(*inputs_and_values[1::2])


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_uniform_and_normal_shapes(size, dtype):
    srng = RandomStreams(seed=1)
    u = run(srng.uniform(size=size, dtype=dtype))
    z = run(srng.normal(size=size, dtype=dtype))
    for v in (u, z):
        assert v.shape == size and v.dtype == dtype and np.isfinite(v).all()
    assert ((u > 0) & (u < 1)).all()


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("dtype", ["int64", "int8", "float32", "bool"])
def test_binomial_shapes_and_strided_parameters(size, dtype):
    srng = RandomStreams(seed=2)
    p = T.dvector("p")
    ndim = len(size)
    if ndim == 0:
        v = run(srng.binomial(size=size, n=3, p=0.4, dtype=dtype))
        assert v.shape == () and 0 <= v <= (1 if dtype == "bool" else 3)
        return
    last = size[-1]
    probs = np.linspace(0, 1, 2 * last)[::2]  # strided
    v = run(srng.binomial(size=size, n=3, p=p, dtype=dtype), p, probs)
    assert v.shape == size and v.dtype == dtype
    counts = v.astype(np.int64)
    assert counts.min(initial=0) >= 0 and counts.max(initial=0) <= 3
    if last and size[0]:
        assert (counts[..., 0] == 0).all()  # p = 0


@pytest.mark.parametrize("size,n", [((), 5), ((4,), 1), ((0,), 3), ((2, 3), 7), ((3,), 0)])
def test_multinomial_rows_sum_to_n(size, n):
    pvals = np.array([[0.25, 0.0, 0.75], [0.5, 0.5, 0.0]])[:, ::-1]  # strided, reversed
    srng = RandomStreams(seed=3)
    pv = T.dvector("pv")
    v = run(srng.multinomial(size=size, n=n, pvals=pv), pv, pvals[0].copy())
    assert v.shape == size + (3,) and v.dtype == np.int64
    assert (v.sum(axis=-1) == n).all() and (v[..., 1] == 0).all()
    m = T.dmatrix("m")
    rows = run(srng.multinomial(n=n, pvals=m), m, pvals)
    assert rows.shape == (2, 3) and (rows.sum(axis=1) == n).all()


@pytest.mark.parametrize("size", [(), (4,), (2, 3), (0,)])
@pytest.mark.parametrize("replace", [True, False])
def test_choice_values_come_from_a(size, replace):
    srng = RandomStreams(seed=4)
    a = np.arange(100, 124, dtype="int32")[::2]  # 12 values, strided
    av = T.ivector("a")
    v = run(srng.choice(size=size, a=av, replace=replace, dtype="int32"), av, a)
    assert v.shape == size and v.dtype == np.int32 and set(v.reshape(-1)) <= set(a)
    if not replace:
        assert len(set(v.reshape(-1))) == v.size


def test_mrg_choice_is_per_row():
    srng = MRG_RandomStreams(seed=5)
    p = T.dmatrix("p")
    probs = np.array([[0.0, 0.5, 0.5, 0.0], [0.25, 0.25, 0.25, 0.25]])
    v = run(srng.choice(size=2, p=p, replace=False), p, probs)
    assert v.shape == (2, 2)
    assert sorted(v[0]) == [1, 2] and len(set(v[1])) == 2


@pytest.mark.parametrize("size,n", [((), 6), ((3,), 1), ((2, 2), 5), ((0,), 4), ((3,), 0)])
def test_permutation_rows(size, n):
    v = run(RandomStreams(seed=6).permutation(size=size, n=n, dtype="int16"))
    assert v.shape == size + (n,) and v.dtype == np.int16
    assert (np.sort(v, axis=-1) == np.arange(n)).all()


def test_ops_refuse_a_bad_state_type():
    with pytest.raises(TypeError, match="state"):
        RandomFunction("mrg_uniform", "float32", 1)(T.dmatrix(), T.lvector())


def test_gradients_do_not_flow_through_draws():
    # Every op: d/dW sum(W * sample) == sample (the draw itself is constant), and a parameter
    # reaching the op only through it is disconnected.
    srng = RandomStreams(seed=7)
    W = T.dmatrix("W")
    p = T.dscalar("p")
    draws = [srng.uniform(size=W.shape, dtype="float64"),
             srng.normal(size=W.shape, dtype="float64"),
             srng.binomial(size=W.shape, p=p, dtype="float64"),
             srng.multinomial(size=W.shape[:1], n=2, pvals=[0.5, 0.5], dtype="float64"),
             srng.choice(size=W.shape, a=3, dtype="float64"),
             srng.permutation(size=W.shape[:1], n=2, dtype="float64")]
    for rv in draws:
        cost = (W * rv).sum() + (p * 0).sum()
        g_w, g_p = T.grad(cost, [W, p], disconnected_inputs="ignore")
        f = theano.function([W, p], [rv, g_w, g_p], no_default_updates=True,
                            on_unused_input="ignore")
        sample, gw, gp = f(np.ones((3, 2)), 0.5)
        np.testing.assert_array_equal(gw, sample)
        assert gp == 0


def test_verify_grad_through_a_fixed_dropout_mask():
    # With the state's default update removed (a plain attribute), the mask is the same on
    # every evaluation, so finite differences see a smooth function of x.
    srng = MRG_RandomStreams(seed=8)
    mask = srng.binomial(size=(3, 4), p=0.5, dtype="float64")
    state = mask.rng.get_value()
    mask.rng.default_update = None

    def masked(x):
        return T.tanh(x) * mask

    rng = np.random.RandomState(0)
    T.verify_grad(masked, [rng.randn(3, 4)], rng=rng)
    np.testing.assert_array_equal(mask.rng.get_value(), state)
