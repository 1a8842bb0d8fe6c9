"""ifelse, specify_shape and theano.printing.Print where the values live (device_runs.py:
simulated devices, and the CUDA provider emulated): their kernels touch no element of a device's
value, so they run there with only a condition or a shape read on the host. ifelse stays lazy
(the branch not taken, which would fail, is skipped), a wrong stated shape is refused in the
host's words, and Print prints the device's value. Expected values come from NumPy."""

import json
import textwrap

import numpy

from device_runs import memory, run  # noqa: F401 (memory is a fixture)

SCRIPT = textwrap.dedent("""
    import json
    import numpy as np
    import tensord as theano
    import tensord.tensor as T
    from tensord.ifelse import ifelse
    from tensord.printing import Print
    from tensord.connection import server_info

    def moved():
        c = next(c for c in server_info().contexts if c.name == 'dev0')
        return c.transferred_host_to_device_bytes + c.transferred_device_to_host_bytes

    values = np.linspace(-1, 1, 12).astype('float32').reshape(3, 4)
    x = theano.shared(values, target='dev0')
    n = T.lscalar('n')
    # The else branch allocates 4 TB: it fails if it runs.
    huge = T.alloc(np.float32(1), n, 4) * 3
    f = theano.function([n], ifelse(T.gt(x.sum(), -100), x * 2, huge).transfer('cpu'))
    g = theano.function([n], ifelse(T.lt(x.sum(), -100), x * 2, huge).transfer('cpu'))
    before = moved()
    taken = f(10 ** 12)
    out = {'taken': taken.tolist(), 'moved': moved() - before}
    try:
        g(10 ** 12)
        out['else'] = 'ran'
    except Exception as e:
        out['else'] = type(e).__name__
    out['else_small'] = g(2).tolist()

    stated = theano.function([], T.specify_shape(x, (3, 4)).sum().transfer('cpu'))
    out['stated'] = float(stated())
    wrong = theano.function([], T.specify_shape(x, (4, 3)).sum().transfer('cpu'))
    try:
        wrong()
        out['wrong'] = 'ran'
    except Exception as e:
        out['wrong'] = [type(e).__name__, str(e)]

    shown = theano.function([], (Print('on dev0')(x) * 2).sum().transfer('cpu'))
    out['shown'] = float(shown())
    print(json.dumps(out))
""")


def test_ifelse_specify_shape_and_print_run_where_their_values_live(memory):
    lines = run(SCRIPT, "device=sim0,contexts=dev0->sim0,floatX=float32", memory).splitlines()
    out = json.loads(lines[-1])
    values = numpy.linspace(-1, 1, 12).astype("float32").reshape(3, 4)
    numpy.testing.assert_allclose(out["taken"], values * 2)
    # Only the condition came down (a bool) and the result (48 bytes); nothing went up.
    assert out["moved"] <= 1 + values.nbytes, out
    assert out["else"] == "ResourceExhausted", out
    numpy.testing.assert_allclose(out["else_small"], numpy.full((2, 4), 3.0))
    assert out["stated"] == float(values.sum())
    assert out["wrong"][0] == "InvalidArgument", out
    assert "specify_shape: the value has shape (3, 4) but the graph states (4, 3)" in \
        out["wrong"][1], out
    assert out["shown"] == float((values * 2).sum())
    assert "\n".join(lines[:-1]) == "on dev0 __str__ = " + str(values), lines
