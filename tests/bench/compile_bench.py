"""Compile-time figures for docs/performance.md (issue 5): an MLP training step (grad + updates)
and a 1,000-node random elementwise graph, cold and cached, with node counts before and after
optimization. Not a test: run it by hand against a release build.

    TENSORD_SERVER_BIN=build/default/server/tensord \
        clients/python/.venv/bin/python tests/bench/compile_bench.py

"Cold" compiles a graph the cache has never seen (each repetition changes a constant, which
changes the cache key); "cached" compiles the same graph again (a cache hit). Times are the
client's wall time around theano.function (serialize + Compile RPC + reply), median of N.
"""

import statistics
import time

import numpy as np

import tensord as theano
import tensord.tensor as T

REPEATS = 15


def _median_ms(samples):
    return statistics.median(samples) * 1e3


def mlp_step(lr):
    """A 2-layer MLP's SGD step: softmax cross-entropy, grads of 4 parameters, updates."""
    rng = np.random.RandomState(0)
    x, y = T.fmatrix("x"), T.ivector("y")
    W1 = theano.shared(rng.randn(64, 128).astype("float32") * 0.1, name="W1")
    b1 = theano.shared(np.zeros(128, "float32"), name="b1")
    W2 = theano.shared(rng.randn(128, 10).astype("float32") * 0.1, name="W2")
    b2 = theano.shared(np.zeros(10, "float32"), name="b2")
    h = T.tanh(T.dot(x, W1) + b1)
    p = T.nnet.softmax(T.dot(h, W2) + b2)
    loss = T.mean(T.nnet.categorical_crossentropy(p, y))
    params = [W1, b1, W2, b2]
    grads = T.grad(loss, params)
    updates = [(w, w - np.float32(lr) * g) for w, g in zip(params, grads)]
    return [x, y], loss, updates


def random_elementwise(n_nodes, seed):
    """n_nodes random unary/binary elementwise ops over 4 inputs; each op takes the previous
    result and (for binary ops) a random earlier one, so every node is live."""
    rng = np.random.RandomState(seed)
    inputs = [T.fvector("x%d" % i) for i in range(4)]
    pool = list(inputs)
    unary = [T.tanh, T.exp, T.neg, T.sqr, T.abs_, T.sigmoid]
    binary = [T.add, T.mul, T.sub, T.maximum, T.minimum]
    for _ in range(n_nodes - 1):
        if rng.rand() < 0.4:
            pool.append(unary[rng.randint(len(unary))](pool[-1]))
        else:
            other = pool[rng.randint(len(pool))]
            pool.append(binary[rng.randint(len(binary))](pool[-1], other))
    return inputs, T.sum(pool[-1])


def _compile_rpc_seconds(spec):
    """Wall time of one Compile RPC for an already serialized spec: what a cache hit costs a
    client that keeps its spec (the Python client rebuilds the spec on every function())."""
    from tensord._proto import compute_pb2
    from tensord.connection import get_client
    client = get_client()
    request = compute_pb2.CompileRequest(session_id=client.session_id, spec=spec)
    start = time.perf_counter()
    reply = client.call("Compile", request)
    elapsed = time.perf_counter() - start
    assert reply.cache_hit
    return elapsed


def measure(name, build):
    cold, cached, rpc, server_ns = [], [], [], []
    f = None
    for i in range(REPEATS):
        inputs, out, updates = build(i)
        start = time.perf_counter()
        f = theano.function(inputs, out, updates=updates, on_unused_input="ignore")
        cold.append(time.perf_counter() - start)
        server_ns.append(f.compile_ns)
        assert not f.cache_hit
        start = time.perf_counter()
        again = theano.function(inputs, out, updates=updates, on_unused_input="ignore")
        cached.append(time.perf_counter() - start)
        assert again.cache_hit
        rpc.append(_compile_rpc_seconds(again.spec))
    before = getattr(f, "nodes_before_optimization", None) or "n/a"
    print("| %s | %s | %d | %.2f ms | %.2f ms | %.2f ms | %.2f ms |" % (
        name, before, f.node_count, _median_ms(cold), statistics.median(server_ns) / 1e6,
        _median_ms(cached), _median_ms(rpc)))


def main():
    theano.server_info()  # connect (and start a local server) outside the timings
    samples = []
    for _ in range(REPEATS):
        inputs, loss, updates = mlp_step(0.1)
        start = time.perf_counter()
        T.grad(loss, [w for w, _ in updates])
        samples.append(time.perf_counter() - start)
    print("T.grad of the MLP loss wrt 4 parameters (Differentiate round trip): %.2f ms"
          % _median_ms(samples))
    print("| graph | nodes before | nodes after | cold theano.function | cold compile (server) "
          "| cached theano.function | cached Compile RPC |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    measure("MLP training step", lambda i: mlp_step(0.1 + i * 1e-3))
    measure("1,000-node elementwise", lambda i: random_elementwise(1000, i) + ([],))


if __name__ == "__main__":
    main()
