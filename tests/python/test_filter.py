"""Pure client tests: input filtering (Theano's TensorType.filter) and the call path of a
compiled function, with a stand-in for the server."""

import numpy as np
import pytest

import tensord.tensor as T
from tensord import _dtypes
from tensord.compile import runtime
from tensord.compile.function import build_spec
from tensord.tensor import TensorType

SEED_MESSAGE = ('TensorType(float32, matrix) cannot store a value of dtype float64 without '
                'risking loss of precision. If you do not mind this loss, you can: 1) explicitly '
                'cast your data to float32, or 2) set "allow_input_downcast=True" when calling '
                '"function".')


class FakeClient:
    """Answers Compile and Run like a server would, recording the requests."""

    session_id = "session-1"

    def __init__(self):
        self.requests = []

    def release_later(self, function_id):
        pass

    def take_arrays_to_release(self):
        return []

    def call(self, rpc, request, timeout=None):
        from tensord._proto import compute_pb2
        self.requests.append((rpc, request))
        if rpc == "Compile":
            return compute_pb2.CompileResponse(function_id="f1")
        if rpc == "Run":
            resp = compute_pb2.RunResponse()
            total = sum(_dtypes.tensor_to_array(t) for t in request.inputs)
            _dtypes.array_to_tensor(np.asarray(total), resp.outputs.add().tensor)
            return resp
        raise AssertionError(rpc)

    def run(self, request_bytes):
        from tensord._proto import compute_pb2
        return self.call("Run", compute_pb2.RunRequest.FromString(request_bytes)).SerializeToString()


@pytest.fixture
def fake_client(monkeypatch):
    client = FakeClient()
    import tensord.connection
    monkeypatch.setattr(tensord.connection, "get_client", lambda: client)
    return client


def _compile(inputs, outputs, **kw):
    spec, ins, outs, return_list = build_spec(inputs, outputs, name="<test>:1")
    return runtime.Function(spec, ins, outs, return_list, kw.get("allow_input_downcast"))


def test_filter_exact_dtype_passes_through():
    t = TensorType("float32", (False, False))
    data = np.ones((2, 2), dtype="float32")
    assert t.filter(data) is data


def test_filter_refuses_wider_dtype_with_theano_message():
    t = TensorType("float32", (False, False))
    data = np.ones((2, 2))
    with pytest.raises(TypeError) as info:
        t.filter(data)
    assert info.value.args[0] == SEED_MESSAGE
    assert info.value.args[1] is data


def test_filter_upcasts_narrower_dtypes():
    t = TensorType("float64", (False,))
    out = t.filter(np.arange(3, dtype="int32"))
    assert out.dtype == np.float64 and out.tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(TypeError):
        TensorType("float32", (False,)).filter(np.arange(3, dtype="int64"))


def test_filter_python_data():
    t = TensorType("float32", (False, False))
    out = t.filter([[1, 2], [1, 3]])
    assert out.dtype == np.float32 and out.tolist() == [[1, 2], [1, 3]]
    assert TensorType("float32", ()).filter(0.1).dtype == np.float32  # Python float -> floatX
    assert TensorType("int32", ()).filter(3).dtype == np.int32
    with pytest.raises(TypeError, match="cannot store accurately value 1.5"):
        TensorType("int32", ()).filter(1.5)
    with pytest.raises(TypeError):
        TensorType("int8", ()).filter(300)


def test_filter_allow_downcast_and_strict():
    t = TensorType("float32", (False,))
    assert t.filter(np.ones(3), allow_downcast=True).dtype == np.float32
    assert TensorType("int8", ()).filter(1.7, allow_downcast=True) == 1
    with pytest.raises(TypeError):
        t.filter([1.0, 2.0], strict=True)


def test_filter_checks_ndim_and_broadcastable_dims():
    with pytest.raises(TypeError, match="Wrong number of dimensions: expected 2, got 1"):
        TensorType("float32", (False, False)).filter(np.ones(3, dtype="float32"))
    with pytest.raises(TypeError, match="broadcastable"):
        TensorType("float32", (True, False)).filter(np.ones((2, 3), dtype="float32"))
    assert TensorType("float32", (True, False)).filter(np.ones((1, 3), "float32")).shape == (1, 3)


def test_function_call_wraps_filter_errors_like_theano(fake_client):
    x, y = T.matrix(), T.matrix()
    f = _compile([x, y], [x + y])
    data = np.ones((2, 2))
    with pytest.raises(TypeError) as info:
        f(data, np.zeros((2, 2)))
    args = info.value.args
    assert args[0] == 'Bad input argument to theano function with name "<test>:1"  at index ' \
                      '0(0-based)'
    assert args[1] == SEED_MESSAGE and args[2] is data
    assert [rpc for rpc, _ in fake_client.requests] == ["Compile"]  # nothing was run


def test_function_call_sends_filtered_inputs(fake_client):
    x, y = T.matrix(), T.matrix()
    f = _compile([x, y], [x + y])
    out = f([[1, 2], [1, 3]], np.ones((2, 2), dtype="float32"))
    rpc, request = fake_client.requests[-1]
    assert rpc == "Run" and request.function_id == "f1" and request.session_id == "session-1"
    assert [t.dtype for t in request.inputs] == [_dtypes.to_proto("float32")] * 2
    assert list(request.inputs[0].shape) == [2, 2]
    assert isinstance(out, list) and out[0].dtype == np.float32
    np.testing.assert_allclose(out[0], [[2, 3], [2, 4]])


def test_function_argument_count_and_keywords(fake_client):
    x, y = T.vector("x"), T.vector("y")
    f = _compile([x, y], x + y)
    with pytest.raises(TypeError, match="takes 2 arguments but 1 were given"):
        f(np.ones(2, "float32"))
    with pytest.raises(TypeError, match="takes 2 arguments but 3 were given"):
        f(1, 2, 3)
    out = f(np.ones(2, "float32"), y=np.ones(2, "float32"))
    assert not isinstance(out, list)
    with pytest.raises(TypeError, match="no input named"):
        f(np.ones(2, "float32"), z=1)
