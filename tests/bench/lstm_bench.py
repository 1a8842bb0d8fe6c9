"""Compile time of the LSTM language model's training step (issue 6; Theano needed 13-16 s
for its LSTM tutorial), the time of one training step, and scan's overhead per step. Not a test: run it by hand against a
release build.

    TENSORD_SERVER_BIN=build/default/server/tensord \
        clients/python/.venv/bin/python tests/bench/lstm_bench.py

Each repetition builds the model anew with another learning rate, so every compile is a cache
miss ("cold"). Reported: T.grad (the Differentiate RPC and merging its nodes), theano.function
(serialize + Compile RPC: optimizer, the scan body's and its gradient body's compilation), and
their sum, median over the repetitions; then the median time of a training call on a
(16 steps x 8 sequences) window; last, a 100,000-step cumulative sum of float32 scalars
(a one-node body), whose time per step is scan's own overhead.
"""

import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "clients", "python",
                                "examples"))

import lstm_lm  # noqa: E402
import tensord as theano  # noqa: E402
import tensord.tensor as T  # noqa: E402

REPEATS = 7


def main():
    ids, vocab = lstm_lm.encode(lstm_lm.CORPUS)
    grad_s, function_s, server_s = [], [], []
    fn = None
    for i in range(REPEATS):
        start = time.perf_counter()
        inputs, loss, updates, _ = lstm_lm.build_training_step(len(vocab), lr=2.0 + 0.01 * i)
        built = time.perf_counter()  # includes T.grad: build_training_step calls it
        fn = theano.function(inputs, loss, updates=updates)
        done = time.perf_counter()
        assert not fn.cache_hit, "each repetition must compile anew"
        grad_s.append(built - start)
        function_s.append(done - built)
        server_s.append(fn.compile_ns * 1e-9)
    rng = np.random.RandomState(0)
    x, y = lstm_lm.batches(ids, 16, 8, rng)
    fn(x, y)
    step_s = []
    for _ in range(50):
        start = time.perf_counter()
        fn(x, y)
        step_s.append(time.perf_counter() - start)
    med = statistics.median
    print("LSTM LM training step (vocab %d, embed 16, hidden 32)" % len(vocab))
    print("  build graph + T.grad      %7.1f ms" % (med(grad_s) * 1e3))
    print("  theano.function (cold)    %7.1f ms" % (med(function_s) * 1e3))
    print("    of which in the server  %7.1f ms (%d nodes after optimization)"
          % (med(server_s) * 1e3, fn.node_count))
    print("  total                     %7.1f ms" % (med([a + b for a, b in zip(grad_s, function_s)]) * 1e3))
    print("  one training call (16x8)  %7.2f ms" % (med(step_s) * 1e3))

    a, s0 = T.vector("a"), T.scalar("s0")
    cumsum, _ = theano.scan(lambda x, prior: prior + x, sequences=a, outputs_info=s0)
    f = theano.function([a, s0], cumsum)
    ones = np.ones(100000, dtype="float32")
    f(ones, 0)
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        f(ones, 0)
        runs.append(time.perf_counter() - start)
    print("scan overhead: %.2f us per step (100,000-step cumulative sum)" % (med(runs) / 1e5 * 1e6))


if __name__ == "__main__":
    main()
