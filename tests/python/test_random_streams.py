"""RandomStreams (tensord.tensor.shared_randomstreams): distributions against NumPy statistics
on 1e5 samples, state semantics (reproducible per seed, advancing per call, seed(),
get_value/set_value replay, no_default_updates) and bad input."""

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from tensord.errors import InvalidArgument
from tensord.tensor.shared_randomstreams import RandomStreams

pytestmark = pytest.mark.usefixtures("server")

N = 100000


def ks_statistic(samples, cdf):
    """Kolmogorov-Smirnov distance between the samples' empirical CDF and `cdf`."""
    x = np.sort(np.asarray(samples, dtype=np.float64))
    F = cdf(x)
    n = len(x)
    return max((np.arange(1, n + 1) / n - F).max(), (F - np.arange(n) / n).max())


def normal_cdf(x):
    from math import erf
    return 0.5 * (1 + np.vectorize(erf)(x / np.sqrt(2)))


# The 0.1% critical value of the one-sample KS test is about 1.95 / sqrt(n).
KS_LIMIT = 1.95 / np.sqrt(N)


def draw(rv, *args):
    return theano.function([], rv)(*args)


def test_uniform_is_uniform():
    u = RandomStreams(seed=1).uniform(size=(N,), low=2.0, high=4.0)
    assert u.dtype == theano.config.floatX
    v = draw(u)
    assert v.shape == (N,) and v.min() >= 2.0 and v.max() < 4.0
    assert ks_statistic(v, lambda x: (x - 2.0) / 2.0) < KS_LIMIT
    ref = np.random.RandomState(0).uniform(2.0, 4.0, N)
    assert abs(v.mean() - ref.mean()) < 0.02 and abs(v.var() - ref.var()) < 0.01


def test_normal_is_normal():
    z = RandomStreams(seed=2).normal(size=(N // 100, 100), avg=3.0, std=0.5, dtype="float64")
    v = draw(z).reshape(-1)
    assert ks_statistic((v - 3.0) / 0.5, normal_cdf) < KS_LIMIT
    assert abs(v.mean() - 3.0) < 0.01 and abs(v.std() - 0.5) < 0.01


@pytest.mark.parametrize("n,p", [(1, 0.3), (10, 0.5), (200, 0.05), (100, 0.9)])
def test_binomial_moments(n, p):
    b = RandomStreams(seed=3).binomial(size=(N,), n=n, p=p)
    assert b.dtype == "int64"
    v = draw(b)
    assert v.min() >= 0 and v.max() <= n
    ref = np.random.RandomState(0).binomial(n, p, N)
    tol = 4 * np.sqrt(n * p * (1 - p) / N) + 1e-9
    assert abs(v.mean() - n * p) < tol and abs(ref.mean() - n * p) < tol
    assert abs(v.var() - ref.var()) < 0.05 * n * p * (1 - p) + 1e-9


def test_binomial_broadcasts_n_and_p():
    p = T.dvector("p")
    b = RandomStreams(seed=4).binomial(size=(N // 10, 3), n=[1, 5, 20], p=p)
    v = theano.function([p], b)(np.array([0.5, 0.2, 0.9]))
    np.testing.assert_allclose(v.mean(axis=0), [0.5, 1.0, 18.0], atol=0.05)
    assert (v.max(axis=0) <= [1, 5, 20]).all()


def test_multinomial_rows_sum_to_n_with_the_right_frequencies():
    pvals = np.array([0.1, 0.2, 0.3, 0.4])
    m = RandomStreams(seed=5).multinomial(size=(N // 10,), n=10, pvals=pvals)
    v = draw(m)
    assert v.shape == (N // 10, 4) and v.dtype == np.int64
    assert (v.sum(axis=1) == 10).all()
    np.testing.assert_allclose(v.mean(axis=0) / 10, pvals, atol=0.005)
    batch = RandomStreams(seed=5).multinomial(n=[3, 7], pvals=[[0.5, 0.5], [1.0, 0.0]])
    b = draw(batch)
    np.testing.assert_array_equal(b.sum(axis=1), [3, 7])
    np.testing.assert_array_equal(b[1], [7, 0])


def test_choice_forms():
    srng = RandomStreams(seed=6)
    v = draw(srng.choice(size=(N,), a=5, p=[0.1, 0.1, 0.2, 0.2, 0.4]))
    np.testing.assert_allclose(np.bincount(v, minlength=5) / N, [0.1, 0.1, 0.2, 0.2, 0.4],
                               atol=0.01)
    unique = draw(srng.choice(size=(50,), a=50, replace=False))
    assert sorted(unique) == list(range(50))
    values = draw(srng.choice(size=(4, 3), a=np.array([10.0, 20.0, 30.0, 40.0, 50.0, 60.0,
                                                       70.0, 80.0, 90.0, 100.0, 110.0, 120.0]),
                              replace=False, dtype="float64"))
    assert values.shape == (4, 3) and len(set(values.reshape(-1))) == 12
    weighted = draw(srng.choice(size=(3,), a=4, replace=False, p=[0.0, 0.5, 0.25, 0.25]))
    assert sorted(weighted) == [1, 2, 3]
    assert draw(srng.choice(a=3)).shape == ()


def test_random_integers_cover_the_closed_range():
    v = draw(RandomStreams(seed=8).random_integers(size=(N,), low=-2, high=3))
    assert v.dtype == np.int64 and v.min() == -2 and v.max() == 3
    np.testing.assert_allclose(np.bincount(v + 2) / N, np.full(6, 1 / 6), atol=0.01)
    lo = T.lvector("lo")
    w = theano.function([lo], RandomStreams(seed=8).random_integers(low=lo, high=10))(
        np.array([10, 0]))
    assert w.shape == (2,) and w[0] == 10 and 0 <= w[1] <= 10
    with pytest.raises(TypeError, match="integer"):
        RandomStreams(seed=8).random_integers(size=(2,), low=0.5)


def test_permutation_rows_are_permutations():
    v = draw(RandomStreams(seed=7).permutation(size=(200, 3), n=10))
    assert v.shape == (200, 3, 10) and v.dtype == np.int64
    assert (np.sort(v, axis=-1) == np.arange(10)).all()
    first = v[:, :, 0].reshape(-1)
    assert set(first) == set(range(10))  # every value leads some permutation
    assert draw(RandomStreams(seed=7).permutation(n=4)).shape == (4,)


def test_same_seed_same_numbers_and_calls_advance():
    a, b = RandomStreams(seed=234), RandomStreams(seed=234)
    fa = theano.function([], a.uniform((3, 2)))
    fb = theano.function([], b.uniform((3, 2)))
    first, second = fa(), fa()
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(fb(), first)
    np.testing.assert_array_equal(fb(), second)
    other = theano.function([], RandomStreams(seed=235).uniform((3, 2)))()
    assert not np.array_equal(other, first)


def test_seed_restarts_every_stream():
    srng = RandomStreams(seed=10)
    u, n = srng.uniform((4,)), srng.normal((4,))
    f = theano.function([], [u, n])
    first = f()
    f()
    srng.seed(10)
    np.testing.assert_array_equal(f()[0], first[0])
    srng.seed(11)
    assert not np.array_equal(f()[0], first[0])
    srng.seed()  # back to the constructor's seed
    np.testing.assert_array_equal(f()[1], first[1])


def test_get_value_set_value_replays_draws():
    srng = RandomStreams(seed=12)
    u = srng.uniform((5,))
    f = theano.function([], u)
    saved = u.rng.get_value()
    first, second = f(), f()
    u.rng.set_value(saved)
    np.testing.assert_array_equal(f(), first)
    np.testing.assert_array_equal(f(), second)


def test_no_default_updates_and_explicit_updates():
    srng = RandomStreams(seed=234)
    rv_u, rv_n = srng.uniform((2, 2)), srng.normal((2, 2))
    g = theano.function([], rv_n, no_default_updates=True)
    np.testing.assert_array_equal(g(), g())
    h = theano.function([], [rv_u, rv_n], no_default_updates=[rv_u.rng])
    u1, n1 = h()
    u2, n2 = h()
    np.testing.assert_array_equal(u1, u2)
    assert not np.array_equal(n1, n2)
    # An explicit update of the state wins over its default update.
    keep = theano.function([], rv_u, updates=[(rv_u.rng, rv_u.rng)])
    np.testing.assert_array_equal(keep(), keep())
    # rv_u + rv_u - 2 * rv_u draws once per call: the same numbers everywhere.
    np.testing.assert_allclose(theano.function([], rv_u + rv_u - 2 * rv_u)(), 0, atol=1e-6)


def test_size_from_a_symbolic_shape():
    x = T.matrix("x")
    mask = RandomStreams(seed=13).binomial(size=x.shape, p=0.5, dtype=theano.config.floatX)
    v = theano.function([x], mask)(np.zeros((3, 7), dtype=theano.config.floatX))
    assert v.shape == (3, 7) and set(np.unique(v)) <= {0.0, 1.0}


def test_build_time_errors():
    srng = RandomStreams(seed=1)
    with pytest.raises(ValueError, match="size"):
        srng.uniform(size=(2, -3))
    with pytest.raises(TypeError, match="size"):
        srng.uniform(size=(2.0, 3))
    with pytest.raises(TypeError, match="size"):
        srng.uniform(size=T.dvector())
    with pytest.raises(TypeError, match="size"):
        srng.uniform(size="3")
    with pytest.raises(ValueError, match=r"p must be probabilities in \[0, 1\]"):
        srng.binomial(size=(3,), p=1.5)
    with pytest.raises(ValueError, match="sum to 1"):
        srng.multinomial(size=(2,), pvals=[0.5, 0.6])
    with pytest.raises(ValueError, match="at least 1 dimension"):
        srng.multinomial(size=(2,), pvals=0.5)
    with pytest.raises(ValueError, match="replace=False"):
        srng.choice(size=(5,), a=3, replace=False)
    with pytest.raises(ValueError, match="same size"):
        srng.choice(size=(2,), a=3, p=[0.5, 0.5])
    with pytest.raises(TypeError, match="dtype"):
        srng.uniform(size=(2,), dtype="int32")


def test_run_time_errors_are_invalid_argument():
    srng = RandomStreams(seed=1)
    n, p, k = T.lscalar("n"), T.dscalar("p"), T.lvector("k")
    with pytest.raises(InvalidArgument, match=r"p must be in \[0, 1\]"):
        theano.function([p], srng.binomial(size=(3,), p=p))(1.5)
    with pytest.raises(InvalidArgument, match="negative"):
        theano.function([k], srng.uniform(size=k, ndim=2))(np.array([2, -1]))
    with pytest.raises(InvalidArgument, match="replace=False"):
        theano.function([n], srng.choice(size=(n,), a=4, replace=False))(5)
    pv = T.dmatrix("pv")
    with pytest.raises(InvalidArgument, match="sum to 1"):
        theano.function([pv], srng.multinomial(n=2, pvals=pv))(np.array([[0.3, 0.3]]))
    with pytest.raises(InvalidArgument, match="n must be >= 0"):
        theano.function([n], srng.permutation(n=n))(-1)
    # Exact O(n) paths are bounded: a huge n is refused instead of occupying the server.
    with pytest.raises(InvalidArgument, match="limit"):
        theano.function([n], srng.binomial(size=(2,), n=n, p=0.5))(2 ** 40)
    with pytest.raises(InvalidArgument, match="limit"):
        theano.function([n], srng.multinomial(size=(2,), n=n, pvals=[0.5, 0.5]))(2 ** 40)
    # A state replaced by a value of the wrong shape is refused by the op, not trusted.
    bad = srng.uniform((2,))
    bad.rng.set_value(np.zeros((1, 5), dtype="int32"))
    with pytest.raises(InvalidArgument, match=r"shape \(streams, 6\)"):
        theano.function([], bad)()
    # The server re-checks what the client builds: pvals of too many dims for the size.
    from tensord.tensor.raw_random import RandomFunction
    state = theano.shared(np.ones((1, 6), dtype="int32"))
    pvals3 = T.dtensor3("pvals3")
    with pytest.raises(InvalidArgument, match="pvals must have between 1 and 2 dims"):
        theano.function([pvals3], RandomFunction("random_multinomial", "int64", 1, 1)(
            state, T.constant(np.array([2])), T.constant(np.int64(1)), pvals3))
    # A failed call leaves the state alone; the server keeps serving.
    u = srng.uniform((2,))
    state = u.rng.get_value()
    with pytest.raises(InvalidArgument):
        theano.function([p], [u, srng.binomial(size=(1,), p=p)])(2.0)
    np.testing.assert_array_equal(u.rng.get_value(), state)


# ---- the state's value as Theano's RandomState (issue 17, item 9) ----

def test_seeding_a_stream_through_its_rng_value_as_the_tutorial():
    srng = RandomStreams(seed=234)
    rv_u = srng.uniform((2, 2))
    f = theano.function([], rv_u)
    rng_val = rv_u.rng.get_value(borrow=True)
    rng_val.seed(89234)
    rv_u.rng.set_value(rng_val, borrow=True)
    first = f()
    rng_val.seed(89234)
    rv_u.rng.set_value(rng_val, borrow=True)
    np.testing.assert_array_equal(f(), first)
    rng_val.seed(1)
    rv_u.rng.set_value(rng_val, borrow=True)
    assert not np.array_equal(f(), first)


def test_sharing_streams_between_functions_as_the_tutorial():
    srng = RandomStreams(seed=234)
    rv_u = srng.uniform((2, 2))
    f = theano.function([], rv_u)
    nearly_zeros = theano.function([], rv_u + rv_u - 2 * rv_u)
    state_after_v0 = rv_u.rng.get_value().get_state()
    nearly_zeros()  # advances rv_u's generator
    v1 = f()
    rng = rv_u.rng.get_value(borrow=True)
    rng.set_state(state_after_v0)
    rv_u.rng.set_value(rng, borrow=True)
    v2, v3 = f(), f()
    assert not np.array_equal(v1, v2)
    np.testing.assert_array_equal(v1, v3)
    with pytest.raises(ValueError, match="set_state"):
        rng.set_state(np.zeros(3))


def test_srng_seed_reseeds_every_stream():
    srng = RandomStreams(seed=5)
    u, n = srng.uniform((3,)), srng.normal((3,))
    f = theano.function([], [u, n])
    first = f()
    f()
    srng.seed(5)
    for got, want in zip(f(), first):
        np.testing.assert_array_equal(got, want)
