"""Load and soak figures for docs/operations.md (issue 18). Not a test: run it by hand against a
release build; it starts its own server on loopback and stops it.

    clients/python/.venv/bin/python tests/bench/soak_bench.py [--clients 64] [--runs 10000]
        [--small-calls 1000000] [--sessions 10000]

1. Contention: `--clients` clients (each its own gRPC channel, in worker processes) run one
   function that adds 1 to a shared counter, `--runs` times each, all on one session; the
   counter must end at exactly clients x runs.
2. Leaks: `--small-calls` small Runs (x + 1 on a 4-element vector); the server's resident set
   (VmRSS) is sampled every tenth of them.
3. Abandoned sessions: `--sessions` sessions opened and never closed, each with a shared
   variable and a function; with --session_idle_timeout_s=2 the server must reap them all and
   give the memory back.
"""

import argparse
import multiprocessing
import os
import threading
import time

import numpy as np

WORKERS = 8  # processes; each runs clients / WORKERS threads with a channel each


def rss_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def _worker(address, session, function_id, threads, runs, inputs, out):
    from tensord import _dtypes
    from tensord._proto import compute_pb2
    from tensord.connection import Client

    def loop():
        client = Client(address)
        request = compute_pb2.RunRequest(session_id=session, function_id=function_id)
        for value in inputs:
            _dtypes.array_to_tensor(np.asarray(value), request.inputs.add())
        for _ in range(runs):
            client.stub.Run(request, timeout=60)

    pool = [threading.Thread(target=loop) for _ in range(threads)]
    start = time.monotonic()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    out.put((threads * runs, time.monotonic() - start))


def run_everywhere(address, session, function_id, clients, runs, inputs=()):
    """clients x runs Runs from WORKERS processes; returns (seconds, runs done): the longest
    worker's time from its first call to its last (process start-up not counted)."""
    ctx = multiprocessing.get_context("spawn")  # gRPC channels do not survive fork
    out = ctx.Queue()
    per = [clients // WORKERS + (i < clients % WORKERS) for i in range(WORKERS)]
    procs = [ctx.Process(target=_worker, args=(address, session, function_id, n, runs,
                                               [np.asarray(v) for v in inputs], out))
             for n in per if n]
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    return max(r[1] for r in results), sum(r[0] for r in results)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--runs", type=int, default=10000)
    parser.add_argument("--small-calls", type=int, default=1000000)
    parser.add_argument("--sessions", type=int, default=10000)
    args = parser.parse_args()

    from tensord import _dtypes
    from tensord._proto import compute_pb2
    from tensord.compile.function import build_spec
    from tensord.connection import LocalServer, find_server_binary

    server = LocalServer(find_server_binary(), ["--session_idle_timeout_s=2",
                                                "--max_sessions=0"])
    os.environ["TENSORD_ADDRESS"] = server.start()  # the Theano API below uses this server
    import tensord as theano
    import tensord.tensor as T
    from tensord.connection import get_client
    client = get_client()
    client.wait_ready(30)
    pid = server.process.pid
    try:
        session = client.session_id
        counter = theano.shared(np.int64(0), name="counter")
        bump = theano.function([], [], updates=[(counter, counter + 1)])
        rss0 = rss_mib(pid)
        seconds, done = run_everywhere(server.address, session, bump.function_id, args.clients,
                                       args.runs)
        final = int(counter.get_value())
        print("| %d clients x %d updating Runs, one counter | %d runs in %.1f s (%.0f/s) | "
              "counter %d, expected %d: %s |" % (args.clients, args.runs, done, seconds,
                                                done / seconds, final, done,
                                                "exact" if final == done else "WRONG"))

        x = T.vector("x")
        small = theano.function([x], x + 1)
        samples = [rss_mib(pid)]
        per_round = args.small_calls // 10
        total = 0.0
        for _ in range(10):
            seconds, _ = run_everywhere(server.address, session, small.function_id, WORKERS,
                                        per_round // WORKERS,
                                        [np.zeros(4, dtype="float32")])
            total += seconds
            samples.append(rss_mib(pid))
        print("| %d small Runs (x + 1, 4 floats) | %.1f s (%.0f/s) | RSS MiB: %s |"
              % (args.small_calls, total, args.small_calls / total,
                 " -> ".join("%.0f" % s for s in samples)))

        before = rss_mib(pid)
        start = time.monotonic()
        for i in range(args.sessions):
            sid = client.stub.OpenSession(compute_pb2.OpenSessionRequest(client="abandoned"))
            req = compute_pb2.CreateSharedRequest(session_id=sid.session_id, name="w")
            _dtypes.array_to_tensor(np.zeros(256, dtype="float32"), req.value)
            client.stub.CreateShared(req)
            client.stub.Compile(compute_pb2.CompileRequest(session_id=sid.session_id,
                                                           spec=build_spec([x], x * 2)[0]))
        opened = time.monotonic() - start
        peak = rss_mib(pid)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            info = client.stub.GetServerInfo(compute_pb2.GetServerInfoRequest())
            if info.sessions <= 1:
                break
            client.stub.ListShared(compute_pb2.ListSharedRequest(session_id=session))  # ours
            time.sleep(0.5)
        info = client.stub.GetServerInfo(compute_pb2.GetServerInfoRequest())
        print("| %d sessions opened (a shared variable and a function each) and abandoned | "
              "opened in %.1f s | RSS MiB %.0f -> %.0f with them -> %.0f after expiry; %d "
              "sessions left |" % (args.sessions, opened, before, peak, rss_mib(pid),
                                   info.sessions))
        print("(RSS at start of the contention test: %.0f MiB)" % rss0)
    finally:
        client.close()
        server.stop()


if __name__ == "__main__":
    main()
