"""The compile cache across restarts (issue 18), for docs/performance.md: the first compiles a
restarted server answers, with --state_dir (the cache warmed from the saved specs) and without
(every graph compiled again). Not a test: run it by hand against a release build.

    TENSORD_SERVER_BIN=build/default/server/tensord \\
        clients/python/.venv/bin/python tests/bench/restart_bench.py [--repeats 5]

Each repetition starts a server on a fresh --state_dir, compiles the graphs (the MLP training
step and the 1,000-node elementwise graph of compile_bench.py), stops it with SIGTERM and starts
it again on the same directory; once its log says the cache is warm, a new client compiles the
same graphs (a new session: nothing of the old one is reused but the cache). The same is timed
on a server started without --state_dir. Times are the client's wall time around
theano.function (building the request, the Compile RPC, the reply) and the server's own
compile time (CompileResponse.compile_ns), medians over the repetitions.
"""

import argparse
import re
import signal
import statistics
import tempfile
import time

import tensord as theano
from tensord import connection
from tensord.connection import Client, LocalServer, find_server_binary

from compile_bench import mlp_step, random_elementwise


def _graphs():
    inputs, loss, updates = mlp_step(0.1)
    yield "MLP training step", lambda: theano.function(inputs, loss, updates=updates)
    ew_inputs, ew_out = random_elementwise(1000, seed=7)
    yield "1,000-node elementwise graph", lambda: theano.function(ew_inputs, ew_out)


def _compile_all(address):
    """(client seconds, server compile seconds, cache hit) per graph compiled through a new
    client (a new session) at `address`."""
    saved = connection._client
    connection._client = client = Client(address)
    client.wait_ready(30)
    try:
        times = {}
        for name, build in _graphs():
            start = time.perf_counter()
            f = build()
            times[name] = (time.perf_counter() - start, f.compile_ns * 1e-9, f.cache_hit)
        return times
    finally:
        connection._client = saved
        client.close()


def _start(flags):
    server = LocalServer(find_server_binary(), flags)
    server.start()
    return server


def _warm_ms(server, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        m = re.search(r"warmed the compile cache with (\d+) functions in ([\d.]+) ms",
                      server.log_tail(20000))
        if m:
            return int(m.group(1)), float(m.group(2))
        time.sleep(0.05)
    raise RuntimeError("the cache was not warmed:\n" + server.log_tail())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    cold, warmed, warm_times = {}, {}, []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as state:
            flags = ["--state_dir=" + state, "--snapshot_interval_s=0"]
            first = _start(flags)
            _compile_all(first.address)
            first.process.send_signal(signal.SIGTERM)
            first.process.wait(30)
            restarted = _start(flags)
            count, ms = _warm_ms(restarted)
            warm_times.append(ms)
            for name, s in _compile_all(restarted.address).items():
                warmed.setdefault(name, []).append(s)
            restarted.stop()
        plain = _start([])
        for name, s in _compile_all(plain.address).items():
            cold.setdefault(name, []).append(s)
        plain.stop()
    print("| graph | first compile after a restart, without --state_dir: client / server | "
          "with --state_dir (cache warmed): client / server | cache hits |")
    print("| --- | --- | --- | --- |")
    for name in cold:
        c = [statistics.median(s[i] for s in cold[name]) * 1e3 for i in (0, 1)]
        w = [statistics.median(s[i] for s in warmed[name]) * 1e3 for i in (0, 1)]
        hits = sum(s[2] for s in warmed[name])
        print("| %s | %.1f ms / %.2f ms | %.1f ms / %.2f ms | %d of %d |"
              % (name, c[0], c[1], w[0], w[1], hits, len(warmed[name])))
    print("warming %d functions took %.1f ms (median of %d restarts)"
          % (count, statistics.median(warm_times), args.repeats))


if __name__ == "__main__":
    main()
