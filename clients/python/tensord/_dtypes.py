"""Dtype tables and rules (Theano's, on NumPy's promotion) and numpy <-> wire Tensor conversion."""

import math

import numpy as np

from tensord._proto import tensor_pb2

ALL_DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
              "float16", "float32", "float64")
INT_DTYPES = ("int8", "int16", "int32", "int64")
UINT_DTYPES = ("uint8", "uint16", "uint32", "uint64")
DISCRETE_DTYPES = ("bool",) + INT_DTYPES + UINT_DTYPES
FLOAT_DTYPES = ("float16", "float32", "float64")

_TO_PROTO = {name: getattr(tensor_pb2, "DT_" + name.upper()) for name in ALL_DTYPES}
_FROM_PROTO = {v: k for k, v in _TO_PROTO.items()}
# The wire's (little-endian) numpy dtypes, both ways: on a little-endian host these are the
# native ones, so a plain array needs no conversion and its dtype is one dict lookup away.
_WIRE_ENUM = {np.dtype(name).newbyteorder("<"): enum for name, enum in _TO_PROTO.items()}
_WIRE_NUMPY = {enum: dtype for dtype, enum in _WIRE_ENUM.items()}
NUMPY = {name: np.dtype(name) for name in ALL_DTYPES}  # canonical name -> native dtype
_NATIVE_NUMPY = {enum: NUMPY[name] for name, enum in _TO_PROTO.items()}


def normalize(dtype):
    """'floatX' and numpy dtypes/types -> canonical dtype name; rejects what the wire lacks."""
    if isinstance(dtype, str):
        if dtype in _TO_PROTO:  # the common case, on every variable serialized: no numpy call
            return dtype
        if dtype == "floatX":
            from tensord.config import config
            return config.floatX
    name = np.dtype(dtype).name  # .name drops byte order ('>f8' -> float64)
    if name not in _TO_PROTO:
        raise TypeError("Unsupported dtype for tensord: %s" % name)
    return name


def to_proto(dtype):
    enum = _TO_PROTO.get(dtype) if isinstance(dtype, str) else None
    return enum if enum is not None else _TO_PROTO[normalize(dtype)]


def from_proto(enum_value):
    try:
        return _FROM_PROTO[enum_value]
    except KeyError:
        raise TypeError("server sent an unknown dtype enum %r" % enum_value) from None


def upcast(*dtypes):
    """Theano's scalar upcast: NumPy's type promotion over dtypes (never value-based)."""
    return str(np.result_type(*[np.dtype(d) for d in dtypes]))


# What an integer result becomes under true_div, exp, log: small ints fit float32 exactly,
# wider ones need float64 (tensord's rule; Theano used floatX, NumPy always float64).
_TO_FLOAT = {"bool": "float32", "int8": "float32", "int16": "float32", "uint8": "float32",
             "uint16": "float32", "int32": "float64", "int64": "float64", "uint32": "float64",
             "uint64": "float64"}


def upgrade_to_float(*dtypes):
    """Output dtype of true_div/exp/log: NumPy promotion of the inputs, then ints -> float.

    Promoting first matters for mixed ints: int8 / uint16 promotes to int32, hence float64.
    """
    dtype = upcast(*dtypes)
    return _TO_FLOAT.get(dtype, dtype)


def sum_dtype(dtype):
    """Theano's Sum default output dtype: small ints widen so sums do not overflow."""
    if dtype in ("bool", "int8", "int16", "int32"):
        return "int64"
    if dtype in ("uint8", "uint16", "uint32"):
        return "uint64"
    return dtype


def acc_dtype(dtype):
    """Theano's accumulator dtype for Sum (only used for printing the op like Theano does)."""
    if dtype in FLOAT_DTYPES:
        return "float64"
    if dtype in UINT_DTYPES:
        return "uint64"
    return "int64"


def autocast_int(value):
    """Theano's autocast_int: the smallest of int8..int64 that holds a Python int."""
    for dtype in INT_DTYPES:
        info = np.iinfo(dtype)
        if info.min <= value <= info.max:
            return np.asarray(value, dtype=dtype)
    if 0 <= value <= np.iinfo("uint64").max:
        return np.asarray(value, dtype="uint64")
    raise OverflowError("Python int %d does not fit any tensord integer dtype" % value)


def autocast_float(value):
    """Theano's autocast_float under cast_policy='custom'.

    With floatX=float32 a Python float becomes float32 (so `x * 0.5` stays float32); otherwise
    the narrowest of float32/float64 that holds the value exactly.
    """
    from tensord.config import config
    if config.floatX in ("float32", "float16"):
        return np.asarray(value, dtype=config.floatX)
    for dtype in ("float32", "float64"):
        converted = np.asarray(value, dtype=dtype)
        # Compare as Python floats: NumPy 2 would otherwise round `value` to float32 first.
        if float(converted) == value or (np.isnan(value) and np.isnan(converted)):
            return converted
    return converted


def convert(x, dtype=None):
    """Theano's scalar.convert: Python data -> ndarray with Theano's dtype choice."""
    if dtype is not None:
        return np.asarray(x, dtype=normalize(dtype))
    if isinstance(x, (bool, int)) and not isinstance(x, np.generic):
        return autocast_int(int(x))
    if isinstance(x, float) and not isinstance(x, np.generic):
        return autocast_float(x)
    if isinstance(x, np.ndarray):
        return x
    arr = np.asarray(x)
    if arr.size == 0 and not hasattr(x, "dtype"):
        from tensord.config import config
        arr = np.asarray(x, dtype=config.floatX)
    return arr


def wire_array(arr):
    """(`arr` as the wire holds it, C-contiguous and little-endian; its dtype enum). A plain
    native array is returned as it is; a dtype the wire lacks is refused (normalize says so)."""
    arr = np.asarray(arr)
    enum = _WIRE_ENUM.get(arr.dtype)
    if enum is None or not arr.flags.c_contiguous:
        name = normalize(arr.dtype)
        # ascontiguousarray makes a 0-d array 1-d: the shape is the original's.
        arr = np.ascontiguousarray(arr, dtype=np.dtype(name).newbyteorder("<")).reshape(
            arr.shape)
        enum = _TO_PROTO[name]
    return arr, enum


def array_to_tensor(arr, out=None):
    """numpy array -> tensord.v1.Tensor (C order, little-endian)."""
    le, enum = wire_array(arr)
    msg = out if out is not None else tensor_pb2.Tensor()
    msg.dtype = enum
    del msg.shape[:]
    msg.shape.extend(int(d) for d in le.shape)
    msg.data = le.tobytes()
    return msg


def wire_numpy(enum_value):
    """The (little-endian) numpy dtype the wire holds elements of a dtype enum in."""
    wire = _WIRE_NUMPY.get(enum_value)
    if wire is None:
        from_proto(enum_value)  # raises, naming the enum
    return wire


def native_numpy(enum_value):
    """The native-order numpy dtype of a (valid) dtype enum."""
    return _NATIVE_NUMPY[enum_value]


def tensor_to_array(msg):
    """tensord.v1.Tensor -> a fresh, writable, native-order numpy array."""
    wire = wire_numpy(msg.dtype)
    shape = tuple(msg.shape)
    data = msg.data
    expected = math.prod(shape) * wire.itemsize
    if len(data) != expected:
        raise ValueError("server sent %d bytes for a %s tensor of shape %s (expected %d)"
                         % (len(data), from_proto(msg.dtype), shape, expected))
    # One copy, from the reply's bytes into an array the caller owns (and may write).
    return np.frombuffer(data, dtype=wire).reshape(shape).astype(_NATIVE_NUMPY[msg.dtype],
                                                                 copy=True)
