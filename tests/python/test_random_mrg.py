"""MRG_RandomStreams: the server's MRG31k3p against a NumPy implementation written here and
against L'Ecuyer's Java reference samples (the file Theano's own tests compare with), Theano's
stream layout and seeding, and the MRG-specific signatures."""

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from tensord.sandbox import rng_mrg
from tensord.sandbox.rng_mrg import MRG_RandomStreams

pytestmark = pytest.mark.usefixtures("server")

M1, M2 = 2147483647, 2147462579

# The first values of Theano's samples_MRG31k3p_12_7_5.txt, produced by L'Ecuyer's Java code
# from seed [12345] * 6: stream 0, substreams 0 and 1 (5 draws each), then stream 1's first.
JAVA_STREAM0_SUB0 = [0.7353244530968368, 0.6142074400559068, 0.11007806099951267,
                     0.6487741703167558, 0.36619443260133266]
JAVA_STREAM0_SUB1 = [0.2585685825906694, 0.9489980279468, 0.4309556516818702,
                     0.12257590936496854, 0.9760319022461772]
JAVA_STREAM1_FIRST = 0.5180770065635443


def numpy_mrg31k3p(states, n, dtype):
    """Reference MRG31k3p over a (streams, 6) state, vectorized across streams: draw j comes from
    stream j % streams. Uses the textbook recurrences with int64 products (not the shift and
    mask form of the server), and Theano's conversion to floats."""
    s = np.array(states, dtype=np.int64)
    k = len(s)
    rounds = -(-n // k)
    raw = np.empty((rounds, k), dtype=np.int64)
    for r in range(rounds):
        n1 = ((1 << 22) * s[:, 1] + 129 * s[:, 2]) % M1
        n2 = ((1 << 15) * s[:, 3] + 32769 * s[:, 5]) % M2
        s = np.stack([n1, s[:, 0], s[:, 1], n2, s[:, 3], s[:, 4]], axis=1)
        d = n1 - n2
        raw[r] = np.where(d <= 0, d + M1, d)
    raw = raw.reshape(-1)[:n]
    if dtype == "float32":
        values = raw.astype(np.float32) * np.float32(4.6566126e-10)
    else:
        values = raw * 4.656612873077392578125e-10
    return values


def test_uniform_matches_lecuyer_java_reference():
    srng = MRG_RandomStreams(seed=12345)
    u = srng.uniform(size=(2,), nstreams=2, dtype="float64")  # substreams 0 and 1 of stream 0
    f = theano.function([], u)
    draws = np.array([f() for _ in range(5)])
    np.testing.assert_array_equal(draws[:, 0], JAVA_STREAM0_SUB0)
    np.testing.assert_array_equal(draws[:, 1], JAVA_STREAM0_SUB1)
    second = srng.uniform(size=(1,), nstreams=1, dtype="float64")  # the next stream (2^134)
    assert theano.function([], second)()[0] == JAVA_STREAM1_FIRST


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape,nstreams", [((1000,), None), ((7, 13), 5), ((3,), 10)])
def test_uniform_matches_numpy_reference(dtype, shape, nstreams):
    srng = MRG_RandomStreams(seed=4321)
    u = srng.uniform(size=shape, dtype=dtype, nstreams=nstreams)
    state0 = u.rng.get_value()
    got = theano.function([], u)()
    n = int(np.prod(shape))
    want = numpy_mrg31k3p(state0, n, dtype)
    assert got.dtype == dtype and got.shape == shape
    np.testing.assert_array_equal(got.reshape(-1), want)
    # Theano's layout: rows spaced 2^72 apart, then the instance state jumps 2^134.
    streams = nstreams or rng_mrg.guess_n_streams(shape)
    assert state0.shape == (streams, 6)
    np.testing.assert_array_equal(state0[0], np.full(6, 4321))
    if streams > 1:
        np.testing.assert_array_equal(state0[1], rng_mrg.ff_2p72(state0[0]))
    np.testing.assert_array_equal(srng.rstate, rng_mrg.ff_2p134(np.full(6, 4321)))


def test_uniform_state_advances_like_the_reference():
    srng = MRG_RandomStreams(seed=99)
    u = srng.uniform(size=(12,), nstreams=4, dtype="float64")
    state0 = u.rng.get_value()
    f = theano.function([], u)
    first, second = f(), f()
    want = numpy_mrg31k3p(state0, 24, "float64")
    np.testing.assert_array_equal(np.concatenate([first, second]), want)
    assert not np.array_equal(u.rng.get_value(), state0)


def test_low_high_dtype_and_range():
    srng = MRG_RandomStreams(seed=3)
    u = srng.uniform(size=(20000,), low=-2.0, high=5.0)
    assert u.dtype == theano.config.floatX
    v = theano.function([], u)()
    assert v.min() > -2.0 and v.max() < 5.0
    assert abs(v.mean() - 1.5) < 0.05
    assert srng.uniform((2,), dtype="float64").dtype == "float64"
    assert srng.uniform((2,), low=np.float64(0), high=1.0).dtype == "float64"


def test_normal_is_theanos_box_muller_of_the_uniforms():
    srng = MRG_RandomStreams(seed=7)
    z = srng.normal(size=(5, 3), avg=1.0, std=2.0, dtype="float64", nstreams=4)
    state0 = z.rng.get_value()
    got = theano.function([], z)()
    u = numpy_mrg31k3p(state0, 16, "float64")  # 15 samples -> 16 uniforms
    r = np.sqrt(-2.0 * np.log(u[:8]))
    t = 2.0 * np.pi * u[8:]
    want = np.concatenate([r * np.cos(t), r * np.sin(t)])[:15].reshape(5, 3)
    np.testing.assert_allclose(got, 1.0 + 2.0 * want, rtol=1e-12, atol=1e-12)
    assert srng.normal((4,)).rng.get_value().shape == (60 * 256, 6)


def test_normal_gradients_reach_avg_and_std():
    srng = MRG_RandomStreams(seed=8)
    avg, std = T.dscalar("avg"), T.dscalar("std")
    z = srng.normal(size=(100,), avg=avg, std=std, dtype="float64")
    g_avg, g_std = T.grad(z.sum(), [avg, std])
    f = theano.function([avg, std], [z, g_avg, g_std], no_default_updates=True)
    sample, ga, gs = f(3.0, 2.0)
    assert ga == pytest.approx(100.0)
    assert gs == pytest.approx(((sample - 3.0) / 2.0).sum())


def test_binomial_is_uniform_below_p_and_multinomial_choice_shapes():
    srng = MRG_RandomStreams(seed=11)
    b = srng.binomial(size=(4, 5), p=0.3)
    assert b.dtype == "int64"
    state0 = b.rng.get_value()
    got = theano.function([], b)()
    u = numpy_mrg31k3p(state0, 20, theano.config.floatX)
    np.testing.assert_array_equal(got.reshape(-1), (u < np.float32(0.3)).astype(np.int64))

    pvals = np.array([[0.2, 0.3, 0.5], [0.0, 1.0, 0.0]], dtype="float32")
    m = theano.function([], srng.multinomial(pvals=pvals, n=4))()
    assert m.shape == (2, 3) and m.dtype == np.int64
    np.testing.assert_array_equal(m.sum(axis=1), [4, 4])
    np.testing.assert_array_equal(m[1], [0, 4, 0])
    c = theano.function([], srng.choice(size=3, p=np.full((2, 5), 0.2), replace=False))()
    assert c.shape == (2, 3)
    assert all(len(set(row)) == 3 for row in c)


def test_mrg_build_time_errors():
    srng = MRG_RandomStreams(seed=1)
    with pytest.raises(ValueError, match="seed should not be 0"):
        MRG_RandomStreams(seed=0)
    with pytest.raises(ValueError):
        srng.uniform(size=(3, 0))
    with pytest.raises(ValueError):
        srng.uniform(size=(-2,))
    with pytest.raises(TypeError):
        srng.uniform(size=(2.5,))
    with pytest.raises(TypeError):
        srng.uniform(size=(2,), bogus=1)
    with pytest.raises(TypeError, match="pvals"):
        srng.multinomial()
    with pytest.raises(ValueError, match="size"):
        srng.multinomial(size=(2,), pvals=[[0.5, 0.5]])
    with pytest.raises(NotImplementedError):
        srng.multinomial(pvals=[0.5, 0.5])
    with pytest.raises(TypeError):
        srng.choice(size=2, a=3, p=[[0.5, 0.5]])


def test_seed_and_same_seed_streams():
    a, b = MRG_RandomStreams(seed=77), MRG_RandomStreams(seed=77)
    ua, na = a.uniform((6,)), a.normal((3,))
    ub = b.uniform((6,))
    fa = theano.function([], [ua, na])
    first = fa()
    np.testing.assert_array_equal(theano.function([], ub)(), first[0])
    second = fa()
    assert not np.array_equal(first[0], second[0])
    a.seed()  # the constructor's seed: every variable restarts
    np.testing.assert_array_equal(fa()[1], first[1])
    a.seed(78)
    assert not np.array_equal(fa()[0], first[0])
