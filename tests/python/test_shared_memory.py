"""Tensors through POSIX shared memory (config.shared_memory; tensord/shared_memory.py): results
equal NumPy's and the protobuf path's, the bytes really go through the regions (the server's
/metrics count them), nothing is left in /dev/shm, and every way a request can misuse a region
gets a status naming what was wrong."""

import os
import re
import threading
import urllib.request

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from client_swap import using
from tensord import _run_wire, errors, shared_memory
from tensord._proto import compute_pb2
from tensord.config import config
from tensord.connection import Client

BIG = 1 << 16  # shared_memory.MIN_BYTES: the least an array must take to go through a region


@pytest.fixture
def served(private_server, tmp_path):
    """(a client of a private server with a metrics listener, a function reading its counter of
    shared-memory bytes by direction)."""
    port_file = tmp_path / "metrics_port"
    server = private_server(["--metrics_listen=127.0.0.1:0",
                             "--metrics_port_file=%s" % port_file])
    client = Client(server.address, server=None)
    client.wait_ready(20)

    def moved(direction):
        url = "http://127.0.0.1:%s/metrics" % port_file.read_text().strip()
        text = urllib.request.urlopen(url, timeout=10).read().decode()
        found = re.search(r'^tensord_shared_memory_bytes_total\{direction="%s"\} (\S+)$'
                          % direction, text, re.M)
        return float(found.group(1))
    try:
        with using(client):
            yield client, moved
    finally:
        client.close()


def _leftovers():
    return [n for n in os.listdir("/dev/shm") if n.startswith("tensord-py-")]


def test_results_match_numpy_and_the_bytes_go_through_shared_memory(served):
    client, moved = served
    config.shared_memory = True
    before = set(_leftovers())
    x, m = T.fvector("x"), T.dmatrix("m")
    f = theano.function([x, m], [T.tanh(x) * 2, m.T + 1, x.sum()])
    rng = np.random.default_rng(0)
    for step in range(3):
        xv = rng.standard_normal(100_000).astype("float32")
        mv = rng.standard_normal((300, 200))
        a, b, s = f(xv, mv)
        np.testing.assert_allclose(a, np.tanh(xv) * 2, rtol=2e-6, atol=1e-6)
        np.testing.assert_array_equal(b, mv.T + 1)  # a transposed (strided) output
        np.testing.assert_allclose(s, xv.sum(dtype="float64"), rtol=1e-4)
        assert a.flags.writeable and a.flags.owndata  # the caller's own arrays
    # Inputs went through the region on every call; outputs from the second on (the first
    # learns their sizes); the scalar stayed in the reply.
    read, written = moved("read"), moved("written")
    assert read == 3 * (xv.nbytes + mv.nbytes)
    assert written == 2 * (a.nbytes + b.nbytes)
    # Objects are unlinked once the server opened them: nothing is left for anyone to find.
    assert set(_leftovers()) == before


def test_every_dtype_small_values_and_an_output_that_grows(served):
    client, moved = served
    config.shared_memory = True
    for dtype in ("bool", "int8", "uint16", "int64", "float64"):
        x = T.vector("x", dtype=dtype)
        f = theano.function([x], [x[::-1], x[:3]])
        v = (np.arange(BIG) % 2).astype(dtype)
        for _ in range(2):
            rev, head = f(v)
            np.testing.assert_array_equal(rev, v[::-1])
            np.testing.assert_array_equal(head, v[:3])
            assert rev.dtype == np.dtype(dtype)
    # An output larger than last time's slot comes in the reply, and the next call offers more.
    x = T.dvector("x")
    f = theano.function([x], T.concatenate([x, x]))
    for n in (BIG, 4 * BIG, 4 * BIG, BIG):
        v = np.arange(n, dtype="float64")
        np.testing.assert_array_equal(f(v), np.concatenate([v, v]))


def test_updates_and_threads_calling_one_function(served):
    client, moved = served
    config.shared_memory = True
    w = theano.shared(np.zeros(BIG, dtype="float64"), name="w")
    x = T.dvector("x")
    step = theano.function([x], w * 1, updates=[(w, w + x)])
    ones = np.ones(BIG)
    errors_seen, results = [], []

    def worker(k):
        try:
            for _ in range(5):
                v = np.full(BIG, float(k))
                results.append((k, theano.function([x], x * k)(v)))
                step(ones)
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors_seen.append(exc)
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(1, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors_seen
    for k, r in results:  # no call saw another's bytes
        np.testing.assert_array_equal(r, np.full(BIG, float(k * k)))
    np.testing.assert_array_equal(w.get_value(), np.full(BIG, 20.0))


def test_a_server_that_lost_its_regions_gets_new_ones(served):
    client, moved = served
    config.shared_memory = True
    calls = theano.shared(np.int64(0))
    x, n = T.fvector("x"), T.lscalar("n")
    f = theano.function([x], x + 1)
    # Only its output goes through shared memory (its input is small).
    g = theano.function([n], T.zeros((n,), dtype="float32") + 1, updates=[(calls, calls + 1)])
    v = np.arange(BIG, dtype="float32")
    for _ in range(2):
        f(v)
        g(BIG)
    forget = compute_pb2.UnregisterSharedMemoryRequest(session_id=client.session_id)
    # What a restart does to the session's regions: each call registers new ones and runs once.
    client.call("UnregisterSharedMemory", forget)
    np.testing.assert_array_equal(f(v), v + 1)
    client.call("UnregisterSharedMemory", forget)
    np.testing.assert_array_equal(g(BIG), np.ones(BIG, "float32"))
    assert calls.get_value() == 3  # the refused call did not run


def test_a_region_is_never_reused_after_a_call_the_server_may_still_run(served, monkeypatch):
    client, _ = served
    config.shared_memory = True
    x = T.fvector("x")
    f = theano.function([x], x + 1)
    v = np.arange(BIG, dtype="float32")
    f(v)
    pool = client.shared_memory_pool()
    (region,) = pool._free
    real_send = type(f)._send

    def gives_up(self, values, slots=()):
        raise errors.DeadlineExceeded("the client stopped waiting")
    monkeypatch.setattr(type(f), "_send", gives_up)
    with pytest.raises(errors.DeadlineExceeded):
        f(v)
    assert region not in pool._free  # dropped: the server might still write into it
    monkeypatch.setattr(type(f), "_send", real_send)
    np.testing.assert_array_equal(f(v), v + 1)
    # An answer from the server settles the call: its region is used again.
    (region,) = pool._free
    with pytest.raises(TypeError):
        f(np.zeros((BIG, 2), "float32"))  # refused before any call: never placed
    y = T.fvector("y")
    h = theano.function([y], y[1000000])
    with pytest.raises(errors.InvalidArgument, match="out of bounds"):
        h(v)  # the server answered: the call is settled
    assert pool._free == [region]


def test_a_server_with_shared_memory_off_says_so(private_server):
    server = private_server(["--shared_memory=off"])
    client = Client(server.address)
    client.wait_ready(20)
    try:
        info = client.call("GetServerInfo", compute_pb2.GetServerInfoRequest())
        assert not info.shared_memory
        with using(client):
            config.shared_memory = True
            x = T.fvector("x")
            f = theano.function([x], x * 2)
            np.testing.assert_array_equal(f(np.ones(3, "float32")), [2, 2, 2])  # small: inline
            with pytest.raises(errors.PermissionDenied, match="--shared_memory=off"):
                f(np.ones(BIG, "float32"))
    finally:
        client.close()


def _region(client, size=1 << 20):
    region = shared_memory._Region(client, size)
    return region


def _run(client, fn, values, slots=()):
    prefix = _run_wire.request_prefix(client.session_id, fn.function_id)
    parts = _run_wire.request_parts(prefix, values, as_args=True) + list(slots)
    return compute_pb2.RunResponse.FromString(client.run(b"".join(parts)))


def test_misused_regions_are_refused_with_what_was_wrong(served):
    client, moved = served
    x = T.fvector("x")
    fn = theano.function([x], [x * 2, x + 1])
    region = _region(client)
    f32 = 11  # DT_FLOAT32
    cases = [
        ([_run_wire.ShmValue("nope", 0, f32, (4,))], (), errors.NotFound,
         "input 0: no shared-memory region 'nope'"),
        ([_run_wire.ShmValue(region.name, (1 << 20) - 8, f32, (4,))], (), errors.InvalidArgument,
         "input 0: 16 bytes from offset 1048568 do not fit"),
        ([_run_wire.ShmValue(region.name, 0, 99, (4,))], (), errors.InvalidArgument,
         "field args[0].shm.dtype of tensord.v1.RunRequest has value 99"),
        ([_run_wire.ShmValue(region.name, 0, f32, (1 << 62, 8))], (), errors.ResourceExhausted,
         "input 0: a tensor of shape (4611686018427387904, 8) would exceed"),
        ([np.ones(4, "float32")], [_run_wire.output_slot(region.name, 0, 64)] * 3,
         errors.InvalidArgument, "output_slots has 3 entries; the function has 2 outputs"),
        ([np.ones(4, "float32")], [_run_wire.output_slot(region.name, 0, 64),
                                   _run_wire.output_slot(region.name, 32, 64)],
         errors.InvalidArgument, "outputs 0 and 1 overlap"),
        ([np.ones(4, "float32")], [_run_wire.output_slot(region.name, (1 << 20) - 8, 64)],
         errors.InvalidArgument, "output 0: the slot of 64 bytes from offset 1048568"),
        ([np.ones(4, "float32")], [_run_wire.output_slot("nope", 0, 64)], errors.NotFound,
         "output 0: no shared-memory region 'nope'"),
    ]
    for values, slots, error, text in cases:
        with pytest.raises(error, match=re.escape(text)):
            _run(client, fn, values, slots)
    # Side by side: two outputs in one region, each at its own offset.
    region.array(0, np.float32, (4,))[:] = [1, 2, 3, 4]
    resp = _run(client, fn, [_run_wire.ShmValue(region.name, 0, f32, (4,))],
                [_run_wire.output_slot(region.name, 64, 16), _run_wire.output_slot("", 0, 0)])
    assert resp.outputs[0].WhichOneof("kind") == "shm"
    assert resp.outputs[1].WhichOneof("kind") == "tensor"
    np.testing.assert_array_equal(region.array(64, np.float32, (4,)), [2, 4, 6, 8])


def test_register_refuses_bad_keys_and_ranges(served):
    client, _ = served

    def register(**fields):
        client.call("RegisterSharedMemory", compute_pb2.RegisterSharedMemoryRequest(
            session_id=client.session_id, **fields))
    proof = b"not the right one"[:16]
    with pytest.raises(errors.InvalidArgument, match="must be random bytes, not zeros"):
        register(name="r", key="/tensord-py-missing", byte_size=16, proof=bytes(16))
    with pytest.raises(errors.InvalidArgument, match="must be \"/tensord\" followed by"):
        register(name="r", key="/etc/passwd", byte_size=16, proof=proof)
    with pytest.raises(errors.NotFound, match="tensord-py-missing"):
        register(name="r", key="/tensord-py-missing", byte_size=16, proof=proof)
    region = _region(client, 1 << 20)  # unlinked already: a second registration cannot find it
    with pytest.raises(errors.NotFound):
        register(name="again", key="/" + region.name, byte_size=16, proof=proof)
    path = "/dev/shm/tensord-py-test-%d" % os.getpid()
    proof = os.urandom(16)
    with open(path, "wb") as f:
        f.truncate(100)
        f.write(proof)  # at the object's start, wherever the region lies
    try:
        with pytest.raises(errors.InvalidArgument, match="holds 100 bytes"):
            register(name="r", key=path[8:], offset=50, byte_size=51, proof=proof)
        # Someone who cannot read the object cannot know its first bytes.
        with pytest.raises(errors.PermissionDenied, match="not the request's proof"):
            register(name="r", key=path[8:], offset=50, byte_size=50, proof=os.urandom(16))
        with pytest.raises(errors.InvalidArgument, match="the proof must be 16 bytes"):
            register(name="r", key=path[8:], offset=50, byte_size=50, proof=b"")
        register(name="r", key=path[8:], offset=50, byte_size=50, proof=proof)
    finally:
        os.unlink(path)
    client.call("UnregisterSharedMemory", compute_pb2.UnregisterSharedMemoryRequest(
        session_id=client.session_id, name="r"))
    with pytest.raises(errors.NotFound, match="no shared-memory region 'r'"):
        client.call("UnregisterSharedMemory", compute_pb2.UnregisterSharedMemoryRequest(
            session_id=client.session_id, name="r"))
