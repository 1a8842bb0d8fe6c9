"""theano.scan: builds one `scan` node whose body is fn's step graph, called once here.

Client-side work, as Theano's scan.py does it: sequence taps and go_backwards become slices of
the outer sequences, n_steps is the minimum of the sequences' lengths (and n_steps when given),
a plain initial state gets a leading dim of 1, everything the step needs from outside becomes a
non-sequence, and shared variables updated inside fn become shared outs whose final values are
returned as updates. The server runs the loop (no Python per step).
"""

import logging
from collections import OrderedDict

import numpy as np

from tensord.compile.function import _resolve_mode
from tensord.errors import MissingInputError
from tensord.graph import Variable
from tensord.scan_module.scan_op import Scan, row_type
from tensord.scan_module.scan_utils import (OrderedUpdates, close_body, get_updates_and_outputs,
                                            outer_leaves)

__all__ = ["scan"]

_logger = logging.getLogger("tensord.scan_module.scan")


def _wrap_into_list(x):
    if x is None:
        return []
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _tensor(x):
    from tensord.tensor.basic import as_tensor_variable
    return as_tensor_variable(x)


def _tap_name(name, k):
    if name is None:
        return None
    return name + ("[t+%d]" % k if k > 0 else "[t]" if k == 0 else "[t%d]" % k)


def _check_fn(fn):
    from tensord.compile.runtime import Function
    if isinstance(fn, Function):
        raise TypeError("scan's fn must be a Python function that builds the symbolic graph of one "
                        "step; it got a compiled tensord function, which cannot be called on "
                        "symbolic variables. Pass the Python function itself (it is called once, "
                        "and the graph it builds runs at every step).")
    if not callable(fn):
        raise TypeError("scan's fn must be callable, got %r" % (fn,))


def _n_steps_constant(n_steps):
    """The value of a constant n_steps (int or constant scalar), None when symbolic/absent."""
    from tensord.tensor.var import TensorConstant, TensorVariable
    if n_steps is None:
        return None
    if isinstance(n_steps, TensorVariable):
        if n_steps.ndim != 0 or n_steps.dtype[:3] not in ("int", "uin"):
            raise ValueError(" n_steps must be an int. dtype provided is %s" % n_steps.dtype)
        return int(n_steps.data) if isinstance(n_steps, TensorConstant) else None
    if isinstance(n_steps, (bool, np.bool_)) or not isinstance(
            n_steps, (int, np.integer, float, np.floating)) or int(n_steps) != n_steps:
        raise ValueError(" n_steps must be an int. Got %r" % (n_steps,))
    return int(n_steps)


def _normalize_sequences(sequences):
    seqs = []
    for i, seq in enumerate(_wrap_into_list(sequences)):
        if isinstance(seq, dict):
            if "input" not in seq:
                raise ValueError("sequences[%d] is a dict without an 'input' entry" % i)
            taps = seq.get("taps")
            taps = [0] if taps is None else _wrap_into_list(taps)
            seq = {"input": _tensor(seq["input"]), "taps": [int(k) for k in taps]}
        else:
            seq = {"input": _tensor(seq), "taps": [0]}
        if seq["input"].ndim == 0:
            raise ValueError("sequences[%d] (%s) is a scalar: scan iterates over the first "
                             "dimension of its sequences" % (i, seq["input"]))
        seqs.append(seq)
    return seqs


def _normalize_outputs_info(outputs_info):
    outs = []
    for i, info in enumerate(_wrap_into_list(outputs_info)):
        if info is None:
            outs.append({})
            continue
        if not isinstance(info, dict):
            info = {"initial": info, "taps": [-1]}
        else:
            if info.get("return_steps") is not None:
                raise ValueError("Using `return_steps` has been deprecated. Simply select the "
                                 "entries you need using a subtensor. Scan will optimize memory "
                                 "consumption, so do not worry about that.")
            initial, taps = info.get("initial"), info.get("taps")
            if initial is None and taps is not None:
                raise ValueError("If you are using slices of an output you need to provide a "
                                 "initial state for it", info)
            if initial is None:
                outs.append({})
                continue
            if taps is None:
                if "taps" in info:
                    _logger.warning("Output %s ( index %d) has a initial state but taps is "
                                    "explicitly set to None ", getattr(initial, "name", None), i)
                taps = [-1]
            info = {"initial": initial, "taps": [int(k) for k in _wrap_into_list(taps)]}
        if any(k >= 0 for k in info["taps"]):
            raise ValueError("Can not use future taps of outputs", info)
        info["initial"] = _tensor(info["initial"])
        outs.append(info)
    return outs


def _sequence_slices(seqs, go_backwards):
    """(outer sliced sequences, inner placeholders): one per tap, as Theano cuts them."""
    outer, inner = [], []
    for seq in seqs:
        x, taps = seq["input"], seq["taps"]
        if not taps:
            continue
        # Pretend tap 0 is used, so that taps all below (or above) 0 do not over-cut.
        maxtap, mintap = max(max(taps), 0), min(min(taps), 0)
        for k in taps:
            start = k - mintap
            if k == maxtap:
                nw_seq = x[start:] if start else x  # x[0:] would only be a copy of the view
            else:
                nw_seq = x[start:-(maxtap - k)]
            if go_backwards:
                nw_seq = nw_seq[::-1]
            outer.append(nw_seq)
            inner.append(row_type(x.type)(name=_tap_name(x.name, k)))
    return outer, inner


def _recurrent_states(outs_info):
    """For the outputs fed back: their positions in outputs_info, initial buffers (a leading dim
    of 1 added to a plain state), taps, and one inner placeholder per tap in fn's order."""
    positions, buffers, taps, placeholders = [], [], [], []
    for i, info in enumerate(outs_info):
        if "taps" not in info:
            continue
        init = info["initial"]
        if info["taps"] == [-1]:
            buffer = init.dimshuffle(["x"] + list(range(init.ndim)))
        elif init.ndim == 0:
            raise ValueError("outputs_info[%d] uses taps %s: its initial state needs a leading "
                             "dimension of at least %d rows, got the scalar %s"
                             % (i, info["taps"], -min(info["taps"]), init))
        else:
            buffer = init
        positions.append(i)
        buffers.append(buffer)
        taps.append(info["taps"])
        placeholders.extend(row_type(buffer.type)(name=_tap_name(init.name, k))
                            for k in info["taps"])
    return positions, buffers, taps, placeholders


def _check_state(i, state, initial, out, name):
    """A recurrent output must keep its state's dtype and ndim (the body feeds it back)."""
    label = "scan '%s'" % (name or "scan_fn")
    if state.dtype != out.dtype:
        raise ValueError(
            "%s: outputs_info[%d] has dtype %s but the step function returns %s for it. When "
            "compiling the inner function of scan the following error has been encountered: The "
            "initial state (`outputs_info` in scan nomenclature) of variable %s (argument number "
            "%d) has dtype %s, while the result of the inner function (`fn`) has dtype %s. This "
            "can happen if the inner function of scan results in an upcast or downcast."
            % (label, i, state.dtype, out.dtype, initial, i, state.dtype, out.dtype))
    if state.ndim != out.ndim:
        raise ValueError(
            "%s: outputs_info[%d] has %d dimension(s) per step but the step function returns %d "
            "dimension(s) for it. The initial state (`outputs_info` in scan nomenclature) of "
            "variable %s must have the shape of one step of the output (plus a leading time "
            "dimension when taps other than [-1] are used)." % (label, i, state.ndim, out.ndim,
                                                               initial))


def _shared_outs(updates, body_results, non_seqs):
    """shared variable -> its value after a step, for the shared variables fn updated and those
    the step reads that carry a default_update (random streams' state), as Theano collects them.
    The explicit non_sequences cut the walk: their values are computed once, outside the loop
    (a dropout mask drawn outside and passed in stays the same at every step)."""
    from tensord.sharedvar import SharedVariable
    from tensord.tensor.var import TensorConstant
    pairs = OrderedDict()
    for var, value in updates.items():
        if not isinstance(var, SharedVariable):
            raise TypeError("scan: fn's updates must have shared variables as keys, got %r"
                            % (var,))
        if not isinstance(value, Variable):
            value = TensorConstant(var.type, var.type.filter(value))
        pairs[var] = value
    while True:  # a default_update may read further shared variables with their own
        found = [v for v in outer_leaves(body_results + list(pairs.values()), stop=non_seqs)
                 if isinstance(v, SharedVariable) and v not in pairs
                 and getattr(v, "default_update", None) is not None]
        if not found:
            break
        for v in found:
            pairs[v] = v.default_update
    for var, value in pairs.items():
        if value.type.dtype != var.type.dtype or value.type.ndim != var.type.ndim:
            raise TypeError("scan: the update of shared variable %s inside fn has type %s but "
                            "the variable is %s (same dtype and ndim needed)"
                            % (var, value.type, var.type))
        # The final value takes the variable's type: a dim it declares broadcastable must be
        # broadcastable in the update too (as Theano's function() requires; the server agrees).
        if any(vb and not ub for vb, ub in zip(var.type.broadcastable,
                                               value.type.broadcastable)):
            raise TypeError("An update must have the same type as the original shared variable "
                            "(shared_var=%s, shared_var.type=%s, update_val=%s, "
                            "update_val.type=%s): the update inside scan's fn is not "
                            "broadcastable where the variable is." % (var, var.type, value,
                                                                       value.type))
    return pairs


def scan(fn, sequences=None, outputs_info=None, non_sequences=None, n_steps=None,
         truncate_gradient=-1, go_backwards=False, mode=None, name=None, profile=False,
         allow_gc=None, strict=False, return_list=False):
    """Theano's scan: runs fn over the sequences' first dimension for n_steps steps.

    fn gets, in order: every tap of every sequence, every tap of every recurrent output, then
    the non_sequences. It returns outputs (one per outputs_info entry), optionally updates and
    an `until` condition. Returns (outputs, updates): outputs stacked over the steps (a variable,
    or a list when there are several or return_list), updates for the shared variables fn
    updated (pass them to function)."""
    from tensord.tensor.basic import constant
    from tensord.tensor.elemwise import minimum
    from tensord.tensor.var import TensorConstant, TensorVariable
    _check_fn(fn)
    seqs = _normalize_sequences(sequences)
    outs_info = _normalize_outputs_info(outputs_info)
    non_seqs = [v if isinstance(v, Variable) else _tensor(v)
                for v in _wrap_into_list(non_sequences)]
    n_fixed = _n_steps_constant(n_steps)
    if n_fixed is not None and n_fixed < 0:
        raise ValueError("scan: n_steps is %d; it must be >= 0 (use go_backwards=True to run "
                         "backwards)" % n_fixed)

    scan_seqs, inner_seqs = _sequence_slices(seqs, go_backwards)
    # The engine takes n_steps as given: the shortest sequence (and n_steps) decides here.
    lengths = [s.shape[0] for s in scan_seqs]
    if n_steps is not None:
        lengths.append(n_steps if isinstance(n_steps, TensorVariable)
                       else constant(np.asarray(n_fixed, dtype="int64")))
    if not lengths:
        raise ValueError(" No information about the number of steps provided. Either provide a "
                         "value for n_steps argument of scan or provide an input sequence")
    actual_n_steps = lengths[0]
    for other in lengths[1:]:
        actual_n_steps = minimum(actual_n_steps, other)
    scan_seqs = [s[:actual_n_steps] for s in scan_seqs]

    rec_positions, inits, taps, inner_taps = _recurrent_states(outs_info)

    from tensord import test_value
    with test_value.suspended():  # the step's variables have no test values
        condition, outputs, updates = get_updates_and_outputs(
            fn(*(inner_seqs + inner_taps + non_seqs)))
    outputs = [o if isinstance(o, TensorVariable) else _tensor(o) for o in outputs]
    if outs_info and len(outputs) != len(outs_info):
        raise ValueError("Please provide None as outputs_info for any output that does not feed "
                         "back into scan (i.e. it behaves like a map) ")
    if not outs_info:
        outs_info = [{} for _ in outputs]
    for pos, i in enumerate(rec_positions):
        _check_state(i, row_type(inits[pos].type), outs_info[i]["initial"], outputs[i], name)
    nit_positions = [i for i, info in enumerate(outs_info) if "taps" not in info]

    step_outputs = [outputs[i] for i in rec_positions + nit_positions]
    stop_condition = [condition] if condition is not None else []
    update_pairs = _shared_outs(updates, step_outputs + stop_condition, non_seqs)
    shared_outer = list(update_pairs)
    shared_inner = [v.type(name=(v.name + "_copy") if v.name else None) for v in shared_outer]

    step_results = step_outputs + [update_pairs[v] for v in shared_outer] + stop_condition
    step_inputs = [(v, v) for v in inner_seqs + inner_taps] + list(zip(shared_outer,
                                                                       shared_inner))
    passed = [v for v in non_seqs if not isinstance(v, TensorConstant) and v not in update_pairs]
    inner_outputs, outer_non_seqs, inner_non_seqs = close_body(step_inputs, step_results, passed)
    if strict:
        allowed = {id(v) for v in non_seqs + [s["input"] for s in seqs]
                   + [o["initial"] for o in outs_info if "initial" in o] + shared_outer}
        for v in outer_leaves(outer_non_seqs):
            if id(v) not in allowed:
                raise MissingInputError("ScanOp is missing an input: %s. With strict=True, every "
                                        "variable fn uses must be passed in sequences or "
                                        "non_sequences." % (v,))

    op = Scan(inner_seqs + inner_taps + shared_inner + inner_non_seqs, inner_outputs,
              n_seqs=len(scan_seqs), taps=taps, n_nit_sot=len(nit_positions),
              n_shared_outs=len(shared_outer), truncate_gradient=truncate_gradient,
              as_while=condition is not None, name=name,
              mode=None if mode is None else _resolve_mode(mode))
    node = op.make_node(actual_n_steps, *(scan_seqs + inits + shared_outer + outer_non_seqs))
    results = node.outputs
    scan_out_list = [None] * len(outs_info)
    for k, i in enumerate(rec_positions + nit_positions):
        scan_out_list[i] = results[k]
    update_map = OrderedUpdates()
    for k, var in enumerate(shared_outer):
        update_map[var] = results[len(rec_positions) + len(nit_positions) + k]
    if len(scan_out_list) == 1 and not return_list:
        return scan_out_list[0], update_map
    if not scan_out_list:
        return None, update_map
    return scan_out_list, update_map
