"""The gradient of a scan whose step draws random numbers (dropout inside an RNN step): the
scan keeps only the final generator state, so the gradient replays the forward scan to get
each step's draws. With the state held fixed (no updates), the function is deterministic and
its gradient must match central finite differences."""

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from tensord.sandbox.rng_mrg import MRG_RandomStreams

pytestmark = pytest.mark.usefixtures("server")


def _dropout_rnn():
    srng = MRG_RandomStreams(seed=1234)
    W = T.dmatrix("W")
    xs = T.dmatrix("xs")
    h0 = T.dvector("h0")

    def step(x_t, h_prev, W):
        mask = srng.binomial(size=h_prev.shape, p=0.6, dtype="float64")
        return T.tanh(T.dot(x_t, W) + h_prev * mask)

    hs, updates = theano.scan(step, sequences=xs, outputs_info=h0, non_sequences=W)
    return W, xs, h0, hs, updates


def test_gradient_uses_the_draws_of_each_step():
    W, xs, h0, hs, updates = _dropout_rnn()
    assert len(updates) == 1  # the generator state, advanced by the scan
    cost = (hs ** 2).sum()
    f = theano.function([W, xs, h0], [cost, T.grad(cost, W)], no_default_updates=True)
    rng = np.random.RandomState(0)
    w, x, h = rng.randn(3, 4), rng.randn(6, 3), rng.randn(4)
    value, grad = f(w, x, h)
    # Deterministic: the state is not advanced, so the same masks are drawn every call.
    np.testing.assert_allclose(f(w, x, h)[0], value)
    numeric = np.zeros_like(w)
    eps = 1e-6
    for i in np.ndindex(*w.shape):
        up, down = w.copy(), w.copy()
        up[i] += eps
        down[i] -= eps
        numeric[i] = (f(up, x, h)[0] - f(down, x, h)[0]) / (2 * eps)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)


def test_masks_differ_between_steps_and_calls_with_updates():
    W, xs, h0, hs, updates = _dropout_rnn()
    f = theano.function([W, xs, h0], hs, updates=updates)
    w, x = np.eye(3, 4), np.zeros((6, 3))
    h = np.full(4, 0.5)
    # With x = 0, h_t = tanh(h_{t-1} * mask_t): zeros mark dropped units.
    first, second = f(w, x, h), f(w, x, h)
    assert not np.array_equal(first, second)
    assert (first == 0).any() and (first != 0).any()
