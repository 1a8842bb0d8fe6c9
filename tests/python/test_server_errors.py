"""Bad inputs and bad graphs: the right Python exception, a message that names the problem, and a
server that keeps serving afterwards."""

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from tensord import errors
from tensord._proto import compute_pb2, tensor_pb2
from tensord.compile.function import build_spec
from tensord.connection import get_client, server_info

pytestmark = pytest.mark.usefixtures("server")


def test_wrong_number_of_inputs():
    x, y = T.vectors("x", "y")
    f = theano.function([x, y], x + y)
    with pytest.raises(TypeError, match="takes 2 arguments but 1 were given"):
        f(np.ones(2, "float32"))
    with pytest.raises(TypeError, match="takes 2 arguments but 3 were given"):
        f(*[np.ones(2, "float32")] * 3)


def test_wrong_ndim():
    x = T.matrix("x")
    f = theano.function([x], x * 2)
    with pytest.raises(TypeError) as info:
        f(np.ones(3, "float32"))
    assert "at index 0" in info.value.args[0]
    assert "Wrong number of dimensions: expected 2, got 1" in info.value.args[1]


def test_wrong_dtype():
    x = T.ivector("x")
    f = theano.function([x], x + 1)
    with pytest.raises(TypeError, match="cannot store a value of dtype float32"):
        f(np.ones(3, "float32"))
    with pytest.raises(TypeError, match="cannot store accurately value"):
        f([1.5, 2, 3])
    np.testing.assert_array_equal(f([1, 2, 3]), np.array([1, 2, 3], dtype="int32") + 1)


def test_non_unit_broadcastable_dim():
    r = T.row("r")
    f = theano.function([r], r + 1)
    with pytest.raises(TypeError, match="broadcastable"):
        f(np.ones((2, 3), "float32"))


def test_unknown_function_after_release():
    x = T.vector("released_input")
    f = theano.function([x], T.exp(x) * 3 - x)
    f(np.ones(2, "float32"))
    f.release()
    with pytest.raises(errors.NotFound) as info:
        f(np.ones(2, "float32"))
    assert isinstance(info.value, KeyError)
    assert str(info.value)  # the server's message
    with pytest.raises(errors.NotFound):
        f.release()


def test_shape_mismatch_found_by_the_server():
    a, b = T.matrices("a", "b")
    f = theano.function([a, b], T.dot(a, b))
    with pytest.raises(errors.InvalidArgument) as info:
        f(np.ones((2, 3), "float32"), np.ones((2, 3), "float32"))
    assert isinstance(info.value, ValueError) and str(info.value)


def test_bad_reshape_found_by_the_server():
    x = T.vector()
    f = theano.function([x], x.reshape((4, 4)))
    with pytest.raises(errors.InvalidArgument):
        f(np.ones(10, "float32"))
    np.testing.assert_array_equal(f(np.arange(16, dtype="float32")),
                                  np.arange(16, dtype="float32").reshape(4, 4))


def _compile_raw(spec):
    client = get_client()
    return client.call("Compile", compute_pb2.CompileRequest(session_id=client.session_id,
                                                             spec=spec))


def test_server_rejects_wrong_declared_output_type():
    x, y = T.matrices("x", "y")
    spec, *_ = build_spec([x, y], x + y, name="tampered")
    out = next(v for v in spec.graph.variables if v.id == spec.graph.outputs[0])
    out.type.dtype = tensor_pb2.DT_FLOAT64  # the server infers float32
    with pytest.raises(errors.InvalidArgument):
        _compile_raw(spec)


def test_server_rejects_unknown_op_and_bad_ids():
    x = T.vector("x")
    spec, *_ = build_spec([x], T.exp(x), name="bad-op")
    spec.graph.applies[0].op = "no_such_op_anywhere"
    with pytest.raises((errors.InvalidArgument, errors.Unimplemented)):
        _compile_raw(spec)
    spec, *_ = build_spec([x], T.exp(x), name="bad-id")
    spec.graph.applies[0].inputs[0] = 999
    with pytest.raises(errors.InvalidArgument):
        _compile_raw(spec)


def test_unknown_session_is_not_found():
    client = get_client()
    with pytest.raises(errors.NotFound):
        client.call("ListShared", compute_pb2.ListSharedRequest(session_id="no-such-session"))


def test_server_survives_bad_requests():
    info = server_info()
    assert info.version
    x = T.vector()
    np.testing.assert_allclose(theano.function([x], x + 1)(np.zeros(2, "float32")), [1, 1])


def test_client_side_graph_errors():
    x, y = T.vectors("x", "y")
    with pytest.raises(errors.UnusedInputError):
        theano.function([x, y], x)
    with pytest.raises(errors.MissingInputError):
        theano.function([x], x + y)
    w = theano.shared(np.zeros(2, dtype="float32"))
    with pytest.raises(TypeError, match="same type as the original shared variable"):
        theano.function([], updates=[(w, w + 1.5 * np.ones(2))])
