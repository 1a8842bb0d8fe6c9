"""Theano's test values (config.compute_test_value): with it on, building a node computes its
outputs' `tag.test_value` from its inputs' (constants and shared variables have theirs), on
the server, so a shape or type error surfaces at the line that builds the bad node instead of
when a function first runs.

Modes: 'off' (default) computes nothing; 'ignore' skips nodes with an input lacking a test
value; 'warn' skips them with a warning; 'raise' raises ValueError naming the input; 'pdb' is
accepted and acts as 'raise' (a server cannot stop in the client's debugger). Each node costs a
compile (a cache hit for repeated shapes of graph) and a run: a debugging aid, as in Theano.
Gradients get test values too; the results of ifelse and scan (and their step functions'
variables) do not, and nodes built on them are skipped.
"""

import contextlib
import threading
import warnings

import numpy as np

__all__ = ["compute", "get_test_value"]

_MISSING = object()
_busy = threading.local()  # building the helper function must not compute test values itself


def _value_of(var):
    from tensord.sharedvar import SharedVariable
    from tensord.tensor.var import TensorConstant
    if isinstance(var, TensorConstant):
        return var.data
    if isinstance(var, SharedVariable):
        return var.get_value()
    return getattr(var.tag, "test_value", _MISSING)


@contextlib.contextmanager
def suspended():
    """No test values are computed inside (scan traces its step function so: its variables have
    none)."""
    previous = getattr(_busy, "on", False)
    _busy.on = True
    try:
        yield
    finally:
        _busy.on = previous


def get_test_value(var):
    """The test value of `var` (Theano's theano.gof.op.get_test_value); AttributeError when it
    has none."""
    value = _value_of(var)
    if value is _MISSING:
        raise AttributeError("%s has no test value" % (var,))
    return value


def compute(node):
    """Sets tag.test_value on the outputs of `node` as config.compute_test_value says."""
    from tensord.config import config
    mode = config.compute_test_value
    if mode == "off" or getattr(_busy, "on", False):
        return
    from tensord.sharedvar import SharedVariable
    from tensord.tensor.var import TensorConstant
    inputs, values = [], []
    for i, var in enumerate(node.inputs):
        value = _value_of(var)
        if value is _MISSING:
            # A result tensord computes no test value for (an ifelse's, a scan's): skipped, as
            # are the nodes after it; only the program's own leaves must have one.
            if mode == "ignore" or var.owner is not None:
                return
            message = ("Cannot compute test value: input %d (%s) of Op %s missing default value"
                       % (i, var, node.op))
            if mode == "warn":
                warnings.warn(message, stacklevel=3)
                return
            raise ValueError(message)
        if isinstance(var, (TensorConstant, SharedVariable)) or any(v is var for v in inputs):
            continue  # in the graph already, or given once
        inputs.append(var)
        values.append(np.asarray(value))
    from tensord.compile.function import function
    with suspended():
        fn = function(inputs, list(node.outputs), on_unused_input="ignore",
                      allow_input_downcast=True, no_default_updates=True,
                      name="test value of %s" % (node.op,))
        results = fn(*values)
    for out, result in zip(node.outputs, results):
        out.tag.test_value = result
