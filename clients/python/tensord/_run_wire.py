"""A RunRequest's bytes written directly, and a big RunResponse read directly, for the call every
training and serving loop makes.

Building the request as a protobuf message costs a message per input, a copy of each array
into it and another when it is serialized; here the bytes are joined once from a cached
prefix, a cached header per (dtype, shape) and each array's own buffer. The layout is
tensord.v1.RunRequest's (proto/tensord/v1/compute.proto); tests/python/test_run_wire.py parses
what this writes with protobuf and compares.

A reply of REPLY_PARSED_HERE bytes or more is read here too: each output's elements are copied
once, from the reply's bytes into the caller's array. protobuf's parser would first copy the
whole reply into its own memory and then each output's data into a bytes object (for 64 MiB,
about 30 ms each); a smaller reply is parsed by protobuf, which is quicker at few bytes.
"""

import collections
import functools

import numpy as np

from tensord import _dtypes
from tensord._proto import compute_pb2, tensor_pb2

REPLY_PARSED_HERE = 1 << 16

# Field numbers: RunRequest.session_id, function_id, inputs, args, release, output_slots;
# Value.tensor, ref, shm; TensorRef.id; Tensor.dtype, shape, data; ShmTensor.region, offset,
# dtype, shape; ShmSlot.region, offset, byte_size.
_SESSION_ID, _FUNCTION_ID, _INPUTS, _ARGS, _RELEASE, _OUTPUT_SLOTS = 1, 2, 3, 4, 5, 6
_VALUE_TENSOR, _VALUE_REF, _VALUE_SHM, _REF_ID = 1, 2, 3, 1
_DTYPE, _SHAPE, _DATA = 1, 2, 3
_SHM_REGION, _SHM_OFFSET, _SHM_DTYPE, _SHM_SHAPE = 1, 2, 3, 4
_SLOT_REGION, _SLOT_OFFSET, _SLOT_BYTES = 1, 2, 3
_OUTPUTS, _PROFILE = 1, 2  # RunResponse
_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5

# An input whose bytes lie in a shared-memory region (tensord/shared_memory.py): an `args`
# entry holding a Value.shm.
ShmValue = collections.namedtuple("ShmValue", "region offset dtype_enum shape")


def _varint(n):
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _key(field, wire_type):
    return _varint(field << 3 | wire_type)


def _len_field(field, payload):
    return _key(field, _LEN) + _varint(len(payload)) + payload


def request_prefix(session_id, function_id):
    """The bytes every Run of one function in one session starts with."""
    return _len_field(_SESSION_ID, session_id.encode()) + _len_field(_FUNCTION_ID,
                                                                     function_id.encode())


@functools.lru_cache(maxsize=1024)
def _tensor_head(dtype_enum, shape, nbytes, as_arg):
    """A Tensor entry up to its data: an `inputs` entry, or with `as_arg` an `args` entry (a
    Value holding the Tensor); keys and lengths, dtype, shape, the data's key and length. A loop
    calls with the same shapes, so this is computed once per shape."""
    body = _key(_DTYPE, _VARINT) + _varint(dtype_enum)
    if shape:
        body += _len_field(_SHAPE, b"".join(_varint(d) for d in shape))
    body += _key(_DATA, _LEN) + _varint(nbytes)
    tensor = _varint(len(body) + nbytes) + body  # the Tensor's length, then its fields
    if not as_arg:
        return _key(_INPUTS, _LEN) + tensor
    value = _key(_VALUE_TENSOR, _LEN) + tensor
    return _key(_ARGS, _LEN) + _varint(len(value) + nbytes) + value


def request_parts(prefix, values, as_args=False):
    """A RunRequest's parts, for b"".join: `prefix` (request_prefix), then each value: an array
    as an input Tensor (its buffer itself: join copies it once), or with `as_args` every value
    as an `args` entry: device arrays (anything else, with an `id`) as references, ShmValues as
    bytes in shared memory."""
    parts = [prefix]
    for arr in values:
        if isinstance(arr, ShmValue):
            parts.append(_len_field(_ARGS, _len_field(_VALUE_SHM, _shm_tensor(arr))))
            continue
        if not isinstance(arr, (np.ndarray, np.generic)):
            ref = _len_field(_VALUE_REF, _len_field(_REF_ID, arr.id.encode()))
            parts.append(_len_field(_ARGS, ref))
            continue
        arr, enum = _dtypes.wire_array(arr)
        parts.append(_tensor_head(enum, arr.shape, arr.nbytes, as_args))
        parts.append(arr)
    return parts


def _shm_tensor(value):
    body = _len_field(_SHM_REGION, value.region.encode())
    body += _key(_SHM_OFFSET, _VARINT) + _varint(value.offset)
    body += _key(_SHM_DTYPE, _VARINT) + _varint(value.dtype_enum)
    if value.shape:
        body += _len_field(_SHM_SHAPE, b"".join(_varint(d) for d in value.shape))
    return body


def output_slot(region, offset, byte_size):
    """A RunRequest.output_slots entry; an empty `region` leaves the output in the reply."""
    body = b""
    if region:
        body = (_len_field(_SLOT_REGION, region.encode()) + _key(_SLOT_OFFSET, _VARINT)
                + _varint(offset) + _key(_SLOT_BYTES, _VARINT) + _varint(byte_size))
    return _len_field(_OUTPUT_SLOTS, body)


def release_parts(array_ids):
    """RunRequest.release entries (fields may come in any order on the wire)."""
    return [_len_field(_RELEASE, array_id.encode()) for array_id in array_ids]


def read_reply(raw):
    """(outputs, run_ns or None) of a RunResponse's bytes; each output a fresh native array the
    caller owns, or a tensord.v1.Value for any other kind (a device array, shared memory)."""
    if len(raw) < REPLY_PARSED_HERE:
        resp = compute_pb2.RunResponse.FromString(raw)
        outputs = [_dtypes.tensor_to_array(v.tensor) if v.WhichOneof("kind") == "tensor" else v
                   for v in resp.outputs]
        return outputs, resp.profile.run_ns if resp.HasField("profile") else None
    outputs, run_ns = [], None
    for field, start, end in _fields(raw, 0, len(raw)):
        if field == _OUTPUTS:
            outputs.append(_read_value(raw, start, end))
        elif field == _PROFILE:
            run_ns = compute_pb2.RunProfile.FromString(raw[start:end]).run_ns
    return outputs, run_ns


def _read_varint(raw, pos):
    result = shift = 0
    while True:
        byte = raw[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7


def _fields(raw, pos, end):
    """(field number, start, end) of each length-delimited field in raw[pos:end]; (field, pos,
    None) for a varint one, read at pos. Fields of other wire types are skipped."""
    try:
        while pos < end:
            key, pos = _read_varint(raw, pos)
            wire = key & 7
            if wire == _LEN:
                length, pos = _read_varint(raw, pos)
                if pos + length > end:
                    raise IndexError
                yield key >> 3, pos, pos + length
                pos += length
            elif wire == _VARINT:
                yield key >> 3, pos, None
                _, pos = _read_varint(raw, pos)
            elif wire in (_I64, _I32):
                pos += 8 if wire == _I64 else 4
            else:
                raise IndexError
        if pos != end:
            raise IndexError
    except IndexError:
        raise ValueError("server sent a malformed RunResponse") from None


def _read_value(raw, start, end):
    fields = list(_fields(raw, start, end))
    if [f for f, _, _ in fields] != [_VALUE_TENSOR]:  # not a plain tensor: protobuf's job
        return tensor_pb2.Value.FromString(raw[start:end])
    dtype, shape, data = 0, [], (0, 0)
    for field, pos, stop in _fields(raw, fields[0][1], fields[0][2]):
        if field == _DTYPE and stop is None:
            dtype = _read_varint(raw, pos)[0]
        elif field == _SHAPE and stop is None:
            shape.append(_read_varint(raw, pos)[0])
        elif field == _SHAPE:
            while pos < stop:
                d, pos = _read_varint(raw, pos)
                shape.append(d)
        elif field == _DATA:
            data = (pos, stop)
    wire = _dtypes.wire_numpy(dtype)
    shape = tuple(shape)
    count = (data[1] - data[0]) // wire.itemsize
    if count * wire.itemsize != data[1] - data[0] or count != int(np.prod(shape)):
        raise ValueError("server sent %d bytes for a %s tensor of shape %s"
                         % (data[1] - data[0], _dtypes.from_proto(dtype), shape))
    return np.frombuffer(raw, dtype=wire, count=count, offset=data[0]).reshape(shape).astype(
        _dtypes.native_numpy(dtype), copy=True)
