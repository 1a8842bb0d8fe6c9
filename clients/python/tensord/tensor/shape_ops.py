"""Creation, symbolic shape, joining and sorting ops (Theano's names and type rules).

Server ops: shape, shape_i, make_vector, specify_shape, arange, eye, tile, repeat, flatten, join,
sort, argsort.
squeeze, shape_pad*, swapaxes, stack, stacklists, mgrid and ogrid are built here from them and
dimshuffle, as Theano builds them.
"""

import numpy as np

from tensord import _dtypes
from tensord.graph import Apply, Op, Variable
from tensord.tensor import basic
from tensord.tensor.ops import DimShuffle
from tensord.tensor.type import TensorType
from tensord.tensor.var import TensorConstant, TensorVariable

__all__ = ["shape", "specify_shape", "arange", "eye", "identity_like", "mgrid", "ogrid", "tile", "repeat",
           "flatten", "squeeze", "shape_padleft", "shape_padright", "shape_padaxis", "swapaxes",
           "join", "concatenate", "stack", "stacklists", "sort", "argsort"]

_INTS = _dtypes.INT_DTYPES + _dtypes.UINT_DTYPES


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _require_int_scalar(var, what):
    if var.ndim != 0 or var.dtype not in _INTS:
        raise TypeError("%s must be an integer scalar, got %s" % (what, var.type))


class _SimpleOp(Op):
    """An op whose attrs are its constructor's keyword values (None values are left out)."""

    _attr_names = ()

    def attrs(self):
        out = {}
        for name in self._attr_names:
            value = getattr(self, name)
            if value is not None:
                out[name] = np.dtype(value) if name == "dtype" else value
        return out


class ShapeVariable(TensorVariable):
    """The int64 vector `x.shape`. Indexing it with a Python int gives Shape_i (an int64
    scalar), a slice gives a MakeVector of Shape_i, so both work without subtensor."""

    def _source(self):
        return self.owner.inputs[0]

    def __len__(self):
        return self._source().ndim

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __getitem__(self, key):
        ndim = len(self)
        if _is_int(key):
            if not -ndim <= key < ndim:
                raise IndexError("index %d is out of bounds for the shape of a %d-d tensor"
                                 % (key, ndim))
            return ShapeI(int(key) % ndim)(self._source())
        if isinstance(key, slice):
            return make_vector([self[i] for i in range(ndim)[key]], "int64")
        return super().__getitem__(key)


class Shape(Op):
    wire_name = "shape"

    def make_node(self, x):
        return Apply(self, [x], [ShapeVariable(TensorType("int64", (False,)))])

    def __str__(self):
        return "Shape"


class ShapeI(_SimpleOp):
    wire_name = "shape_i"
    _attr_names = ("i",)

    def __init__(self, i):
        self.i = int(i)

    def make_node(self, x):
        if not 0 <= self.i < x.ndim:
            raise IndexError("Shape_i{%d} of a %d-d tensor" % (self.i, x.ndim))
        return Apply(self, [x], [TensorType("int64", ())()])

    def __str__(self):
        return "Shape_i{%d}" % self.i


class MakeVector(_SimpleOp):
    """Theano's MakeVector: scalars -> vector of `dtype`; inputs are upcast, never downcast."""

    wire_name = "make_vector"
    _attr_names = ("dtype",)

    def __init__(self, dtype="int64"):
        self.dtype = _dtypes.normalize(dtype)

    def make_node(self, *inputs):
        inputs = [basic.as_tensor_variable(v) for v in inputs]
        for v in inputs:
            if v.ndim != 0:
                raise TypeError("MakeVector takes scalars, got %s" % v.type)
            if _dtypes.upcast(self.dtype, v.dtype) != self.dtype:
                raise TypeError("MakeVector.make_node expected inputs upcastable to %s. got %s"
                                % (self.dtype, v.dtype))
        return Apply(self, inputs, [TensorType(self.dtype, (False,))()])

    def __str__(self):
        return "MakeVector{dtype='%s'}" % self.dtype


def make_vector(entries, dtype="int64"):
    return MakeVector(dtype)(*entries)


def shape(x):
    """The shape of x as a symbolic int64 vector (Theano's T.shape / x.shape)."""
    return Shape()(basic.as_tensor_variable(x))


def _int64_scalar(entry):
    """An int64-compatible scalar for a shape entry: Python ints become int64 constants."""
    if isinstance(entry, Variable):
        entry = basic.as_tensor_variable(entry)
        _require_int_scalar(entry, "a shape entry")
        return basic.cast(entry, "int64") if entry.dtype == "uint64" else entry
    if not _is_int(entry):
        raise TypeError("shape entries must be integers or integer scalar variables, got %r"
                        % (entry,))
    return basic.constant(np.asarray(int(entry), dtype="int64"))


def shape_vector(entries):
    """A tuple of ints and symbolic integer scalars as an int64 vector (MakeVector)."""
    return make_vector([_int64_scalar(e) for e in entries], "int64")


def vector_entries(vec):
    """The entries of an integer vector whose length the graph tells (constant, x.shape,
    MakeVector), as a list of scalars; None when the length is unknown."""
    if isinstance(vec, TensorConstant):
        return [int(v) for v in vec.data.reshape(-1)]
    if isinstance(vec, ShapeVariable):
        return list(vec)
    if vec.owner is not None and isinstance(vec.owner.op, MakeVector):
        return list(vec.owner.inputs)
    return None


class SpecifyShape(Op):
    """Theano's SpecifyShape: x itself, checked when the function runs to have the stated shape;
    shape inference answers with the stated shape."""

    wire_name = "specify_shape"

    def make_node(self, x, shape):
        x = basic.as_tensor_variable(x)
        if isinstance(shape, Variable):
            shape = basic.as_tensor_variable(shape)
            if shape.ndim != 1 or shape.dtype not in _INTS:
                raise TypeError("specify_shape: the shape must be an integer vector, got %s"
                                % shape.type)
        else:
            shape = shape_vector(tuple(shape))
        entries = vector_entries(shape)
        if entries is not None and len(entries) != x.ndim:
            raise ValueError("specify_shape: %d dims stated for a %d-d %s"
                             % (len(entries), x.ndim, x.type))
        return Apply(self, [x, shape], [x.type()])

    def __str__(self):
        return "SpecifyShape"


def specify_shape(x, shape):
    """x, with its shape stated: a tuple of ints or integer scalars (or an integer vector). The
    function raises when x has another shape, and `.shape` of the result (and of what is
    computed from it) is answered from the stated shape (Theano's T.specify_shape)."""
    return SpecifyShape()(x, shape)


class ARange(_SimpleOp):
    wire_name = "arange"
    _attr_names = ("dtype",)

    def __init__(self, dtype):
        self.dtype = _dtypes.normalize(dtype)

    def make_node(self, start, stop, step):
        for name, v in (("start", start), ("stop", stop), ("step", step)):
            if v.ndim != 0:
                raise TypeError("arange: %s must be a scalar, got %s" % (name, v.type))
        return Apply(self, [start, stop, step], [TensorType(self.dtype, (False,))()])

    def __str__(self):
        return "ARange{dtype='%s'}" % self.dtype


def arange(start, stop=None, step=1, dtype=None):
    """numpy.arange on symbolic scalars. Theano's dtype rule: ints give int64, unsigned ints
    uint64, anything else the upcast of the three."""
    if stop is None:
        start, stop = 0, start
    start, stop, step = [basic.as_tensor_variable(v) for v in (start, stop, step)]
    if dtype is None:
        dtype = _dtypes.upcast(start.dtype, stop.dtype, step.dtype)
        if dtype in _dtypes.INT_DTYPES or dtype == "bool":
            dtype = "int64"
        elif dtype in _dtypes.UINT_DTYPES:
            dtype = "uint64"
    return ARange(dtype)(start, stop, step)


class Eye(_SimpleOp):
    wire_name = "eye"
    _attr_names = ("dtype",)

    def __init__(self, dtype):
        self.dtype = _dtypes.normalize(dtype)

    def make_node(self, n, m, k):
        for name, v in (("n", n), ("m", m), ("k", k)):
            _require_int_scalar(v, "eye: " + name)
        return Apply(self, [n, m, k], [TensorType(self.dtype, (False, False))()])

    def __str__(self):
        return "Eye{%s}" % self.dtype


def eye(n, m=None, k=0, dtype=None):
    """An n x m matrix with ones on diagonal k (numpy.eye); dtype defaults to floatX."""
    if m is None:
        m = n
    n, m, k = [basic.as_tensor_variable(v) for v in (n, m, k)]
    return Eye(dtype or "floatX")(n, m, k)


def identity_like(x, dtype=None):
    """eye(x.shape[0], x.shape[1]) in x's dtype."""
    x = basic.as_tensor_variable(x)
    return eye(x.shape[0], x.shape[1], k=0, dtype=dtype or x.dtype)


class _NdGrid:
    """T.mgrid / T.ogrid: index with slices; returns a list of tensors, as Theano does."""

    def __init__(self, sparse):
        self.sparse = sparse

    def __getitem__(self, slices):
        if isinstance(slices, slice):
            slices = (slices,)
        ndim = len(slices)
        ranges = [arange(sl.start or 0, sl.stop, sl.step or 1) for sl in slices]
        ranges = [r.reshape(tuple([1] * j + [r.shape[0]] + [1] * (ndim - 1 - j)))
                  for j, r in enumerate(ranges)]
        if self.sparse:
            return ranges
        ones = [basic.ones_like(r) for r in ranges]
        grids = []
        for i in range(ndim):
            grid = 1
            for j in range(ndim):
                grid = grid * (ranges[j] if j == i else ones[j])
            grids.append(grid)
        return grids


mgrid = _NdGrid(sparse=False)
ogrid = _NdGrid(sparse=True)


def squeeze(x, axis=None):
    """x without its broadcastable dims (or those of `axis` that are broadcastable)."""
    x = basic.as_tensor_variable(x)
    if axis is None:
        axis = range(x.ndim)
    elif _is_int(axis):
        axis = [axis]
    axis = [a % x.ndim if x.ndim else a for a in axis]
    return basic.dimshuffle(x, [i for i in range(x.ndim)
                                if not x.broadcastable[i] or i not in axis])


def shape_padleft(t, n_ones=1):
    t = basic.as_tensor_variable(t)
    return basic.dimshuffle(t, ["x"] * n_ones + list(range(t.ndim)))


def shape_padright(t, n_ones=1):
    t = basic.as_tensor_variable(t)
    return basic.dimshuffle(t, list(range(t.ndim)) + ["x"] * n_ones)


def shape_padaxis(t, axis):
    """t with a new broadcastable dim inserted at `axis` (negative counts from the end)."""
    t = basic.as_tensor_variable(t)
    ndim = t.ndim + 1
    if not -ndim <= axis < ndim:
        raise IndexError("axis {0} is out of bounds [-{1}, {1})".format(axis, ndim))
    if axis < 0:
        axis += ndim
    pattern = list(range(t.ndim))
    pattern.insert(axis, "x")
    return DimShuffle(t.broadcastable, pattern)(t)


def swapaxes(y, axis1, axis2):
    y = basic.as_tensor_variable(y)
    order = list(range(y.ndim))
    order[axis1], order[axis2] = order[axis2], order[axis1]
    return y.dimshuffle(order)


from tensord.tensor.shape_ops_join import (argsort, concatenate, join, sort,  # noqa: E402
                                           stack, stacklists)
from tensord.tensor.shape_ops_tile import flatten, repeat, tile  # noqa: E402
