"""The `scan` op: attributes, output types and the body, as docs/wire-protocol.md ("scan")
fixes them. scan() builds it; this module only knows the wire layout.

Outer inputs: n_steps, sequences, initial buffers of the recurrent outputs, shared-out initial
values, non-sequences. Outer outputs: recurrent outputs, nit-sot outputs, shared-out final values.
"""

from tensord.graph import Apply, Op
from tensord.tensor.type import TensorType

__all__ = ["Scan", "row_type", "inner_to_outer_inputs"]


def row_type(ttype):
    """The type of one row (step) of `ttype`: its leading dim dropped."""
    return TensorType(ttype.dtype, ttype.broadcastable[1:])


def _stacked(ttype):
    return TensorType(ttype.dtype, (False,) + tuple(ttype.broadcastable))


class Scan(Op):
    """Theano's Scan op on the wire: the step function is `inner_inputs` -> `inner_outputs`, a
    self-contained client graph serialized as the node's body."""

    wire_name = "scan"

    def __init__(self, inner_inputs, inner_outputs, n_seqs, taps, n_nit_sot, n_shared_outs,
                 truncate_gradient=-1, as_while=False, name=None, mode=None):
        self.inner_inputs = list(inner_inputs)
        self.inner_outputs = list(inner_outputs)
        self.n_seqs = int(n_seqs)
        self.taps = [list(t) for t in taps]  # per recurrent output
        self.n_mit = len(self.taps)
        self.n_nit_sot = int(n_nit_sot)
        self.n_shared_outs = int(n_shared_outs)
        self.truncate_gradient = int(truncate_gradient)
        self.as_while = bool(as_while)
        self.name = name
        self.mode = mode
        self._body = None

    def attrs(self):
        attrs = {"n_seqs": self.n_seqs,
                 "mit_sot_taps": [t for taps in self.taps for t in taps],
                 "mit_sot_tap_counts": [len(t) for t in self.taps],
                 "n_nit_sot": self.n_nit_sot, "n_shared_outs": self.n_shared_outs,
                 "truncate_gradient": self.truncate_gradient, "until": self.as_while}
        if self.name:
            attrs["name"] = str(self.name)
        if self.mode:
            attrs["mode"] = str(self.mode)
        return attrs

    def bodies(self):
        """The step function as a tensord.v1.Graph (built once: the op never changes)."""
        if self._body is None:
            from tensord.serialize import GraphBuilder
            builder = GraphBuilder(self.inner_inputs, self.inner_outputs)
            builder.graph.outputs.extend(builder.id_of(o) for o in self.inner_outputs)
            self._body = builder.graph
        return [self._body]

    def __getstate__(self):
        return dict(self.__dict__, _body=None)  # rebuilt from the step's variables when needed

    def inner_graph(self):
        return self.inner_inputs, self.inner_outputs

    def make_node(self, n_steps, *inputs):
        n_seqs, n_mit, n_shared = self.n_seqs, self.n_mit, self.n_shared_outs
        inits = inputs[n_seqs:n_seqs + n_mit]
        shared = inputs[n_seqs + n_mit:n_seqs + n_mit + n_shared]
        outs = self.inner_outputs
        out_types = []
        for init, step_out in zip(inits, outs[:n_mit]):
            state = row_type(init.type)
            bcast = tuple(a and b for a, b in zip(state.broadcastable, step_out.broadcastable))
            out_types.append(TensorType(init.dtype, (False,) + bcast))
        out_types += [_stacked(o.type) for o in outs[n_mit:n_mit + self.n_nit_sot]]
        out_types += [s.type for s in shared]
        return Apply(self, [n_steps] + list(inputs), [t() for t in out_types])

    def __str__(self):
        kind = "do_while" if self.as_while else "for"
        return "%s{cpu,%s}" % (kind, self.name or "scan_fn")


def inner_to_outer_inputs(node, inner_inputs):
    """id(inner input) -> outer input of a scan node (which outer value feeds each body input),
    for debugprint's `->` arrows. Works from the node's attributes, so also for scan nodes that
    came back from the server."""
    attrs = node.op.attrs()
    n_seqs = attrs["n_seqs"]
    counts = list(attrs["mit_sot_tap_counts"])
    outer = node.inputs[1:]
    mapping, pos = {}, 0
    for i in range(n_seqs):
        mapping[pos] = outer[i]
        pos += 1
    for j, count in enumerate(counts):
        for _ in range(count):
            mapping[pos] = outer[n_seqs + j]
            pos += 1
    # Shared outs and non-sequences feed their body inputs one to one.
    for k, var in enumerate(outer[n_seqs + len(counts):]):
        mapping[pos + k] = var
    return {id(v): mapping[i] for i, v in enumerate(inner_inputs) if i in mapping}
