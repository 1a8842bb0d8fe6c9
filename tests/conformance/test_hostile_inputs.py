"""Hostile requests against the op library: raw graphs sent through the stub, each of which once
crashed, hung or exhausted the server. Every case must come back as a clean gRPC error naming
the problem, and the server must keep answering afterwards."""

import grpc
import numpy as np
import pytest

from tensord._proto import compute_pb2, graph_pb2, tensor_pb2
from tensord.connection import get_client

OPS = set()

pytestmark = pytest.mark.usefixtures("server")

_DT = {
    np.dtype("bool"): tensor_pb2.DT_BOOL,
    np.dtype("int8"): tensor_pb2.DT_INT8,
    np.dtype("int16"): tensor_pb2.DT_INT16,
    np.dtype("int32"): tensor_pb2.DT_INT32,
    np.dtype("int64"): tensor_pb2.DT_INT64,
    np.dtype("uint8"): tensor_pb2.DT_UINT8,
    np.dtype("uint16"): tensor_pb2.DT_UINT16,
    np.dtype("uint32"): tensor_pb2.DT_UINT32,
    np.dtype("uint64"): tensor_pb2.DT_UINT64,
    np.dtype("float32"): tensor_pb2.DT_FLOAT32,
    np.dtype("float64"): tensor_pb2.DT_FLOAT64,
}


class Arg:
    """A node input: a graph input fed `value` at run time (shape may be given without data,
    for empty tensors with huge dims), or a constant."""

    def __init__(self, dtype, ndim=None, shape=None, value=None, const=False, bcast=None):
        self.dtype = np.dtype(dtype)
        self.value = None if value is None else np.asarray(value, dtype=self.dtype)
        self.shape = tuple(shape) if shape is not None else self.value.shape
        self.ndim = len(self.shape) if ndim is None else ndim
        self.const = const
        self.bcast = bcast if bcast is not None else [False] * self.ndim

    def tensor(self):
        data = b"" if self.value is None else self.value.tobytes()
        return tensor_pb2.Tensor(dtype=_DT[self.dtype], shape=self.shape, data=data)


def _attr(value):
    if isinstance(value, np.dtype):
        return graph_pb2.AttrValue(dtype=_DT[value])
    if isinstance(value, bool):
        return graph_pb2.AttrValue(b=value)
    if isinstance(value, int):
        return graph_pb2.AttrValue(i=value)
    if isinstance(value, float):
        return graph_pb2.AttrValue(f=value)
    if isinstance(value, str):
        return graph_pb2.AttrValue(s=value)
    return graph_pb2.AttrValue(ints=graph_pb2.IntList(values=list(value)))


def _run(op, args, out_types, attrs=None):
    """Compiles one apply of `op` over `args` and runs it; returns the outputs as arrays.
    `out_types` lists (dtype, broadcastable) of the declared outputs."""
    client = get_client()
    g = graph_pb2.Graph()
    feeds = []
    for i, a in enumerate(args):
        v = g.variables.add(id=i + 1)
        v.type.dtype = _DT[a.dtype]
        v.type.broadcastable.extend(a.bcast)
        if a.const:
            v.constant.CopyFrom(a.tensor())
        else:
            v.input.SetInParent()
            g.inputs.append(i + 1)
            feeds.append(a.tensor())
    apply = g.applies.add(op=op, inputs=range(1, len(args) + 1))
    for k, value in (attrs or {}).items():
        apply.attrs[k].CopyFrom(_attr(value))
    for j, (dtype, bcast) in enumerate(out_types):
        oid = 100 + j
        v = g.variables.add(id=oid)
        v.type.dtype = _DT[np.dtype(dtype)]
        v.type.broadcastable.extend(bcast)
        v.output.SetInParent()
        apply.outputs.append(oid)
        g.outputs.append(oid)
    spec = compute_pb2.FunctionSpec(graph=g, name="hostile-" + op)
    fn = client.stub.Compile(compute_pb2.CompileRequest(session_id=client.session_id, spec=spec),
                             timeout=60)
    resp = client.stub.Run(compute_pb2.RunRequest(session_id=client.session_id,
                                                  function_id=fn.function_id, inputs=feeds),
                           timeout=60)
    outs = []
    for o in resp.outputs:
        t = o.tensor
        dt = next(k for k, v in _DT.items() if v == t.dtype)
        outs.append(np.frombuffer(t.data, dtype=dt).reshape(tuple(t.shape)))
    return outs


def _refused(code, fragment, op, args, out_types, attrs=None):
    with pytest.raises(grpc.RpcError) as info:
        _run(op, args, out_types, attrs)
    assert info.value.code() == code, info.value.details()
    assert fragment in info.value.details(), info.value.details()
    _still_serving()


def _still_serving():
    client = get_client()
    assert client.stub.GetServerInfo(compute_pb2.GetServerInfoRequest(), timeout=10).version


BAD = grpc.StatusCode.INVALID_ARGUMENT
BIG = grpc.StatusCode.RESOURCE_EXHAUSTED

NONE = -(2**63)  # idx_list: an omitted slice part
SYMBOLIC = -(2**63) + 1  # idx_list: the next index input
INT64_MAX = 2**63 - 1


# ---- subtensor: slice length arithmetic with steps near +-2^63 ----


@pytest.mark.parametrize("step, expect", [(INT64_MAX - 1, [0.0]), (-(2**63) + 2, [4.0])])
def test_subtensor_huge_constant_step(step, expect):
    x = Arg("float32", value=np.arange(5))
    (out,) = _run("subtensor", [x], [("float32", [False])],
                  {"idx_list": [1, NONE, NONE, step]})
    np.testing.assert_array_equal(out, np.array(expect, "float32"))
    _still_serving()


def test_subtensor_int64_min_symbolic_step():
    x = Arg("float32", value=np.arange(5))
    step = Arg("int64", value=-(2**63))
    (out,) = _run("subtensor", [x, step], [("float32", [False])],
                  {"idx_list": [1, NONE, NONE, SYMBOLIC]})
    np.testing.assert_array_equal(out, np.array([4.0], "float32"))  # x[::-2**63]
    _still_serving()


def test_inc_subtensor_huge_step():
    x = Arg("float32", value=np.zeros(5))
    y = Arg("float32", value=np.ones(1))
    (out,) = _run("inc_subtensor", [x, y], [("float32", [False])],
                  {"idx_list": [1, 1, NONE, INT64_MAX - 1]})
    np.testing.assert_array_equal(out, np.array([0, 1, 0, 0, 0], "float32"))
    _still_serving()


# ---- advanced indexing ----


def test_advanced_index_arrays_broadcasting_to_a_huge_count():
    # Six length-100 arrays, each on its own axis of the broadcast: 10^12 positions.
    ndim = 6
    x = Arg("float32", value=np.zeros((2,) * ndim))
    arrays = []
    for k in range(ndim):
        shape = [1] * ndim
        shape[k] = 100
        arrays.append(Arg("int64", value=np.zeros(shape)))
    _refused(BIG, "max_tensor_bytes", "advanced_subtensor", [x] + arrays,
             [("float32", [False] * ndim)], {"idx_list": [2, 0, 0, 0] * ndim})


def test_advanced_index_uint64_past_int64_is_out_of_bounds():
    x = Arg("float32", value=np.arange(5))
    idx = Arg("uint64", value=np.array([2**64 - 1], "uint64"))
    _refused(BAD, "out of bounds", "advanced_subtensor1", [x, idx], [("float32", [False])])
    _refused(BAD, "out of bounds", "advanced_subtensor", [x, idx], [("float32", [False])],
             {"idx_list": [2, 0, 0, 0]})


# ---- empty tensors with huge dims: no loop or scratch may scale with the huge dim ----


def test_repeat_zero_byte_rows_do_not_spin():
    x = Arg("float32", shape=(1000, 0))
    reps = Arg("int64", value=10**12, const=True)
    (out,) = _run("repeat", [x, reps], [("float32", [False, False])], {"axis": 0})
    assert out.shape == (10**15, 0)
    _still_serving()


def test_repeat_scalar_count_over_a_huge_empty_axis():
    x = Arg("float32", shape=(0, 10**15))
    reps = Arg("int64", value=2, const=True)
    (out,) = _run("repeat", [x, reps], [("float32", [False, False])], {"axis": 1})
    assert out.shape == (0, 2 * 10**15)
    _still_serving()


@pytest.mark.parametrize("op, dtype", [("sort", "float32"), ("argsort", "int64")])
def test_sort_empty_with_a_huge_axis(op, dtype):
    x = Arg("float32", shape=(10**15, 0))
    (out,) = _run(op, [x], [(dtype, [False, False])], {"axis": 0})
    assert out.shape == (10**15, 0)
    _still_serving()


def test_cumop_empty_with_huge_dims():
    x = Arg("float32", shape=(10**9, 10**9, 0))
    (out,) = _run("cumop", [x], [("float32", [False] * 3)], {"axis": 1, "mode": "add"})
    assert out.shape == (10**9, 10**9, 0)
    _still_serving()


def test_eye_with_a_huge_empty_dimension():
    args = [Arg("int64", value=v, const=True) for v in (10**18, 0, 0)]
    (out,) = _run("eye", args, [("float32", [False, False])], {"dtype": np.dtype("float32")})
    assert out.shape == (10**18, 0)
    _still_serving()


def test_eye_with_extreme_diagonal_offsets():
    for k in (INT64_MAX, -(2**63), -2):
        args = [Arg("int64", value=v, const=True) for v in (3, 4, k)]
        (out,) = _run("eye", args, [("float32", [False, False])], {"dtype": np.dtype("float32")})
        np.testing.assert_array_equal(out, np.eye(3, 4, max(min(k, 10), -10), "float32"))
    _still_serving()


def test_join_axis_length_overflow():
    a = Arg("float32", shape=(5 * 10**18, 0))
    _refused(BAD, "overflows", "join", [a, a], [("float32", [False, False])], {"axis": 0})


# ---- attributes and values the op does not take ----


def test_unknown_attributes_are_refused_by_name():
    x = Arg("float32", value=np.ones((2, 3)))
    # A misspelt option would otherwise be ignored: sum over every axis instead of axis 0.
    _refused(BAD, "op 'sum' has no attribute 'axes' (it takes axis, dtype)", "sum", [x],
             [("float32", [False])], {"axes": [0]})
    _refused(BAD, "op 'add' has no attribute 'axis' (it takes none)", "add", [x, x],
             [("float32", [False, False])], {"axis": 1})
    # The echo of a client's key is bounded.
    _refused(BAD, "'" + "k" * 64 + "...'", "exp", [x], [("float32", [False, False])],
             {"k" * 100000: 1})


def test_bool_bytes_other_than_zero_and_one_are_refused():
    class RawBool(Arg):
        def tensor(self):
            return tensor_pb2.Tensor(dtype=tensor_pb2.DT_BOOL, shape=(3,), data=b"\x01\x00\x07")

    b = RawBool("bool", value=np.ones(3, bool))
    _refused(BAD, "element 2 is the byte 7; a bool must be 0 or 1", "invert", [b],
             [("bool", [False])])
