"""Making sparse matrices and taking them apart (Theano's CSM, csm_properties, the dense
conversions, transpose, format changes, casts) and the variable constructors."""

import numpy as np

from tensord import _dtypes
from tensord.config import config
from tensord.graph import Variable
from tensord.sparse.type import INDEX_DTYPE, SHAPE_DTYPE, SparseType, _index_array
from tensord.sparse.variable import SparseVariable, as_sparse_variable
from tensord.sparse.wire_ops import (DenseFromSparse, SparseEliminateZeros, SparseFromDense,
                                     SparseTransposeStructure)
from tensord.tensor import basic
from tensord.tensor.type import TensorType
from tensord.tensor.var import TensorConstant

__all__ = ["CSM", "CSR", "CSC", "csm_properties", "csm_data", "csm_indices", "csm_indptr",
           "csm_shape", "dense_from_sparse", "csr_from_dense", "csc_from_dense", "transpose",
           "csr_from_csc", "csc_from_csr", "cast", "bcast", "wcast", "icast", "lcast", "fcast",
           "dcast", "remove0", "ensure_sorted_indices", "clean", "square_diagonal", "matrix",
           "csr_matrix", "csc_matrix", "csr_dmatrix", "csc_dmatrix", "csr_fmatrix",
           "csc_fmatrix", "sparse_formats"]

sparse_formats = ["csc", "csr"]
# The symbolic integer vectors a component takes: every value must fit its dtype (int32
# indices and indptr, int64 shape), since a cast would wrap a wider one silently.
_FITS = {INDEX_DTYPE: ("int8", "int16", "int32", "uint8", "uint16"),
         SHAPE_DTYPE: tuple(d for d in _dtypes.INT_DTYPES + _dtypes.UINT_DTYPES if d != "uint64")}


def _other(fmt):
    return "csc" if fmt == "csr" else "csr"


def _vector_constant(values, dtype):
    """A constant vector that stays non-broadcastable when it has one entry (as components
    must, so that their types match the variables they replace or update)."""
    return TensorConstant(TensorType(dtype, (False,)), np.asarray(values, dtype=dtype))


def _data(data):
    if not isinstance(data, Variable):
        data = np.asarray(data)
        if data.ndim != 1:
            raise TypeError("data argument must be a vector, got an array of shape %s"
                            % (data.shape,))
        return _vector_constant(data, _dtypes.normalize(data.dtype))
    data = basic.as_tensor_variable(data)
    if data.ndim != 1:
        raise TypeError("data argument must be a vector, got %s" % (data.type,))
    if data.broadcastable[0]:
        data = data.reshape((-1,))
    return data


def _index(values, what, dtype):
    """An index component: integer constants checked to fit, integer vectors cast."""
    if not isinstance(values, Variable):
        if what == "shape" and isinstance(values, (tuple, list)) and any(
                isinstance(v, Variable) for v in values):
            from tensord.tensor.shape_ops import shape_vector
            return _index(shape_vector(tuple(values)), what, dtype)
        arr = _index_array(values, what) if dtype == INDEX_DTYPE else np.asarray(values)
        if arr.dtype.kind not in "iu" or arr.ndim != 1:
            raise TypeError("%s must be a vector of integers, got %r" % (what, values))
        return _vector_constant(arr, dtype)
    var = basic.as_tensor_variable(values)
    if var.ndim != 1 or var.dtype not in _FITS[dtype]:
        raise TypeError("%s must be a vector of integers that fit %s (%s), got %s; cast it "
                        "explicitly if its values do" % (what, dtype, ", ".join(_FITS[dtype]),
                                                         var.type))
    var = basic.cast(var, dtype)
    if var.broadcastable[0]:
        var = var.reshape((-1,))
    return var


def _known_length(vec):
    """The length of an int vector when the graph tells it (constant, x.shape, MakeVector)."""
    from tensord.tensor.shape_ops import MakeVector, ShapeVariable
    if isinstance(vec, TensorConstant):
        return len(vec.data)
    if isinstance(vec, ShapeVariable):
        return len(vec)
    if vec.owner is not None and isinstance(vec.owner.op, MakeVector):
        return len(vec.owner.inputs)
    return None


class CSM:
    """Theano's CSM(format): (data, indices, indptr, shape) -> a sparse matrix in that format.
    Indices and indptr become int32 (constants are checked to fit), the shape int64."""

    def __init__(self, format, kmap=None):  # noqa: A002 - Theano's argument name
        if kmap is not None:
            raise NotImplementedError("CSM(kmap=...) is not supported by tensord")
        if format not in ("csr", "csc"):
            raise NotImplementedError("sparse format %r is not supported; use 'csr' or 'csc'"
                                      % (format,))
        self.format = format

    def __call__(self, data, indices, indptr, shape):
        data = _data(data)
        shape = _index(shape, "shape", SHAPE_DTYPE)
        length = _known_length(shape)
        if length is not None and length != 2:
            raise TypeError("shape must have 2 entries, got %d" % length)
        components = (data, _index(indices, "indices", INDEX_DTYPE),
                      _index(indptr, "indptr", INDEX_DTYPE), shape)
        return SparseVariable(SparseType(self.format, data.dtype), *components)

    def __str__(self):
        return "CSM{%s}" % self.format

    __repr__ = __str__


CSR = CSM("csr")
CSC = CSM("csc")


def _make(fmt, data, indices, indptr, shape):
    """A sparse matrix of format `fmt` from components already of the right types."""
    return SparseVariable(SparseType(fmt, data.dtype), data, indices, indptr, shape)


def csm_properties(x):
    """[data, indices, indptr, shape] of a sparse matrix (Theano's csm_properties; the shape is
    int64 here, int32 in Theano)."""
    return list(as_sparse_variable(x).components)


def csm_data(x):
    return as_sparse_variable(x).components[0]


def csm_indices(x):
    return as_sparse_variable(x).components[1]


def csm_indptr(x):
    return as_sparse_variable(x).components[2]


def csm_shape(x):
    return as_sparse_variable(x).components[3]


def dense_from_sparse(x):
    """The dense matrix (entries stored twice at one position add up)."""
    x = as_sparse_variable(x)
    return DenseFromSparse(x.format)(*x.components)


def _from_dense(fmt, x):
    x = basic.as_tensor_variable(x)
    if x.ndim != 2:
        raise TypeError("a sparse matrix is made from a matrix, got %s" % (x.type,))
    data, indices, indptr = SparseFromDense(fmt)(x)
    return _make(fmt, data, indices, indptr, x.shape)


def csr_from_dense(x):
    """The nonzeros (NaN included) of a dense matrix as a csr matrix."""
    return _from_dense("csr", x)


def csc_from_dense(x):
    """The nonzeros (NaN included) of a dense matrix as a csc matrix."""
    return _from_dense("csc", x)


def _reversed_shape(shape):
    if isinstance(shape, TensorConstant):
        return _vector_constant(shape.data[::-1], SHAPE_DTYPE)
    from tensord.tensor.shape_ops import make_vector
    return make_vector([shape[1], shape[0]], SHAPE_DTYPE)


def transpose(x):
    """x.T: the same components read in the other format (nothing is computed)."""
    x = as_sparse_variable(x)
    data, indices, indptr, shape = x.components
    return _make(_other(x.format), data, indices, indptr, _reversed_shape(shape))


def as_format(x, fmt):
    """The same matrix in format `fmt` (the server reorders the pattern; data follows it)."""
    x = as_sparse_variable(x)
    if x.format == fmt:
        return x
    data, indices, indptr, shape = x.components
    new_indices, new_indptr, perm = SparseTransposeStructure(x.format)(indices, indptr, shape)
    return _make(fmt, data[perm], new_indices, new_indptr, shape)


def csr_from_csc(x):
    return as_format(x, "csr")


def csc_from_csr(x):
    return as_format(x, "csc")


def cast(x, dtype):
    """x with its data cast to `dtype` (Theano's sparse cast)."""
    x = as_sparse_variable(x)
    data, indices, indptr, shape = x.components
    return _make(x.format, basic.cast(data, dtype), indices, indptr, shape)


def _caster(dtype):
    def fn(x):
        return cast(x, dtype)
    fn.__name__ = {"int8": "bcast", "int16": "wcast", "int32": "icast", "int64": "lcast",
                   "float32": "fcast", "float64": "dcast"}[dtype]
    return fn


bcast, wcast, icast, lcast, fcast, dcast = (
    _caster(d) for d in ("int8", "int16", "int32", "int64", "float32", "float64"))


def remove0(x):
    """x without its stored zeros (Theano's remove0; scipy's eliminate_zeros)."""
    x = as_sparse_variable(x)
    data, indices, indptr = SparseEliminateZeros(x.format)(*x.components)
    return _make(x.format, data, indices, indptr, x.components[3])


def ensure_sorted_indices(x):
    """x with sorted indices within each row (csr) or column (csc), entries stored twice kept
    (Theano's, scipy's sorted_indices): to the other format and back, whose stable reorder
    sorts each slice."""
    x = as_sparse_variable(x)
    return as_format(as_format(x, _other(x.format)), x.format)


def clean(x):
    """remove0 and ensure_sorted_indices: scipy's canonical form."""
    return ensure_sorted_indices(remove0(x))


def square_diagonal(diag):
    """The square csc matrix with `diag` on its diagonal (Theano's square_diagonal)."""
    from tensord.tensor.shape_ops import arange, make_vector
    diag = basic.as_tensor_variable(diag)
    if diag.ndim != 1:
        raise TypeError("square_diagonal needs a vector, got %s" % (diag.type,))
    n = diag.shape[0]
    return CSC(diag, arange(n, dtype=INDEX_DTYPE), arange(n + 1, dtype=INDEX_DTYPE),
               make_vector([n, n], SHAPE_DTYPE))


def matrix(format, name=None, dtype=None):  # noqa: A002 - Theano's argument name
    """A symbolic sparse matrix of `format` ('csr' | 'csc') and `dtype` (default floatX)."""
    return SparseType(format, dtype or config.floatX)(name)


def csr_matrix(name=None, dtype=None):
    return matrix("csr", name, dtype)


def csc_matrix(name=None, dtype=None):
    return matrix("csc", name, dtype)


csr_dmatrix = SparseType("csr", "float64")
csc_dmatrix = SparseType("csc", "float64")
csr_fmatrix = SparseType("csr", "float32")
csc_fmatrix = SparseType("csc", "float32")
