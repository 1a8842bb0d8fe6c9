"""The Run request written as bytes (tensord/_run_wire.py) against protobuf's own encoding, the
reply's decoding, and the calls that take that path end to end."""

import numpy as np
import pytest

import tensord as theano
import tensord.tensor as T
from tensord import _dtypes, _run_wire
from tensord._proto import compute_pb2, tensor_pb2
from tensord.connection import ROUTING_HEADER, Client


class Ref:
    """Stands for a DeviceArray: request_parts reads only its id."""

    def __init__(self, array_id):
        self.id = array_id


def written(values, release=(), as_args=False):
    prefix = _run_wire.request_prefix("session-1", "fn-42")
    parts = _run_wire.request_parts(prefix, values, as_args) + _run_wire.release_parts(release)
    return compute_pb2.RunRequest.FromString(b"".join(parts))


def built(values, release=(), as_args=False):
    msg = compute_pb2.RunRequest(session_id="session-1", function_id="fn-42")
    for value in values:
        if isinstance(value, Ref):
            msg.args.add().ref.id = value.id
        else:
            _dtypes.array_to_tensor(value, msg.args.add().tensor if as_args else msg.inputs.add())
    msg.release.extend(release)
    return msg


SHAPES = [(), (0,), (1,), (3,), (2, 3), (0, 5), (300, 200), (1, 1, 129)]


@pytest.mark.parametrize("dtype", _dtypes.ALL_DTYPES)
def test_every_dtype_and_shape_parses_as_protobuf_encodes_it(dtype):
    rng = np.random.default_rng(0)
    arrays = [(rng.uniform(-100, 100, shape) if dtype != "bool"
               else rng.uniform(0, 1, shape) > 0.5).astype(dtype) for shape in SHAPES]
    assert written(arrays) == built(arrays)


def test_converted_layouts_and_byte_orders():
    base = np.arange(24, dtype="float64").reshape(4, 6)
    arrays = [base.T, base[:, ::2], np.asfortranarray(base), base.astype(">f8"),
              np.arange(5, dtype=">i4"), np.array(2.5, dtype=">f8"), base[::2, ::-3]]
    assert written(arrays) == built(arrays)
    parsed = written(arrays)
    np.testing.assert_array_equal(_dtypes.tensor_to_array(parsed.inputs[0]), base.T)
    np.testing.assert_array_equal(_dtypes.tensor_to_array(parsed.inputs[3]), base)
    assert _dtypes.tensor_to_array(parsed.inputs[5]).shape == ()


def test_device_array_references_send_every_value_as_an_arg():
    values = [np.arange(6, dtype="float32").reshape(2, 3), Ref("a" * 40), np.array(True),
              np.zeros((300, 200), dtype="int16"), Ref("b")]
    assert written(values, ["c"], as_args=True) == built(values, ["c"], as_args=True)
    assert len(written(values, as_args=True).inputs) == 0


def test_release_ids_and_no_inputs():
    assert written([], ["a" * 200, "b"]) == built([], ["a" * 200, "b"])
    assert written([]) == built([])


def test_a_dtype_the_wire_lacks_is_refused():
    with pytest.raises(TypeError, match="Unsupported dtype"):
        written([np.zeros(2, dtype="complex64")])


def test_decoded_outputs_are_writable_native_copies():
    msg = _dtypes.array_to_tensor(np.arange(6, dtype=">f4").reshape(2, 3))
    out = _dtypes.tensor_to_array(msg)
    assert out.dtype == np.dtype("float32") and out.flags.writeable and out.shape == (2, 3)
    out += 1  # the caller owns it
    np.testing.assert_array_equal(out, np.arange(1, 7).reshape(2, 3))


def test_a_reply_with_the_wrong_byte_count_or_dtype_is_named():
    msg = _dtypes.array_to_tensor(np.zeros((2, 3), dtype="float32"))
    msg.data = msg.data[:-4]
    with pytest.raises(ValueError, match="20 bytes for a float32 tensor of shape \\(2, 3\\)"):
        _dtypes.tensor_to_array(msg)
    msg.dtype = 99
    with pytest.raises(TypeError, match="unknown dtype enum 99"):
        _dtypes.tensor_to_array(msg)


def test_calls_through_the_written_request():
    x, m = T.vector("x", dtype="float64"), T.imatrix("m")
    s = theano.shared(np.float64(2.0))
    f = theano.function([x, m], [x * s + 1, m.T.sum(axis=1)], updates=[(s, s + 1)])
    rng = np.random.default_rng(1)
    for step in range(3):
        xv = rng.uniform(size=1000)
        mv = rng.integers(-5, 5, (7, 3)).astype("int32")
        a, b = f(xv, mv[:, ::-1].T.T)  # a view, converted on the way out
        np.testing.assert_allclose(a, xv * (2.0 + step) + 1)
        np.testing.assert_array_equal(b, mv[:, ::-1].T.sum(axis=1))
    # Converted arguments and keyword arguments take the same path.
    np.testing.assert_allclose(f(m=[[1, 2]], x=[1.0])[0], [6.0])
    with pytest.raises(TypeError, match="Wrong number of dimensions"):
        f(np.zeros((2, 2)), np.zeros((1, 1), dtype="int32"))


def test_only_a_server_reached_through_an_address_gets_the_routing_header():
    started_here = Client("127.0.0.1:1", server=object())
    named = Client("127.0.0.1:1")
    try:
        assert started_here.routing_metadata is None
        (key, value), = named.routing_metadata
        assert key == ROUTING_HEADER and len(value) == 32
    finally:
        started_here.channel.close()
        named.channel.close()


def test_shared_memory_values_and_output_slots_parse_as_protobuf_encodes_them():
    values = [_run_wire.ShmValue("region-a", 0, 11, (300, 2)), np.arange(3, dtype="int8"),
              _run_wire.ShmValue("b" * 200, 1 << 40, 12, ()), Ref("c")]
    slots = [_run_wire.output_slot("region-a", 4096, 1 << 33), _run_wire.output_slot("", 0, 0)]
    prefix = _run_wire.request_prefix("session-1", "fn-42")
    parsed = compute_pb2.RunRequest.FromString(b"".join(
        _run_wire.request_parts(prefix, values, as_args=True) + slots))
    expected = compute_pb2.RunRequest(session_id="session-1", function_id="fn-42")
    first = expected.args.add().shm
    first.region, first.dtype = "region-a", 11
    first.shape.extend([300, 2])
    _dtypes.array_to_tensor(values[1], expected.args.add().tensor)
    third = expected.args.add().shm
    third.region, third.offset, third.dtype = "b" * 200, 1 << 40, 12
    expected.args.add().ref.id = "c"
    slot = expected.output_slots.add()
    slot.region, slot.offset, slot.byte_size = "region-a", 4096, 1 << 33
    expected.output_slots.add()
    assert parsed == expected


def _reply(values, run_ns=1234):
    resp = compute_pb2.RunResponse()
    for value in values:
        if isinstance(value, np.ndarray):
            _dtypes.array_to_tensor(value, resp.outputs.add().tensor)
        else:
            resp.outputs.add().CopyFrom(value)
    resp.profile.run_ns = run_ns
    return resp.SerializeToString()


def test_a_big_reply_is_read_here_as_protobuf_would():
    ref = tensor_pb2.Value()
    ref.ref.id, ref.ref.context = "da-1", "dev0"
    shm = tensor_pb2.Value()
    shm.shm.region, shm.shm.offset = "r", 64
    rng = np.random.default_rng(2)
    values = [rng.standard_normal((300, 100)), np.arange(7, dtype=">i2").astype("int16"), ref,
              np.array(3.5, dtype="float32"), (rng.uniform(size=70_000) > 0.5), shm,
              np.zeros((0, 3), dtype="uint8")]
    raw = _reply(values)
    assert len(raw) >= _run_wire.REPLY_PARSED_HERE
    outputs, run_ns = _run_wire.read_reply(raw)
    assert run_ns == 1234 and len(outputs) == len(values)
    for got, want in zip(outputs, values):
        if isinstance(want, np.ndarray):
            assert got.dtype == want.dtype and got.shape == want.shape
            np.testing.assert_array_equal(got, want)
            assert got.flags.writeable and got.flags.owndata  # the caller's own
        else:
            assert got == want
    small, run_ns = _run_wire.read_reply(_reply(values[1:4]))  # protobuf's parse
    np.testing.assert_array_equal(small[0], values[1])
    assert small[1] == ref and run_ns == 1234


def test_a_malformed_big_reply_is_named():
    raw = _reply([np.zeros(20_000, dtype="float64")])
    with pytest.raises(ValueError, match="malformed RunResponse"):
        _run_wire.read_reply(raw[:-3])
    msg = compute_pb2.RunResponse.FromString(raw)
    msg.outputs[0].tensor.shape[0] = 19_999
    with pytest.raises(ValueError, match="160000 bytes for a float64 tensor of shape \\(19999,\\)"):
        _run_wire.read_reply(msg.SerializeToString())


def test_big_inputs_and_outputs_cross_the_wire_intact():
    # Big enough that the server reads the input straight into a tensor and sends each output
    # as its own buffer (server/run_codec.h), and that the reply is read here.
    x, b = T.dmatrix("x"), T.bvector("b")
    f = theano.function([x, b], [x * 2, x.T, x.sum(), T.eq(b, 1), b[::-2]])
    rng = np.random.default_rng(3)
    xv = rng.standard_normal((400, 300))
    bv = rng.integers(0, 3, 100_000).astype("int8")
    for _ in range(2):
        doubled, transposed, total, ones, every_other = f(xv, bv)
        np.testing.assert_array_equal(doubled, xv * 2)
        np.testing.assert_array_equal(transposed, xv.T)  # a strided view, sent contiguous
        np.testing.assert_allclose(total, xv.sum())
        np.testing.assert_array_equal(ones, bv == 1)
        np.testing.assert_array_equal(every_other, bv[::-2])
    assert f.last_run_ns > 0
    with pytest.raises(TypeError, match="Wrong number of dimensions"):
        f(np.zeros(5), bv)
