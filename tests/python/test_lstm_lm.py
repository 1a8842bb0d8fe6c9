"""The LSTM language model of clients/python/examples/lstm_lm.py (issue 6): its loss equals a
NumPy forward pass, its gradient passes verify_grad, and training lowers the loss."""

import os
import sys

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "clients", "python",
                                "examples"))
import lstm_lm  # noqa: E402

pytestmark = pytest.mark.usefixtures("server")


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def numpy_loss(params, x, y):
    """The model's loss written out in NumPy (the independent reference)."""
    Wemb, W, U, b, Wout, bout = params
    h_dim = U.shape[0]
    below = Wemb[x] @ W + b  # (steps, batch, 4h)
    h = np.zeros((x.shape[1], h_dim), below.dtype)
    c = np.zeros_like(h)
    hs = []
    for t in range(x.shape[0]):
        pre = below[t] + h @ U
        i, f, o = (_sigmoid(pre[:, k * h_dim:(k + 1) * h_dim]) for k in range(3))
        c = f * c + i * np.tanh(pre[:, 3 * h_dim:])
        h = o * np.tanh(c)
        hs.append(h)
    logits = np.concatenate(hs) @ Wout + bout
    logits -= logits.max(axis=1, keepdims=True)
    logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return -logp[np.arange(len(logp)), y.reshape(-1)].mean()


def test_loss_matches_numpy_and_training_lowers_it():
    ids, vocab = lstm_lm.encode(lstm_lm.CORPUS)
    inputs, loss, updates, params = lstm_lm.build_training_step(len(vocab))
    fn = theano.function(inputs, loss, updates=updates)
    rng = np.random.RandomState(1)
    x, y = lstm_lm.batches(ids, 12, 4, rng)
    before = [p.get_value() for p in params]
    first = fn(x, y)
    np.testing.assert_allclose(first, numpy_loss(before, x, y), rtol=1e-4)
    # The step applied SGD: every parameter moved.
    for p, old in zip(params, before):
        assert not np.allclose(p.get_value(), old), p.name
    losses = [fn(*lstm_lm.batches(ids, 12, 4, rng)) for _ in range(200)]
    # From ln(vocabulary) (uniform guessing) to well under half of it.
    assert np.mean(losses[-10:]) < 0.5 * first, (first, losses[-10:])


def test_gradient_through_the_lstm_matches_finite_differences():
    rng = np.random.RandomState(2)
    x = rng.randint(0, 5, size=(4, 2)).astype("int32")
    y = rng.randint(0, 5, size=(4, 2)).astype("int32")
    h = 3
    Wemb = rng.randn(5, 4) * 0.5
    Wout = rng.randn(h, 5) * 0.5

    def cost(W, U, b):
        emb = T.constant(Wemb)[T.constant(x).flatten()].reshape((4, 2, 4))
        below = T.dot(emb, W) + b

        hs = lstm_lm.lstm(below, U, h, 2, dtype="float64")
        logits = T.dot(hs.reshape((8, h)), T.constant(Wout))
        return T.mean(T.nnet.categorical_crossentropy(T.nnet.softmax(logits),
                                                      T.constant(y.reshape(-1))))

    T.verify_grad(cost, [rng.randn(4, 4 * h) * 0.5, rng.randn(h, 4 * h) * 0.5,
                         rng.randn(4 * h) * 0.1], rng=rng)
