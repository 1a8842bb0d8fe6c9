"""tensord.function: check and serialize a graph, compile it on the server, call it."""

import os
import sys
import warnings

from tensord._proto import compute_pb2
from tensord.config import config
from tensord.errors import MissingInputError, UnusedInputError
from tensord.graph import Variable, io_toposort
from tensord.serialize import GraphBuilder
from tensord.sharedvar import SharedVariable
from tensord.sparse.function_io import expand_pairs, flatten
from tensord.sparse.sharedvar import SparseSharedVariable
from tensord.sparse.variable import SparseConstant, SparseVariable
from tensord.tensor.var import TensorConstant, TensorVariable
from tensord.compile.io import unwrap_inputs, unwrap_outputs
from tensord.compile.mode import apply_mode
from tensord.compile.runtime import Function

__all__ = ["function", "build_spec"]

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_MODES = {"FAST_RUN": "FAST_RUN", "FAST_COMPILE": "FAST_COMPILE", "DebugMode": "DebugMode",
          "DEBUG_MODE": "DebugMode", "NanGuardMode": "NanGuardMode"}


def _caller_name():
    """'file:line' of the first frame outside tensord, as Theano names anonymous functions."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not os.path.abspath(filename).startswith(_PACKAGE_DIR + os.sep):
            return "%s:%d" % (filename, frame.f_lineno)
        frame = frame.f_back
    return "<unknown>"


def _resolve_mode(mode):
    mode = mode if mode is not None else config.mode
    if not isinstance(mode, str):
        mode = getattr(mode, "name", None) or str(mode)
    if mode == "Mode":
        # Theano: mode 'Mode' means "use config.optimizer".
        return "FAST_RUN" if config.optimizer in ("fast_run", "o2", "o3", "o4") else "FAST_COMPILE"
    if mode not in _MODES:
        raise ValueError("unknown mode %r; expected one of %s" % (mode, sorted(_MODES)))
    return _MODES[mode]


def _pairs(mapping, what):
    if mapping is None:
        return []
    if hasattr(mapping, "items"):
        return list(mapping.items())
    pairs = list(mapping)
    for p in pairs:
        if not (isinstance(p, (list, tuple)) and len(p) == 2):
            raise TypeError("%s must be a dict or a list of (variable, value) pairs, got %r"
                            % (what, p))
    return [tuple(p) for p in pairs]


def _as_value_of(target, value):
    """A non-variable update/given value becomes a constant of the target's exact type."""
    if isinstance(value, Variable):
        return value
    data = target.type.filter(value)
    return TensorConstant(target.type, data)


def _collect_updates(updates):
    """Update pairs checked, a sparse shared variable's as its four components'."""
    result, seen = [], set()
    for target, value in expand_pairs(_pairs(updates, "updates"), "updates"):
        if not isinstance(target, SharedVariable):
            raise TypeError("update target must be a SharedVariable", target)
        if id(target) in seen:
            raise ValueError("this shared variable already has an update expression", target)
        seen.add(id(target))
        value = _as_value_of(target, value)
        if not isinstance(value, TensorVariable) or value.type != target.type:
            raise TypeError(
                "An update must have the same type as the original shared variable "
                "(shared_var=%s, shared_var.type=%s, update_val=%s, update_val.type=%s)."
                % (target, target.type, value, getattr(value, "type", None)),
                "If the difference is related to the broadcast pattern, you can call the "
                "tensor.unbroadcast(var, axis_to_unbroadcast[, ...]) function to remove "
                "broadcastable dimensions.")
        result.append((target, value))
    return result


def _default_updates(inputs, outs, update_pairs, no_default_updates):
    """Theano's rebuild_collect_shared: every shared variable the graph reads that has a
    `default_update` is updated with it, unless an explicit update names it or
    no_default_updates is True (or a list holding it). Repeats over the added values' graphs."""
    if no_default_updates is True:
        return []
    skip = {id(v) for v in (no_default_updates or ())}
    skip |= {id(target) for target, _ in update_pairs}
    added, pending = [], list(outs) + [v for _, v in update_pairs]
    while pending:
        found = []
        for var in io_toposort(pending, stop=inputs):
            default = getattr(var, "default_update", None)
            if isinstance(var, SharedVariable) and default is not None and id(var) not in skip:
                skip.add(id(var))
                found.append((var, _as_value_of(var, default)))
        added += _collect_updates(found)
        pending = [value for _, value in found]
    return added


def _collect_givens(givens):
    result = []
    for var, value in expand_pairs(_pairs(givens, "givens"), "givens"):
        if not isinstance(var, TensorVariable):
            raise TypeError("given keys must be Variable", var)
        value = _as_value_of(var, value)
        if not isinstance(value, TensorVariable) or value.type != var.type:
            raise TypeError("givens: %s of type %s cannot be replaced by %s of type %s (the "
                            "types must be the same)"
                            % (var, var.type, value, getattr(value, "type", None)))
        result.append((var, value))
    return result


def _check_inputs_used(inputs, roots, givens, on_unused_input):
    """Walks the graph as the server will see it (givens applied) to find unused inputs and free
    variables that nobody provides, and reports them the way Theano does. A sparse input counts
    as used when any of its components is."""
    input_ids = {}
    for i, v in enumerate(inputs):
        for part in (v.components if isinstance(v, SparseVariable) else [v]):
            input_ids[id(part)] = i
    replace = {id(var): value for var, value in givens}
    used, seen, stack = set(), set(), list(roots)
    while stack:
        var = stack.pop()
        if id(var) in seen:
            continue
        seen.add(id(var))
        if id(var) in input_ids:
            used.add(input_ids[id(var)])
        elif id(var) in replace:
            stack.append(replace[id(var)])
        elif var.owner is not None:
            stack.extend(var.owner.inputs)
        elif not isinstance(var, (TensorConstant, SharedVariable)):
            raise MissingInputError(
                "An input of the graph, used to compute the outputs, was not provided and not "
                "given a value: %s (of type %s). Add it to the function's inputs or replace it "
                "with `givens`." % (var, var.type))
    for i, var in enumerate(inputs):
        if i in used:
            continue
        msg = ("tensord.function was asked to create a function computing outputs given certain "
               "inputs, but the provided input variable at index %i is not part of the "
               "computational graph needed to compute the outputs: %s.\nTo make this error into "
               "a warning, you can pass the parameter on_unused_input='warn' to "
               "tensord.function. To disable it completely, use on_unused_input='ignore'."
               % (i, var))
        if on_unused_input == "raise":
            raise UnusedInputError(msg)
        if on_unused_input == "warn":
            warnings.warn(msg, stacklevel=4)
        elif on_unused_input != "ignore":
            raise ValueError("Invalid value for keyword on_unused_input of theano.function: "
                             "'%s'.\nValid values are 'raise', 'warn', and 'ignore'."
                             % on_unused_input)


def _check_function_inputs(inputs):
    if not isinstance(inputs, (list, tuple)):
        raise TypeError("Input variables of a tensord function should be contained in a list, "
                        "even when there is a single input.")
    inputs = list(inputs)
    seen = set()
    for i, var in enumerate(inputs):
        if isinstance(var, (SharedVariable, SparseSharedVariable)):
            raise TypeError("Cannot use a shared variable (%s) as explicit input. Consider "
                            "substituting a non-shared variable via the `givens` parameter" % var)
        if isinstance(var, (TensorConstant, SparseConstant)):
            raise TypeError("Cannot use a constant (%s) as input %d of a function" % (var, i))
        if not isinstance(var, (TensorVariable, SparseVariable)):
            raise TypeError("function inputs must be symbolic tensor variables (or sparse "
                            "matrices); input %d is %r" % (i, var))
        if id(var) in seen:
            raise ValueError("Variable %s is used twice in inputs to tensord.function" % var)
        seen.add(id(var))
    # A sparse input is its components: two inputs must not share one (x and x.T do).
    parts = set()
    for var in inputs:
        for part in (var.components if isinstance(var, SparseVariable) else [var]):
            if id(part) in parts:
                raise ValueError("inputs of tensord.function share the variable %s (a sparse "
                                 "matrix and its transpose, or a sparse matrix and one of its "
                                 "components?); pass only one of them" % part)
            parts.add(id(part))
    return inputs


def function(inputs, outputs=None, updates=None, givens=None, allow_input_downcast=None,
             mode=None, profile=None, name=None, on_unused_input=None, **unsupported):
    """Compiles a callable computing `outputs` from `inputs` (Theano's theano.function).

    `outputs` may be a variable (the call returns an array), a list (returns a list) or None
    (returns []). `updates` are (shared variable, new value) pairs applied after each call;
    `givens` are (variable, replacement) pairs substituted in the graph before compiling.
    Inputs may be tensord.In (defaults, keyword names, strict typing) and outputs tensord.Out.
    """
    no_default_updates = unsupported.pop("no_default_updates", False)
    for ignored in ("rebuild_strict", "accept_inplace"):
        unsupported.pop(ignored, None)
    if unsupported:
        raise TypeError("function() got unsupported arguments: %s" % ", ".join(unsupported))
    if name is None:
        name = _caller_name()
    # Once as pairs: a generator would be spent before the recipe could be pickled.
    updates = None if updates is None else _pairs(updates, "updates")
    givens = None if givens is None else _pairs(givens, "givens")
    # What a pickle rebuilds the function from: the arguments, copied (the caller may change
    # its lists later), with the settings config gave them resolved now (the unpickling
    # process may be configured otherwise).
    recipe = dict(inputs=list(inputs) if isinstance(inputs, (list, tuple)) else inputs,
                  outputs=list(outputs) if isinstance(outputs, (list, tuple)) else outputs,
                  updates=updates, givens=givens, allow_input_downcast=allow_input_downcast,
                  mode=mode if mode is not None else config.mode,
                  profile=bool(config.profile if profile is None else profile), name=name,
                  on_unused_input=(on_unused_input if on_unused_input is not None
                                   else config.on_unused_input),
                  no_default_updates=no_default_updates)
    inputs, ins = unwrap_inputs(inputs)
    outputs = unwrap_outputs(outputs)
    # Values of theano.printing.Print nodes come back as extra outputs, printed after a call.
    return_single = outputs is not None and not isinstance(outputs, (list, tuple))
    shown = [outputs] if return_single else list(outputs or [])
    prints = _print_nodes(inputs, shown, updates, givens)
    if prints:
        outputs = shown + [node.outputs[0] for node in prints]
    spec, inputs, outs, return_list = build_spec(
        inputs, outputs, updates=updates, givens=givens,
        allow_input_downcast=allow_input_downcast, mode=mode, profile=profile, name=name,
        on_unused_input=on_unused_input, no_default_updates=no_default_updates)
    fn = Function(spec, inputs, outs, return_list, allow_input_downcast, ins)
    from tensord.compile.mode import MonitorMode
    if isinstance(mode, MonitorMode):
        from tensord.compile.monitor import Monitor
        # The monitor sees the graph as the server does: sparse matrices as their components.
        fn._monitor = Monitor(mode, flatten(inputs),
                              flatten(list(outs) + [v for _, v in (updates or [])]), givens)
    if prints:
        fn._prints = [node.op for node in prints]
        fn._return_list = not return_single
    fn._recipe = recipe
    return fn


def _print_nodes(inputs, outputs, updates, givens):
    """The theano.printing.Print nodes the outputs (a list), update values and givens' values
    depend on, in order, up to the function's inputs."""
    from tensord.printing import Print
    roots = flatten(outputs + [value for _, value in (updates or []) + (givens or [])])
    roots = [r for r in roots if isinstance(r, Variable)]
    inputs = flatten(inputs) if isinstance(inputs, (list, tuple)) else []
    seen, nodes = set(), []
    for var in io_toposort(roots, stop=[i for i in inputs if isinstance(i, Variable)]):
        node = var.owner
        if node is not None and isinstance(node.op, Print) and id(node) not in seen:
            seen.add(id(node))
            nodes.append(node)
    return nodes


def build_spec(inputs, outputs=None, updates=None, givens=None, allow_input_downcast=None,
               mode=None, profile=None, name="", on_unused_input=None, no_default_updates=False):
    """Checks the arguments of function() and builds the FunctionSpec sent to Compile.

    Returns (spec, inputs, outputs, return_list); needs no server. Sparse inputs and outputs
    stay sparse in the returned lists and go into the spec as their four components each.
    """
    inputs = _check_function_inputs(inputs)
    return_list = outputs is None or isinstance(outputs, (list, tuple))
    outs = [] if outputs is None else list(outputs) if return_list else [outputs]
    for i, out in enumerate(outs):
        if not isinstance(out, (TensorVariable, SparseVariable)):
            raise TypeError("function outputs must be symbolic tensor variables (or sparse "
                            "matrices); output %d is %r" % (i, out))
    wire_inputs, wire_outs = flatten(inputs), flatten(outs)
    update_pairs = _collect_updates(updates)
    given_pairs = _collect_givens(givens)
    update_pairs += _default_updates(wire_inputs, wire_outs, update_pairs, no_default_updates)
    on_unused = on_unused_input if on_unused_input is not None else config.on_unused_input
    _check_inputs_used(inputs, wire_outs + [v for _, v in update_pairs], given_pairs, on_unused)

    roots = list(wire_outs)
    for target, value in update_pairs + given_pairs:
        roots.extend((target, value))
    builder = GraphBuilder(wire_inputs, roots, given_pairs)
    spec = compute_pb2.FunctionSpec(
        allow_input_downcast=bool(allow_input_downcast), mode=_resolve_mode(mode), name=name,
        profile=bool(config.profile if profile is None else profile),
        context=config.chosen_device(), cpu_fallback=bool(config.cpu_fallback),
        keep_intermediates=not config.allow_gc)
    # Theano's profile_memory: the server also records each profiled run's buffers.
    spec.profile_memory = spec.profile and bool(config.profile_memory)
    # A Mode object (NanGuardMode(...), Mode(optimizer=None), mode.excluding(...)) says more
    # than its name: its flags and excluded passes go into the spec too.
    apply_mode(spec, mode if mode is not None else config.mode)
    # Theano's config.optimizer_excluding ('a:b') applies to every function; optimizer=None
    # with mode 'Mode' (the default) means no optimization at all.
    for excluded in config.optimizer_excluding.split(":"):
        if excluded and excluded not in spec.optimizer_excluding:
            spec.optimizer_excluding.append(excluded)
    if (mode if mode is not None else config.mode) == "Mode" and config.optimizer == "None":
        spec.no_optimizer = True
    spec.graph.CopyFrom(builder.graph)
    spec.graph.outputs.extend(builder.id_of(o) for o in wire_outs)
    for target, value in update_pairs:
        spec.updates.add(variable=builder.id_of(target), value=builder.id_of(value))
    for var, value in given_pairs:
        spec.givens.add(variable=builder.id_of(var), value=builder.id_of(value))
    return spec, inputs, outs, return_list


def evaluate(variable, inputs_to_values=None):
    """Theano's Variable.eval for tensors and sparse matrices alike: compiles (once per set of
    inputs, cached on the variable) a function computing `variable`, and runs it."""
    inputs_to_values = inputs_to_values or {}
    cache = variable.__dict__.setdefault("_fn_cache", {})
    inputs = tuple(sorted(inputs_to_values, key=id))
    if inputs not in cache:
        cache[inputs] = function(list(inputs), variable)
    return cache[inputs](*[inputs_to_values[v] for v in inputs])
