"""SparseType (Theano's theano.sparse.SparseType) and SparseValue, the value of a sparse matrix
when scipy is not installed.

A sparse matrix is, on the client, four dense components in scipy's compressed layout:
data (nnz,), indices (nnz,) int32, indptr (major + 1,) int32 and shape (2,) int64, where major
is rows for 'csr' and columns for 'csc'. The server sees only those components.
"""

import sys

import numpy as np

from tensord import _dtypes
from tensord.tensor.type import TensorType

__all__ = ["SparseType", "SparseValue", "FORMATS", "SPARSE_DTYPES", "scipy_sparse",
           "is_scipy_sparse", "to_value"]

FORMATS = ("csr", "csc")
# What the server's sparse kernels take: numeric data, no bool (a sparse bool matrix serves
# nothing a dense one would not) and no float16 (no kernels yet).
SPARSE_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
                 "float32", "float64")
COMPONENTS = ("data", "indices", "indptr", "shape")
INDEX_DTYPE = "int32"  # indices and indptr, as scipy keeps them for matrices under 2**31 nnz
SHAPE_DTYPE = "int64"  # as every other shape vector of tensord (x.shape)


def scipy_sparse():
    """scipy.sparse, or None when scipy cannot be imported (it is optional)."""
    try:
        import scipy.sparse
    except ImportError:
        return None
    return scipy.sparse


def is_scipy_sparse(value):
    """Whether `value` is a scipy sparse matrix or array; never imports scipy itself (a value
    can only be one if the program already imported it)."""
    module = sys.modules.get("scipy.sparse")
    return module is not None and bool(module.issparse(value))


class SparseType:
    """The type of a sparse matrix: a format ('csr' or 'csc') and the dtype of its data.
    Calling it makes a new symbolic sparse matrix (free components, like a function input)."""

    ndim = 2
    broadcastable = (False, False)

    def __init__(self, format, dtype):  # noqa: A002 - Theano's argument name
        if format not in FORMATS:
            raise NotImplementedError("sparse format %r is not supported; use 'csr' or 'csc'"
                                      % (format,))
        dtype = _dtypes.normalize(dtype)
        if dtype not in SPARSE_DTYPES:
            raise NotImplementedError("a sparse matrix of dtype %s is not supported; use one of %s"
                                      % (dtype, ", ".join(SPARSE_DTYPES)))
        self.format = format
        self.dtype = dtype

    def component_types(self):
        """The TensorTypes of (data, indices, indptr, shape)."""
        return (TensorType(self.dtype, (False,)), TensorType(INDEX_DTYPE, (False,)),
                TensorType(INDEX_DTYPE, (False,)), TensorType(SHAPE_DTYPE, (False,)))

    def __call__(self, name=None):
        from tensord.sparse.variable import SparseVariable
        return SparseVariable.fresh(self, name)

    make_variable = __call__

    def __eq__(self, other):
        return (type(self) is type(other) and self.format == other.format
                and self.dtype == other.dtype)

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash((SparseType, self.format, self.dtype))

    def __str__(self):
        return "Sparse[%s, %s]" % (self.dtype, self.format)

    __repr__ = __str__

    def filter(self, value, strict=False, allow_downcast=None):
        """`value` (a scipy sparse matrix, a SparseValue or a (data, indices, indptr, shape)
        tuple) as a SparseValue of this format and dtype, or TypeError; the data is converted
        as TensorType.filter converts arrays. strict: nothing is converted, the format
        included (Theano's strict)."""
        if strict and getattr(value, "format", None) != self.format:
            raise TypeError("expected a %s matrix (strict), got %s" % (
                self.format, "a %s matrix" % value.format if hasattr(value, "format")
                else type(value).__name__))
        value = to_value(value, self.format)
        data = TensorType(self.dtype, (False,)).filter(value.data, strict=strict,
                                                       allow_downcast=allow_downcast)
        return SparseValue(self.format, data, value.indices, value.indptr, value.shape)

    def is_valid_value(self, value):
        try:
            self.filter(value, strict=True)
            return True
        except (TypeError, ValueError):
            return False


def _index_array(values, what):
    """An integer index array as int32, refused when it is not integer or does not fit."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise TypeError("%s must be a vector, got an array of shape %s" % (what, arr.shape))
    if arr.dtype.kind not in "iu":
        if arr.size or arr.dtype.kind not in "fO":
            raise TypeError("%s must be integers, got dtype %s" % (what, arr.dtype))
        arr = arr.astype(INDEX_DTYPE)  # an empty list becomes float64 in NumPy
    limits = np.iinfo(INDEX_DTYPE)
    if arr.size and (arr.min() < limits.min or arr.max() > limits.max):
        raise ValueError("%s do not fit int32 (tensord's sparse index dtype, as scipy's for "
                         "fewer than 2**31 entries): values from %d to %d"
                         % (what, arr.min(), arr.max()))
    return arr.astype(INDEX_DTYPE, copy=False)


class SparseValue:
    """A sparse matrix as plain arrays: what a function returns for a sparse output when scipy
    is not installed, and what it accepts for a sparse input in place of a scipy matrix."""

    def __init__(self, format, data, indices, indptr, shape):  # noqa: A002
        if format not in FORMATS:
            raise ValueError("sparse format must be 'csr' or 'csc', got %r" % (format,))
        self.format = format
        self.data = np.asarray(data)
        if self.data.ndim != 1:
            raise TypeError("data must be a vector, got an array of shape %s"
                            % (self.data.shape,))
        self.indices = _index_array(indices, "indices")
        self.indptr = _index_array(indptr, "indptr")
        shape = tuple(shape)
        if len(shape) != 2 or not all(isinstance(d, (int, np.integer)) and 0 <= d < 2 ** 63
                                      for d in shape):
            raise TypeError("shape must be two non-negative int64 integers, got %r" % (shape,))
        self.shape = tuple(int(d) for d in shape)

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def nnz(self):
        return int(self.indptr[-1]) if self.indptr.size else 0

    def toarray(self):
        """The dense matrix (entries at one position added, as scipy's toarray)."""
        rows, cols = self.shape
        out = np.zeros((rows, cols) if self.format == "csr" else (cols, rows), self.data.dtype)
        major = np.repeat(np.arange(len(self.indptr) - 1), np.diff(self.indptr))
        np.add.at(out, (major, self.indices[:len(major)]), self.data[:len(major)])
        return out if self.format == "csr" else out.T.copy()

    def asformat(self, format):  # noqa: A002
        """The same matrix in `format` (entries keep their order within each major slice)."""
        if format == self.format:
            return self
        if format not in FORMATS:
            raise ValueError("sparse format must be 'csr' or 'csc', got %r" % (format,))
        n_major = self.shape[1] if format == "csc" else self.shape[0]
        nnz = self.nnz
        old_major = np.repeat(np.arange(len(self.indptr) - 1), np.diff(self.indptr))
        order = np.argsort(self.indices[:nnz], kind="stable")
        counts = np.bincount(self.indices[:nnz], minlength=n_major)
        indptr = np.concatenate([[0], np.cumsum(counts)])
        return SparseValue(format, self.data[:nnz][order], old_major[order], indptr, self.shape)

    def __repr__(self):
        return ("SparseValue(%r, shape=%s, nnz=%d, dtype=%s)"
                % (self.format, self.shape, self.nnz, self.data.dtype))


def is_sparse_value(value):
    """A sparse matrix's value (scipy's or a SparseValue), as shared() and constant() take."""
    return isinstance(value, SparseValue) or is_scipy_sparse(value)


def to_value(value, format):  # noqa: A002
    """A scipy sparse matrix, SparseValue or (data, indices, indptr, shape) tuple as a
    SparseValue in `format` (data unconverted); TypeError for anything else."""
    if is_scipy_sparse(value):
        if value.ndim != 2:
            raise TypeError("a sparse matrix must have 2 dims, got %d" % value.ndim)
        converted = value.asformat(format)
        nnz = int(converted.indptr[-1]) if len(converted.indptr) else 0  # scipy may keep spare room
        return SparseValue(format, converted.data[:nnz], converted.indices[:nnz],
                           converted.indptr, converted.shape)
    if isinstance(value, SparseValue):
        return value.asformat(format)
    if isinstance(value, tuple) and len(value) == 4:
        data, indices, indptr, shape = value
        return SparseValue(format, data, indices, indptr, shape)
    what = type(value).__name__
    if isinstance(value, np.ndarray) or np.isscalar(value) or isinstance(value, list):
        what = "a dense %s" % what
    raise TypeError("expected a sparse matrix (a scipy.sparse matrix, a tensord.sparse."
                    "SparseValue or a (data, indices, indptr, shape) tuple), got %s; convert a "
                    "dense array with scipy.sparse.%s_matrix(value)" % (what, format))


def from_components(format, data, indices, indptr, shape):  # noqa: A002
    """A sparse value from its component arrays: a scipy matrix when scipy is importable, else
    a SparseValue."""
    shape = tuple(int(d) for d in np.asarray(shape).reshape(-1))
    sp = scipy_sparse()
    if sp is None:
        return SparseValue(format, data, indices, indptr, shape)
    make = sp.csr_matrix if format == "csr" else sp.csc_matrix
    return make((np.asarray(data), np.asarray(indices), np.asarray(indptr)), shape=shape)
