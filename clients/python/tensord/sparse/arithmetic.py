"""Theano's sparse arithmetic: add, sub, mul, neg, the scalings and sums.

sparse + sparse and sparse * sparse are sparse (the union or intersection of the patterns,
stored zeros dropped as scipy drops them); sparse + dense is dense; sparse * dense is sparse
with the sparse operand's pattern (the dense one may broadcast).
"""

import numpy as np

from tensord.sparse.construct import _make, remove0
from tensord.sparse.variable import (SparseVariable, as_sparse_or_tensor_variable,
                                     as_sparse_variable)
from tensord.sparse.wire_ops import (DenseFromSparse, SparseDenseDot, SparseGather,
                                     SparseSameShape, SparseUnion, SparseValuesAt)
from tensord.tensor import basic
from tensord.tensor.type import TensorType
from tensord.tensor.var import TensorConstant

__all__ = ["neg", "add", "sub", "mul", "structured_add_s_v", "mul_s_v", "row_scale",
           "col_scale", "sp_sum", "sp_ones_like", "sp_zeros_like", "add_s_s", "add_s_d",
           "mul_s_s", "mul_s_d"]


def _same_format(x, y, what):
    if x.format != y.format:
        raise NotImplementedError(
            "%s of a %s and a %s matrix is not supported (as in Theano); convert one with "
            "tensord.sparse.csr_from_csc or csc_from_csr" % (what, x.format, y.format))


def _with_data(x, data):
    return _make(x.format, data, *x.components[1:])


def neg(x):
    """-x: a sparse matrix with its data negated; a dense operand is negated as a tensor."""
    x = as_sparse_or_tensor_variable(x)
    if isinstance(x, SparseVariable):
        return _with_data(x, -x.components[0])
    return -x


def add_s_s(x, y):
    _same_format(x, y, "add")
    fmt, shape = x.format, SparseSameShape()(x.components[3], y.components[3])
    indices, indptr = SparseUnion(fmt)(x.components[1], x.components[2], y.components[1],
                                       y.components[2], shape)
    at = SparseValuesAt(fmt)
    total = (at(x.components[0], x.components[1], x.components[2], indices, indptr, shape)
             + at(y.components[0], y.components[1], y.components[2], indices, indptr, shape))
    return remove0(_make(fmt, total, indices, indptr, shape))


def add_s_d(x, y):
    return DenseFromSparse(x.format)(*x.components) + y


def add(x, y):
    """x + y: sparse + sparse is sparse (the union of the patterns, zeros dropped); with a
    dense operand the result is dense."""
    x, y = as_sparse_or_tensor_variable(x), as_sparse_or_tensor_variable(y)
    x_sparse, y_sparse = isinstance(x, SparseVariable), isinstance(y, SparseVariable)
    if x_sparse and y_sparse:
        return add_s_s(x, y)
    if x_sparse:
        return add_s_d(x, y)
    if y_sparse:
        return add_s_d(y, x)
    raise TypeError("tensord.sparse.add needs a sparse operand, got %s and %s" % (x, y))


def sub(x, y):
    """x - y, as x + (-y)."""
    return add(x, neg(y))


def mul_s_s(x, y):
    _same_format(x, y, "mul")
    data, indices, indptr, _ = x.components
    shape = SparseSameShape()(x.components[3], y.components[3])
    y_here = SparseValuesAt(x.format)(y.components[0], y.components[1], y.components[2],
                                      indices, indptr, shape)
    return remove0(_make(x.format, data * y_here, indices, indptr, shape))


def _gathered(x, y):
    """The entries of dense y (a scalar, a row-broadcast vector or a matrix, broadcastable
    dims allowed) at x's stored positions."""
    y = basic.as_tensor_variable(y)
    if y.ndim == 0:
        return y
    if y.ndim == 1:
        y = y.dimshuffle("x", 0)
    if y.ndim != 2:
        raise TypeError("a sparse matrix multiplies a scalar, a vector or a matrix, got %s"
                        % (y.type,))
    return SparseGather(x.format)(y, *x.components[1:])


def mul_s_d(x, y):
    return _with_data(x, x.components[0] * _gathered(x, y))


def mul(x, y):
    """x * y elementwise: sparse * sparse is sparse (the intersection, zeros dropped); sparse *
    dense is sparse with the sparse operand's pattern (the dense one broadcasts as NumPy's)."""
    x, y = as_sparse_or_tensor_variable(x), as_sparse_or_tensor_variable(y)
    x_sparse, y_sparse = isinstance(x, SparseVariable), isinstance(y, SparseVariable)
    if x_sparse and y_sparse:
        return mul_s_s(x, y)
    if x_sparse:
        return mul_s_d(x, y)
    if y_sparse:
        return mul_s_d(y, x)
    raise TypeError("tensord.sparse.mul needs a sparse operand, got %s and %s" % (x, y))


def _vector(v, what):
    v = basic.as_tensor_variable(v)
    if v.ndim != 1:
        raise TypeError("%s must be a vector, got %s" % (what, v.type))
    return v


def structured_add_s_v(x, y):
    """y[j] added to each stored entry of column j of x (Theano's structured_add_s_v)."""
    x = as_sparse_variable(x)
    y = _vector(y, "structured_add_s_v's y")
    return _with_data(x, x.components[0] + _gathered(x, y))


def mul_s_v(x, y):
    """Each stored entry of column j of x times y[j] (Theano's mul_s_v)."""
    x = as_sparse_variable(x)
    return mul_s_d(x, _vector(y, "mul_s_v's y"))


def row_scale(x, s):
    """Row i of x times s[i]."""
    x = as_sparse_variable(x)
    return mul_s_d(x, _vector(s, "row_scale's s").dimshuffle(0, "x"))


def col_scale(x, s):
    """Column j of x times s[j]."""
    x = as_sparse_variable(x)
    return mul_s_d(x, _vector(s, "col_scale's s").dimshuffle("x", 0))


def sp_sum(x, axis=None, sparse_grad=False):
    """The sum of x's entries (axis None, a scalar), of each column (axis 0) or of each row
    (axis 1), in x's dtype. The gradient is always structured (one value per stored entry),
    so `sparse_grad` changes nothing."""
    x = as_sparse_variable(x)
    data, indices, indptr, shape = x.components
    if axis is None:
        return basic.sum(data, dtype=x.dtype)
    if axis not in (0, 1, -1, -2):
        raise ValueError("sp_sum: axis must be None, 0 or 1, got %r" % (axis,))
    axis %= 2
    # Row sums are x @ ones, column sums x.T @ ones: the ones column has as many entries as
    # the dimension summed over.
    ones = basic.alloc(np.asarray(1, dtype=x.dtype), shape[axis], 1)
    summed = SparseDenseDot(x.format, transpose=(axis == 0))(data, indices, indptr, shape, ones)
    return summed.flatten()


def sp_ones_like(x):
    """x's pattern with every stored entry 1."""
    x = as_sparse_variable(x)
    return _with_data(x, basic.ones_like(x.components[0]))


def sp_zeros_like(x):
    """A matrix of x's shape, format and dtype that stores nothing."""
    x = as_sparse_variable(x)
    data, indices, indptr, shape = x.components
    empty = TensorConstant(TensorType(x.dtype, (False,)), np.zeros(0, dtype=x.dtype))
    no_indices = TensorConstant(TensorType("int32", (False,)), np.zeros(0, dtype="int32"))
    return _make(x.format, empty, no_indices, basic.zeros_like(indptr), shape)
