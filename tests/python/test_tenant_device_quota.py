"""--tenant_memory_quota covers a tenant's device memory (issue: secure, durable and honest under
faults): the device buffers one of its runs allocates count with what it holds already (its
shared values and device arrays), so a run cannot take a device's memory past the quota; it
fails with RESOURCE_EXHAUSTED naming the quota, stores nothing, and the server goes on. Host
memory is not device memory: the same run on cpu is not limited by it."""

import time

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from client_swap import using
from tensord.connection import Client
from tensord.errors import ResourceExhausted

QUOTA = 4_000_000  # bytes


@pytest.fixture
def client(private_server):
    server = private_server(["--contexts=dev0->sim0", "--tenant_memory_quota=%d" % QUOTA])
    c = Client(server.address)
    c.wait_ready(20)
    yield c
    c.close()


def _outer_sum(n, device):
    """A function whose one intermediate, outer(x, x), takes n * n * 4 bytes on `device`."""
    theano.config.device = device
    x = T.fvector("x")
    counter = theano.shared(np.int64(0), name="counter", target=device)
    return theano.function([x], T.outer(x, x).sum(),
                           updates=[(counter, counter + 1)]), counter


def test_a_run_past_the_tenants_device_quota_is_refused(client):
    with using(client):
        small, small_runs = _outer_sum(500, "dev0")  # 1 MB
        big, big_runs = _outer_sum(1500, "dev0")     # 9 MB
        assert small(np.ones(500, "float32")) == 250_000
        with pytest.raises(ResourceExhausted, match=r"tenant 'default' would hold .* bytes of "
                                                    r"device memory.*\(--tenant_memory_quota\)"):
            big(np.ones(1500, "float32"))
        assert int(big_runs.get_value()) == 0  # nothing stored
        # What the tenant holds counts too: 3 MB resident leave too little for 1 MB more. (Another
        # length: a function keeps the buffers it planned for the last one and reuses them.)
        theano.config.device = "dev0"
        held = theano.shared(np.zeros(750_000, "float32"), target="dev0")
        with pytest.raises(ResourceExhausted, match="--tenant_memory_quota"):
            small(np.ones(520, "float32"))
        held.set_value(np.zeros(1, "float32"))
        assert small(np.ones(520, "float32")) == 520 * 520
        assert int(small_runs.get_value()) == 2


def test_concurrent_runs_of_a_tenant_count_together(client):
    import threading
    with using(client):
        # 3 MB each: one fits the 4 MB quota, two at once do not (whichever comes second).
        # Two functions, so their updates do not serialize the runs.
        functions = [_outer_sum(860, "dev0")[0] for _ in range(2)]
        outcomes = []
        barrier = threading.Barrier(2)

        # Runs of a millisecond overlap by chance, so each thread tries until one is refused,
        # at most 500 times or 10 s.
        deadline = time.monotonic() + 10

        def run(f):
            barrier.wait()
            try:
                for _ in range(500):
                    f(np.ones(860, "float32"))
                    if "refused" in outcomes or time.monotonic() > deadline:
                        break
                outcomes.append("ok")
            except ResourceExhausted:
                outcomes.append("refused")

        threads = [threading.Thread(target=run, args=(f,)) for f in functions]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert "refused" in outcomes, outcomes


def test_buffers_a_function_keeps_between_runs_are_not_a_way_around_it(client):
    with using(client):
        small, _ = _outer_sum(500, "dev0")  # 1 MB
        assert small(np.ones(500, "float32")) == 250_000
        theano.config.device = "dev0"
        held = theano.shared(np.zeros(750_000, "float32"), target="dev0")  # 3 MB
        with pytest.raises(ResourceExhausted, match="--tenant_memory_quota"):
            small(np.ones(500, "float32"))  # the same length: nothing kept from the last run
        del held


def test_host_memory_is_not_held_against_the_device_quota(client):
    with using(client):
        big, runs = _outer_sum(1500, "cpu")
        assert big(np.ones(1500, "float32")) == 1500 * 1500
        assert int(runs.get_value()) == 1
