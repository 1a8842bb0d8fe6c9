"""Compile time against graph length, for docs/performance.md (issue 18: "make the optimizer
passes near-linear on long chains"). Not a test: run it by hand against a release build.

    TENSORD_SERVER_BIN=build/default/server/tensord \\
        clients/python/.venv/bin/python tests/bench/chain_compile_bench.py

Each graph is a chain over one float64 vector x, built n steps deep: `add` (y + x), `mul`
(y * x) and `mix` (exp(-y) + y * x, four nodes a step). Reports the server's compile time
(CompileResponse.compile_ns: decode, canonical key, optimizer, executable) as the median of 3
cold compiles (each repetition changes a constant, so the cache never hits), and the time per
node: near-linear passes keep it roughly flat as n grows.
"""

import statistics
import sys

import tensord.tensor as T
from tensord._proto import compute_pb2
from tensord.compile.function import build_spec
from tensord.connection import get_client

STEPS = {
    "add": lambda y, x: y + x,
    "mul": lambda y, x: y * x,
    "mix": lambda y, x: T.exp(-y) + y * x,
}
REPEATS = 3


def compile_seconds(client, kind, n, salt):
    x = T.dvector("x")
    y = x * float(salt + 2)  # a distinct constant per repetition: a cold compile each time
    for _ in range(n):
        y = STEPS[kind](y, x)
    spec, *_ = build_spec([x], y)
    reply = client.call("Compile", compute_pb2.CompileRequest(session_id=client.session_id,
                                                              spec=spec))
    client.call("ReleaseFunction", compute_pb2.ReleaseFunctionRequest(
        session_id=client.session_id, function_id=reply.function_id))
    return reply.compile_ns / 1e9, len(spec.graph.applies)


def main(lengths):
    client = get_client()
    print("| chain | steps | nodes | server compile (median of %d) | per node |" % REPEATS)
    print("| --- | --- | --- | --- | --- |")
    for kind in STEPS:
        for n in lengths:
            runs = [compile_seconds(client, kind, n, salt) for salt in range(REPEATS)]
            seconds = statistics.median(r[0] for r in runs)
            nodes = runs[0][1]
            print("| %s | %d | %d | %.2f s | %.1f us |" % (kind, n, nodes, seconds,
                                                          seconds / nodes * 1e6), flush=True)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10000, 40000, 160000])
