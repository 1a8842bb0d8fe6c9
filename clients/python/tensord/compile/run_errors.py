"""Theano's config.exception_verbosity for errors raised while running a compiled function.

The server names the failing instruction in its message ("in <label>: ..."). With 'low' (the
default) a hint is appended; with 'high' the message also carries the function's debugprint (from
DescribeFunction) and where the user's code created the failing node (Apply.trace): a node of
the client's graph with the same label, else one with the same wire op and named inputs (reported
as "probably"), else the function's outputs. The server's optimizer rewrites the graph, so a
failing node may have no counterpart in the graph as written; the message says so rather than
guessing. Update expressions are not searched (Function keeps only its outputs).
"""

import re

from tensord.config import config
from tensord.errors import TensordError
from tensord.graph import io_toposort

__all__ = ["augment_run_error"]

HINT = ("\nHINT: Use the tensord flag 'exception_verbosity=high' for a debugprint of this "
        "function and where its nodes were created.")


def _where(trace):
    return "%s:%d (in %s)" % trace if trace else "unknown (created inside tensord)"


def _client_applies(fn):
    applies, seen = [], set()
    # The graph's own inputs and outputs (a sparse matrix's components).
    outputs = getattr(fn, "_wire_outputs", fn.outputs)
    inputs = getattr(fn, "_wire_inputs", fn.inputs)
    for var in io_toposort(outputs, stop=inputs):
        owner = var.owner
        if owner is not None and id(owner) not in seen:
            seen.add(id(owner))
            applies.append(owner)
    return applies


def _same_op_and_inputs(apply, label):
    """The server's label is "<wire op>(<inputs>)": same op, and every named input appears."""
    op_name, _, args = label.partition("(")
    if getattr(apply.op, "wire_name", None) != op_name:
        return False
    names = [v.name for v in apply.inputs if v.name]
    return bool(names) and all(
        re.search(r"(?<![\w.])%s(?![\w.])" % re.escape(n), args) for n in names)


def _details(fn, label):
    lines = ["", "Failing node: %s" % label]
    applies = _client_applies(fn)
    exact = [a for a in applies if str(a) == label]
    similar = [] if exact else [a for a in applies if _same_op_and_inputs(a, label)]
    if exact:
        for a in exact:
            lines.append("Apply node %s was created at: %s" % (a, _where(a.trace)))
    elif similar:
        for a in similar:
            lines.append("Probably from node %s (same op and named inputs), created at: %s"
                         % (a, _where(a.trace)))
    else:
        lines.append("This node is not in the graph as written (the optimizer created or "
                     "rewrote it); the function's outputs were created at:")
        for out in getattr(fn, "_wire_outputs", fn.outputs):
            trace = out.owner.trace if out.owner is not None else None
            lines.append("  %s: %s" % (out, _where(trace)))
    try:
        debugprint = fn.describe().debugprint
    except TensordError as exc:
        debugprint = "(DescribeFunction failed: %s)" % exc
    lines.append("Debugprint of the compiled function %s:" % (fn.name or fn.function_id))
    lines.append(debugprint.rstrip("\n"))
    return "\n".join(lines)


def augment_run_error(fn, exc):
    """Adds detail to `exc` (a TensordError from Run) in place, per config.exception_verbosity."""
    message = exc.message or ""
    if not message.startswith("in ") or ": " not in message:
        return
    if config.exception_verbosity == "high":
        extra = _details(fn, message[3:].split(": ", 1)[0])
    else:
        extra = HINT
    exc.message = message + extra
    exc.args = (exc.message,)
