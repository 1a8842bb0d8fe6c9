"""theano.gradient on a tensord server: grad (computed by the server's Differentiate RPC and
merged into the client graph), Lop/Rop, jacobian/hessian (scans of grad, as Theano builds
them), the gradient-steering ops, and verify_grad.
"""

import warnings

import numpy as np

from tensord import _dtypes
from tensord._proto import compute_pb2
from tensord.config import config
from tensord.connection import get_client
from tensord.deserialize import extend_graph
from tensord.graph import Apply, Op, Variable
from tensord.serialize import GraphBuilder

__all__ = ["grad", "Lop", "Rop", "DisconnectedType", "disconnected_grad", "zero_grad",
           "grad_clip", "verify_grad", "numeric_grad", "GradientError",
           "DisconnectedInputError", "jacobian", "hessian"]

_ON_DISCONNECTED = ("raise", "warn", "ignore")
_RETURN_DISCONNECTED = ("zero", "None", "Disconnected")


class DisconnectedInputError(ValueError):
    """A wrt variable the cost does not depend on, with disconnected_inputs='raise'."""


class DisconnectedType:
    """The type of Theano's 'disconnected' gradient (return_disconnected='Disconnected')."""

    def __call__(self, name=None):
        return Variable(self, name=name)

    def __eq__(self, other):
        return type(self) is type(other)

    def __hash__(self):
        return hash(DisconnectedType)

    def __str__(self):
        return "DisconnectedType"


def _as_list(value):
    return (list(value), True) if isinstance(value, (list, tuple)) else ([value], False)


def _check_variables(values, what):
    for v in values:
        if not isinstance(v, Variable):
            raise TypeError("%s must be symbolic variables, got %r of type %s"
                            % (what, v, type(v).__name__))


def grad(cost, wrt, consider_constant=None, disconnected_inputs="raise", add_names=True,
         known_grads=None, return_disconnected="zero", null_gradients="raise"):
    """d cost / d wrt, as theano.grad: `cost` a scalar (or None with known_grads), `wrt` a
    variable or a list of them (the result has the same form). Gradients keep wrt's dtype and
    broadcastable pattern; integer variables get float zeros."""
    from tensord.tensor.basic import as_tensor_variable
    if cost is None and not known_grads:
        raise AssertionError("cost and known_grads can't both be None.")
    if cost is not None:
        if _is_sparse(cost):
            raise TypeError("cost must be a scalar (0-d), got the sparse matrix %s; reduce it "
                            "first (tensord.sparse.sp_sum)" % (cost,))
        _check_variables([cost], "cost")
        if getattr(cost, "ndim", None) != 0:
            raise TypeError("cost must be a scalar (0-d), got %s; take sum() or mean() first"
                            % (cost.type,))
    if disconnected_inputs not in _ON_DISCONNECTED:
        raise ValueError("disconnected_inputs must be one of %s, got %r"
                         % (_ON_DISCONNECTED, disconnected_inputs))
    if return_disconnected not in _RETURN_DISCONNECTED:
        raise ValueError("return_disconnected must be one of %s, got %r"
                         % (_RETURN_DISCONNECTED, return_disconnected))
    wrt_list, was_list = _as_list(wrt)
    # A sparse matrix's gradient is structured: the gradient of its data, on its pattern.
    sparse_wrt = {i: w for i, w in enumerate(wrt_list) if _is_sparse(w)}
    wrt_list = [w.components[0] if i in sparse_wrt else w for i, w in enumerate(wrt_list)]
    _check_variables(wrt_list, "the wrt arguments of grad")
    constants = [part for c in (consider_constant or ())
                 for part in (c.components if _is_sparse(c) else [c])]
    _check_variables(constants, "consider_constant entries")
    known = []
    for var, g in (known_grads or {}).items():
        if _is_sparse(var) or _is_sparse(g):
            raise NotImplementedError("known_grads with sparse matrices is not supported; give "
                                      "the gradient of the data component (csm_data) instead")
        _check_variables([var], "known_grads keys")
        known.append((var, as_tensor_variable(g)))

    roots = ([cost] if cost is not None else []) + wrt_list + constants
    roots += [v for pair in known for v in pair]
    builder = GraphBuilder((), roots)
    # 'raise' is asked of the server as 'warn' so that the client can raise Theano's
    # DisconnectedInputError (a ValueError) with the server's message.
    request = compute_pb2.DifferentiateRequest(
        graph=builder.graph, wrt=[builder.id_of(w) for w in wrt_list],
        consider_constant=[builder.id_of(c) for c in constants],
        disconnected_inputs="warn" if disconnected_inputs == "raise" else disconnected_inputs,
        return_disconnected=return_disconnected,
        float_dtype=_dtypes.to_proto(config.floatX))
    if cost is not None:
        request.cost = builder.id_of(cost)
    for var, g in known:
        request.known_grads.add(variable=builder.id_of(var), gradient=builder.id_of(g))
    client = get_client()
    request.session_id = client.session_id
    response = client.call("Differentiate", request)
    if disconnected_inputs == "raise" and response.warnings:
        raise DisconnectedInputError(response.warnings[0] + " (disconnected_inputs='raise'; "
                                     "pass 'warn' or 'ignore' to allow it)")
    for message in response.warnings:
        warnings.warn(message, stacklevel=2)

    by_id = builder.variables_by_id()
    extend_graph(response.graph, by_id)
    result = []
    for w, gid in zip(wrt_list, response.gradients):
        if gid < 0:
            result.append(None if return_disconnected == "None" else DisconnectedType()())
            continue
        g = by_id[gid]
        if add_names and cost is not None and cost.name and w.name and g.owner is not None:
            g.name = "(d%s/d%s)" % (cost.name, w.name)
        result.append(g)
    for i, w in sparse_wrt.items():
        if result[i] is not None and not isinstance(result[i].type, DisconnectedType):
            from tensord.sparse.construct import _make
            result[i] = _make(w.format, result[i], *w.components[1:])
    return result if was_list else result[0]


def _is_sparse(x):
    from tensord.sparse.variable import is_sparse_variable
    return is_sparse_variable(x)


def Lop(f, wrt, eval_points, consider_constant=None, disconnected_inputs="raise"):
    """Vector-Jacobian products: sum_i eval_points[i] * d f[i] / d wrt."""
    from tensord.tensor.basic import as_tensor_variable
    f_list, _ = _as_list(f)
    points, _ = _as_list(eval_points)
    if len(f_list) != len(points):
        raise ValueError("Lop: %d expressions but %d eval_points" % (len(f_list), len(points)))
    known = {}
    for fi, p in zip(f_list, points):
        p = as_tensor_variable(p)
        if p.ndim != fi.ndim:
            raise ValueError("Lop: eval_point %s has %d dims but its expression has %d"
                             % (p, p.ndim, fi.ndim))
        known[fi] = p
    return grad(None, wrt, consider_constant=consider_constant,
                disconnected_inputs=disconnected_inputs, known_grads=known)


def Rop(f, wrt, eval_points, disconnected_outputs="raise", return_disconnected="zero"):
    """Jacobian-vector products: sum_j d f / d wrt[j] * eval_points[j].

    Built from two reverse passes (the transpose trick): u -> Lop(f, wrt, u) is linear, and
    its gradient with respect to u, dotted with the eval points, is the R-operator. u is
    zeros_like(f): any value works because the result does not depend on it."""
    from tensord.tensor.basic import as_tensor_variable, sum as tsum, zeros_like
    f_list, f_was_list = _as_list(f)
    wrt_list, _ = _as_list(wrt)
    points, _ = _as_list(eval_points)
    if len(wrt_list) != len(points):
        raise ValueError("Rop: %d wrt variables but %d eval_points"
                         % (len(wrt_list), len(points)))
    points = [as_tensor_variable(p) for p in points]
    for w, p in zip(wrt_list, points):
        if w.ndim != p.ndim:
            raise ValueError("Rop: eval_point %s has %d dims but wrt %s has %d"
                             % (p, p.ndim, w, w.ndim))
    us = [zeros_like(fi) for fi in f_list]
    transposed = Lop(f_list, wrt_list, us, disconnected_inputs="ignore")
    total = None
    for t, p in zip(transposed, points):
        term = tsum(t * p)
        total = term if total is None else total + term
    result = grad(total, us, disconnected_inputs="ignore" if disconnected_outputs != "raise"
                  else "raise", return_disconnected=return_disconnected)
    return result if f_was_list else result[0]


class _GradientOp(Op):
    """Identity in the forward pass; changes only how gradients flow (see the server op)."""

    def __init__(self, wire_name, theano_name):
        self.wire_name = wire_name
        self.theano_name = theano_name

    def make_node(self, x, *bounds):
        return Apply(self, [x] + list(bounds), [x.type()])

    def __str__(self):
        return self.theano_name


def disconnected_grad(x):
    """x, through which no gradient flows: x counts as disconnected from what it depends on."""
    from tensord.tensor.basic import as_tensor_variable
    return _GradientOp("disconnected_grad", "DisconnectedGrad")(as_tensor_variable(x))


def zero_grad(x):
    """x, whose gradient is zero."""
    from tensord.tensor.basic import as_tensor_variable
    return _GradientOp("zero_grad", "ZeroGrad")(as_tensor_variable(x))


def grad_clip(x, lower_bound, upper_bound):
    """x, whose gradient is clipped to [lower_bound, upper_bound] on the way back."""
    from tensord.tensor.basic import as_tensor_variable
    from tensord.tensor.ops import constant_value
    x = as_tensor_variable(x)
    lo, hi = as_tensor_variable(lower_bound), as_tensor_variable(upper_bound)
    if lo.ndim != 0 or hi.ndim != 0:
        raise TypeError("grad_clip bounds must be scalars, got %s and %s" % (lo.type, hi.type))
    lo_v, hi_v = constant_value(lo), constant_value(hi)
    if lo_v is not None and hi_v is not None and lo_v > hi_v:
        raise ValueError("grad_clip: lower_bound %s is above upper_bound %s" % (lo_v, hi_v))
    return _GradientOp("grad_clip", "GradClip")(x, lo, hi)


def _format_as(use_list, use_tuple, outputs):
    """Theano's format_as: a list, a tuple or a single value, as the wrt argument was."""
    if use_list:
        return list(outputs)
    if use_tuple:
        return tuple(outputs)
    return outputs[0]


def jacobian(expression, wrt, consider_constant=None, disconnected_inputs="raise"):
    """d expression[i] / d wrt for a vector (or scalar) expression, as Theano builds it: a scan
    over arange(expression.shape[0]) whose step takes the gradient of one element. Returns one
    Jacobian per wrt (shape expression.shape + wrt.shape), in the form wrt was given."""
    from tensord.scan_module import scan
    from tensord.tensor.shape_ops import arange
    if not isinstance(expression, Variable):
        raise TypeError("tensor.jacobian expects a Variable as `expression`")
    if expression.ndim >= 2:
        raise ValueError("tensor.jacobian expects a 1 dimensional variable as `expression`. If "
                         "not use flatten to make it a vector")
    use_list, use_tuple = isinstance(wrt, list), isinstance(wrt, tuple)
    wrt = list(wrt) if isinstance(wrt, (list, tuple)) else [wrt]
    if expression.ndim == 0:
        return _format_as(use_list, use_tuple,
                          [grad(expression, w, consider_constant=consider_constant,
                                disconnected_inputs=disconnected_inputs) for w in wrt])

    def inner_function(idx, expr, *inputs):
        return [grad(expr[idx], inp, consider_constant=consider_constant,
                     disconnected_inputs=disconnected_inputs) for inp in inputs]

    jacobs, updates = scan(inner_function, sequences=arange(expression.shape[0]),
                           non_sequences=[expression] + wrt, return_list=True)
    assert not updates, "scan returned updates for a Jacobian"
    return _format_as(use_list, use_tuple, jacobs)


def hessian(cost, wrt, consider_constant=None, disconnected_inputs="raise"):
    """The Hessian of a scalar cost with respect to each vector in wrt, as Theano builds it: the
    Jacobian (a scan) of grad(cost, x)."""
    from tensord.scan_module import scan
    from tensord.tensor.shape_ops import arange
    if not isinstance(cost, Variable):
        raise TypeError("tensor.hessian expects a Variable as `cost`")
    if cost.ndim != 0:
        raise ValueError("tensor.hessian expects a 0 dimensional variable as `cost`")
    use_list, use_tuple = isinstance(wrt, list), isinstance(wrt, tuple)
    wrt = list(wrt) if isinstance(wrt, (list, tuple)) else [wrt]
    hessians = []
    for inp in wrt:
        if not isinstance(inp, Variable) or inp.ndim != 1:
            raise ValueError("tensor.hessian expects a (list of) 1 dimensional variable as "
                             "`wrt`, got %r" % (inp,))
        expr = grad(cost, inp, consider_constant=consider_constant,
                    disconnected_inputs=disconnected_inputs)
        # The inputs may be disconnected from expr even when connected to cost: not an error.
        hess, updates = scan(lambda i, y, x: grad(y[i], x, consider_constant=consider_constant,
                                                   disconnected_inputs="ignore"),
                             sequences=arange(expr.shape[0]), non_sequences=[expr, inp])
        assert not updates, "scan returned updates for a Hessian"
        hessians.append(hess)
    return _format_as(use_list, use_tuple, hessians)


from tensord.verify_grad import GradientError, numeric_grad, verify_grad  # noqa: E402
