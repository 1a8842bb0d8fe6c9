"""pp / pprint (one-line expressions) and debugprint (the graph as an indented tree), as in Theano.

Both print the graph as the user built it, before any server-side optimization;
debugprint(function) shows the server's optimized graph instead.
"""

import io
import sys

from tensord.graph import Variable
from tensord.tensor import ops

__all__ = ["pp", "pprint", "debugprint", "PPrinter"]

MIDDLE_DOT = "\u00b7"  # Theano prints dot as (x · y)
_OPERATORS = {"add": "+", "sub": "-", "mul": "*", "true_div": "/", "pow": "**"}
_FUNCTIONS = {"exp": "exp", "log": "log", "fill": "fill"}


class PPrinter:
    """Theano's pprint: every operator application is parenthesized, e.g. '((x + y) * x)'."""

    def __call__(self, var):
        return self.process(var, {})

    def process(self, var, memo):
        if id(var) in memo:
            return memo[id(var)]
        node = var.owner
        if node is None:
            text = str(var)
        else:
            text = self._apply(var, node, memo)
        memo[id(var)] = text
        return text

    def _apply(self, var, node, memo):
        op = node.op
        args = [self.process(i, memo) for i in node.inputs]
        if isinstance(op, ops.DimShuffle):
            return self._dimshuffle(op.new_order, node.inputs[0], args[0])
        if isinstance(op, ops.Elemwise) and not isinstance(op, ops.Cast):
            if op.wire_name in _OPERATORS:
                return "(%s)" % (" %s " % _OPERATORS[op.wire_name]).join(args)
            if op.wire_name == "neg":
                return "(-%s)" % args[0]
            if op.wire_name in _FUNCTIONS:
                return "%s(%s)" % (_FUNCTIONS[op.wire_name], ", ".join(args))
        if isinstance(op, ops.Dot):
            return "(%s %s %s)" % (args[0], MIDDLE_DOT, args[1])
        name = str(op)
        if len(node.outputs) > 1:
            name += ".%d" % var.index
        return "%s(%s)" % (name, ", ".join(args))

    @staticmethod
    def _dimshuffle(new_order, inp, inner):
        # Leading 'x' dims are what Elemwise adds for broadcasting: Theano hides them.
        order = list(new_order)
        while order and order[0] == "x":
            order.pop(0)
        if order == list(range(inp.ndim)):
            return inner
        if order == list(reversed(range(inp.ndim))):
            return "%s.T" % inner
        return "DimShuffle{%s}(%s)" % (", ".join(map(str, order)), inner)


pprint = PPrinter()


def pp(var):
    """One-line rendering of a symbolic expression: pp(x + y) == '(x + y)'."""
    return pprint(var)


def _char_id(number):
    if number == 0:
        return "A"
    text = ""
    while number:
        text = chr(ord("A") + number % 26) + text
        number //= 26
    return text


class _Ids:
    def __init__(self, style):
        self.style, self.ids = style, {}

    def __call__(self, obj):
        if self.style == "":
            return ""
        if id(obj) not in self.ids:
            n = len(self.ids)
            self.ids[id(obj)] = _char_id(n) if self.style == "CHAR" else str(n)
        return "[id %s]" % self.ids[id(obj)]


def _debugprint(var, prefix, prefix_child, depth, done, ids, print_type, stop_on_name, out):
    if depth == 0:
        return
    type_str = " <%s>" % var.type if print_type else ""
    node = var.owner
    if node is None:
        out.write("%s%s %s%s\n" % (prefix, var, ids(var), type_str))
        return
    idx = "" if len(node.outputs) == 1 else ".%d" % var.index
    already = id(node) in done
    id_str = ids(node)
    name = var.name or ""
    out.write("%s%s%s %s%s '%s'   \n" % (prefix, node.op, idx, id_str, type_str, name))
    done.add(id(node))
    if already or (stop_on_name and var.name is not None):
        return
    for k, inp in enumerate(node.inputs):
        last = k == len(node.inputs) - 1
        _debugprint(inp, prefix_child + " |", prefix_child + ("  " if last else " |"),
                    depth - 1, done, ids, print_type, stop_on_name, out)


def debugprint(obj, depth=-1, print_type=False, file=None, ids="CHAR", stop_on_name=False):
    """Prints the graph of a variable (or list of variables) as Theano's debugprint does;
    for a compiled function, the server's optimized graph. file='str' returns the text."""
    from tensord.compile.runtime import Function
    out = io.StringIO()
    if isinstance(obj, Function):
        out.write(obj.describe().debugprint)
        if not out.getvalue().endswith("\n"):
            out.write("\n")
    else:
        roots = obj if isinstance(obj, (list, tuple)) else [obj]
        done, id_maker = set(), _Ids(ids)
        for root in roots:
            if not isinstance(root, Variable):
                raise TypeError("debugprint cannot print %r" % (root,))
            _debugprint(root, "", "", depth, done, id_maker, print_type, stop_on_name, out)
    text = out.getvalue()
    if file == "str":
        return text
    (file or sys.stdout).write(text)
    return None
