"""The symbolic graph, as Theano's gof builds it: Variables produced by Apply nodes of Ops.

Everything here is client-side bookkeeping; the server sees the graph only once function()
serializes it (tensord.serialize).
"""

import os
import sys

__all__ = ["Apply", "Variable", "Op", "ancestors", "io_toposort"]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _user_frame():
    """(file, line, function) of the innermost caller outside the tensord package, or None.

    Theano's var.tag.trace, kept cheap: one short tuple per Apply, no formatted stack."""
    frame = sys._getframe(2)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return None
    return (frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name)


class Apply:
    """One application of an op to input variables, producing output variables."""

    def __init__(self, op, inputs, outputs):
        self.op = op
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        # Where the user's code created this node; exception_verbosity=high reports it.
        self.trace = _user_frame()
        for index, out in enumerate(self.outputs):
            out.owner = self
            out.index = index

    @property
    def out(self):
        return self.outputs[0]

    @property
    def nin(self):
        return len(self.inputs)

    @property
    def nout(self):
        return len(self.outputs)

    def __str__(self):
        return "%s(%s)" % (self.op, ", ".join(str(i) for i in self.inputs))

    __repr__ = __str__


class Scratchpad:
    """Theano's `var.tag`: an attribute bag (test_value, trace, anything a program stores)."""

    def __repr__(self):
        return "scratchpad{%s}" % ", ".join("%s=%r" % kv for kv in sorted(vars(self).items()))


class Variable:
    """A typed symbolic value; `owner` is the Apply that computes it (None for leaves)."""

    def __init__(self, type, owner=None, index=None, name=None):
        self.type = type
        self.owner = owner
        self.index = index
        self.name = name
        self.tag = Scratchpad()

    def __str__(self):
        if self.name is not None:
            return self.name
        if self.owner is not None:
            if len(self.owner.outputs) == 1:
                return "%s.0" % (self.owner.op,)
            return "%s.%d" % (self.owner.op, self.index)
        return "<%s>" % (self.type,)

    def __repr__(self):
        return str(self)

    def get_parents(self):
        return [self.owner] if self.owner is not None else []


class Op:
    """Base of all ops. `wire_name` is the op's name on the wire (Theano's name, never renamed)."""

    wire_name = None

    def attrs(self):
        """Wire attributes: name -> int | float | str | bool | list of ints | numpy dtype."""
        return {}

    def make_node(self, *inputs):
        raise NotImplementedError

    def __call__(self, *inputs):
        node = self.make_node(*inputs)
        from tensord import test_value
        test_value.compute(node)  # config.compute_test_value
        return node.outputs[0] if len(node.outputs) == 1 else node.outputs

    def __str__(self):
        return self.__class__.__name__

    __repr__ = __str__


def io_toposort(roots, stop=(), extra_deps=None):
    """Variables reachable from `roots` in dependency order (inputs before users).

    Variables in `stop` are treated as leaves: their producers are not visited, which is how a
    function input that happens to be an intermediate result cuts the graph, as in Theano.
    `extra_deps` maps id(var) -> variables that must come before var (function() uses it to
    place each given's value before the variable it replaces, so the order stays topological
    once the server substitutes givens). Iterative: deep graphs must not hit the recursion limit.
    """
    stop = set(map(id, stop))
    extra_deps = extra_deps or {}
    order, seen = [], set()
    for root in roots:
        if id(root) in seen:
            continue
        stack = [(root, False)]
        while stack:
            var, expanded = stack.pop()
            if expanded:
                order.append(var)
                continue
            if id(var) in seen:
                continue
            seen.add(id(var))
            stack.append((var, True))
            deps = list(extra_deps.get(id(var), ()))
            if var.owner is not None and id(var) not in stop:
                deps.extend(var.owner.inputs)
            for inp in reversed(deps):
                if id(inp) not in seen:
                    stack.append((inp, False))
    return order


def ancestors(roots, stop=()):
    return io_toposort(roots, stop)
