"""Helpers of scan: `until`, the updates dictionary, parsing what fn returns (Theano's
get_updates_and_outputs) and closing the step graph into a self-contained body.

A scan body on the wire may not reference outer variables (docs/wire-protocol.md, "scan"), so
everything fn's results need that does not depend on a per-step input is hoisted into the outer
graph and passed in as a non-sequence, as Theano's scan does with its givens.
"""

import warnings
from collections import OrderedDict

from tensord.graph import Apply, Variable, io_toposort

__all__ = ["until", "OrderedUpdates", "get_updates_and_outputs", "close_body"]


class until:
    """Returned by fn (last) to make scan a while loop: it stops after the first step where
    `condition` (a scalar) is true."""

    def __init__(self, condition):
        from tensord.tensor.basic import as_tensor_variable
        self.condition = as_tensor_variable(condition)
        if self.condition.ndim != 0:
            raise TypeError("until's condition must be a scalar, got %s" % self.condition.type)


class OrderedUpdates(OrderedDict):
    """Theano's OrderedUpdates: shared variable -> new value, keys checked to be shared."""

    def __setitem__(self, key, value):
        from tensord.sharedvar import SharedVariable
        if not isinstance(key, SharedVariable):
            raise TypeError("OrderedUpdates keys must inherit from SharedVariable", key)
        if key in self and self[key] is not value:
            raise KeyError("Collision", key)
        super().__setitem__(key, value)

    # Variables compare by identity, so dict lookups above are by object.
    def __add__(self, other):
        result = OrderedUpdates(self)
        result.update(other)
        return result


def _is_outputs(elem):
    if isinstance(elem, Variable):
        return True
    return isinstance(elem, (list, tuple)) and all(isinstance(x, Variable) for x in elem)


def _is_updates(elem):
    if isinstance(elem, dict):
        if not isinstance(elem, OrderedDict) and len(elem) > 1:
            warnings.warn("Expected OrderedDict or OrderedUpdates, got %s. This can make your "
                          "script non-deterministic." % type(elem), stacklevel=4)
        return True
    return isinstance(elem, (list, tuple)) and all(
        isinstance(x, (list, tuple)) and len(x) == 2 for x in elem)


def _filter(x):
    if isinstance(x, (list, tuple)):
        return all(_filter(y) for y in x)
    if isinstance(x, dict):
        return all(_filter(y) for y in x.items())
    return isinstance(x, (Variable, until))


def get_updates_and_outputs(ls):
    """(condition or None, outputs list, updates OrderedDict) from what fn returned: outputs,
    updates, until(cond), or (outputs, updates), (outputs, until), (updates, until),
    (outputs, updates, until), as Theano accepts them."""
    def as_list(x):
        return list(x) if isinstance(x, (list, tuple)) else [x]

    if not _filter(ls):
        raise ValueError(
            "The return value of your scan lambda expression may only be made of lists, tuples, "
            "or dictionaries containing Theano variables (or `theano.scan_module.until` objects "
            "for conditions). In particular if you need to use constant values, you can use "
            "`tensor.constant` to turn them into Theano variables.")
    if isinstance(ls, until):
        return ls.condition, [], OrderedDict()
    if _is_outputs(ls):
        return None, as_list(ls), OrderedDict()
    if _is_updates(ls):
        return None, [], OrderedDict(ls)
    error_msg = "Scan cannot parse the return value of your lambda expression, which is: %s" % (
        ls,)
    if not isinstance(ls, (list, tuple)):
        raise ValueError(error_msg)
    ls = list(ls)
    if len(ls) == 2:
        first, second = ls
        if _is_outputs(first):
            if _is_updates(second):
                return None, as_list(first), OrderedDict(second)
            if isinstance(second, until):
                return second.condition, as_list(first), OrderedDict()
        elif _is_updates(first):
            if _is_outputs(second):
                raise ValueError("The return value of the lambda function has been restricted. "
                                 "you have to always return first the outputs (if any), "
                                 "afterwards the updates (if any) and at the end the "
                                 "conclusion")
            if isinstance(second, until):
                return second.condition, [], OrderedDict(first)
    elif len(ls) == 3:
        if _is_outputs(ls[0]) and _is_updates(ls[1]) and isinstance(ls[2], until):
            return ls[2].condition, as_list(ls[0]), OrderedDict(ls[1])
    raise ValueError(error_msg)


def _clone_variable(var):
    if hasattr(var, "clone"):
        return var.clone()
    return Variable(var.type, name=var.name)


class _BodyCloner:
    """Copies the part of the step graph that depends on the per-step inputs; every other
    variable it reaches becomes a non-sequence (outer variable -> fresh inner placeholder)."""

    def __init__(self, roots_map, non_seqs):
        from tensord.tensor.var import TensorConstant
        self._constant_cls = TensorConstant
        self.memo = dict(roots_map)  # id(var) -> inner variable
        self.depends = set(roots_map)
        self.non_seq_outer, self.non_seq_inner = [], []
        for var in non_seqs:
            self.non_sequence(var)

    def non_sequence(self, outer):
        if id(outer) in self.memo:
            return self.memo[id(outer)]
        inner = outer.type()
        if outer.name:
            inner.name = outer.name + "_copy"
        self.memo[id(outer)] = inner
        self.non_seq_outer.append(outer)
        self.non_seq_inner.append(inner)
        return inner

    def _resolve(self, var):
        if id(var) in self.memo:
            return self.memo[id(var)]
        if isinstance(var, self._constant_cls):
            return var  # constants may stay in the body
        if id(var) in self.constant_derived:
            # e.g. the DimShuffle that broadcasting puts on a constant: copied, not hoisted.
            self._clone_node(var.owner)
            return self.memo[id(var)]
        return self.non_sequence(var)

    def _clone_node(self, node):
        new_inputs = [self._resolve(i) for i in node.inputs]
        new_outputs = [_clone_variable(o) for o in node.outputs]
        new_node = Apply(node.op, new_inputs, new_outputs)
        new_node.trace = node.trace
        for old, new in zip(node.outputs, new_outputs):
            self.memo[id(old)] = new

    def clone(self, outputs):
        order = io_toposort(outputs)
        self.constant_derived = set()
        for var in order:
            if var.owner is not None and all(
                    isinstance(i, self._constant_cls) or id(i) in self.constant_derived
                    for i in var.owner.inputs):
                self.constant_derived.add(id(var))
        for var in order:
            node = var.owner
            if id(var) in self.depends or node is None:
                continue
            if any(id(i) in self.depends for i in node.inputs):
                self.depends.update(id(o) for o in node.outputs)
                self._clone_node(node)
        # A result that depends on no step input is itself a non-sequence (the body passes it
        # through), unless it is a constant.
        return [self.memo[id(o)] if id(o) in self.depends else self._resolve(o) for o in outputs]


def close_body(step_inputs, step_outputs, non_sequences):
    """Clones the step graph into a self-contained body.

    step_inputs: (outer-or-placeholder variable, inner variable) pairs for the per-step inputs
    (sequence slices, output taps, updated shared variables); step_outputs: fn's results in body
    order; non_sequences: outer variables to pass first, in order. Returns (inner outputs,
    outer non-sequences, inner non-sequence placeholders)."""
    cloner = _BodyCloner({id(v): inner for v, inner in step_inputs}, non_sequences)
    inner_outputs = cloner.clone(step_outputs)
    return inner_outputs, cloner.non_seq_outer, cloner.non_seq_inner


def outer_leaves(variables, stop=()):
    """The leaves (no owner) of the graphs of `variables`, constants excluded; the graphs behind
    the variables in `stop` are not walked."""
    from tensord.tensor.var import TensorConstant
    return [v for v in io_toposort(variables, stop=stop)
            if v.owner is None and not isinstance(v, TensorConstant)]
