"""pp / pprint (one-line expressions) and debugprint (the graph as an indented tree), as in Theano.

Both print the graph as the user built it, before any server-side optimization;
debugprint(function) shows the server's optimized graph instead.
"""

import io
import sys

from tensord.graph import Apply, Op, Variable
from tensord.tensor import ops

__all__ = ["pp", "pprint", "debugprint", "PPrinter", "pydotprint", "pydotgraph", "Print"]


def _print_fn(op, value):
    for attr in op.print_attrs:
        shown = getattr(value, attr)
        print(op.message, attr, "=", shown() if callable(shown) else shown)


class Print(Op):
    """Theano's theano.printing.Print: Print(message)(x) is x, and each call of a function
    that computes it prints `message attr = value` for each of `attrs` (default __str__; e.g.
    ('shape',)), or calls global_fn(op, value) instead. The value comes back alongside the
    function's outputs and is printed here, after the call (the server has no console of the
    caller's). Theano's `attrs` tuple is `print_attrs` here (`attrs()` names wire attributes)."""

    wire_name = "print"

    def __init__(self, message="", attrs=("__str__",), global_fn=_print_fn):
        self.message = str(message)
        self.print_attrs = tuple(attrs)
        self.global_fn = global_fn

    def attrs(self):
        return {"message": self.message}

    def make_node(self, x):
        from tensord.tensor import basic
        x = basic.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def __str__(self):
        return "Print{%s}" % self.message

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
    """One-line rendering of a symbolic expression: pp(x + y) == '(x + y)'. A sparse matrix
    renders as its components: CSM{csr}(data, indices, indptr, shape)."""
    from tensord.sparse.variable import SparseVariable
    if isinstance(var, SparseVariable):
        return "CSM{%s}(%s)" % (var.format, ", ".join(pprint(c) for c in var.components))
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


def _inner_graph(node):
    """(inputs, outputs) of a node's body (scan, or a server node with one), else None."""
    getter = getattr(node.op, "inner_graph", None)
    return getter() if getter is not None else None


def _debugprint(var, prefix, prefix_child, depth, done, ids, print_type, stop_on_name, out,
                scan_ops=None, inner_to_outer=None):
    if depth == 0:
        return
    type_str = " <%s>" % var.type if print_type else ""
    node = var.owner
    if node is None:
        arrow = ""
        if inner_to_outer and id(var) in inner_to_outer:
            outer = inner_to_outer[id(var)]
            arrow = " -> %s" % ids(outer.owner if outer.owner is not None else outer)
        out.write("%s%s %s%s%s\n" % (prefix, var, ids(var), type_str, arrow))
        return
    if scan_ops is not None and id(node) not in done and _inner_graph(node) is not None:
        scan_ops.append(var)
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
                    depth - 1, done, ids, print_type, stop_on_name, out, scan_ops,
                    inner_to_outer)


def _print_inner_graphs(scan_ops, depth, done, ids, print_type, stop_on_name, out):
    """Theano's "Inner graphs of the scan ops:" section: each scan node, then its step graph
    with ' >' prefixes; a body input shows `-> [id X]`, the outer value feeding it."""
    from tensord.scan_module.scan_op import inner_to_outer_inputs
    out.write("\nInner graphs of the scan ops:\n")
    k = 0
    while k < len(scan_ops):  # nested scans found on the way are appended
        var = scan_ops[k]
        k += 1
        node = var.owner
        inputs, outputs = _inner_graph(node)
        mapping = (inner_to_outer_inputs(node, inputs) if node.op.wire_name == "scan"
                   else None)
        out.write("\n")
        _debugprint(var, "", "", depth, done, ids, print_type, stop_on_name, out)
        for inner in outputs:
            _debugprint(inner, " >", " >", depth, done, ids, print_type, stop_on_name, out,
                        scan_ops, mapping)


def debugprint(obj, depth=-1, print_type=False, file=None, ids="CHAR", stop_on_name=False):
    """Prints the graph of a variable, an Apply node or a list of them as Theano's debugprint
    does; for a compiled function, the server's optimized graph. file='str' returns the text."""
    from tensord.compile.runtime import Function
    out = io.StringIO()
    if isinstance(obj, Function):
        out.write(obj.describe().debugprint)
        if not out.getvalue().endswith("\n"):
            out.write("\n")
    else:
        roots = obj if isinstance(obj, (list, tuple)) else [obj]
        # An Apply node prints as its outputs (Theano's debugprint(node)), a sparse matrix as
        # its components.
        from tensord.sparse.variable import SparseVariable
        roots = [o for r in roots for o in (r.outputs if isinstance(r, Apply) else
                                            r.components if isinstance(r, SparseVariable)
                                            else [r])]
        done, id_maker, scan_ops = set(), _Ids(ids), []
        for root in roots:
            if not isinstance(root, Variable):
                raise TypeError("debugprint cannot print %r" % (root,))
            _debugprint(root, "", "", depth, done, id_maker, print_type, stop_on_name, out,
                        scan_ops)
        if scan_ops:
            _print_inner_graphs(scan_ops, depth, done, id_maker, print_type, stop_on_name, out)
    text = out.getvalue()
    if file == "str":
        return text
    (file or sys.stdout).write(text)
    return None


# -- pydotprint: the graph as an image, through Graphviz's `dot` program -------------------------

_APPLY_COLORS = {"Elemwise": "#FFAABB", "Subtensor": "#FFAAFF", "Alloc": "#FFAA22",
                 "Shape": "brown", "if": "magenta"}


def _dot_quote(text):
    return '"%s"' % str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def _variable_dot(roots):
    """DOT text of the client graph ending in `roots`, in the server's DotPrint style."""
    from tensord.graph import io_toposort
    from tensord.sharedvar import SharedVariable
    from tensord.tensor.var import TensorConstant
    nodes, seen = [], set()
    for var in io_toposort(roots):
        if var.owner is not None and id(var.owner) not in seen:
            seen.add(id(var.owner))
            nodes.append(var.owner)
    outputs = {id(r) for r in roots}
    lines = ["digraph G {", '  graph [bgcolor="#FFFFFF"];', "  node [style=filled, fontsize=10];"]
    names, apply_names = {}, {id(node): "n%d" % i for i, node in enumerate(nodes)}

    def var_node(var):
        if id(var) in names:
            return names[id(var)]
        name = names[id(var)] = "v%d" % len(names)
        if isinstance(var, TensorConstant):
            label, color = "val=%s %s" % (str(var)[len("TensorConstant{"):-1], var.type), \
                "SpringGreen"
        else:
            label = "%s %s" % (var.name, var.type) if var.name else str(var.type)
            color = "limegreen" if var.owner is None else "white"
            if isinstance(var, SharedVariable):
                color = "cyan"
        if id(var) in outputs:
            color = "dodgerblue"
        lines.append("  %s [label=%s, shape=ellipse, fillcolor=%s];" % (name, _dot_quote(label),
                                                                         color))
        return name

    def source(var):
        if var.owner is not None and id(var) not in outputs:
            return apply_names[id(var.owner)]
        return var_node(var)

    for node in nodes:
        name, op = apply_names[id(node)], str(node.op)
        color = next((c for prefix, c in _APPLY_COLORS.items() if op.startswith(prefix)), "white")
        lines.append('  %s [label=%s, shape=box, fillcolor="%s"];' % (name, _dot_quote(op), color))
        for k, inp in enumerate(node.inputs):
            label = " [label=%d]" % k if len(node.inputs) > 1 else ""
            lines.append("  %s -> %s%s;" % (source(inp), name, label))
        for out in node.outputs:
            if id(out) in outputs:
                lines.append("  %s -> %s;" % (name, var_node(out)))
    for root in roots:
        var_node(root)
    return "\n".join(lines) + "\n}\n"


def pydotgraph(fct):
    """The DOT text pydotprint renders: a compiled Function's optimized graph (from the server)
    or the unoptimized graph of a variable or list of variables."""
    from tensord.compile.runtime import Function
    if isinstance(fct, Function):
        return fct.describe().dot
    roots = list(fct) if isinstance(fct, (list, tuple)) else [fct]
    for root in roots:
        if not isinstance(root, Variable):
            raise TypeError("pydotprint cannot print %r" % (root,))
    return _variable_dot(roots)


def pydotprint(fct, outfile=None, compact=True, format="png", with_ids=False,
               high_contrast=True, cond_highlight=None, colorCodes=None, max_label_size=70,
               scan_graphs=False, var_with_name_simple=False, print_output_file=True,
               return_image=False):
    """Draws a graph as Theano's pydotprint does, with Graphviz's `dot` program.

    fct: a compiled Function (its optimized graph, as the server compiled it) or a variable /
    list of variables (the graph as built). outfile defaults to
    ./tensord.pydotprint.<device>.<format> in the current directory (Theano used its
    compiledir, which tensord does not have). format is any `dot -T` format ('png', 'svg',
    'pdf', ...) or 'dot' for the DOT text itself. return_image=True returns the rendered bytes
    instead of writing a file. Theano's styling options are accepted and ignored.
    """
    import os
    import shutil
    import subprocess
    from tensord.config import config
    text = pydotgraph(fct)
    if format == "dot":
        image = text.encode()
    else:
        dot = shutil.which("dot")
        if dot is None:
            raise ImportError("pydotprint needs Graphviz: the `dot` program was not found on "
                              "PATH (Debian: apt-get install graphviz; deploy/install-deps.sh "
                              "installs it)")
        done = subprocess.run([dot, "-T" + format], input=text.encode(), capture_output=True)
        if done.returncode != 0:
            raise RuntimeError("Graphviz dot failed (format %r): %s"
                               % (format, done.stderr.decode(errors="replace").strip()))
        image = done.stdout
    if return_image:
        return image
    if outfile is None:
        outfile = os.path.join(os.getcwd(), "tensord.pydotprint.%s.%s" % (config.device, format))
    with open(outfile, "wb") as f:
        f.write(image)
    if print_output_file:
        print("The output file is available at", outfile)
    return None
