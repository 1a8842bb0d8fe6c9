"""A RunRequest's bytes written directly, for the call every training and serving loop makes.

Building the request as a protobuf message costs a message per input, a copy of each array
into it and another when it is serialized; here the bytes are joined once from a cached
prefix, a cached header per (dtype, shape) and each array's own buffer. The layout is
tensord.v1.RunRequest's (proto/tensord/v1/compute.proto); tests/python/test_run_wire.py parses
what this writes with protobuf and compares.
"""

import functools

import numpy as np

from tensord import _dtypes

# Field numbers: RunRequest.session_id, function_id, inputs, args, release; Value.tensor, ref;
# TensorRef.id; Tensor.dtype, shape, data.
_SESSION_ID, _FUNCTION_ID, _INPUTS, _ARGS, _RELEASE = 1, 2, 3, 4, 5
_VALUE_TENSOR, _VALUE_REF, _REF_ID = 1, 2, 1
_DTYPE, _SHAPE, _DATA = 1, 2, 3
_VARINT, _LEN = 0, 2


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
    as an `args` entry, device arrays (anything else, with an `id`) as references."""
    parts = [prefix]
    for arr in values:
        if not isinstance(arr, (np.ndarray, np.generic)):
            ref = _len_field(_VALUE_REF, _len_field(_REF_ID, arr.id.encode()))
            parts.append(_len_field(_ARGS, ref))
            continue
        arr, enum = _dtypes.wire_array(arr)
        parts.append(_tensor_head(enum, arr.shape, arr.nbytes, as_args))
        parts.append(arr)
    return parts


def release_parts(array_ids):
    """RunRequest.release entries (fields may come in any order on the wire)."""
    return [_len_field(_RELEASE, array_id.encode()) for array_id in array_ids]
