"""Client graph -> tensord.v1.Graph.

Variables get graph-local ids (1, 2, ...; 0 is left unused so that an unset proto field can never
name a variable). Sources: function inputs are `input`, constants carry their bytes, shared
variables name their server-side id, apply outputs are `output`.
"""

import numpy as np

from tensord import _dtypes
from tensord._proto import graph_pb2
from tensord.graph import io_toposort

__all__ = ["GraphBuilder", "encode_attr"]


def encode_attr(value, msg):
    """Python attribute value -> AttrValue (numpy dtypes become DType, int lists IntList)."""
    if isinstance(value, np.dtype):
        msg.dtype = _dtypes.to_proto(value)
    elif isinstance(value, (bool, np.bool_)):
        msg.b = bool(value)
    elif isinstance(value, (int, np.integer)):
        msg.i = int(value)
    elif isinstance(value, (float, np.floating)):
        msg.f = float(value)
    elif isinstance(value, str):
        msg.s = value
    elif isinstance(value, (list, tuple)):
        if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value):
            msg.ints.SetInParent()  # an empty list is still "set"
            msg.ints.values.extend(int(v) for v in value)
        elif all(isinstance(v, (int, float, np.integer, np.floating)) for v in value):
            msg.floats.SetInParent()
            msg.floats.values.extend(float(v) for v in value)
        else:
            raise TypeError("cannot encode attribute list %r" % (value,))
    else:
        raise TypeError("cannot encode attribute value %r" % (value,))
    return msg


class GraphBuilder:
    """Collects the variables and applies needed to compute `roots`, stopping at `inputs`."""

    def __init__(self, inputs, roots, givens=()):
        from tensord.sharedvar import SharedVariable
        from tensord.tensor.var import TensorConstant
        self._shared_cls, self._const_cls = SharedVariable, TensorConstant
        self.inputs = list(inputs)
        self._input_ids = set(map(id, self.inputs))
        # Each given's value is ordered before the variable it replaces, so the applies stay
        # topological after the server substitutes givens.
        extra = {id(var): [value] for var, value in givens}
        order = io_toposort(list(self.inputs) + list(roots), stop=self.inputs, extra_deps=extra)
        self.graph = graph_pb2.Graph()
        self._ids = {}
        self._vars = {}
        for var in order:
            self._add(var)
        self.graph.inputs.extend(self.id_of(v) for v in self.inputs)

    def id_of(self, var):
        return self._ids[id(var)]

    def variables_by_id(self):
        """Wire id -> client variable, for every variable in the graph."""
        return dict(self._vars)

    def __contains__(self, var):
        return id(var) in self._ids

    def _new_id(self, var):
        vid = len(self._ids) + 1
        self._ids[id(var)] = vid
        self._vars[vid] = var
        return vid

    def _add(self, var):
        if id(var) in self._ids:
            return
        owner = var.owner
        is_input = id(var) in self._input_ids
        if owner is not None and not is_input:
            # All outputs of the apply get ids now, even ones nobody uses.
            for out in owner.outputs:
                self._declare(out)
            app = self.graph.applies.add()
            app.op = owner.op.wire_name
            for key, value in owner.op.attrs().items():
                encode_attr(value, app.attrs[key])
            app.inputs.extend(self.id_of(i) for i in owner.inputs)
            app.outputs.extend(self.id_of(o) for o in owner.outputs)
            # Ops with inner graphs (scan's step function) hand over their bodies ready-made:
            # each is self-contained, with its own variable ids.
            if hasattr(owner.op, "bodies"):
                for body in owner.op.bodies():
                    app.bodies.add().CopyFrom(body)
        else:
            self._declare(var)

    def _declare(self, var):
        if id(var) in self._ids:
            return self._ids[id(var)]
        vid = self._new_id(var)
        msg = self.graph.variables.add()
        msg.id = vid
        if var.name:
            msg.name = var.name
        var.type.to_proto(msg.type)
        if id(var) in self._input_ids:
            msg.input.SetInParent()
        elif isinstance(var, self._shared_cls):
            msg.shared.id = var.shared_id
        elif isinstance(var, self._const_cls):
            _dtypes.array_to_tensor(var.data, msg.constant)
        elif var.owner is not None:
            msg.output.SetInParent()
        else:
            # A free variable that is not a function input: only valid when a given replaces it.
            msg.input.SetInParent()
        return vid
