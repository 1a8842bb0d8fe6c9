"""A LeNet-5-style convolutional network (two convolution + max-pooling layers, a tanh hidden
layer, softmax) trained with minibatch SGD through tensord, as the LeNet chapter of Theano's
deep learning tutorial builds it: T.nnet.conv2d and signal.pool.pool_2d run on the server
(oneDNN), whose gradient and SGD updates run there too. The data is synthetic and MNIST-shaped
(synthetic_digits.py), so nothing is downloaded.

    python clients/python/examples/lenet.py           # the tutorial's sizes
    python clients/python/examples/lenet.py --short   # a smaller run (CI)
"""

import numpy as np

import synthetic_digits
import tensord as theano
import tensord.tensor as T
from tensord.tensor.nnet import conv2d
from tensord.tensor.signal.pool import pool_2d


def _uniform(rng, shape, fan_in, fan_out, name):
    bound = np.sqrt(6.0 / (fan_in + fan_out))
    return theano.shared(rng.uniform(-bound, bound, size=shape).astype("float32"), name=name)


def _zeros(n, name):
    return theano.shared(np.zeros(n, "float32"), name=name)


class LeNet:
    """conv 5x5 -> max-pool 2x2 -> tanh, twice; a tanh hidden layer; softmax over 10 classes."""

    def __init__(self, rng, nkerns=(20, 50), hidden=500):
        k1, k2 = nkerns
        self.params = [
            _uniform(rng, (k1, 1, 5, 5), 25, k1 * 25 / 4, "W_conv1"), _zeros(k1, "b_conv1"),
            _uniform(rng, (k2, k1, 5, 5), k1 * 25, k2 * 25 / 4, "W_conv2"), _zeros(k2, "b_conv2"),
            _uniform(rng, (k2 * 16, hidden), k2 * 16, hidden, "W_hidden"), _zeros(hidden, "b_hidden"),
            theano.shared(np.zeros((hidden, 10), "float32"), name="W_out"), _zeros(10, "b_out"),
        ]

    def probabilities(self, x):
        """Class probabilities of a batch of flattened 28x28 images."""
        w1, b1, w2, b2, w3, b3, w4, b4 = self.params
        h = x.reshape((x.shape[0], 1, 28, 28))
        for w, b in ((w1, b1), (w2, b2)):  # 28 -> 24 -> 12, then 12 -> 8 -> 4
            h = T.tanh(pool_2d(conv2d(h, w), (2, 2), ignore_border=True)
                       + b.dimshuffle("x", 0, "x", "x"))
        h = T.tanh(T.dot(h.flatten(2), w3) + b3)
        return T.nnet.softmax(T.dot(h, w4) + b4)


def build(model, train, valid, batch, learning_rate):
    """The SGD step over minibatch `index` of the shared training set, and the validation error
    of a minibatch, as the tutorial's train_model / validate_model."""
    index, x, y = T.lscalar("index"), T.matrix("x"), T.ivector("y")
    p = model.probabilities(x)
    cost = -T.mean(T.log(p)[T.arange(y.shape[0]), y])
    errors = T.mean(T.neq(T.argmax(p, axis=1), y))
    grads = T.grad(cost, model.params)
    updates = [(w, w - learning_rate * g) for w, g in zip(model.params, grads)]

    def batch_of(data):
        return {x: data[0][index * batch:(index + 1) * batch],
                y: data[1][index * batch:(index + 1) * batch]}
    train_step = theano.function([index], cost, updates=updates, givens=batch_of(train))
    validate = theano.function([index], errors, givens=batch_of(valid))
    return train_step, validate


def main(short=False, epochs=None, log=print):
    """Trains; returns the validation error after each epoch."""
    rng = np.random.RandomState(23455)
    n_train, n_valid = (2000, 500) if short else (10000, 2000)
    batch = 50 if short else 500
    epochs = epochs or (3 if short else 5)
    data = [synthetic_digits.make(n, seed) for n, seed in ((n_train, 1), (n_valid, 2))]
    train, valid = [(theano.shared(images), theano.shared(labels)) for images, labels in data]
    model = LeNet(rng, (6, 16), 100) if short else LeNet(rng)
    train_step, validate = build(model, train, valid, batch, 0.1)
    history = []
    for epoch in range(epochs):
        costs = [train_step(i) for i in range(n_train // batch)]
        error = float(np.mean([validate(i) for i in range(n_valid // batch)]))
        history.append(error)
        log("epoch %d: training cost %.3f, validation error %.1f %%"
            % (epoch + 1, np.mean(costs), 100 * error))
    return history


if __name__ == "__main__":
    synthetic_digits.command_line(main, __doc__)
