"""Scale-out behind an existing proxy (issue: deployment and scale-out): three tensord replicas
on loopback behind HAProxy with deploy/haproxy/tensord.cfg, which hashes each call's
`x-tensord-session` routing key onto the replicas. Every session's calls reach the replica that
holds it; a replica that dies loses its own sessions and no one else's."""

import os
import shutil
import signal
import socket
import subprocess
import threading
import time

import grpc
import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from tensord import connection
from tensord._proto import compute_pb2, compute_pb2_grpc
from tensord.connection import Client
from tensord.errors import TensordError

CONFIG = os.path.join(os.path.dirname(__file__), "..", "..", "deploy", "haproxy", "tensord.cfg")
CLIENTS = 30
RUNS = 20


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def proxy(private_server, tmp_path):
    """(proxy address, the three replicas)."""
    haproxy = shutil.which("haproxy")
    if haproxy is None:
        pytest.skip("haproxy is not installed (deploy/install-deps.sh installs it)")
    replicas = [private_server([]) for _ in range(3)]
    frontend = "127.0.0.1:%d" % _free_port()
    env = dict(os.environ, TENSORD_FRONTEND=frontend,
               **{"TENSORD_REPLICA_%d" % (i + 1): r.address for i, r in enumerate(replicas)})
    log = open(tmp_path / "haproxy.log", "wb")
    proc = subprocess.Popen([haproxy, "-db", "-f", CONFIG], env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(frontend.split(":"), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None, (tmp_path / "haproxy.log").read_text()
                assert time.monotonic() < deadline, "haproxy did not listen"
                time.sleep(0.05)
        yield frontend, replicas
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


class _Worker:
    """One client through the proxy: its own session, a counter and a function bumping it."""

    def __init__(self, address):
        self.client = Client(address)
        self.client.wait_ready(20)
        with _using(self.client):
            self.counter = theano.shared(np.int64(0), name="counter")
            self.bump = theano.function([], self.counter,
                                        updates=[(self.counter, self.counter + 1)])

    def run(self, n):
        with _using(self.client):
            for _ in range(n):
                self.bump()
            return int(self.counter.get_value())


_swap = threading.Lock()


class _using:
    """Points the tensord API at one client for a block (serialized: the API's client is
    process-wide)."""

    def __init__(self, client):
        self.client = client

    def __enter__(self):
        _swap.acquire()
        self.saved, connection._client = connection._client, self.client

    def __exit__(self, *exc):
        connection._client = self.saved
        _swap.release()


def _holder(replicas, session_id):
    """The index of the replica that holds `session_id`, asked of each directly."""
    found = []
    for i, replica in enumerate(replicas):
        with grpc.insecure_channel(replica.address) as channel:
            stub = compute_pb2_grpc.ComputeStub(channel)
            try:
                stub.ListShared(compute_pb2.ListSharedRequest(session_id=session_id), timeout=10)
                found.append(i)
            except grpc.RpcError as err:
                assert err.code() == grpc.StatusCode.NOT_FOUND
    assert len(found) == 1, found
    return found[0]


def test_every_session_stays_on_one_replica_and_they_spread(proxy):
    frontend, replicas = proxy
    workers = [_Worker(frontend) for _ in range(CLIENTS)]
    results = [None] * CLIENTS

    def work(i):
        results[i] = workers[i].run(RUNS)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    # Every update of every session landed on its session: no call went elsewhere.
    assert results == [RUNS] * CLIENTS
    holders = [_holder(replicas, w.client.session_id) for w in workers]
    spread = [holders.count(i) for i in range(3)]
    assert sum(spread) == CLIENTS
    assert sum(1 for n in spread if n > 0) >= 2, spread  # consistent hashing spreads them


def test_a_dead_replica_loses_only_its_own_sessions(proxy):
    frontend, replicas = proxy
    workers = [_Worker(frontend) for _ in range(12)]
    for w in workers:
        assert w.run(1) == 1
    holders = [_holder(replicas, w.client.session_id) for w in workers]
    victim = max(range(3), key=holders.count)  # the busiest replica dies
    replicas[victim].process.send_signal(signal.SIGKILL)
    replicas[victim].process.wait(10)
    time.sleep(3)  # the proxy's checks mark it down
    for w, h in zip(workers, holders):
        if h == victim:
            with pytest.raises(TensordError):  # gone with its replica (NOT_FOUND elsewhere)
                w.run(1)
        else:
            assert w.run(1) == 2  # untouched: same replica, same session
    for w in workers:
        w.client.channel.close()
