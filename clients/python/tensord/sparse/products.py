"""Products with sparse matrices: Theano's dot, structured_dot, true_dot and sampling_dot,
all built on the server's sparse_dense_dot (A @ y and A.T @ y) and sparse_sampled_dot."""

from tensord.sparse.construct import _from_dense, _make, dense_from_sparse
from tensord.sparse.variable import (SparseVariable, as_sparse_or_tensor_variable,
                                     as_sparse_variable)
from tensord.sparse.wire_ops import SparseDenseDot, SparseSampledDot
from tensord.tensor import basic

__all__ = ["dot", "structured_dot", "true_dot", "sampling_dot"]


def _sparse_dense(a, y, transpose=False):
    """a @ y (a.T @ y with transpose) for sparse a and a dense vector or matrix y."""
    y = basic.as_tensor_variable(y)
    if y.ndim == 1:
        # A vector is a one-column matrix here; the result is a vector again.
        return _sparse_dense(a, y.dimshuffle(0, "x"), transpose).flatten()
    if y.ndim != 2:
        raise TypeError("a sparse matrix multiplies a vector or a matrix, got %s" % (y.type,))
    return SparseDenseDot(a.format, transpose)(*a.components, y)


def _dense_sparse(x, b):
    """x @ b for dense x (vector or matrix) and sparse b, as (b.T @ x.T).T."""
    x = basic.as_tensor_variable(x)
    if x.ndim == 1:
        return _sparse_dense(b, x, transpose=True)
    if x.ndim != 2:
        raise TypeError("a sparse matrix multiplies a vector or a matrix, got %s" % (x.type,))
    return _sparse_dense(b, x.T, transpose=True).T


def _operands(x, y, what):
    x, y = as_sparse_or_tensor_variable(x), as_sparse_or_tensor_variable(y)
    if not isinstance(x, SparseVariable) and not isinstance(y, SparseVariable):
        raise TypeError("%s needs at least one sparse operand, got %s and %s" % (what, x, y))
    return x, y


def dot(x, y):
    """x @ y when either or both are sparse (vectors allowed): a dense result (Theano's
    theano.sparse.dot). The gradient with respect to a sparse operand is structured."""
    x, y = _operands(x, y, "tensord.sparse.dot")
    if isinstance(x, SparseVariable):
        if isinstance(y, SparseVariable):
            y = dense_from_sparse(y)
        return _sparse_dense(x, y)
    return _dense_sparse(x, y)


def structured_dot(x, y):
    """x @ y, one operand sparse (Theano's structured_dot): dense when the other is dense
    (vector or matrix), sparse (x's format, its nonzeros) when both are sparse."""
    x, y = _operands(x, y, "structured_dot")
    if isinstance(x, SparseVariable) and isinstance(y, SparseVariable):
        return _from_dense(x.format, dot(x, y))
    return dot(x, y)


def true_dot(x, y, grad_preserves_dense=True):
    """x @ y as a sparse matrix (Theano's true_dot): in x's format when x is sparse, in y's
    when only y is. Its nonzeros are computed densely first; the gradient is structured."""
    x, y = _operands(x, y, "true_dot")
    if x.ndim != 2 or y.ndim != 2:
        raise TypeError("true_dot multiplies matrices, got %s and %s" % (x.type, y.type))
    fmt = x.format if isinstance(x, SparseVariable) else y.format
    return _from_dense(fmt, dot(x, y))


def sampling_dot(x, y, p):
    """p * (x @ y.T) computed only at p's stored entries (Theano's sampling_dot): x and y
    dense matrices, p sparse; the result has p's pattern and format."""
    p = as_sparse_variable(p)
    data, indices, indptr, shape = p.components
    products = SparseSampledDot(p.format)(indices, indptr, shape, x, y)
    return _make(p.format, data * products, indices, indptr, shape)
