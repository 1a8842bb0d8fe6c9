"""Scale-out behind an existing proxy (issue: deployment and scale-out): three tensord replicas
on loopback behind HAProxy with deploy/haproxy/tensord.cfg, which hashes each call's
`x-tensord-session` routing key onto the replicas. Every session's calls reach the replica that
holds it (each replica's metrics count exactly its own sessions' runs); a replica that dies
fails only its own sessions, with UNAVAILABLE, and they carry on when it comes back with its
--state_dir."""

import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.request

import grpc
import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from client_swap import using
from tensord._proto import compute_pb2, compute_pb2_grpc
from tensord.connection import Client
from tensord.errors import Unavailable

CONFIG = os.path.join(os.path.dirname(__file__), "..", "..", "deploy", "haproxy", "tensord.cfg")
CLIENTS = 30
STEPS = 10
LR = 0.1


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Replica:
    """One tensord behind the proxy, restartable on its port and --state_dir."""

    def __init__(self, private_server, workdir):
        self._start = private_server
        self.metrics_file = workdir / "metrics_port"
        self.flags = ["--state_dir=%s" % (workdir / "state"), "--snapshot_interval_s=0",
                      "--metrics_listen=127.0.0.1:0", "--metrics_port_file=%s" % self.metrics_file]
        self.server = private_server(self.flags)
        self.address = self.server.address

    def kill(self):
        self.server.process.send_signal(signal.SIGKILL)
        self.server.process.wait(10)

    def start_again(self):
        self.server = self._start(self.flags + ["--listen=" + self.address])

    def runs(self):
        """Successful Run calls this replica served, from its own /metrics."""
        port = int(self.metrics_file.read_text())
        text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10).read()
        m = re.search(r'tensord_rpc_requests_total\{(?=[^}]*code="OK")(?=[^}]*method="Run")'
                      r'[^}]*\} (\S+)', text.decode())
        return int(float(m.group(1))) if m else 0


@pytest.fixture
def proxy(private_server, tmp_path):
    """(proxy address, the three replicas)."""
    haproxy = shutil.which("haproxy")
    if haproxy is None:
        pytest.skip("haproxy is not installed (deploy/install-deps.sh installs it)")
    replicas = []
    for i in range(3):
        (tmp_path / str(i)).mkdir()
        replicas.append(_Replica(private_server, tmp_path / str(i)))
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


class _Trainer:
    """One client through the proxy: its own session, a linear model trained by SGD."""

    def __init__(self, address, seed):
        rng = np.random.default_rng(seed)
        self.x = rng.standard_normal((8, 5))
        self.y = rng.standard_normal(8)
        self.client = Client(address)
        self.client.wait_ready(20)
        with using(self.client):
            self.w = theano.shared(np.zeros(5), name="w")
            x, y = T.dmatrix("x"), T.dvector("y")
            cost = T.mean((T.dot(x, self.w) - y) ** 2)
            self.step = theano.function(
                [x, y], cost, updates=[(self.w, self.w - LR * T.grad(cost, self.w))])

    def train(self, steps):
        # A compiled function calls through the client it was compiled with: the trainers run
        # concurrently (only creating objects needs the process-wide client swapped).
        for _ in range(steps):
            self.step(self.x, self.y)

    def weights(self):
        with using(self.client):
            return self.w.get_value()

    def expected(self, steps):
        """The same SGD in NumPy (the graph holds LR as a floatX=float32 constant)."""
        w, lr = np.zeros(5), float(np.float32(LR))
        for _ in range(steps):
            w = w - lr * (2.0 / len(self.y) * self.x.T @ (self.x @ w - self.y))
        return w


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


def _train_all(trainers, steps):
    errors = []

    def work(t):
        try:
            t.train(steps)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in trainers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
        assert not t.is_alive(), "a trainer hung"
    assert not errors, errors[:3]


def test_sessions_train_on_their_own_replica_spread_evenly(proxy):
    frontend, replicas = proxy
    trainers = [_Trainer(frontend, seed) for seed in range(CLIENTS)]
    _train_all(trainers, STEPS)
    # Every step of every session updated that session's weights: all landed on its replica.
    for t in trainers:
        np.testing.assert_allclose(t.weights(), t.expected(STEPS), rtol=1e-9, atol=1e-12)
    holders = [_holder(replicas, t.client.session_id) for t in trainers]
    spread = [holders.count(i) for i in range(3)]
    # Each replica's metrics count exactly the runs of the sessions it holds.
    assert [r.runs() for r in replicas] == [n * STEPS for n in spread]
    # Roughly even: 10 each on average; the bounds fail by chance about once in 4,000 runs.
    assert min(spread) >= 2 and max(spread) <= 20, spread


def test_a_dead_replica_fails_only_its_sessions_and_they_resume(proxy):
    frontend, replicas = proxy
    trainers = [_Trainer(frontend, seed) for seed in range(12)]
    _train_all(trainers, 2)
    for t in trainers:
        with using(t.client):
            theano.save_session()
    holders = [_holder(replicas, t.client.session_id) for t in trainers]
    victim = max(range(3), key=holders.count)
    replicas[victim].kill()
    for t, h in zip(trainers, holders):
        if h == victim:
            with pytest.raises(Unavailable):  # its replica is down: retryable, not "unknown"
                t.train(1)
        else:
            t.train(1)  # untouched
            np.testing.assert_allclose(t.weights(), t.expected(3), rtol=1e-9, atol=1e-12)
    # New sessions avoid the dead replica (their client picks another routing key).
    newcomers = [_Trainer(frontend, 100 + seed) for seed in range(6)]
    _train_all(newcomers, 1)
    # Back with its --state_dir, the victim's sessions carry on where they were saved.
    replicas[victim].start_again()
    for t, h in zip(trainers, holders):
        if h == victim:
            t.train(1)
            np.testing.assert_allclose(t.weights(), t.expected(3), rtol=1e-9, atol=1e-12)
    for t in trainers + newcomers:
        t.client.channel.close()
