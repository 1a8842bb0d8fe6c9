"""A scan's number of steps is the request's to choose, so a run whose client gives up (its
deadline passes) must stop and free the server, not loop on: the run fails with
DEADLINE_EXCEEDED, stores no update, and the server answers the next call. Long runs compute on
the server's compute threads, so other RPCs stay answerable while they last."""

import threading
import time

import grpc
import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from tensord import _dtypes
from tensord._proto import compute_pb2
from tensord.connection import get_client

pytestmark = pytest.mark.usefixtures("server")


def test_a_run_past_its_deadline_stops_and_stores_nothing():
    count = theano.shared(np.float64(0), name="count")
    n = T.lscalar("n")
    _, updates = theano.scan(lambda: {count: count + 1}, n_steps=n)
    f = theano.function([n], [], updates=updates)
    f(1000)
    assert count.get_value() == 1000
    client = get_client()

    def run(steps, timeout):
        request = compute_pb2.RunRequest(session_id=client.session_id, function_id=f.function_id)
        _dtypes.array_to_tensor(np.asarray(steps, dtype="int64"), request.inputs.add())
        return client.stub.Run(request, timeout=timeout)

    with pytest.raises(grpc.RpcError) as err:
        run(10 ** 12, timeout=0.5)
    assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    # A run holds the lock of the variables it updates: the next run of f gets it only if the
    # server stopped the endless one (else this times out instead of hanging the test).
    start = time.monotonic()
    run(5, timeout=20)
    assert time.monotonic() - start < 5
    assert count.get_value() == 1005  # the stopped run stored nothing


def test_long_runs_do_not_starve_other_rpcs():
    count = theano.shared(np.float64(0), name="count")
    n = T.lscalar("n")
    _, updates = theano.scan(lambda: {count: count + 1}, n_steps=n)
    f = theano.function([n], updates[count])  # no update: the runs do not wait on each other
    client = get_client()

    def endless():
        request = compute_pb2.RunRequest(session_id=client.session_id, function_id=f.function_id)
        _dtypes.array_to_tensor(np.asarray(10 ** 12, dtype="int64"), request.inputs.add())
        try:
            client.stub.Run(request, timeout=3)
        except grpc.RpcError:
            pass  # DEADLINE_EXCEEDED: the point is what happens meanwhile

    runs = [threading.Thread(target=endless) for _ in range(6)]
    for r in runs:
        r.start()
    time.sleep(0.5)
    # More endless runs than cores are in flight; the server still answers at once.
    start = time.monotonic()
    client.stub.GetServerInfo(compute_pb2.GetServerInfoRequest(), timeout=2)
    assert count.get_value() == 0
    assert time.monotonic() - start < 1
    for r in runs:
        r.join()
