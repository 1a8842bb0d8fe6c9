"""Device memory through the device's caching allocator (issue 16), on simulated devices: a simN
device has host memory of --sim_device_memory_mb behind the allocator a CUDA context will use, so
Theano's --preallocate (its log line and region), the cache of freed blocks, running out of the
device's memory, and the figures in GetServerInfo and /metrics are checked here without a GPU."""

import re
import urllib.request

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from client_swap import using
from tensord.connection import Client, LocalServer, ServerStartError, find_server_binary, \
    server_info
from tensord.errors import ResourceExhausted

MIB = 1 << 20


@pytest.fixture
def served(private_server, tmp_path):
    """start(flags) -> (server, metrics text reader), with the API pointed at the server's client
    inside the test's `with using(...)` block, which this sets up."""
    clients = []

    def start(flags):
        port_file = tmp_path / ("metrics_port_%d" % len(clients))
        server = private_server(["--contexts=dev0->sim0", "--metrics_listen=127.0.0.1:0",
                                 "--metrics_port_file=%s" % port_file] + flags)
        client = Client(server.address, server=None)
        client.wait_ready(20)
        clients.append(client)

        def metrics():
            url = "http://127.0.0.1:%s/metrics" % port_file.read_text().strip()
            return urllib.request.urlopen(url, timeout=10).read().decode()
        return server, client, metrics
    yield start
    for client in clients:
        client.close()


def dev0():
    return next(c for c in server_info().contexts if c.name == "dev0")


def gauge(text, name, context="dev0"):
    found = re.search(r'^%s\{context="%s"\} (\S+)$' % (name, context), text, re.M)
    assert found, name
    return float(found.group(1))


def train_on_dev0(steps):
    """A few SGD steps of least squares with the weights on dev0; returns (learned, NumPy's)."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((64, 32)).astype("float32")
    y = rng.standard_normal((64, 8)).astype("float32")
    w0 = rng.standard_normal((32, 8)).astype("float32") * 0.1
    w = theano.shared(w0.copy(), target="dev0")
    xs, ys = T.fmatrix("x"), T.fmatrix("y")
    cost = T.sqr(T.dot(xs, w) - ys).mean()
    step = theano.function([xs, ys], cost, updates=[(w, w - 0.1 * T.grad(cost, w))])
    expected = w0.astype("float64")
    for _ in range(steps):
        step(x, y)
        g = 2 * x.T.astype("float64") @ (x @ expected - y) / y.size
        expected -= 0.1 * g
    return w.get_value(), expected


def test_preallocating_a_fraction_logs_theanos_line_and_reserves_the_region(served):
    server, client, metrics = served(["--sim_device_memory_mb=64", "--preallocate=0.5"])
    with open(server.log_path) as f:
        assert "Preallocating 32/64 Mb (0.500000) on sim0" in f.read()
    with using(client):
        info = dev0()
        assert info.memory_reserved_bytes == 32 * MIB
        assert info.device_memory_bytes == 64 * MIB
        learned, expected = train_on_dev0(5)  # its buffers come out of the region
        np.testing.assert_allclose(learned, expected, rtol=1e-4, atol=1e-5)
        assert dev0().memory_in_use_bytes > 0
        assert dev0().memory_cached_bytes == 0  # a region's blocks merge back into it
        # 24 MiB from the region, 24 from the device, then neither has room.
        block = np.zeros(6 * MIB, dtype="float32")
        held = [theano.shared(block, target="dev0") for _ in range(2)]
        with pytest.raises(ResourceExhausted, match="a preallocated region of 33554432 bytes"):
            theano.shared(block, target="dev0")
        del held
    assert gauge(metrics(), "tensord_memory_reserved_bytes") == 32 * MIB
    assert gauge(metrics(), "tensord_memory_reserved_bytes", "cpu") == 0


def test_preallocating_megabytes_and_a_fraction_above_theanos_cap(served):
    server, _, _ = served(["--sim_device_memory_mb=64", "--preallocate=10"])
    with open(server.log_path) as f:
        assert "Preallocating 10/64 Mb (0.156250) on sim0" in f.read()
    server, _, _ = served(["--sim_device_memory_mb=100", "--preallocate=1"])
    with open(server.log_path) as f:
        assert "Preallocating 95/100 Mb (0.950000) on sim0" in f.read()  # capped as Theano's


def test_freed_blocks_are_kept_for_the_next_allocation(served):
    _, client, metrics = served([])
    with using(client):
        assert dev0().memory_cached_bytes == 0
        assert dev0().device_memory_bytes == 16384 * MIB  # --sim_device_memory_mb's default
        v = theano.shared(np.ones((1024, 1024), dtype="float32"), target="dev0")
        v.set_value(np.zeros((1024, 1024), dtype="float32"))  # the old value's block is freed
        cached = dev0().memory_cached_bytes
        assert cached >= 4 * MIB
        w = theano.shared(np.ones((1024, 1024), dtype="float32"), target="dev0")
        assert dev0().memory_cached_bytes == cached - 4 * MIB  # served from the cache
        assert float(w.get_value().sum()) == 1024 * 1024
        learned, expected = train_on_dev0(3)
        np.testing.assert_allclose(learned, expected, rtol=1e-4, atol=1e-5)
        assert gauge(metrics(), "tensord_memory_cached_bytes") == dev0().memory_cached_bytes


def test_a_negative_preallocate_turns_caching_off(served):
    _, client, _ = served(["--preallocate=-1"])
    with using(client):
        v = theano.shared(np.ones((1024, 1024), dtype="float32"), target="dev0")
        v.set_value(np.zeros((1024, 1024), dtype="float32"))
        assert dev0().memory_cached_bytes == 0
        learned, expected = train_on_dev0(3)
        np.testing.assert_allclose(learned, expected, rtol=1e-4, atol=1e-5)
        assert dev0().memory_cached_bytes == 0


def test_past_the_devices_memory_is_resource_exhausted_and_the_server_goes_on(served):
    _, client, _ = served(["--sim_device_memory_mb=8"])
    with using(client):
        with pytest.raises(ResourceExhausted, match="out of memory on sim0: 12582912 bytes"):
            theano.shared(np.zeros(3 * MIB, dtype="float32"), target="dev0")
        small = theano.shared(np.ones(MIB // 4, dtype="float32"), target="dev0")  # 1 MiB
        theano.config.device = "dev0"
        try:
            x = T.fvector("x")
            big = theano.function([x], T.outer(x, x).sum())  # 4 * n * n bytes on dev0
            with pytest.raises(ResourceExhausted, match="out of memory on sim0"):
                big(np.ones(2048, dtype="float32"))  # 16 MiB
            assert float(big(np.ones(512, dtype="float32"))) == 512 * 512  # 1 MiB
        finally:
            theano.config.device = "cpu"
        assert float(small.get_value().sum()) == MIB // 4
        learned, expected = train_on_dev0(2)
        np.testing.assert_allclose(learned, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("flags, message", [
    (["--sim_device_memory_mb=64", "--preallocate=100"],
     "cannot preallocate 100 MiB of the 64 MiB of sim0"),
    (["--preallocate=nan"], "--preallocate must be a number"),
    (["--preallocate=inf"], "--preallocate must be a number"),
    (["--preallocate=1e-9"], "less than one block"),
    (["--sim_device_memory_mb=0"], "--sim_device_memory_mb must be in [1, 2^30]"),
])
def test_bad_device_memory_flags_stop_the_server_with_a_reason(flags, message):
    try:
        binary = find_server_binary()
    except Exception as exc:  # noqa: BLE001 (ServerNotFound)
        pytest.skip(str(exc))
    server = LocalServer(binary, ["--contexts=dev0->sim0"] + flags)
    try:
        with pytest.raises(ServerStartError) as failed:
            server.start(timeout=20)
        assert message in str(failed.value)
    finally:
        server.stop()
