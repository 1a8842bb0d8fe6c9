"""Device contexts without a GPU: a server whose contexts map to simulated devices
(`contexts=dev0->sim0;dev1->sim1`, `device=sim0` standing in for cuda) runs the seed's "Memory
and variables" examples; placement, transfers and per-context memory accounting are real there
(sim devices use CPU kernels on buffers the server treats as device memory)."""

import os
import subprocess
import sys
import textwrap

import pytest

SEED = textwrap.dedent("""
    import numpy
    import tensord as theano
    import tensord.tensor as T
    from tensord.connection import server_info
    theano.config.floatX = 'float32'

    a = T.matrix()
    b = a.transfer(None)
    theano.printing.debugprint(b)
    print(b.eval({a: numpy.ones((2, 2)).astype(theano.config.floatX)}).tolist())

    a = T.matrix('a')
    sq = theano.function([a], a ** 2)
    theano.printing.debugprint(sq)
    sq = theano.function([a], (a ** 2).transfer(None))
    theano.printing.debugprint(sq)
    theano.printing.debugprint(a.transfer('cpu'))

    def in_use(name):
        return next(c.memory_in_use_bytes for c in server_info().contexts if c.name == name)
    before = in_use('dev1')
    w = theano.shared(numpy.random.random((1024, 1024)).astype('float32'), target='dev1')
    print(w)
    print('dev1 grew by', in_use('dev1') - before)
    f = theano.function([], (w * 2).sum())
    theano.printing.debugprint(f)
    print(numpy.isclose(float(f()), (w.get_value().astype('float64') * 2).sum(), rtol=1e-5))
""")


def _run(script, flags):
    binary = os.environ.get("TENSORD_SERVER_BIN")
    if not binary or not os.path.exists(binary):
        pytest.skip("TENSORD_SERVER_BIN names no server binary")
    env = dict(os.environ, TENSORD_FLAGS=flags)
    env.pop("TENSORD_ADDRESS", None)  # start a server with these flags
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_the_seeds_memory_examples_on_simulated_devices():
    out = _run(SEED, "device=sim0,contexts=dev0->sim0;dev1->sim1,floatX=float32")
    lines = out.splitlines()
    # b = a.transfer(None): printed as the seed shows.
    assert lines[0].startswith("GpuFromHost<None> [id A]")
    assert lines[1].strip().startswith("|<TensorType(float32, matrix)> [id B]")
    assert "[[1.0, 1.0], [1.0, 1.0]]" in out
    # theano.function([a], a ** 2): up, square on the device, back.
    i = lines.index(next(l for l in lines if l.startswith("HostFromGpu(gpuarray)")))
    assert lines[i + 1].strip().startswith("|GpuElemwise{sqr,no_inplace}<gpuarray>")
    assert lines[i + 2].strip().startswith("|GpuFromHost<dev0>")  # device=sim0 is dev0
    # ... and with the output transferred by the client, no way back.
    assert any(l.startswith("GpuElemwise{sqr,no_inplace}<gpuarray>") for l in lines), out
    # a.transfer('cpu') of a host value is a itself.
    assert "a [id A]" in out
    # shared(..., target='dev1') lives on dev1, accounted there.
    assert "<GpuArrayType<dev1>(float32, (False, False))>" in out
    grew = int(next(l for l in lines if l.startswith("dev1 grew by")).split()[-1])
    assert grew >= 1024 * 1024 * 4
    # A function reading w runs where w lives; only the scalar result comes back.
    assert any(l.startswith("HostFromGpu(gpuarray)") for l in lines[-6:]), out
    assert lines[-1] == "True"


TRAINING = textwrap.dedent("""
    import numpy
    import tensord as theano
    import tensord.tensor as T
    from tensord.connection import server_info

    def moved():
        c = next(c for c in server_info().contexts if c.name == 'dev0')
        return c.transferred_host_to_device_bytes, c.transferred_device_to_host_bytes

    rng = numpy.random.default_rng(0)
    w = theano.shared(rng.normal(size=(32, 10)).astype('float32'), name='w', target='dev0')
    x = T.matrix('x')
    y = T.ivector('y')
    p = T.nnet.softmax(T.dot(x, w))
    cost = T.nnet.categorical_crossentropy(p, y).mean()
    step = theano.function([x, y], cost, updates=[(w, w - 0.1 * T.grad(cost, w))])
    xb = rng.normal(size=(64, 32)).astype('float32')
    yb = rng.integers(0, 10, size=64).astype('int32')
    step(xb, yb)  # the first call may move constants; count from the second
    up0, down0 = moved()
    costs = [float(step(xb, yb)) for _ in range(5)]
    up1, down1 = moved()
    print((up1 - up0) // 5, (down1 - down0) // 5, costs[-1] < costs[0])
""")


def test_a_training_step_with_weights_on_a_device_moves_only_the_minibatch():
    out = _run(TRAINING, "device=sim0,contexts=dev0->sim0,floatX=float32")
    up, down, learned = out.split()
    # Per step: x (64 x 32 float32) and y (64 int32) go up, with the batch size the mean divides
    # by (an int64 read from x's shape on the host); the float32 cost comes down; the weights
    # and their update stay on dev0.
    assert int(up) == 64 * 32 * 4 + 64 * 4 + 8, out
    assert int(down) == 4, out
    assert learned == "True", out
