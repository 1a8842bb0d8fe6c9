"""Sparse shared variables (Theano's theano.sparse.sharedvar): `tensord.shared(scipy_matrix)`
makes four shared components on the server, one per array of the matrix."""

import numpy as np

from tensord.sparse.type import COMPONENTS, SparseType, from_components, to_value
from tensord.sparse.variable import SparseVariable

__all__ = ["SparseSharedVariable", "SparseTensorSharedVariable", "sparse_constructor"]


def check_structure(value, what="sparse value"):
    """Raises ValueError unless `value` (a SparseValue) is a well-formed compressed matrix:
    a shared variable is checked when set, so that a bad one cannot sit on the server."""
    rows, cols = value.shape
    n_major, n_minor = (rows, cols) if value.format == "csr" else (cols, rows)
    indptr, indices = value.indptr, value.indices
    if len(indptr) != n_major + 1:
        raise ValueError("%s: indptr has %d entries, a %s matrix of shape %s needs %d"
                         % (what, len(indptr), value.format, value.shape, n_major + 1))
    if indptr[0] != 0 or np.any(np.diff(indptr) < 0):
        raise ValueError("%s: indptr must start at 0 and never decrease" % what)
    if indptr[-1] != len(indices) or len(indices) != len(value.data):
        raise ValueError("%s: indptr ends at %d but there are %d indices and %d data entries "
                         "(nnz must match)" % (what, indptr[-1], len(indices), len(value.data)))
    if len(indices) and (indices.min() < 0 or indices.max() >= n_minor):
        raise ValueError("%s: indices must lie in [0, %d)" % (what, n_minor))


class SparseSharedVariable(SparseVariable):
    """A sparse matrix held by the server as four shared variables (its components). Usable in
    graphs, as an update target (its update must be a sparse matrix of the same type), in
    Function.copy(swap=...), and picklable (each component pickles its value)."""

    def __init__(self, type, components, name=None, strict=False,  # noqa: A002
                 allow_downcast=None):
        super().__init__(type, *components)
        self._named_components = tuple(range(4))
        self.name = name
        self.strict = strict
        self.allow_downcast = allow_downcast

    def get_value(self, borrow=False, return_internal_type=False):
        """The current value: a scipy matrix (a SparseValue without scipy)."""
        return from_components(self.format, *[c.get_value() for c in self.components])

    def _filtered(self, value):
        value = self.type.filter(value, strict=self.strict, allow_downcast=self.allow_downcast)
        check_structure(value, "the value of %s" % (self.name or "a sparse shared variable"))
        return value

    def set_value(self, value, borrow=False):
        """Replaces the value (converted to this variable's format; data as shared() converts
        arrays). The four components are written by one function's updates, which the server
        stores together or not at all: a refused write (a memory quota) or a run of another
        thread never sees a torn matrix."""
        from tensord.compile.function import function
        value = self._filtered(value)
        arrays = (value.data, value.indices, value.indptr,
                  np.asarray(value.shape, dtype="int64"))
        new = [component.type() for component in self.components]
        function(new, [], updates=list(zip(self.components, new)),
                 name="set_value of %s" % (self.name or "a sparse shared variable"))(*arrays)

    def delete(self):
        for component in self.components:
            component.delete()

    def eval(self, inputs_to_values=None):
        if not inputs_to_values:
            return self.get_value()
        return super().eval(inputs_to_values)


SparseTensorSharedVariable = SparseSharedVariable  # Theano's name


def sparse_constructor(value, name=None, strict=False, allow_downcast=None, borrow=False,
                       format=None, target=None):  # noqa: A002
    """A SparseSharedVariable holding a copy of `value` (a scipy csr/csc matrix or a
    SparseValue); `format` converts it (default: its own format)."""
    from tensord.sharedvar import shared
    fmt = format or getattr(value, "format", None)
    if fmt not in ("csr", "csc"):
        raise TypeError("a sparse shared variable holds a csr or csc matrix, got format %r; "
                        "convert the value with .tocsr() or .tocsc()" % (fmt,))
    converted = to_value(value, fmt)
    sparse_type = SparseType(fmt, converted.data.dtype)
    converted = sparse_type.filter(converted, allow_downcast=True)
    check_structure(converted, "shared()")
    arrays = (converted.data, converted.indices, converted.indptr,
              np.asarray(converted.shape, dtype="int64"))
    components = [shared(array, name=None if name is None else "%s.%s" % (name, part),
                         target=target)
                  for part, array in zip(COMPONENTS, arrays)]
    return SparseSharedVariable(sparse_type, components, name=name, strict=strict,
                                allow_downcast=allow_downcast)
