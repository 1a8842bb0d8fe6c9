"""MonitorMode's per-node callbacks (see compile/mode.py MonitorMode): a companion function
computes every intermediate value of the program's graph, and the callbacks walk its nodes."""

import numpy as np

from tensord.graph import Variable, io_toposort
from tensord.sharedvar import SharedVariable
from tensord.tensor.var import TensorConstant

__all__ = ["Monitor"]


class _NodeStorage:
    """Theano's `fn` argument: one-element lists of input and output values."""

    def __init__(self, inputs, outputs):
        self.inputs = [[v] for v in inputs]
        self.outputs = [[v] for v in outputs]


class Monitor:
    def __init__(self, mode, inputs, roots, givens):
        from tensord.compile.function import function
        from tensord.compile.mode import Mode
        self.mode = mode
        self.inputs = list(inputs)
        stop = set(map(id, self.inputs))
        self.nodes, seen = [], set()
        for var in io_toposort([r for r in roots if isinstance(r, Variable)], stop=self.inputs):
            node = var.owner
            if node is not None and id(var) not in stop and id(node) not in seen:
                seen.add(id(node))
                self.nodes.append(node)
        self.values_of = [out for node in self.nodes for out in node.outputs]
        self.fn = function(self.inputs, self.values_of, givens=givens,
                           mode=Mode(optimizer=None), no_default_updates=True,
                           allow_input_downcast=True, on_unused_input="ignore",
                           name="MonitorMode values")
        self.fn._prints = []  # the function itself prints its Print nodes, once
        self.swap = {}  # id(shared variable) -> its replacement in a copy

    def copied(self, swap):
        """This monitor for a copy of the function with `swap` (Function.copy)."""
        copy = object.__new__(Monitor)
        copy.__dict__.update(self.__dict__)
        if swap:
            copy.fn = self.fn.copy(swap=swap)
            copy.fn._prints = []
            copy.swap = dict(self.swap)
            copy.swap.update({id(old): new for old, new in swap.items()})
        return copy

    def run(self, args):
        """Calls the mode's callbacks for one call of the function with arguments `args` (as
        the function took them: converted, or device arrays)."""
        computed = self.fn(*args) if self.values_of else []
        known = {id(v): x for v, x in zip(self.values_of, computed)}
        for var, value in zip(self.inputs, args):
            known[id(var)] = value

        def value_of(var):
            if id(var) in known:
                return known[id(var)]
            if isinstance(var, TensorConstant):
                return var.data
            if isinstance(var, SharedVariable):
                known[id(var)] = self.swap.get(id(var), var).get_value()
                return known[id(var)]
            return None

        for i, node in enumerate(self.nodes):
            storage = _NodeStorage([value_of(v) for v in node.inputs], [None] * len(node.outputs))
            if self.mode.pre_func is not None:
                self.mode.pre_func(i, node, storage)
            storage.outputs = [[np.asarray(known[id(o)])] for o in node.outputs]
            if self.mode.post_func is not None:
                self.mode.post_func(i, node, storage)
