"""The server's op schema (proto/tensord/v1/op_schema.proto) and the elementwise type rule it
declares.

The client builds its elementwise op table from the schema instead of restating it, and infers
an elementwise node's output type exactly as the server's InferTyped does
(engine/ops/defs/type_rules.cc): a graph the client builds is then one the server accepts, and a
node the server would refuse is refused here, at graph-building time as in Theano, with the
server's wording.
"""

import functools
from importlib import resources

from google.protobuf import json_format

from tensord import _dtypes
from tensord._proto import op_schema_pb2

__all__ = ["schema", "signature", "broadcast", "infer_elementwise", "reduced_dtypes"]

# generate_protos.sh copies proto/tensord/v1/op_schema.json here; it ships as package data.
_PACKAGE, _FILE = "tensord._proto.v1", "op_schema.json"


@functools.cache
def schema():
    """The packaged OpSchema, parsed once (shared: do not modify it)."""
    try:
        text = resources.files(_PACKAGE).joinpath(_FILE).read_text(encoding="utf-8")
    except FileNotFoundError as exc:  # pragma: no cover - depends on the checkout's state
        raise ImportError("tensord's op schema copy is missing: run "
                          "clients/python/generate_protos.sh") from exc
    return json_format.Parse(text, op_schema_pb2.OpSchema())


@functools.cache
def _by_name():
    return {sig.name: sig for sig in schema().ops}


def signature(name):
    """The OpSignature of the op with this wire name."""
    try:
        return _by_name()[name]
    except KeyError:
        raise KeyError("op %r is not in the op schema" % name) from None


def broadcast(broadcastables):
    """NumPy's right-aligned broadcasting of broadcastable patterns: a dim of the result is
    broadcastable only where every input that has it is."""
    ndim = max((len(b) for b in broadcastables), default=0)
    out = [True] * ndim
    for pattern in broadcastables:
        lead = ndim - len(pattern)
        for d, flag in enumerate(pattern):
            out[lead + d] = out[lead + d] and flag
    return tuple(out)


def _promote(dtypes):
    # Folded left pair by pair as the server does: NumPy's all-at-once result_type can differ
    # for three or more inputs (int8, uint16, float32 -> float32 there, float64 here).
    return functools.reduce(_dtypes.upcast, dtypes)


_ACCEPTS = {  # DTypeClass -> (what the server's message calls it, the test)
    op_schema_pb2.DTYPE_CLASS_ANY: (None, lambda dtype: True),
    op_schema_pb2.DTYPE_CLASS_NOT_BOOL: ("numeric (not bool)", lambda dtype: dtype != "bool"),
    op_schema_pb2.DTYPE_CLASS_INT_OR_BOOL: ("integer or bool",
                                            lambda dtype: dtype in _dtypes.DISCRETE_DTYPES),
}


def reduced_dtypes(name, dtype, dtype_attr=None):
    """The output dtypes of reduction `name` (its schema `reduction` typing) on an input of
    `dtype`; `dtype_attr` is the node's `dtype` attribute, which accumulating reductions obey.
    Raises TypeError where the server refuses the input (float16)."""
    sig = signature(name)
    if dtype == "float16":
        raise TypeError("%s: float16 is not supported yet" % name)
    out = []
    for rule in sig.reduction.outputs:
        if rule == op_schema_pb2.REDUCED_DTYPE_ACCUMULATE:
            out.append(dtype_attr if dtype_attr is not None else _dtypes.sum_dtype(dtype))
        elif rule == op_schema_pb2.REDUCED_DTYPE_BOOL:
            out.append("bool")
        elif rule == op_schema_pb2.REDUCED_DTYPE_INDEX:
            out.append("int64")
        elif rule == op_schema_pb2.REDUCED_DTYPE_FLOAT:
            out.append("float32" if dtype == "float32" else "float64")
        else:
            out.append(dtype)
    return out


def infer_elementwise(sig, dtypes, broadcastables):
    """(dtype, broadcastable) of the output of the elementwise op `sig` (it must have `typing`)
    on inputs of these dtypes and broadcastable patterns.

    Raises TypeError, worded as the server's INVALID_ARGUMENT / UNIMPLEMENTED, where the server
    would refuse the node. The steps and their order are the server's, refusals included.
    """
    typing = sig.typing

    def refuse(message):
        return TypeError("op '%s': %s" % (sig.name, message))

    def checked(dtype):
        if dtype == "float16":
            raise refuse("float16 is not supported yet")
        return dtype

    # Every input is promoted first, a condition too (so switch can fail on a float16 one).
    rule = op_schema_pb2.DTYPE_RULE_UPCAST if typing.condition_in else typing.rule
    dtype = _promote(dtypes)
    if rule == op_schema_pb2.DTYPE_RULE_UPCAST_NO_BOOL and dtype == "bool":
        raise refuse("not defined for bool inputs (use xor / invert)")
    if rule == op_schema_pb2.DTYPE_RULE_UPGRADE_TO_FLOAT:
        dtype = _dtypes.upgrade_to_float(dtype)
    dtype = checked(dtype)
    if typing.condition_in:  # the condition broadcasts but takes no part in the dtype
        dtype = _promote(dtypes[1:]) if len(dtypes) > 1 else "bool"
        if typing.rule == op_schema_pb2.DTYPE_RULE_UPCAST_NO_BOOL and dtype == "bool":
            raise refuse("not defined for bool inputs (use xor / invert)")
        if typing.rule == op_schema_pb2.DTYPE_RULE_UPGRADE_TO_FLOAT:
            dtype = _dtypes.upgrade_to_float(dtype)
        dtype = checked(dtype)
    what, accepts = _ACCEPTS[typing.accepts]
    if not accepts(dtype):
        raise refuse("needs %s inputs, got %s" % (what, ", ".join(dtypes)))
    if typing.bool_out:
        dtype = "bool"
    return dtype, broadcast(broadcastables)
