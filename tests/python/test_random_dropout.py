"""Dropout in a training loop: a small MLP trained by SGD on shared weights with a fresh
binomial mask per call (drawn on the server, the state advanced by its default update). The
masked gradient is checked against NumPy with the mask the function returns."""

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from tensord.sandbox.rng_mrg import MRG_RandomStreams
from tensord.tensor.shared_randomstreams import RandomStreams

pytestmark = pytest.mark.usefixtures("server")

floatX = theano.config.floatX


def _data(rng, n=128, d=6):
    X = rng.randn(n, d).astype(floatX)
    y = (np.sin(X[:, 0]) + X[:, 1] * X[:, 2] > 0).astype(floatX)
    return X, y


@pytest.mark.parametrize("streams", [RandomStreams, MRG_RandomStreams])
def test_mlp_with_dropout_trains_and_masks_change(streams):
    rng = np.random.RandomState(0)
    X, Y = _data(rng)
    hidden, keep, lr = 32, 0.8, np.float32(0.5)
    W1 = theano.shared((rng.randn(6, hidden) * 0.5).astype(floatX), name="W1")
    b1 = theano.shared(np.zeros(hidden, dtype=floatX), name="b1")
    W2 = theano.shared((rng.randn(hidden) * 0.5).astype(floatX), name="W2")
    srng = streams(seed=42)

    x, y = T.matrix("x"), T.vector("y")
    h = T.tanh(T.dot(x, W1) + b1)
    mask = srng.binomial(size=h.shape, p=keep, dtype=floatX)
    h_drop = h * mask / np.float32(keep)
    p = T.nnet.sigmoid(T.dot(h_drop, W2))
    loss = T.mean(T.nnet.binary_crossentropy(p, y))
    params = [W1, b1, W2]
    grads = T.grad(loss, params)
    train = theano.function([x, y], [loss, mask],
                            updates=[(w, w - lr * g) for w, g in zip(params, grads)])
    # Evaluation without dropout: the same graph with the mask replaced by ones.
    p_eval = T.nnet.sigmoid(T.dot(h, W2))
    evaluate = theano.function([x, y], T.mean(T.nnet.binary_crossentropy(p_eval, y)))

    start = float(evaluate(X, Y))
    w1, bb1, w2 = W1.get_value(), b1.get_value(), W2.get_value()
    loss0, mask0 = train(X, Y)
    # One step checked against NumPy with the mask the server drew.
    hh = np.tanh(X @ w1 + bb1)
    hd = hh * mask0 / keep
    pp = 1 / (1 + np.exp(-(hd @ w2)))
    np.testing.assert_allclose(loss0, np.mean(-(Y * np.log(pp) + (1 - Y) * np.log(1 - pp))),
                               rtol=1e-4)
    g_w2 = hd.T @ (pp - Y) / len(Y)
    np.testing.assert_allclose(W2.get_value(), w2 - lr * g_w2, rtol=1e-3, atol=1e-5)

    masks = [mask0]
    for _ in range(60):
        masks.append(train(X, Y)[1])
    assert masks[0].shape == (128, hidden) and set(np.unique(masks[0])) <= {0.0, 1.0}
    assert all(not np.array_equal(a, b) for a, b in zip(masks, masks[1:]))
    assert abs(np.mean(masks) - keep) < 0.01
    assert float(evaluate(X, Y)) < 0.8 * start
