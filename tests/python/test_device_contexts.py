"""Device contexts without a GPU: a server whose contexts map to simulated devices
(`contexts=dev0->sim0;dev1->sim1`, `device=sim0` standing in for cuda) runs the seed's "Memory
and variables" examples; placement, transfers and per-context memory accounting are real there
(sim devices use CPU kernels on buffers the server treats as device memory). Each runs three
times: with the simulated memory as the host's; with `--sim_device_memory_separate`, where the
server reaches it only through copies, as a GPU's; and on emulated devices (`emuN`), where the
CUDA provider places and runs the work, its kernels emulated on the CPU."""

import json
import os
import textwrap

import numpy

from device_runs import memory, run as _run  # noqa: F401 (memory is a fixture)

SEED = textwrap.dedent("""
    import numpy
    import tensord as theano
    import tensord.tensor as T
    from tensord.connection import server_info
    theano.config.floatX = 'float32'

    a = T.matrix()
    b = a.transfer(None)
    theano.printing.debugprint(b)
    print(repr(b.eval({a: numpy.ones((2, 2)).astype(theano.config.floatX)})))

    a = T.matrix('a')
    sq = theano.function([a], a ** 2)
    theano.printing.debugprint(sq)
    sq = theano.function([a], (a ** 2).transfer(None))
    theano.printing.debugprint(sq)
    theano.printing.debugprint(a.transfer('cpu'))

    state = theano.shared(0)  # a scalar stays on the host, as the seed says
    print(state, state.get_value())

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




def test_the_seeds_memory_examples_on_simulated_devices(memory):
    out = _run(SEED, "device=sim0,contexts=dev0->sim0;dev1->sim1,floatX=float32", memory)
    lines = out.splitlines()
    # b = a.transfer(None): printed as the seed shows.
    assert lines[0].startswith("GpuFromHost<None> [id A]")
    assert lines[1].strip().startswith("|<TensorType(float32, matrix)> [id B]")
    # b.eval(...) is a device array, printed as the seed prints pygpu's.
    assert lines[2] == "gpuarray.array([[1., 1.],", out
    assert lines[3].strip() == "[1., 1.]], dtype=float32)", out
    # theano.function([a], a ** 2): up, square on the device, back.
    i = lines.index(next(l for l in lines if l.startswith("HostFromGpu(gpuarray)")))
    assert lines[i + 1].strip().startswith("|GpuElemwise{sqr,no_inplace}<gpuarray>")
    assert lines[i + 2].strip().startswith("|GpuFromHost<dev0>")  # device=sim0 is dev0
    # ... and with the output transferred by the client, no way back.
    assert any(l.startswith("GpuElemwise{sqr,no_inplace}<gpuarray>") for l in lines), out
    # a.transfer('cpu') of a host value is a itself.
    assert "a [id A]" in out
    assert "<TensorType(int64, scalar)> 0" in lines, out
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


def test_a_training_step_with_weights_on_a_device_moves_only_the_minibatch(memory):
    out = _run(TRAINING, "device=sim0,contexts=dev0->sim0,floatX=float32", memory)
    up, down, learned = out.split()
    # Per step: x (64 x 32 float32) and y (64 int32) go up, with the batch size the mean divides
    # by (an int64 read from x's shape on the host); the float32 cost comes down; the weights
    # and their update stay on dev0 (on emulated devices too: the CUDA provider runs every node
    # of the step there, the cross-entropy's row numbers made there from bounds on the host).
    assert int(up) == 64 * 32 * 4 + 64 * 4 + 8, out
    assert int(down) == 4, out
    assert learned == "True", out


CHAIN = textwrap.dedent("""
    import gc
    import numpy
    import tensord as theano
    import tensord.tensor as T
    from tensord.connection import server_info

    def dev0():
        return next(c for c in server_info().contexts if c.name == 'dev0')

    x = T.matrix('x')
    layer1 = theano.function([x], T.tanh(x * 2).transfer('dev0'))
    h = T.matrix('h')
    layer2 = theano.function([h], (h.transfer('dev0') ** 2).sum())
    data = numpy.random.default_rng(0).normal(size=(256, 256)).astype('float32')
    hidden = layer1(data)
    print(type(hidden).__name__, hidden.context, hidden.shape, hidden.dtype)
    before = dev0()
    total = layer2(hidden)
    after = dev0()
    print(after.transferred_host_to_device_bytes - before.transferred_host_to_device_bytes,
          after.transferred_device_to_host_bytes - before.transferred_device_to_host_bytes)
    expected = (numpy.tanh(data.astype('float64') * 2) ** 2).sum()
    print(numpy.isclose(float(total), expected, rtol=1e-4),
          numpy.allclose(numpy.asarray(hidden), numpy.tanh(data * 2), atol=1e-6),
          numpy.allclose(hidden.get(), numpy.tanh(data * 2), atol=1e-6))

    # Thousands dropped: memory in use on dev0 returns to where it started.
    del hidden
    small = numpy.ones((4, 4), 'float32')
    layer1(small)  # a first call of the small shape
    gc.collect()
    start = dev0().memory_in_use_bytes
    for i in range(3000):
        layer1(small)
    kept = [layer1(small) for _ in range(10)]
    gc.collect()
    held = dev0().memory_in_use_bytes - start
    del kept
    gc.collect()
    print(held, dev0().memory_in_use_bytes - start)

    # A released array is gone, for fetching and as an input.
    gone = layer1(small)
    gone.release()
    for use in (gone.get, lambda: layer2(gone)):
        try:
            use()
            print('no error')
        except theano.NotFound as e:
            print('NotFound', 'not held by this session' in str(e))
""")


def test_device_arrays_chain_functions_without_crossing_to_the_client(memory):
    out = _run(CHAIN, "device=sim0,contexts=dev0->sim0,floatX=float32", memory)
    lines = out.splitlines()
    assert lines[0] == "DeviceArray dev0 (256, 256) float32", out
    # layer2 used the array where it lives: nothing went up, only the float32 sum came down.
    assert lines[1] == "0 4", out
    assert lines[2] == "True True True", out
    # Ten 4x4 float32 arrays held (64 bytes each), then nothing: the 3,010 dropped were freed.
    assert lines[3] == "640 0", out
    assert lines[4:] == ["NotFound True", "NotFound True"], out


RANDOM = textwrap.dedent("""
    import json
    import numpy
    import tensord as theano
    from tensord.connection import server_info
    from tensord.sandbox.rng_mrg import MRG_RandomStreams

    def moved():
        c = next(c for c in server_info().contexts if c.name == 'dev0')
        return c.transferred_host_to_device_bytes, c.transferred_device_to_host_bytes

    srng = MRG_RandomStreams(seed=4321)
    u = srng.uniform((64, 32), nstreams=128)
    z = srng.normal((7, 5), nstreams=6)
    print(u.rng.context, z.rng.context)
    states = [u.rng.get_value().tolist(), z.rng.get_value().tolist()]
    f = theano.function([], [u, z])
    draws = []
    for call in range(2):
        before = moved()
        got_u, got_z = f()
        after = moved()
        print(after[0] - before[0], after[1] - before[1])
        draws.append([got_u.tolist(), got_z.tolist()])
    print(json.dumps({'states': states, 'draws': draws}))
""")


def test_random_streams_draw_where_their_state_lives(memory):
    from test_random_mrg import numpy_mrg31k3p
    out = _run(RANDOM, "device=sim0,contexts=dev0->sim0,floatX=float32", memory)
    lines = out.splitlines()
    # The states are shared variables on dev0, advanced there: per call nothing goes up (the
    # sizes are read on the host) and only the samples come down.
    assert lines[0] == "dev0 dev0", out
    assert lines[1] == lines[2] == "0 %d" % ((64 * 32 + 7 * 5) * 4), out
    record = json.loads(lines[3])
    u_state, z_state = (numpy.array(s, dtype=numpy.int32) for s in record["states"])
    # Uniforms: the reference's numbers bit for bit, the second call going on from the first.
    both = numpy_mrg31k3p(u_state, 2 * 64 * 32, "float32").reshape(2, 64, 32)
    for call in range(2):
        numpy.testing.assert_array_equal(numpy.float32(record["draws"][call][0]), both[call])
    # Normals: Box-Muller over the reference's uniforms, as Theano lays them out.
    uniforms = numpy_mrg31k3p(z_state, 36, "float32")
    radius = numpy.sqrt(numpy.float32(-2) * numpy.log(uniforms[:18]))
    theta = numpy.float32(2 * numpy.pi) * uniforms[18:]
    want = numpy.concatenate([radius * numpy.cos(theta), radius * numpy.sin(theta)])[:35]
    numpy.testing.assert_allclose(numpy.float32(record["draws"][0][1]).reshape(-1), want,
                                  rtol=1e-5, atol=1e-6)


RECURRENT = textwrap.dedent("""
    import json
    import numpy
    import tensord as theano
    import tensord.tensor as T
    from tensord.connection import server_info

    def moved():
        c = next(c for c in server_info().contexts if c.name == 'dev0')
        return c.transferred_host_to_device_bytes, c.transferred_device_to_host_bytes

    rng = numpy.random.default_rng(3)
    W = theano.shared(rng.normal(size=(4, 6)).astype('float32') * 0.5, name='W')
    U = theano.shared(rng.normal(size=(6, 6)).astype('float32') * 0.5, name='U')
    x = T.tensor3('x')  # (steps, batch, features)

    def step(x_t, h_prev):
        return T.tanh(T.dot(x_t, W) + T.dot(h_prev, U))

    h, _ = theano.scan(step, sequences=x, outputs_info=T.zeros((x.shape[1], 6)))
    cost = (h[-1] ** 2).sum() + h.mean()
    outputs = [cost] + T.grad(cost, [W, U])
    on_device = theano.function([x], outputs)
    theano.config.device = 'cpu'
    on_host = theano.function([x], outputs)
    data = rng.normal(size=(5, 3, 4)).astype('float32')
    before = moved()
    got = on_device(data)
    after = moved()
    print(after[0] - before[0], after[1] - before[1])
    want = on_host(data)
    print(json.dumps({'got': [numpy.asarray(v).tolist() for v in got],
                      'want': [numpy.asarray(v).tolist() for v in want],
                      'data': data.tolist(), 'W': W.get_value().tolist(),
                      'U': U.get_value().tolist()}))
""")


def test_a_recurrent_network_and_its_gradient_run_where_their_weights_live(memory):
    out = _run(RECURRENT, "device=sim0,contexts=dev0->sim0,floatX=float32", memory)
    lines = out.splitlines()
    # The scan and its gradient ran on dev0 (on emulated devices, the loop issuing the body's
    # CUDA kernels): x went up, with at most two scalars made on the host from shapes (the
    # mean's element count), and the cost and two gradients came down, nothing else.
    up, down = (int(v) for v in lines[0].split())
    assert down == 4 + 4 * 4 * 6 + 4 * 6 * 6, out
    assert 5 * 3 * 4 * 4 <= up <= 5 * 3 * 4 * 4 + 16, out
    record = json.loads(lines[1])
    # The cost against a NumPy loop; the gradients against the host's.
    data, w, u = (numpy.array(record[k], dtype=numpy.float64) for k in ("data", "W", "U"))
    h = numpy.zeros((3, 6))
    states = []
    for x_t in data:
        h = numpy.tanh(x_t @ w + h @ u)
        states.append(h)
    cost = (h ** 2).sum() + numpy.mean(states)
    numpy.testing.assert_allclose(record["got"][0], cost, rtol=1e-5)
    for got, want in zip(record["got"], record["want"]):
        numpy.testing.assert_allclose(numpy.array(got), numpy.array(want), rtol=1e-5, atol=1e-6)


UNTIL = textwrap.dedent("""
    import numpy
    import tensord as theano
    import tensord.tensor as T
    from tensord.connection import server_info

    def moved():
        c = next(c for c in server_info().contexts if c.name == 'dev0')
        return c.transferred_host_to_device_bytes, c.transferred_device_to_host_bytes

    v = T.vector('v')
    doubled, _ = theano.scan(lambda s: (s * 2, theano.scan_module.until(s.sum() > 100)),
                             outputs_info=v, n_steps=20)
    f = theano.function([v], doubled)
    for start in ([1, 2], [60, 50], [0.5, 0.25]):
        before = moved()
        got = f(numpy.array(start, 'float32'))
        after = moved()
        print(got.tolist(), after[0] - before[0], after[1] - before[1])
""")


def test_a_scan_stops_on_a_condition_computed_on_the_device(memory):
    out = _run(UNTIL, "device=sim0,contexts=dev0->sim0,floatX=float32", memory)
    for line, start in zip(out.splitlines(), ([1, 2], [60, 50], [0.5, 0.25])):
        # The states up to the first whose input already summed past 100 (NumPy's loop).
        want, s = [], numpy.array(start, "float64")
        for _ in range(20):
            stop = s.sum() > 100
            s = s * 2
            want.append(s.tolist())
            if stop:
                break
        states, up, down = line.rsplit(" ", 2)
        assert json.loads(states) == want, out
        # The loop ran on dev0: v went up, the states came down (the condition is read by the
        # loop, not moved by a transfer).
        assert (int(up), int(down)) == (8, 8 * len(want)), out


INDEXED = textwrap.dedent("""
    import numpy
    import tensord as theano
    import tensord.tensor as T

    X = T.matrix('X')
    # Each step reads a row by an index from a sequence (an index the host must read) and adds
    # zeros shaped from X (a shape read on the host): host work inside a loop on the device.
    rows, _ = theano.scan(lambda i, X: X[i] * 2 + T.zeros((X.shape[1],)),
                          sequences=T.arange(X.shape[0] - 1, -1, -1), non_sequences=X)
    f = theano.function([X], rows)
    print(f(numpy.arange(12, dtype='float32').reshape(4, 3)).tolist())
""")


def test_a_scan_on_a_device_reads_indices_and_shapes_on_the_host(memory):
    out = _run(INDEXED, "device=sim0,contexts=dev0->sim0,floatX=float32", memory)
    want = (numpy.arange(12).reshape(4, 3)[::-1] * 2).tolist()
    assert json.loads(out.strip()) == want, out


LSTM = textwrap.dedent("""
    import json
    import sys
    import numpy as np
    import tensord as theano
    from tensord.connection import server_info
    sys.path.insert(0, EXAMPLES)
    import lstm_lm

    def moved():
        c = next(c for c in server_info().contexts if c.name == 'dev0')
        return c.transferred_host_to_device_bytes, c.transferred_device_to_host_bytes

    ids, vocab = lstm_lm.encode(lstm_lm.CORPUS)
    steps = {}
    for where in ('dev0', 'cpu'):  # the same model and seed, its parameters on each
        theano.config.device = where
        inputs, loss, updates, params = lstm_lm.build_training_step(len(vocab))
        steps[where] = (theano.function(inputs, loss, updates=updates), params)
    rng = np.random.RandomState(1)
    windows = [lstm_lm.batches(ids, 12, 4, rng) for _ in range(3)]
    losses = {}
    for where, (step, params) in steps.items():
        before = moved()
        losses[where] = [float(step(x, y)) for x, y in windows]
        after = moved()
        if where == 'dev0':
            print(after[0] - before[0], after[1] - before[1])
    print(json.dumps(losses))
    print(all(np.allclose(p.get_value(), q.get_value(), rtol=1e-4, atol=1e-5)
              for p, q in zip(steps['dev0'][1], steps['cpu'][1])))
""")


def test_the_lstm_language_model_trains_where_its_parameters_live(memory):
    examples = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "clients",
                            "python", "examples")
    out = _run(LSTM.replace("EXAMPLES", repr(examples)),
               "device=sim0,contexts=dev0->sim0,floatX=float32", memory)
    lines = out.splitlines()
    # Three SGD steps of the LSTM (an embedding lookup, a scan and its gradient, a softmax
    # cross-entropy) on dev0: per step the int32 windows x and y go up (with one scalar made on
    # the host from shapes) and the loss comes down; the parameters stay.
    up, down = (int(v) for v in lines[0].split())
    assert 3 * 2 * 12 * 4 * 4 <= up <= 3 * (2 * 12 * 4 * 4 + 16), out
    assert down == 3 * 4, out
    losses = json.loads(lines[1])
    numpy.testing.assert_allclose(losses["dev0"], losses["cpu"], rtol=1e-4)
    assert lines[2] == "True", out


CHOSEN_DEVICE = textwrap.dedent("""
    import numpy
    import tensord as theano
    import tensord.tensor as T
    from tensord.connection import server_info

    print(server_info().default_context)  # the server runs with its own default, cpu
    a = T.vector('a')
    on_server_default = theano.function([a], a * 2)
    theano.config.device = 'sim1'   # this program's choice: the device dev1 maps to
    on_dev1 = theano.function([a], a * 2)
    w = theano.shared(numpy.ones(3, 'float32'))
    print(w.get_value().tolist(), [v.context for v in [w]])
    for f in (on_server_default, on_dev1):
        print(f.describe().debugprint.splitlines()[0].split(' [id')[0])
    print(on_dev1(numpy.arange(3, dtype='float32')).tolist())
""")


def test_config_device_chooses_where_functions_and_shared_variables_live(memory):
    out = _run(CHOSEN_DEVICE, "contexts=dev0->sim0;dev1->sim1,floatX=float32", memory)
    lines = out.splitlines()
    assert lines[0] == "cpu", out
    assert lines[1] == "[1.0, 1.0, 1.0] ['dev1']", out
    assert lines[2].startswith("Elemwise{mul"), out
    assert lines[3] == "HostFromGpu(gpuarray)", out
    assert lines[4] == "[0.0, 2.0, 4.0]", out


def test_the_programs_device_choices_go_into_the_function_spec(monkeypatch):
    from tensord.compile.function import build_spec
    from tensord.config import config
    import tensord.tensor as T
    a = T.vector("a")
    spec = build_spec([a], a * 2)[0]
    assert spec.context == "" and not spec.cpu_fallback  # the server's defaults
    monkeypatch.setattr(config, "device", "cuda1")
    monkeypatch.setattr(config, "cpu_fallback", True)
    spec = build_spec([a], a * 2)[0]
    assert spec.context == "cuda1" and spec.cpu_fallback
