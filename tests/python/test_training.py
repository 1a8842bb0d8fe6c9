"""Training end to end: gradients from the server, updates on shared variables, compared step by
step with the same algorithm in NumPy; and verify_grad over the composite losses models use."""

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T

pytestmark = pytest.mark.usefixtures("server")


def _synthetic(rng, n=200, d=5):
    X = rng.randn(n, d).astype("float32")
    true_w = rng.randn(d).astype("float32")
    y = (X @ true_w + 0.3 * rng.randn(n) > 0).astype("float32")
    return X, y


def test_logistic_regression_sgd_matches_numpy_and_reduces_the_loss():
    rng = np.random.RandomState(1234)
    X, Y = _synthetic(rng)
    lr = np.float32(0.5)
    x, y = T.fmatrix("x"), T.fvector("y")
    w = theano.shared(np.zeros(5, dtype="float32"), name="w")
    b = theano.shared(np.float32(0.0), name="b")
    p = T.nnet.sigmoid(T.dot(x, w) + b)
    loss = T.mean(T.nnet.binary_crossentropy(p, y))
    gw, gb = T.grad(loss, [w, b])
    train = theano.function([x, y], loss, updates=[(w, w - lr * gw), (b, b - lr * gb)])

    w_ref, b_ref = np.zeros(5, dtype="float32"), np.float32(0.0)
    losses = []
    for _ in range(100):
        p_ref = 1 / (1 + np.exp(-(X @ w_ref + b_ref)))
        loss_ref = np.mean(-(Y * np.log(p_ref) + (1 - Y) * np.log(1 - p_ref)))
        losses.append(float(train(X, Y)))
        np.testing.assert_allclose(losses[-1], loss_ref, rtol=1e-4)
        w_ref = (w_ref - lr * (X.T @ (p_ref - Y)) / len(Y)).astype("float32")
        b_ref = np.float32(b_ref - lr * np.mean(p_ref - Y))
    np.testing.assert_allclose(w.get_value(), w_ref, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(b.get_value(), b_ref, rtol=1e-3, atol=1e-4)
    assert w.get_value().dtype == np.float32
    assert losses[-1] < 0.5 * losses[0]
    assert all(b <= a + 1e-6 for a, b in zip(losses, losses[1:]))


def test_verify_grad_logistic_regression_loss():
    rng = np.random.RandomState(0)
    X, Y = _synthetic(rng, n=8, d=3)
    X, Y = X.astype("float64"), Y.astype("float64")

    def loss(w, b):
        p = T.nnet.sigmoid(T.dot(X, w) + b)
        return T.mean(T.nnet.binary_crossentropy(p, Y))
    T.verify_grad(loss, [rng.randn(3), np.array(0.1)], rng=rng)


def test_verify_grad_mlp_loss():
    rng = np.random.RandomState(1)
    X = rng.randn(6, 4)
    Y = rng.randn(6, 2)

    def loss(W1, b1, W2, b2):
        h = T.tanh(T.dot(X, W1) + b1)
        out = T.dot(h, W2) + b2
        return T.mean((out - Y) ** 2)
    T.verify_grad(loss, [rng.randn(4, 5) * 0.5, rng.randn(5) * 0.1, rng.randn(5, 2) * 0.5,
                         rng.randn(2) * 0.1], rng=rng)


def test_verify_grad_softmax_cross_entropy_with_labels_and_one_hot():
    rng = np.random.RandomState(2)
    labels = np.array([0, 2, 1, 2], dtype="int64")
    one_hot = np.eye(3)[labels]

    def with_labels(logits):
        return T.mean(T.nnet.categorical_crossentropy(T.nnet.softmax(logits), labels))

    def with_one_hot(logits):
        return T.mean(T.nnet.categorical_crossentropy(T.nnet.softmax(logits), one_hot))
    logits = rng.randn(4, 3)
    T.verify_grad(with_labels, [logits], rng=rng)
    T.verify_grad(with_one_hot, [logits], rng=rng)
    T.verify_grad(lambda z: T.sum(T.nnet.log_softmax(z) * one_hot), [logits], rng=rng)


def test_softmax_cross_entropy_gradient_is_softmax_minus_one_hot():
    rng = np.random.RandomState(3)
    logits = rng.randn(4, 3)
    labels = np.array([0, 2, 1, 2], dtype="int64")
    z = T.dmatrix("z")
    loss = T.sum(T.nnet.categorical_crossentropy(T.nnet.softmax(z), labels))
    g = theano.function([z], T.grad(loss, z))(logits)
    sm = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    np.testing.assert_allclose(g, sm - np.eye(3)[labels], rtol=1e-10, atol=1e-12)
