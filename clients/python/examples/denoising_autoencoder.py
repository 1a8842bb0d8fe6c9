"""A denoising autoencoder as in Theano's deep learning tutorial (dA): the input is corrupted
by zeroing a random fraction of it (RandomStreams.binomial on the server), encoded by a sigmoid
layer, decoded with the tied (transposed) weights, and trained by SGD to reconstruct the clean
input under the cross-entropy loss. Data: synthetic MNIST-shaped images (synthetic_digits.py).

    python clients/python/examples/denoising_autoencoder.py [--short]
"""

import numpy as np

import synthetic_digits
import tensord as theano
import tensord.tensor as T
from tensord.tensor.shared_randomstreams import RandomStreams


class DenoisingAutoencoder:
    def __init__(self, rng, n_visible=784, n_hidden=500):
        bound = 4 * np.sqrt(6.0 / (n_hidden + n_visible))
        self.w = theano.shared(rng.uniform(-bound, bound, (n_visible, n_hidden))
                               .astype("float32"), name="W")
        self.b_hidden = theano.shared(np.zeros(n_hidden, "float32"), name="b")
        self.b_visible = theano.shared(np.zeros(n_visible, "float32"), name="b_prime")
        self.params = [self.w, self.b_hidden, self.b_visible]

    def encode(self, x):
        return T.nnet.sigmoid(T.dot(x, self.w) + self.b_hidden)

    def decode(self, h):
        return T.nnet.sigmoid(T.dot(h, self.w.T) + self.b_visible)

    def cost(self, x, corruption, rs):
        kept = rs.binomial(size=x.shape, n=1, p=1 - corruption, dtype="float32") * x
        z = self.decode(self.encode(kept))
        return T.mean(T.sum(T.nnet.binary_crossentropy(z, x), axis=1))


def main(short=False, epochs=None, log=print):
    """Trains; returns (the training cost of each epoch, the clean reconstruction error of
    held-out images before and after training)."""
    rng, rs = np.random.RandomState(123), RandomStreams(2)
    n_train, hidden = (1000, 100) if short else (10000, 500)
    batch, epochs = 20, epochs or (3 if short else 15)
    data, _ = synthetic_digits.make(n_train, 5)
    held_out, _ = synthetic_digits.make(200, 6)
    da = DenoisingAutoencoder(rng, n_hidden=hidden)
    x = T.matrix("x")
    cost = da.cost(x, 0.3, rs)
    grads = T.grad(cost, da.params)
    step = theano.function([x], cost, updates=[(p, p - 0.1 * g)
                                               for p, g in zip(da.params, grads)])
    reconstruction = theano.function([x], T.mean((da.decode(da.encode(x)) - x) ** 2))
    before = float(reconstruction(held_out))
    history = []
    for epoch in range(epochs):
        history.append(float(np.mean([step(data[i:i + batch])
                                      for i in range(0, n_train, batch)])))
        log("epoch %d: training cost %.2f" % (epoch + 1, history[-1]))
    after = float(reconstruction(held_out))
    log("held-out reconstruction error: %.4f -> %.4f" % (before, after))
    return history, (before, after)


if __name__ == "__main__":
    synthetic_digits.command_line(main, __doc__)
