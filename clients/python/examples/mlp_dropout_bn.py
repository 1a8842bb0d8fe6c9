"""A multilayer perceptron with batch normalization and dropout, trained with minibatch SGD
through tensord on synthetic MNIST-shaped data (synthetic_digits.py).

Training normalizes each hidden layer with the batch's statistics
(T.nnet.bn.batch_normalization_train), keeps running averages of them as shared variables
updated by the training function, and drops half the hidden units (RandomStreams.binomial,
drawn on the server). Prediction uses the running averages (batch_normalization_test) and no
dropout, as in Theano programs of the time.

    python clients/python/examples/mlp_dropout_bn.py [--short]
"""

import numpy as np

import synthetic_digits
import tensord as theano
import tensord.tensor as T
from tensord.tensor.nnet import bn
from tensord.tensor.shared_randomstreams import RandomStreams


def _shared(value, name):
    return theano.shared(np.asarray(value, "float32"), name=name)


class Layer:
    """dot -> batch norm -> relu (-> dropout while training)."""

    def __init__(self, rng, n_in, n_out, index):
        bound = np.sqrt(6.0 / (n_in + n_out))
        self.w = _shared(rng.uniform(-bound, bound, (n_in, n_out)), "W%d" % index)
        self.gamma = _shared(np.ones(n_out), "gamma%d" % index)
        self.beta = _shared(np.zeros(n_out), "beta%d" % index)
        self.mean = _shared(np.zeros(n_out), "running_mean%d" % index)
        self.var = _shared(np.ones(n_out), "running_var%d" % index)
        self.params = [self.w, self.gamma, self.beta]

    def train(self, x, drop, rs):
        out, _, _, mean, var = bn.batch_normalization_train(
            T.dot(x, self.w), self.gamma, self.beta, running_mean=self.mean,
            running_var=self.var)
        h = T.nnet.relu(out)
        keep = rs.binomial(h.shape, p=1 - drop, dtype="float32")
        return h * keep / (1 - drop), [(self.mean, mean), (self.var, var)]

    def predict(self, x):
        return T.nnet.relu(bn.batch_normalization_test(T.dot(x, self.w), self.gamma, self.beta,
                                                       self.mean, self.var))


def main(short=False, epochs=None, log=print):
    """Trains; returns the validation error after each epoch."""
    rng, rs = np.random.RandomState(42), RandomStreams(7)
    n_train, n_valid, hidden = (2000, 500, 128) if short else (10000, 2000, 512)
    batch, epochs = 50, epochs or (3 if short else 8)
    (train_x, train_y), (valid_x, valid_y) = [synthetic_digits.make(n, seed)
                                              for n, seed in ((n_train, 3), (n_valid, 4))]
    layers = [Layer(rng, 784, hidden, 1), Layer(rng, hidden, hidden, 2)]
    w_out, b_out = _shared(np.zeros((hidden, 10)), "W_out"), _shared(np.zeros(10), "b_out")
    params = [p for layer in layers for p in layer.params] + [w_out, b_out]

    x, y = T.matrix("x"), T.ivector("y")
    h, stat_updates = x, []
    for layer in layers:
        h, updates = layer.train(h, 0.5, rs)
        stat_updates += updates
    p_train = T.nnet.softmax(T.dot(h, w_out) + b_out)
    cost = T.mean(T.nnet.categorical_crossentropy(p_train, y))
    grads = T.grad(cost, params)
    step = theano.function([x, y], cost, updates=stat_updates + [
        (p, p - 0.1 * g) for p, g in zip(params, grads)])
    h = x
    for layer in layers:
        h = layer.predict(h)
    predict = theano.function([x], T.argmax(T.dot(h, w_out) + b_out, axis=1))

    history = []
    for epoch in range(epochs):
        order = rng.permutation(n_train)
        costs = [step(train_x[order[i:i + batch]], train_y[order[i:i + batch]])
                 for i in range(0, n_train, batch)]
        error = float(np.mean(predict(valid_x) != valid_y))
        history.append(error)
        log("epoch %d: training cost %.3f, validation error %.1f %%"
            % (epoch + 1, np.mean(costs), 100 * error))
    return history


if __name__ == "__main__":
    synthetic_digits.command_line(main, __doc__)
