"""The MLP step of mlp_step.py against servers of two or more builds, alternated call by call in
one client process, so that the machine's load changes hit every build alike (docs/performance.md,
"The MLP training step"). Prints, per build, the median client and server (RunResponse's run_ns)
time of the timed calls. Not a test.

    PYTHONPATH=clients/python clients/python/.venv/bin/python tests/bench/mlp_step_ab.py \\
        OLD_BUILD/server/tensord NEW_BUILD/server/tensord [--pause 0.2] [--warm 1] [--rounds 31]

--pause 0 times steps back to back; otherwise each timed call follows that pause and --warm
untimed calls, as peers.py does (a server that sat idle).
"""

import argparse
import os
import statistics
import sys
import time

import tensord.connection as connection

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mlp_step  # noqa: E402  (this directory's)


def step_on(binary, x, labels, params):
    """The compiled step on a private server of `binary`. Functions keep the client they were
    made with, so the process-wide client is swapped for this server's while it is compiled."""
    connection._client = None
    os.environ.pop("TENSORD_ADDRESS", None)
    os.environ["TENSORD_SERVER_BIN"] = binary
    step = mlp_step.tensord_step(x, labels, params)
    for _ in range(10):
        step()
    return step


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binaries", nargs="+")
    parser.add_argument("--pause", type=float, default=0.2)
    parser.add_argument("--warm", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=31)
    args = parser.parse_args()
    x, labels, params = mlp_step.initial(256)
    steps = [step_on(b, x, labels, params) for b in args.binaries]
    client_ms = [[] for _ in steps]
    server_ms = [[] for _ in steps]
    for _ in range(args.rounds):
        for k, step in enumerate(steps):
            if args.pause:
                time.sleep(args.pause)
                for _ in range(args.warm):
                    step()
            start = time.perf_counter()
            step()
            client_ms[k].append((time.perf_counter() - start) * 1e3)
            server_ms[k].append(step.last_run_ns / 1e6)
    for binary, c, s in zip(args.binaries, client_ms, server_ms):
        print("%s: client %.2f ms, server %.2f ms" % (binary, statistics.median(c),
                                                      statistics.median(s)))


if __name__ == "__main__":
    main()
