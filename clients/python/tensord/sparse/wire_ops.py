"""The server's sparse ops (engine/ops/defs/sparse.h) as client Ops over dense components.

Each takes attribute `format`, the layout of its sparse operand(s). Output types are exactly
the ones the server infers: values keep (or promote) their dtypes, index outputs are int32,
and nothing is broadcastable.
"""

from tensord import _dtypes
from tensord.graph import Apply, Op
from tensord.tensor import basic
from tensord.tensor.type import TensorType

__all__ = ["SparseDenseDot", "SparseSampledDot", "DenseFromSparse", "SparseGather",
           "SparseFromDense", "SparseValuesAt", "SparseUnion", "SparseEliminateZeros",
           "SparseTransposeStructure", "SparseSameShape"]

_INTS = _dtypes.INT_DTYPES + _dtypes.UINT_DTYPES


def _vector(dtype):
    return TensorType(dtype, (False,))()


def _matrix(dtype):
    return TensorType(dtype, (False, False))()


class _SparseOp(Op):
    _theano_name = None
    _index_names = ()  # the index inputs, checked to be integer vectors

    def __init__(self, format):  # noqa: A002 - Theano's argument name
        if format not in ("csr", "csc"):
            raise ValueError("sparse format must be 'csr' or 'csc', got %r" % (format,))
        self.format = format

    def attrs(self):
        return {"format": self.format}

    def _check(self, inputs, values):
        """inputs as tensors; `values` maps input position -> (ndim, what) for numeric value
        inputs, every other input must be an integer vector."""
        inputs = [basic.as_tensor_variable(v) for v in inputs]
        names = iter(self._index_names)
        for i, v in enumerate(inputs):
            if i in values:
                ndim, what = values[i]
                if v.ndim != ndim or v.dtype == "bool":
                    raise TypeError("%s: %s must be a numeric %s, got %s"
                                    % (self.wire_name, what, "vector" if ndim == 1 else "matrix",
                                       v.type))
            else:
                what = next(names)
                if v.ndim != 1 or v.dtype not in _INTS:
                    raise TypeError("%s: %s must be an integer vector, got %s"
                                    % (self.wire_name, what, v.type))
        return inputs

    def __str__(self):
        return "%s{%s}" % (self._theano_name, self.format)


class SparseDenseDot(_SparseOp):
    """(data, indices, indptr, shape, y) -> A @ y, or A.T @ y with transpose."""

    wire_name = "sparse_dense_dot"
    _theano_name = "StructuredDot"
    _index_names = ("indices", "indptr", "shape")

    def __init__(self, format, transpose=False):  # noqa: A002
        super().__init__(format)
        self.transpose = bool(transpose)

    def attrs(self):
        return {"format": self.format, "transpose": self.transpose}

    def make_node(self, data, indices, indptr, shape, y):
        inputs = self._check([data, indices, indptr, shape, y],
                             {0: (1, "data"), 4: (2, "the dense operand")})
        return Apply(self, inputs, [_matrix(_dtypes.upcast(inputs[0].dtype, inputs[4].dtype))])

    def __str__(self):
        return "StructuredDot{%s%s}" % (self.format, ", transpose" if self.transpose else "")


class SparseSampledDot(_SparseOp):
    """(indices, indptr, shape, a, b) -> v[p] = a[row p] . b[col p]."""

    wire_name = "sparse_sampled_dot"
    _theano_name = "SamplingDot"
    _index_names = ("indices", "indptr", "shape")

    def make_node(self, indices, indptr, shape, a, b):
        inputs = self._check([indices, indptr, shape, a, b], {3: (2, "a"), 4: (2, "b")})
        return Apply(self, inputs, [_vector(_dtypes.upcast(inputs[3].dtype, inputs[4].dtype))])


class DenseFromSparse(_SparseOp):
    """(data, indices, indptr, shape) -> the dense matrix."""

    wire_name = "dense_from_sparse"
    _theano_name = "DenseFromSparse"
    _index_names = ("indices", "indptr", "shape")

    def make_node(self, data, indices, indptr, shape):
        inputs = self._check([data, indices, indptr, shape], {0: (1, "data")})
        return Apply(self, inputs, [_matrix(inputs[0].dtype)])


class SparseGather(_SparseOp):
    """(y, indices, indptr, shape) -> y[row p, col p] for each stored entry p."""

    wire_name = "sparse_gather"
    _theano_name = "SparseGather"
    _index_names = ("indices", "indptr", "shape")

    def make_node(self, y, indices, indptr, shape):
        inputs = self._check([y, indices, indptr, shape], {0: (2, "the dense operand")})
        return Apply(self, inputs, [_vector(inputs[0].dtype)])


class SparseFromDense(_SparseOp):
    """x -> (data, indices, indptr) of x's nonzeros (NaN included)."""

    wire_name = "sparse_from_dense"
    _theano_name = "SparseFromDense"

    def make_node(self, x):
        inputs = self._check([x], {0: (2, "x")})
        return Apply(self, inputs, [_vector(inputs[0].dtype), _vector("int32"),
                                    _vector("int32")])


class SparseValuesAt(_SparseOp):
    """(data, indices, indptr, at_indices, at_indptr, shape) -> the matrix's value at each
    entry of the `at` pattern (0 where it stores none)."""

    wire_name = "sparse_values_at"
    _theano_name = "SparseValuesAt"
    _index_names = ("indices", "indptr", "at_indices", "at_indptr", "shape")

    def make_node(self, data, indices, indptr, at_indices, at_indptr, shape):
        inputs = self._check([data, indices, indptr, at_indices, at_indptr, shape],
                             {0: (1, "data")})
        return Apply(self, inputs, [_vector(inputs[0].dtype)])


class SparseUnion(_SparseOp):
    """(indices_a, indptr_a, indices_b, indptr_b, shape) -> (indices, indptr) of the positions
    either pattern stores, sorted, each once. Not differentiable."""

    wire_name = "sparse_union"
    _theano_name = "SparseUnion"
    _index_names = ("indices_a", "indptr_a", "indices_b", "indptr_b", "shape")

    def make_node(self, indices_a, indptr_a, indices_b, indptr_b, shape):
        inputs = self._check([indices_a, indptr_a, indices_b, indptr_b, shape], {})
        return Apply(self, inputs, [_vector("int32"), _vector("int32")])


class SparseEliminateZeros(_SparseOp):
    """(data, indices, indptr, shape) -> (data, indices, indptr) without stored zeros."""

    wire_name = "sparse_eliminate_zeros"
    _theano_name = "EliminateZeros"
    _index_names = ("indices", "indptr", "shape")

    def make_node(self, data, indices, indptr, shape):
        inputs = self._check([data, indices, indptr, shape], {0: (1, "data")})
        return Apply(self, inputs, [_vector(inputs[0].dtype), _vector("int32"),
                                    _vector("int32")])


class SparseTransposeStructure(_SparseOp):
    """(indices, indptr, shape) -> (indices, indptr, perm): the pattern in the other format,
    whose data is data[perm]. Not differentiable."""

    wire_name = "sparse_transpose_structure"
    _theano_name = "SparseTransposeStructure"
    _index_names = ("indices", "indptr", "shape")

    def make_node(self, indices, indptr, shape):
        inputs = self._check([indices, indptr, shape], {})
        return Apply(self, inputs, [_vector("int32"), _vector("int32"), _vector("int64")])


class SparseSameShape(Op):
    """(shape_a, shape_b) -> shape_a, checked equal to shape_b when the function runs (the two
    sparse operands of add or mul, whose patterns alone would not show the mismatch)."""

    wire_name = "sparse_same_shape"

    def make_node(self, shape_a, shape_b):
        inputs = [basic.as_tensor_variable(v) for v in (shape_a, shape_b)]
        for v, what in zip(inputs, ("shape_a", "shape_b")):
            if v.ndim != 1 or v.dtype not in _INTS:
                raise TypeError("sparse_same_shape: %s must be an integer vector, got %s"
                                % (what, v.type))
        return Apply(self, inputs, [_vector("int64")])

    def __str__(self):
        return "SparseSameShape"
