"""A character-level LSTM language model trained through tensord, as Theano's LSTM tutorial
builds it: the recurrence is one `theano.scan` whose step the server compiles once; the
gradient (backpropagation through time) and the SGD updates run on the server too.

    python clients/python/examples/lstm_lm.py          # trains on a toy corpus, prints the loss

`build_training_step` is also what tests/python/test_lstm_lm.py checks and what
tests/bench/lstm_bench.py times (docs/performance.md).
"""

import numpy as np

import tensord as theano
import tensord.tensor as T

CORPUS = "the quick brown fox jumps over the lazy dog. " * 8


def encode(text):
    """Characters -> int32 ids (and the vocabulary)."""
    vocab = sorted(set(text))
    index = {ch: i for i, ch in enumerate(vocab)}
    return np.array([index[ch] for ch in text], dtype="int32"), vocab


def batches(ids, steps, batch, rng):
    """Random windows: x[t, b] predicts y[t, b] = x[t + 1, b]."""
    starts = rng.randint(0, len(ids) - steps - 1, size=batch)
    x = np.stack([ids[s:s + steps] for s in starts], axis=1)
    y = np.stack([ids[s + 1:s + steps + 1] for s in starts], axis=1)
    return x.astype("int32"), y.astype("int32")


def _param(rng, shape, name, scale=0.1):
    return theano.shared((rng.randn(*shape) * scale).astype("float32"), name=name)


def lstm(below, U, hidden, n_batch, dtype="float32"):
    """The hidden states of an LSTM layer: one scan over `below` (steps, batch, 4 * hidden),
    the input projections of every step; U (hidden, 4 * hidden) is the recurrent weight."""
    h = hidden

    def step(below_t, h_prev, c_prev):
        pre = below_t + T.dot(h_prev, U)
        i = T.nnet.sigmoid(pre[:, 0:h])
        f = T.nnet.sigmoid(pre[:, h:2 * h])
        o = T.nnet.sigmoid(pre[:, 2 * h:3 * h])
        c = f * c_prev + i * T.tanh(pre[:, 3 * h:4 * h])
        return o * T.tanh(c), c

    zeros = T.alloc(np.asarray(0, dtype=dtype), n_batch, h)
    (hs, _), _ = theano.scan(step, sequences=below, outputs_info=[zeros, zeros], name="lstm")
    return hs


def build_training_step(vocab_size, embed=16, hidden=32, lr=2.0, seed=0):
    """(inputs, loss, updates, params) of one SGD step over a (steps, batch) window."""
    rng = np.random.RandomState(seed)
    h = hidden
    params = [
        _param(rng, (vocab_size, embed), "Wemb"),
        _param(rng, (embed, 4 * h), "W"),
        _param(rng, (h, 4 * h), "U"),
        theano.shared(np.zeros(4 * h, "float32"), name="b"),
        _param(rng, (h, vocab_size), "Wout"),
        theano.shared(np.zeros(vocab_size, "float32"), name="bout"),
    ]
    Wemb, W, U, b, Wout, bout = params
    x, y = T.imatrix("x"), T.imatrix("y")
    n_steps, n_batch = x.shape[0], x.shape[1]
    emb = Wemb[x.flatten()].reshape((n_steps, n_batch, embed))
    # The input projection of every step at once, outside the loop (as the tutorial does).
    below = T.dot(emb, W) + b
    hs = lstm(below, U, h, n_batch)
    logits = T.dot(hs.reshape((n_steps * n_batch, h)), Wout) + bout
    loss = T.mean(T.nnet.categorical_crossentropy(T.nnet.softmax(logits), y.flatten()))
    grads = T.grad(loss, params)
    updates = [(p, p - np.float32(lr) * g) for p, g in zip(params, grads)]
    return [x, y], loss, updates, params


def train(steps=200, window=16, batch=8, seed=0, log=None):
    """Trains on CORPUS; returns the loss of every step."""
    ids, vocab = encode(CORPUS)
    inputs, loss, updates, _ = build_training_step(len(vocab), seed=seed)
    fn = theano.function(inputs, loss, updates=updates)
    rng = np.random.RandomState(seed)
    losses = []
    for i in range(steps):
        losses.append(float(fn(*batches(ids, window, batch, rng))))
        if log and i % 20 == 0:
            log("step %3d  loss %.3f" % (i, losses[-1]))
    return losses


if __name__ == "__main__":
    history = train(log=print)
    print("loss: %.3f -> %.3f" % (history[0], history[-1]))
