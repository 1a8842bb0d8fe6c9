"""SparseVariable and SparseConstant: a symbolic sparse matrix as four symbolic dense components,
with Theano's sparse operators (+, -, *, .T, dot, sum ...)."""

import numpy as np

from tensord.graph import Variable
from tensord.sparse.type import COMPONENTS, SparseType, is_scipy_sparse, is_sparse_value, to_value
from tensord.tensor.var import AsTensorError, TensorConstant

__all__ = ["SparseVariable", "SparseConstant", "as_sparse_variable", "as_sparse",
           "as_sparse_or_tensor_variable", "constant"]


def _ops(name):
    """A function of the sparse package, looked up when called (the op modules import this
    one)."""
    import tensord.sparse as sparse
    return getattr(sparse, name)


def _binary(name, reflected=False):
    def method(self, other):
        try:
            return _ops(name)(other, self) if reflected else _ops(name)(self, other)
        except AsTensorError:
            return NotImplemented  # lets Python try the other operand's operator
    method.__name__ = name
    return method


def _unsupported(what):
    def method(self, *args, **kwargs):
        raise NotImplementedError(
            "%s is not supported on sparse matrices by tensord (Theano's sparse %s has no "
            "counterpart here); work on its data (tensord.sparse.csm_properties) or a dense "
            "copy (tensord.sparse.dense_from_sparse)" % (what, what))
    return method


class SparseVariable:
    """A symbolic sparse matrix (Theano's SparseVariable): `format` ('csr' | 'csc') and `dtype`
    (its type), and `components`, the symbolic (data, indices, indptr, shape) the server works
    on. It is not a graph Variable itself: functions, gradients and updates take its
    components."""

    # numpy hands `ndarray <op> sparse` to our reflected operators.
    __array_ufunc__ = None
    __array_priority__ = 1001

    def __init__(self, type, data, indices, indptr, shape, name=None):  # noqa: A002
        if not isinstance(type, SparseType):
            raise TypeError("SparseVariable needs a SparseType, got %r" % (type,))
        self.type = type
        self.components = (data, indices, indptr, shape)
        # Components made for this variable (free inputs) are named after it; components
        # borrowed from other expressions (x.T shares x's data) keep their names.
        self._named_components = ()
        self._name = None
        self.name = name

    @classmethod
    def fresh(cls, sparse_type, name=None):
        """A new variable with free components (a function input)."""
        made = cls(sparse_type, *[t() for t in sparse_type.component_types()])
        made._named_components = tuple(range(4))
        made.name = name
        return made

    @property
    def name(self):
        return self._name

    @name.setter
    def name(self, name):
        self._name = name
        for i in self._named_components:
            self.components[i].name = None if name is None else "%s.%s" % (name, COMPONENTS[i])

    @property
    def format(self):
        return self.type.format

    @property
    def dtype(self):
        return self.type.dtype

    ndim = 2
    broadcastable = (False, False)

    @property
    def shape(self):
        """The shape as a symbolic int64 vector (the shape component)."""
        return self.components[3]

    def __str__(self):
        return self.name if self.name is not None else "<%s>" % (self.type,)

    __repr__ = __str__

    # Theano's rule: a variable is always true (`if x:`, `x or default`).
    def __bool__(self):
        return True

    def __iter__(self):
        raise TypeError("SparseVariable objects are not iterable")

    __add__ = _binary("add")
    __radd__ = _binary("add", reflected=True)
    __sub__ = _binary("sub")
    __rsub__ = _binary("sub", reflected=True)
    __mul__ = _binary("mul")
    __rmul__ = _binary("mul", reflected=True)

    def __neg__(self):
        return _ops("neg")(self)

    __getitem__ = _unsupported("indexing")
    __setitem__ = _unsupported("indexing")
    __truediv__ = __rtruediv__ = _unsupported("division")
    __floordiv__ = __rfloordiv__ = _unsupported("division")
    __pow__ = __rpow__ = _unsupported("** (use tensord.sparse.structured_pow)")
    __lt__ = __le__ = __gt__ = __ge__ = _unsupported("comparison")
    __abs__ = _unsupported("abs() (use tensord.sparse.abs_)")

    # `==` stays identity (variables are dict keys), as for TensorVariable.
    __hash__ = object.__hash__

    def __dot__(self, other):
        return _ops("dot")(self, other)

    def __rdot__(self, other):
        return _ops("dot")(other, self)

    def dot(self, other):
        return _ops("dot")(self, other)

    @property
    def T(self):
        return _ops("transpose")(self)

    def transpose(self):
        return _ops("transpose")(self)

    def toarray(self):
        """The dense matrix (Theano's dense_from_sparse)."""
        return _ops("dense_from_sparse")(self)

    def sum(self, axis=None, sparse_grad=False):
        return _ops("sp_sum")(self, axis=axis, sparse_grad=sparse_grad)

    def astype(self, dtype):
        return _ops("cast")(self, dtype)

    def zeros_like(self):
        return _ops("sp_zeros_like")(self)

    def ones_like(self):
        return _ops("sp_ones_like")(self)

    def eval(self, inputs_to_values=None):
        """Compiles (once per set of inputs) a function computing this matrix, and runs it."""
        from tensord.compile.function import evaluate
        return evaluate(self, inputs_to_values)

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_fn_cache", None)  # compiled functions pickle separately, if at all
        return state


class SparseConstant(SparseVariable):
    """A constant sparse matrix: its components are constants, sent inside the graph. `data`
    (and `value`) is the matrix as given (converted to `format`)."""

    def __init__(self, type, value, name=None):  # noqa: A002
        filtered = type.filter(value, allow_downcast=True)
        arrays = (filtered.data, filtered.indices, filtered.indptr,
                  np.asarray(filtered.shape, dtype="int64"))
        components = [TensorConstant(t, a) for t, a in zip(type.component_types(), arrays)]
        super().__init__(type, *components, name=name)
        self.data = value if not isinstance(value, tuple) else filtered

    @property
    def value(self):
        return self.data

    def __str__(self):
        if self.name is not None:
            return self.name
        return "SparseConstant{%s, shape=%s, nnz=%d}" % (
            self.format, tuple(int(d) for d in self.components[3].data),
            len(self.components[0].data))

    __repr__ = __str__

    def eval(self, inputs_to_values=None):
        from tensord.sparse.type import from_components
        return from_components(self.format, *[c.data for c in self.components])


def constant(x, name=None, format=None):  # noqa: A002
    """A SparseConstant of a scipy sparse matrix or SparseValue (csr/csc kept; any other
    scipy format becomes `format`, default csr)."""
    fmt = getattr(x, "format", None)
    if fmt not in ("csr", "csc"):
        fmt = format or "csr"
    dtype = to_value(x, fmt).data.dtype
    if is_scipy_sparse(x):
        x = x.asformat(fmt)  # the constant's `data` is the matrix in its format
    return SparseConstant(SparseType(fmt, dtype), x, name=name)


def as_sparse_variable(x, name=None):
    """Theano's as_sparse_variable: a SparseVariable passes; a scipy sparse matrix or a
    SparseValue becomes a SparseConstant; anything else is a TypeError."""
    if isinstance(x, SparseVariable):
        return x
    if is_sparse_value(x):
        return constant(x, name=name)
    if isinstance(x, Variable):
        raise TypeError("%s (of type %s) is a dense variable, not a sparse one; convert it with "
                        "tensord.sparse.csr_from_dense or csc_from_dense" % (x, x.type))
    raise TypeError("Cannot convert %r to a sparse variable" % (x,))


as_sparse = as_sparse_variable


def as_sparse_or_tensor_variable(x, name=None):
    """Theano's as_sparse_or_tensor_variable: sparse stays (or becomes) sparse, anything else
    becomes a tensor."""
    if isinstance(x, SparseVariable) or is_sparse_value(x):
        return as_sparse_variable(x, name)
    from tensord.tensor.basic import as_tensor_variable
    return as_tensor_variable(x, name)


def is_sparse_variable(x):
    return isinstance(x, SparseVariable)


def is_dense_variable(x):
    from tensord.tensor.var import TensorVariable
    return isinstance(x, TensorVariable)

