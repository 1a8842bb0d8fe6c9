"""User-facing tensor functions (T.add, T.sum, T.reshape ...), with Theano's signatures."""

import builtins
import sys

import numpy as np

from tensord import _dtypes
from tensord.graph import Variable
from tensord.tensor import ops
from tensord.tensor.type import TensorType
from tensord.tensor.var import AsTensorError, TensorConstant, TensorVariable

__all__ = ["as_tensor_variable", "as_tensor", "constant", "add", "sub", "mul", "true_div",
           "truediv", "neg", "exp", "log", "pow", "dot", "sum", "max", "reshape", "dimshuffle",
           "transpose", "cast", "fill", "second", "alloc", "zeros", "ones", "zeros_like",
           "ones_like"]


def constant(x, name=None, ndim=None, dtype=None):
    """A TensorConstant; Python scalars get Theano's dtypes (int -> smallest int, float -> floatX).

    Dims of size 1 are broadcastable, as in Theano.
    """
    if isinstance(x, Variable):
        raise TypeError("constant() expects data, got the variable %s" % x)
    try:
        data = _dtypes.convert(x, dtype)
    except (TypeError, ValueError) as exc:
        raise AsTensorError("Cannot convert %r to a tensor constant: %s" % (x, exc)) from None
    if data.dtype == object or data.dtype.kind in "USVOMmc":
        raise AsTensorError("Cannot convert %r (dtype %s) to a tensor constant" % (x, data.dtype))
    if ndim is not None and data.ndim != ndim:
        if data.ndim > ndim:
            squeezable = data.shape[:data.ndim - ndim]
            if any(s != 1 for s in squeezable):
                raise ValueError("ndarray could not be cast to constant with %d dimensions" % ndim)
            data = data.reshape(data.shape[data.ndim - ndim:])
        else:
            data = data.reshape((1,) * (ndim - data.ndim) + data.shape)
    data = np.array(data, copy=True)
    ttype = TensorType(data.dtype, [d == 1 for d in data.shape])
    return TensorConstant(ttype, data, name=name)


def as_tensor_variable(x, name=None, ndim=None):
    """Variables pass through; data becomes a constant."""
    if isinstance(x, TensorVariable):
        if ndim is not None and x.ndim != ndim:
            if x.ndim > ndim and all(x.broadcastable[:x.ndim - ndim]):
                return dimshuffle(x, list(range(x.ndim - ndim, x.ndim)))
            if x.ndim < ndim:
                return dimshuffle(x, ["x"] * (ndim - x.ndim) + list(range(x.ndim)))
            raise ValueError("TensorType could not be cast to have %d dimensions" % ndim, x.type)
        return x
    if isinstance(x, Variable):
        raise AsTensorError("Cannot convert %s (of type %s) to a tensor variable" % (x, x.type))
    if _is_sparse(x):
        raise AsTensorError("%s is a sparse matrix, not a tensor: use tensord.sparse's "
                            "functions, or a dense copy (tensord.sparse.dense_from_sparse)" % (x,))
    if isinstance(x, (list, tuple)) and any(isinstance(e, Variable) for e in _flatten(x)):
        from tensord.tensor.shape_ops import stack  # as Theano: such a list is stacked
        try:
            return stack(list(x))
        except (TypeError, ValueError) as exc:
            raise AsTensorError("Cannot build a tensor from %r: %s" % (x, exc)) from None
    return constant(x, name=name, ndim=ndim)


as_tensor = as_tensor_variable


def _flatten(seq):
    for e in seq:
        if isinstance(e, (list, tuple)):
            yield from _flatten(e)
        else:
            yield e


def _elemwise(op, *xs):
    return op(*[as_tensor_variable(x) for x in xs])


def add(*xs):
    """Sum of any number of tensors (NumPy broadcasting)."""
    if len(xs) == 1:
        return as_tensor_variable(xs[0])
    return _elemwise(ops.add, *xs)


def mul(*xs):
    """Product of any number of tensors (NumPy broadcasting)."""
    if len(xs) == 1:
        return as_tensor_variable(xs[0])
    return _elemwise(ops.mul, *xs)


def sub(a, b):
    return _elemwise(ops.sub, a, b)


def true_div(a, b):
    return _elemwise(ops.true_div, a, b)


truediv = true_div


def neg(a):
    return _elemwise(ops.neg, a)


def exp(a):
    return _elemwise(ops.exp, a)


def log(a):
    return _elemwise(ops.log, a)


def pow(a, b):  # noqa: A001 - Theano's name
    return _elemwise(ops.pow_, a, b)


def fill(model, value):
    """`value` broadcast to the shape of `model` (Theano's fill / second); value's dtype."""
    return _elemwise(ops.fill, model, value)


second = fill


def cast(x, dtype):
    """x converted to `dtype` ('floatX' allowed); returns x itself when it already has it."""
    x = as_tensor_variable(x)
    dtype = _dtypes.normalize(dtype)
    if x.dtype == dtype:
        return x
    return ops.Cast(dtype)(x)


def _is_sparse(x):
    """A symbolic sparse matrix (tensord.sparse), or a scipy sparse matrix: checked without
    importing either."""
    sparse_variable = sys.modules.get("tensord.sparse.variable")
    if sparse_variable is not None and isinstance(x, sparse_variable.SparseVariable):
        return True
    scipy_sparse = sys.modules.get("scipy.sparse")
    return scipy_sparse is not None and bool(scipy_sparse.issparse(x))


def dot(a, b):
    """Theano's dot: a scalar operand makes it an elementwise product; ranks 1 and 2 otherwise.
    With a sparse operand it is tensord.sparse.dot (a dense result)."""
    if _is_sparse(a) or _is_sparse(b):
        from tensord.sparse import dot as sparse_dot
        return sparse_dot(a, b)
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if a.ndim == 0 or b.ndim == 0:
        return mul(a, b)
    return ops.dot(a, b)


def _keepdims(out, x, axis):
    axes = range(x.ndim) if axis is None else axis
    order, j = [], 0
    for i in range(x.ndim):
        if i in axes:
            order.append("x")
        else:
            order.append(j)
            j += 1
    return dimshuffle(out, order)


def sum(x, axis=None, dtype=None, keepdims=False, acc_dtype=None):  # noqa: A001
    """Sum over `axis` (None: all). Small ints widen to int64/uint64 unless `dtype` is given."""
    x = as_tensor_variable(x)
    axis = ops.normalize_axis(axis, x.ndim)
    out = ops.Reduce("sum", axis, dtype)(x)
    return _keepdims(out, x, axis) if keepdims else out


def max(x, axis=None, keepdims=False):  # noqa: A001
    """Maximum over `axis` (None: all); keeps the dtype."""
    x = as_tensor_variable(x)
    axis = ops.normalize_axis(axis, x.ndim)
    out = ops.Reduce("max", axis)(x)
    return _keepdims(out, x, axis) if keepdims else out


def dimshuffle(x, pattern):
    x = as_tensor_variable(x)
    return ops.DimShuffle(x.broadcastable, pattern)(x)


def transpose(x, axes=None):
    """Reverses the dims (or permutes them by `axes`)."""
    x = as_tensor_variable(x)
    if axes is None:
        axes = list(builtins.reversed(range(x.ndim)))
    return dimshuffle(x, list(axes))


def reshape(x, newshape, ndim=None):
    """x with a new shape: a tuple of ints (one may be -1) or an integer vector variable."""
    x = as_tensor_variable(x)
    if isinstance(newshape, (int, np.integer)):
        newshape = (newshape,)
    if isinstance(newshape, TensorVariable):
        from tensord.tensor import shape_ops
        if newshape.ndim == 0:
            newshape = shape_ops.shape_vector([newshape])
        shape = newshape
        if ndim is None and shape_ops.vector_entries(shape) is not None:
            ndim = len(shape_ops.vector_entries(shape))
        if ndim is None:
            if not isinstance(shape, TensorConstant):
                raise ValueError("The length of the provided shape (%s) cannot be automatically "
                                 "determined, so Theano is not able to know what the number of "
                                 "dimensions of the reshaped variable will be. You can provide "
                                 "the 'ndim' keyword argument to 'reshape' to avoid this problem."
                                 % newshape)
            ndim = shape.data.shape[0]
    else:
        entries = list(newshape)
        if any(isinstance(e, Variable) for e in entries):
            from tensord.tensor import shape_ops
            return ops.Reshape(len(entries) if ndim is None else ndim)(
                x, shape_ops.shape_vector(entries))
        if builtins.sum(1 for e in entries if int(e) == -1) > 1:
            raise ValueError("reshape: at most one dimension can be -1, got %s" % (entries,))
        if any(int(e) < -1 for e in entries):
            raise ValueError("reshape: negative dimension in %s" % (entries,))
        shape = constant(np.asarray([int(e) for e in entries], dtype="int64").reshape(-1))
        if ndim is None:
            ndim = len(entries)
    if shape.dtype != "int64" and isinstance(shape, TensorVariable):
        shape = cast(shape, "int64")
    return ops.Reshape(ndim)(x, shape)


def _dim(d):
    if isinstance(d, Variable):
        return as_tensor_variable(d)
    if not isinstance(d, (int, np.integer)) or isinstance(d, bool):
        raise TypeError("shape entries must be integers or integer scalar variables, got %r"
                        % (d,))
    return constant(np.asarray(int(d), dtype="int64"))


def alloc(value, *shape):
    """`value` broadcast to `shape` (each entry an int or an integer scalar variable)."""
    value = as_tensor_variable(value)
    return ops.alloc(value, *[_dim(d) for d in shape])


def _shape_list(shape):
    if isinstance(shape, TensorVariable) and shape.ndim == 1:
        from tensord.tensor import shape_ops
        entries = shape_ops.vector_entries(shape)
        if entries is None:
            raise ValueError("the length of the shape vector %s cannot be determined; pass a "
                             "tuple of scalars" % (shape,))
        return entries
    if isinstance(shape, (list, tuple)):
        return list(shape)
    return [shape]


def zeros(shape, dtype=None):
    """A tensor of zeros of the given shape; dtype defaults to floatX."""
    dtype = _dtypes.normalize(dtype or "floatX")
    return alloc(np.array(0, dtype=dtype), *_shape_list(shape))


def ones(shape, dtype=None):
    """A tensor of ones of the given shape; dtype defaults to floatX."""
    dtype = _dtypes.normalize(dtype or "floatX")
    return alloc(np.array(1, dtype=dtype), *_shape_list(shape))


def zeros_like(model, dtype=None):
    model = as_tensor_variable(model)
    return fill(model, constant(0.0, dtype=dtype or model.dtype))


def ones_like(model, dtype=None):
    model = as_tensor_variable(model)
    return fill(model, constant(1.0, dtype=dtype or model.dtype))
