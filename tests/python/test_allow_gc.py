"""Theano's allow_gc on the server: by default a run frees each intermediate once its last reader
has run, so an idle function holds none of them (a context's memory in use returns to its
shared values); `config.allow_gc = False` keeps every intermediate until the run ends and with
the function between runs. Results are NumPy's either way; on devices too (simulated, and the
CUDA provider emulated), where the freed buffers go back to the device's caching allocator."""

import textwrap
import threading

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from tensord.connection import server_info
from tensord.tensor.nnet import conv2d

from device_runs import memory, run as _run  # noqa: F401 (memory is a fixture)

N = 1 << 16  # float64 elements: 512 KiB per value


def in_use(context="cpu"):
    return next(c.memory_in_use_bytes for c in server_info().contexts if c.name == context)


def chain(allow_gc):
    """exp, neg, exp, neg of a shared vector, plus the vector: FAST_COMPILE does not fuse, so
    each node has a buffer of its own."""
    saved = theano.config.allow_gc
    theano.config.allow_gc = allow_gc
    try:
        x = theano.shared(np.linspace(-1, 1, N), name="x")
        return theano.function([], -T.exp(-T.exp(x)) + x, mode="FAST_COMPILE"), x
    finally:
        theano.config.allow_gc = saved


def expected(x):
    return -np.exp(-np.exp(x)) + x


@pytest.mark.parametrize("allow_gc", [True, False])
def test_an_idle_function_holds_its_intermediates_only_without_allow_gc(allow_gc):
    f, x = chain(allow_gc)
    before = in_use()
    for _ in range(3):
        np.testing.assert_allclose(f(), expected(x.get_value()), rtol=1e-13, atol=1e-15)
    held = in_use() - before
    if allow_gc:
        assert held == 0
    else:
        # exp(x), -exp(x), exp(-exp(x)) and its negation stay with the function.
        assert held >= 4 * N * 8, held


def test_convolutions_from_many_threads_leave_no_scratch_behind():
    """oneDNN's blocked copies of a convolution's operands are buffers of one call: however many
    server threads ran it, nothing stays once the calls return."""
    rng = np.random.default_rng(0)
    images = theano.shared(rng.uniform(0, 1, (64, 1, 28, 28)).astype("float32"))
    filters = theano.shared((rng.standard_normal((20, 1, 5, 5)) * 0.1).astype("float32"))
    f = theano.function([], conv2d(images, filters, filter_flip=False).sum())
    want = f()
    before = in_use()
    results, errors = [], []

    def calls():
        try:
            results.extend(float(f()) for _ in range(3))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=calls) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors and len(results) == 12
    assert all(r == want for r in results)
    assert in_use() == before


def test_allow_gc_takes_theanos_boolean_spellings_and_refuses_others():
    saved = theano.config.allow_gc
    try:
        theano.config.allow_gc = "False"
        assert theano.config.allow_gc is False
        with pytest.raises(ValueError, match="Invalid boolean value 'sometimes'"):
            theano.config.allow_gc = "sometimes"
        assert theano.config.allow_gc is False
    finally:
        theano.config.allow_gc = saved


DEVICE = textwrap.dedent("""
    import numpy
    import tensord as theano
    import tensord.tensor as T
    from tensord.connection import server_info

    def in_use():
        return next(c.memory_in_use_bytes for c in server_info().contexts if c.name == 'dev0')
    values = numpy.linspace(-1, 1, 1 << 16).astype('float32')
    for allow_gc in (True, False):
        theano.config.allow_gc = allow_gc
        x = theano.shared(values, target='dev0')
        f = theano.function([], (-T.exp(-T.exp(x)) + x).transfer('cpu'), mode='FAST_COMPILE')
        before = in_use()
        for _ in range(3):
            got = f()
        want = -numpy.exp(-numpy.exp(values.astype('float64'))) + values
        print(allow_gc, numpy.allclose(got, want, rtol=1e-5, atol=1e-6), in_use() - before)
""")


def test_a_device_context_gets_its_intermediates_back(memory):
    out = _run(DEVICE, "device=sim0,contexts=dev0->sim0,floatX=float32", memory).splitlines()
    gc_line, keep_line = (line.split() for line in out)
    assert gc_line == ["True", "True", "0"], out
    assert keep_line[:2] == ["False", "True"], out
    # The function keeps its four float32 intermediates on dev0 between runs.
    assert int(keep_line[2]) >= 4 * (1 << 16) * 4, out
