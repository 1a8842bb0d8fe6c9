"""What a client is told is what happened (issue: secure, durable and honest under faults).

- A Run whose deadline passes before it commits stores no update, whether it waited for another
  run's locks or spent the time in one long kernel: a client told DEADLINE_EXCEEDED may retry
  without applying the update twice.
- A session with a call in flight never expires, however long the call.
- A run that reads several shared variables sees all of another run's updates or none.
"""

import threading
import time

import grpc
import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from tensord import _dtypes
from tensord._proto import compute_pb2
from tensord.compile.function import build_spec
from tensord.connection import Client, get_client

pytestmark = pytest.mark.usefixtures("server")


def _run(client, session_id, function_id, inputs=(), timeout=None):
    request = compute_pb2.RunRequest(session_id=session_id, function_id=function_id)
    for value in inputs:
        _dtypes.array_to_tensor(np.asarray(value), request.inputs.add())
    return client.stub.Run(request, timeout=timeout)


def _seconds(call):
    start = time.monotonic()
    call()
    return time.monotonic() - start


def _slow_matrix(min_seconds=0.3):
    """A float64 matrix whose product with itself takes at least `min_seconds` here."""
    n = 256
    while True:
        w = np.random.default_rng(0).standard_normal((n, n))
        if _seconds(lambda: w @ w) >= min_seconds or n >= 4096:
            return w
        n *= 2


def test_a_run_that_waited_past_its_deadline_stores_no_update():
    w = theano.shared(_slow_matrix(0.3), name="w")
    counter = theano.shared(np.int64(0), name="counter")
    # Both functions update `counter`, so the second waits for the first's lock.
    slow = theano.function([], [], updates=[(counter, counter + 1), (w, T.dot(w, w))])
    bump = theano.function([], [], updates=[(counter, counter + 100)])
    client = get_client()
    worker = threading.Thread(target=slow)
    worker.start()
    time.sleep(0.1)  # the slow run holds the lock now
    with pytest.raises(grpc.RpcError) as err:
        _run(client, client.session_id, bump.function_id, timeout=0.05)
    assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    worker.join()
    time.sleep(0.3)  # a run that went on regardless would have committed by now
    assert counter.get_value() == 1
    bump()
    assert counter.get_value() == 101


def test_a_run_whose_kernel_outlasts_the_deadline_stores_no_update():
    w = theano.shared(_slow_matrix(0.3), name="w")
    product = theano.shared(np.zeros_like(w.get_value()), name="product")
    counter = theano.shared(np.int64(0), name="counter")
    f = theano.function([], [], updates=[(product, T.dot(w, w)), (counter, counter + 1)])
    client = get_client()
    with pytest.raises(grpc.RpcError) as err:
        _run(client, client.session_id, f.function_id, timeout=0.05)
    assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    time.sleep(1.0)
    assert counter.get_value() == 0
    assert not product.get_value().any()
    f()
    assert counter.get_value() == 1


def test_concurrent_readers_never_see_half_of_an_update():
    a = theano.shared(np.float64(0), name="a")
    b = theano.shared(np.float64(0), name="b")
    c = theano.shared(np.float64(0), name="c")
    # b == a + c after every complete update.
    step = theano.function([], [], updates=[(a, a + 1), (b, b + 2), (c, c + 1)])
    gap = theano.function([], a + c - b)
    stop = time.monotonic() + 2.0
    gaps = []

    def read():
        while time.monotonic() < stop:
            gaps.append(float(gap()))

    def write():
        while time.monotonic() < stop:
            step()

    threads = [threading.Thread(target=read) for _ in range(2)] + [threading.Thread(target=write)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(gaps) > 100
    assert set(gaps) == {0.0}
    assert b.get_value() == a.get_value() + c.get_value() > 0


def test_a_session_with_a_long_call_in_flight_does_not_expire(private_server):
    # Sessions expire after one idle second here.
    server = private_server(["--session_idle_timeout_s=1"])
    client = Client(server.address, server)
    client.wait_ready(30)
    # Raw calls on a session of our own: the client's keepalive thread must not touch it.
    session = client.stub.OpenSession(compute_pb2.OpenSessionRequest(client="test")).session_id
    n = T.lscalar("n")
    out, _ = theano.scan(lambda acc: acc + 1, outputs_info=T.constant(np.int64(0)), n_steps=n)
    spec = build_spec([n], out[-1])[0]
    fid = client.stub.Compile(compute_pb2.CompileRequest(session_id=session, spec=spec)).function_id
    steps = 100000
    while True:
        took = _seconds(lambda: _run(client, session, fid, [np.int64(steps)]))
        if took > 0.2 or steps >= 10 ** 9:
            break
        steps *= 4
    steps = int(steps * 3.5 / took)  # a run of about 3.5 s: three idle timeouts
    reply = _run(client, session, fid, [np.int64(steps)], timeout=60)
    assert _dtypes.tensor_to_array(reply.outputs[0].tensor) == steps
    # The session survived the call, and the call's end counts as use.
    client.stub.ListShared(compute_pb2.ListSharedRequest(session_id=session))
    # With nothing in flight it expires as before (idle over 1 s, reaped within another).
    time.sleep(4)
    with pytest.raises(grpc.RpcError) as err:
        client.stub.ListShared(compute_pb2.ListSharedRequest(session_id=session))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
