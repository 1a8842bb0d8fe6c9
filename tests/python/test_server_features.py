"""Server-backed features around functions: info, describe/debugprint, profiles, names, contexts,
and the lifecycle of the embedded server process."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from tensord import errors
from tensord._proto import compute_pb2
from tensord.connection import find_server_binary

pytestmark = pytest.mark.usefixtures("server")


def test_server_info():
    info = theano.server_info()
    assert info.version and info.default_context
    assert info.default_context in [c.name for c in info.contexts]
    for op in ("add", "mul", "sub", "true_div", "pow", "neg", "exp", "log", "dot", "sum", "max",
               "reshape", "dimshuffle", "cast", "fill", "alloc"):
        assert op in info.ops, op


def test_debugprint_of_compiled_function():
    x, y = T.matrices("x", "y")
    f = theano.function([x, y], (x + y) * x)
    text = theano.printing.debugprint(f, file="str")
    assert text.strip() and "x" in text


def test_profile_summary(capsys):
    x = T.vector("x")
    f = theano.function([x], T.exp(x) + 1, profile=True)
    for _ in range(3):
        f(np.ones(4, dtype="float32"))
    assert f.profile is not None
    f.profile.summary()
    assert capsys.readouterr().out.strip()
    f.profile.reset()


def test_function_name_appears_in_input_errors():
    x = T.vector("x")
    f = theano.function([x], x * 2, name="doubler")
    with pytest.raises(TypeError, match='with name "doubler"  at index 0'):
        f(np.ones(3))


def test_same_graph_twice_hits_the_cache():
    x = T.vector("cached_x")
    first = theano.function([x], T.log(x) * 7, name="a")
    second = theano.function([x], T.log(x) * 7, name="a")
    assert second.cache_hit or second.fingerprint == first.fingerprint
    data = np.array([1, 2], dtype="float32")
    np.testing.assert_allclose(second(data), np.log(data) * 7, rtol=1e-6)


def test_shared_on_named_context():
    s = theano.shared(np.ones(2, dtype="float32"), target=theano.server_info().default_context)
    np.testing.assert_array_equal(s.get_value(), np.ones(2))
    with pytest.raises(errors.FailedPrecondition):
        theano.shared(np.ones(2, dtype="float32"), target="no_such_context")


def _binary_or_skip():
    try:
        return find_server_binary()
    except errors.ServerNotFound as exc:
        pytest.skip("embedded-server test needs the binary: %s" % exc)


def test_embedded_server_starts_with_flags_and_stops_at_exit():
    binary = _binary_or_skip()
    script = textwrap.dedent("""
        import numpy as np, tensord as theano, tensord.tensor as T
        from tensord.connection import get_client
        x = T.vector()
        out = theano.function([x], x * 2)(np.ones(2))
        print(get_client().server.process.pid, theano.server_info().float_x, out.dtype)
    """)
    env = {k: v for k, v in os.environ.items() if k != "TENSORD_ADDRESS"}
    env.update(TENSORD_SERVER_BIN=binary, TENSORD_FLAGS="floatX=float64")
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    pid, float_x, dtype = proc.stdout.split()
    assert float_x == "float64" and dtype == "float64"
    # The server was a child of that interpreter; it must be gone (not even a zombie of ours).
    assert not os.path.exists("/proc/%s" % pid) or \
        open("/proc/%s/stat" % pid).read().split()[2] == "Z"


def test_garbage_functions_release_their_server_handles():
    """A session holds at most --max_functions_per_session handles: the client releases the
    handle of a function object once it is garbage (at its next compile)."""
    import gc
    from tensord.connection import get_client
    client = get_client()
    x = T.dvector("x")
    f = theano.function([x], x * 3)
    old = f.function_id
    del f
    gc.collect()
    g = theano.function([x], x * 4)
    with pytest.raises(errors.NotFound):
        client.call("DescribeFunction", compute_pb2.DescribeFunctionRequest(
            session_id=client.session_id, function_id=old))
    assert g(np.array([1.0]))[0] == 4.0
