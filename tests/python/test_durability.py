"""Sessions survive restarts (issue: secure, durable and honest under faults).

A server with --state_dir snapshots its sessions (shared variables and function specs) every
--snapshot_interval_s when they changed, on SaveSession and when it stops; started again on the
same directory it restores them with the same ids and owners, so a client's next call carries on
where it left off. A kill -9 loses at most the last interval, and a torn or corrupt snapshot is
detected by its checksum and the one before it used.
"""

import contextlib
import glob
import os
import signal
import threading
import time

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from client_swap import using
from tensord.connection import Client
from tensord.errors import FailedPrecondition, NotFound

TOKEN_A = "alice-token-0123456789"
TOKEN_B = "bob-token-0123456789ab"


@contextlib.contextmanager
def _using(address, token=None):
    """Points the tensord API at a new client of `address` for a block."""
    client = Client(address, token=token)
    client.wait_ready(20)
    try:
        with using(client):
            yield client
    finally:
        client.channel.close()  # not close(): that would close the session and its snapshot


class _Restartable:
    """One --state_dir served by successive server processes on one port."""

    def __init__(self, private_server, state_dir, flags=()):
        self._start = private_server
        self.flags = ["--state_dir=%s" % state_dir] + list(flags)
        self.server = private_server(self.flags)
        self.address = self.server.address

    def restart(self, how=signal.SIGTERM):
        proc = self.server.process
        proc.send_signal(how)
        proc.wait(30)
        if how == signal.SIGTERM:
            assert proc.returncode == 0, self.server.log_tail()
        self.server = self._start(self.flags + ["--listen=" + self.address])
        return self.server

    def log(self):
        return self.server.log_tail(20000)


def _counter_function():
    counter = theano.shared(np.int64(0), name="counter")
    step = T.lscalar("step")
    bump = theano.function([step], counter, updates=[(counter, counter + step)])
    return counter, bump


def _wait_for(condition, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_a_restarted_server_carries_on_the_same_session(private_server, tmp_path):
    served = _Restartable(private_server, tmp_path / "state", ["--snapshot_interval_s=0"])
    with _using(served.address) as client:
        w = theano.shared(np.arange(6, dtype="float32").reshape(2, 3), name="w")
        x = T.fvector("x")
        f = theano.function([x], T.dot(w, x), updates=[(w, w * 2)], name="scale")
        np.testing.assert_allclose(f(np.ones(3, "float32")), [3, 12])
        session_id = client.session_id
        served.restart(signal.SIGTERM)  # a clean stop saves every changed session
        # The same objects: session, shared variable and function ids all still mean the same.
        assert client.session_id == session_id
        np.testing.assert_allclose(w.get_value(), np.arange(6).reshape(2, 3) * 2)
        np.testing.assert_allclose(f(np.ones(3, "float32")), [6, 24])
        np.testing.assert_allclose(w.get_value(), np.arange(6).reshape(2, 3) * 4)
        assert theano.server_info().durable_sessions
        # A new shared variable gets a fresh id, not one the restored session already uses.
        v = theano.shared(np.float32(1), name="v")
        assert v.shared_id != w.shared_id
        assert "restored 1 sessions (1 shared variables, 1 functions" in served.log()


@pytest.mark.parametrize("separate", [False, True])
def test_values_on_a_device_are_saved_and_restored_there(private_server, tmp_path, separate):
    """A shared variable on dev0 survives a restart on dev0; with the simulated memory reached
    only through copies (as a GPU's), the snapshot reads it out and the restore copies it in."""
    flags = ["--snapshot_interval_s=0", "--contexts=dev0->sim0"]
    served = _Restartable(private_server, tmp_path / "state",
                          flags + (["--sim_device_memory_separate"] if separate else []))
    with _using(served.address):
        w = theano.shared(np.arange(6, dtype="float32").reshape(2, 3), name="w", target="dev0")
        x = T.fvector("x")
        f = theano.function([x], T.dot(w, x), updates=[(w, w * 2)])
        np.testing.assert_allclose(f(np.ones(3, "float32")), [3, 12])
        served.restart(signal.SIGTERM)
        np.testing.assert_allclose(w.get_value(), np.arange(6).reshape(2, 3) * 2)
        np.testing.assert_allclose(f(np.ones(3, "float32")), [6, 24])
        dev0 = next(c for c in theano.server_info().contexts if c.name == "dev0")
        assert dev0.memory_in_use_bytes >= 24  # w is back on dev0


def test_kill_9_loses_at_most_the_last_interval(private_server, tmp_path):
    served = _Restartable(private_server, tmp_path / "state", ["--snapshot_interval_s=1"])
    with _using(served.address) as client:
        counter, bump = _counter_function()
        acknowledged = []
        stop = threading.Event()

        def hammer():
            while not stop.is_set():
                try:
                    acknowledged.append((time.monotonic(), int(bump(1))))
                except Exception:  # noqa: BLE001 - the server is being killed under us
                    return

        worker = threading.Thread(target=hammer)
        worker.start()
        time.sleep(6)
        killed_at = time.monotonic()
        served.restart(signal.SIGKILL)
        stop.set()
        worker.join(30)
        # The hammer's calls failed while no server listened, so the channel may be waiting out
        # its reconnection backoff: a call now would fail at once instead of reaching the server.
        client.wait_ready(20)
        # bump returns the value before its update: run k saw k - 1 and left k.
        last_acknowledged = acknowledged[-1][1] + 1
        # Everything acknowledged more than one interval (plus a margin for a busy machine)
        # before the kill was in a snapshot.
        early = [v + 1 for t, v in acknowledged if t < killed_at - 3.5]
        assert early, "no run was acknowledged in the first two seconds"
        safe = max(early)
        restored = int(counter.get_value())
        # At most one more: a run that committed and was saved, whose reply the kill cut off.
        assert safe <= restored <= last_acknowledged + 1, (safe, restored, last_acknowledged)
        # The function restored with it runs (compiled again on first use) and updates on.
        assert int(bump(10)) == restored
        assert int(counter.get_value()) == restored + 10


def test_a_torn_snapshot_falls_back_to_the_one_before(private_server, tmp_path):
    state = tmp_path / "state"
    served = _Restartable(private_server, state, ["--snapshot_interval_s=0"])
    with _using(served.address):
        counter, bump = _counter_function()
        bump(1)
        theano.save_session()
        bump(1)
        response = theano.save_session()
        assert response.shared_variables == 1 and response.functions == 1
        served.server.process.send_signal(signal.SIGKILL)
        served.server.process.wait(30)
        (current,) = glob.glob(str(state / "sessions" / "*.snap"))
        with open(current, "r+b") as f:  # as a disk or a crash mid-write might leave it
            f.truncate(os.path.getsize(current) // 2)
        served.server = served._start(served.flags + ["--listen=" + served.address])
        assert int(counter.get_value()) == 1  # the first snapshot's value
        assert "checksum mismatch" in served.log()
        assert "the newest snapshot of saved session" in served.log()


def test_unreadable_snapshots_are_reported_and_the_server_starts(private_server, tmp_path):
    state = tmp_path / "state"
    served = _Restartable(private_server, state, ["--snapshot_interval_s=0"])
    with _using(served.address):
        counter, _ = _counter_function()
        theano.save_session()
        theano.save_session()  # a .snap and a .snap.prev
        served.server.process.send_signal(signal.SIGKILL)
        served.server.process.wait(30)
        for path in glob.glob(str(state / "sessions" / "*")):
            with open(path, "wb") as f:
                f.write(b"TENSORD\x01 not a snapshot")
        served.server = served._start(served.flags + ["--listen=" + served.address])
        with pytest.raises(NotFound):
            counter.get_value()
        assert "was not restored; its files are kept" in served.log()
        assert "1 not restored" in served.log()
        served.restart(signal.SIGTERM)  # not swept as stale at the stop
        kept = sorted(f.split(".", 1)[1] for f in os.listdir(state / "sessions") if ".snap" in f)
        assert kept == ["snap.bad", "snap.prev"]  # the newest set aside, the previous kept


def test_a_session_refused_at_restore_comes_back_under_a_later_server(private_server,
                                                                      tmp_path):
    state = tmp_path / "state"
    served = _Restartable(private_server, state, ["--snapshot_interval_s=0"])
    with _using(served.address):
        big = theano.shared(np.arange(4096, dtype="float64"), name="big")
        served.restart(signal.SIGTERM)
        # A server whose limits now refuse the value keeps the snapshot...
        served.flags.append("--max_tensor_bytes=1000")
        served.restart(signal.SIGTERM)
        with pytest.raises(NotFound):
            big.get_value()
        assert "1 not restored" in served.log()
        # ...so that one with the old limits restores it.
        served.flags.pop()
        served.restart(signal.SIGTERM)
        np.testing.assert_array_equal(big.get_value(), np.arange(4096))


def test_closed_and_expired_sessions_leave_no_snapshot(private_server, tmp_path):
    state = tmp_path / "state"
    served = _Restartable(private_server, state,
                          ["--snapshot_interval_s=1", "--session_idle_timeout_s=3"])
    sessions = state / "sessions"
    with _using(served.address) as client:
        theano.shared(np.zeros(3), name="kept")
        theano.save_session()
        assert [f for f in os.listdir(sessions) if ".snap" in f]  # (and .prev, if saved twice)
        client.close()  # CloseSession removes its snapshots at once
        assert [f for f in os.listdir(sessions) if ".snap" in f] == []
    with _using(served.address) as client:
        theano.shared(np.zeros(3), name="abandoned")
        theano.save_session()
        client._closed.set()  # stop the keepalive: let the session expire
        # Expired after 3 s idle (the reaper looks every second): its files go with it.
        assert _wait_for(lambda: [f for f in os.listdir(sessions) if ".snap" in f] == [],
                         seconds=20), os.listdir(sessions)


def test_sessions_keep_their_owner_across_restarts(private_server, tmp_path):
    tokens = tmp_path / "tokens"
    tokens.write_text("%s alice\n%s bob\n" % (TOKEN_A, TOKEN_B))
    served = _Restartable(private_server, tmp_path / "state",
                          ["--snapshot_interval_s=0", "--auth_tokens_file=%s" % tokens])
    with _using(served.address, token=TOKEN_A) as alice:
        secret = theano.shared(np.float64(42), name="secret")
        session_id = alice.session_id
        served.restart(signal.SIGTERM)
        assert float(secret.get_value()) == 42
    # The snapshot names the owner by the token's digest, never the token itself.
    for path in glob.glob(str(tmp_path / "state" / "sessions" / "*")):
        with open(path, "rb") as f:
            assert TOKEN_A.encode() not in f.read()
    with _using(served.address, token=TOKEN_B) as bob:
        bob._session_id = session_id  # another token naming alice's session finds nothing
        with pytest.raises(NotFound):
            secret.get_value()


def test_a_restarted_server_warms_its_compile_cache(private_server, tmp_path):
    served = _Restartable(private_server, tmp_path / "state", ["--snapshot_interval_s=0"])
    x = T.dmatrix("x")
    cost = (T.tanh(T.dot(x, x.T)) ** 2).mean()
    with _using(served.address):
        theano.function([x], [cost, T.grad(cost, x)])
        assert theano.server_info().cache_misses == 1
    served.restart(signal.SIGTERM)
    assert _wait_for(lambda: "warmed the compile cache with 1 functions" in served.log()), served.log()
    # Another client, a new session: its first compile of the same graph finds it built.
    with _using(served.address):
        info = theano.server_info()
        assert (info.cache_entries, info.cache_misses) == (1, 1)  # the warming build
        theano.function([x], [cost, T.grad(cost, x)])
        info = theano.server_info()
        assert (info.cache_hits, info.cache_misses) == (1, 1)


def test_a_restored_function_that_no_longer_compiles_says_why(private_server, tmp_path):
    served = _Restartable(private_server, tmp_path / "state", ["--snapshot_interval_s=0"])
    with _using(served.address) as client:
        counter, bump = _counter_function()
        bump(1)
        counter_id = counter.shared_id
        served.restart(signal.SIGTERM)
        # Deleted after the restore and before the function's first use.
        from tensord._proto import compute_pb2
        client.call("DeleteShared", compute_pb2.DeleteSharedRequest(
            session_id=client.session_id, id=counter_id))
        with pytest.raises(FailedPrecondition,
                           match=r"restored from --state_dir, does not compile.*shared-1"):
            bump(1)


def test_save_session_needs_a_state_dir(private_server):
    server = private_server([])
    with _using(server.address):
        theano.shared(np.zeros(2))
        assert not theano.server_info().durable_sessions
        with pytest.raises(FailedPrecondition, match="--state_dir"):
            theano.save_session()


def test_an_unusable_state_dir_stops_the_server(private_server, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(Exception, match="--state_dir"):
        private_server(["--state_dir=%s" % (blocker / "state")])


def test_two_servers_cannot_share_a_state_dir(private_server, tmp_path):
    private_server(["--state_dir=%s" % (tmp_path / "state")])
    with pytest.raises(Exception, match="in use by another tensord"):
        private_server(["--state_dir=%s" % (tmp_path / "state")])


def test_a_session_idle_past_its_timeout_while_down_expires(private_server, tmp_path):
    served = _Restartable(private_server, tmp_path / "state",
                          ["--snapshot_interval_s=0", "--session_idle_timeout_s=3"])
    with _using(served.address) as client:
        theano.shared(np.zeros(2), name="w")
        client._closed.set()  # no keepalive
        served.server.process.send_signal(signal.SIGTERM)
        served.server.process.wait(30)
        time.sleep(5)  # down for longer than the idle timeout
        served.server = served._start(served.flags + ["--listen=" + served.address])
        assert "1 expired while the server was down" in served.log()
        assert [f for f in os.listdir(tmp_path / "state" / "sessions") if ".snap" in f] == []


def test_a_session_only_read_stays_in_use_across_a_restart(private_server, tmp_path):
    served = _Restartable(private_server, tmp_path / "state",
                          ["--snapshot_interval_s=1", "--session_idle_timeout_s=9"])
    with _using(served.address):
        w = theano.shared(np.arange(3.0), name="w")
        theano.save_session()
        for _ in range(11):  # 11 s of reads: its snapshot ages past the timeout, its clock not
            w.get_value()
            time.sleep(1)
        served.restart(signal.SIGTERM)
        np.testing.assert_array_equal(w.get_value(), np.arange(3.0))
