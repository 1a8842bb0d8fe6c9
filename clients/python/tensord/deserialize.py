"""tensord.v1.Graph -> client graph: turns the nodes a server adds (the gradient graph of
Differentiate) into Variables and Apply nodes the client can compose, print and compile.

Ops come back as the client's own op classes where printing cares (elementwise, DimShuffle,
Sum, dot); every other op is a WireOp that only remembers its wire name and attributes, which
is all serialization needs.
"""

import numpy as np

from tensord import _dtypes, _op_schema
from tensord.graph import Apply, Op
from tensord.tensor import ops
from tensord.tensor.type import TensorType

__all__ = ["WireOp", "decode_attr", "extend_graph", "decode_body"]

# Elementwise ops decoded as Elemwise: those the schema gives a Theano name (cast has its own
# class; isclose prints its attributes, as a WireOp).
_ELEMWISE = frozenset(sig.name for sig in _op_schema.schema().ops if sig.theano_name)


def decode_attr(msg):
    """AttrValue -> int | float | str | bool | list | numpy dtype (encode_attr's inverse)."""
    kind = msg.WhichOneof("value")
    if kind == "ints":
        return list(msg.ints.values)
    if kind == "floats":
        return list(msg.floats.values)
    if kind == "dtype":
        return np.dtype(_dtypes.from_proto(msg.dtype))
    if kind is None:
        raise ValueError("empty attribute value")
    return getattr(msg, kind)


class WireOp(Op):
    """An op known only by its wire name, attributes and bodies (inner graphs, kept as the
    server sent them so that they serialize again unchanged)."""

    def __init__(self, wire_name, attrs, bodies=()):
        self.wire_name = wire_name
        self._attrs = dict(attrs)
        self._bodies = list(bodies)
        self._inner = None

    def attrs(self):
        return dict(self._attrs)

    def bodies(self):
        return list(self._bodies)

    # Pickled with the bodies as bytes: the protobuf classes are not importable by their
    # descriptor's module name (a scan gradient's graph must pickle, as any other).
    def __getstate__(self):
        state = dict(self.__dict__, _inner=None)
        state["_bodies"] = [b.SerializeToString() for b in self._bodies]
        return state

    def __setstate__(self, state):
        from tensord._proto import graph_pb2
        bodies = []
        for data in state.pop("_bodies"):
            body = graph_pb2.Graph()
            body.ParseFromString(data)
            bodies.append(body)
        self.__dict__.update(state, _bodies=bodies)

    def inner_graph(self):
        """(inputs, outputs) of body 0 as client variables, for printing; None without one."""
        if not self._bodies:
            return None
        if self._inner is None:
            self._inner = decode_body(self._bodies[0])
        return self._inner

    def __str__(self):
        # Theano's names for a scan and the scan of its gradient (the server prints the same).
        if self.wire_name == "scan":
            kind = "do_while" if self._attrs.get("until") else "for"
            return "%s{cpu,%s}" % (kind, self._attrs.get("name") or "scan_fn")
        if self.wire_name == "scan_grad":
            return "for{cpu,grad_of_%s}" % (self._attrs.get("name") or "scan_fn")
        if not self._attrs:
            return self.wire_name
        return "%s{%s}" % (self.wire_name, ", ".join(
            "%s=%s" % (k, v) for k, v in sorted(self._attrs.items())))


class _DecodedElemwise(ops.Elemwise):
    """An elementwise op as the server built it (types come from the server)."""

    def __init__(self, wire_name, attrs):
        super().__init__(wire_name, None, None,
                         theano_name=_op_schema.signature(wire_name).theano_name, min_inputs=1)
        self._attrs = dict(attrs)

    def attrs(self):
        return dict(self._attrs)


def _make_op(wire_name, attrs, inputs, bodies=()):
    if bodies:
        return WireOp(wire_name, attrs, bodies)
    if wire_name == "cast":
        return ops.Cast(attrs["dtype"])
    if wire_name in _ELEMWISE:
        return _DecodedElemwise(wire_name, attrs)
    if wire_name == "dimshuffle":
        order = ["x" if e == -1 else e for e in attrs["new_order"]]
        return ops.DimShuffle(inputs[0].broadcastable, order)
    if wire_name == "dot":
        return ops.dot
    if wire_name == "sum" and set(attrs) <= {"axis"}:
        op = ops.Reduce("sum", tuple(attrs["axis"]) if "axis" in attrs else None)
        op._input_dtype = inputs[0].dtype
        return op
    return WireOp(wire_name, attrs)


def extend_graph(graph_msg, known):
    """Creates the variables and applies of `graph_msg`; `known` maps the wire ids of existing
    variables to them and is extended with the new ones. Returns `known`."""
    from tensord.tensor.var import TensorConstant
    declared = {}
    for v in graph_msg.variables:
        vtype = TensorType.from_proto(v.type)
        source = v.WhichOneof("source")
        if source == "constant":
            known[v.id] = TensorConstant(vtype, _dtypes.tensor_to_array(v.constant),
                                         name=v.name or None)
        elif source == "output":
            declared[v.id] = (vtype, v.name or None)
        else:
            raise ValueError("the server added a %s variable %d to a gradient graph"
                             % (source, v.id))
    for a in graph_msg.applies:
        inputs = [known[i] for i in a.inputs]
        attrs = {key: decode_attr(value) for key, value in a.attrs.items()}
        outputs = []
        for out_id in a.outputs:
            vtype, name = declared[out_id]
            outputs.append(vtype(name=name))
        node = Apply(_make_op(a.op, attrs, inputs, a.bodies), inputs, outputs)
        from tensord import test_value
        test_value.compute(node)  # config.compute_test_value, as for nodes the program builds
        for out_id, out in zip(a.outputs, outputs):
            known[out_id] = out
    return known


def decode_body(graph_msg):
    """A self-contained graph (an op's body) -> (input variables, output variables)."""
    known = {}
    inputs = {}
    for v in graph_msg.variables:
        if v.WhichOneof("source") == "input":
            inputs[v.id] = known[v.id] = TensorType.from_proto(v.type)(name=v.name or None)
    rest = type(graph_msg)()
    rest.CopyFrom(graph_msg)
    del rest.variables[:]
    rest.variables.extend(v for v in graph_msg.variables if v.WhichOneof("source") != "input")
    extend_graph(rest, known)
    return [known[i] for i in graph_msg.inputs], [known[i] for i in graph_msg.outputs]
