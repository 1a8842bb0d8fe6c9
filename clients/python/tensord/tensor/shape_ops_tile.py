"""tile, repeat and flatten (Theano's names and type rules); see shape_ops."""

from tensord import _dtypes
from tensord.graph import Apply, Variable
from tensord.tensor import basic
from tensord.tensor.ops import constant_value
from tensord.tensor.shape_ops import (_SimpleOp, _int64_scalar, _is_int, shape_padleft,
                                      vector_entries)
from tensord.tensor.type import TensorType
from tensord.tensor.var import TensorConstant, TensorVariable

__all__ = ["tile", "repeat", "flatten"]


class Tile(_SimpleOp):
    """numpy.tile with constant reps; reps shorter than x.ndim were padded by tile()."""

    wire_name = "tile"
    _attr_names = ("reps",)

    def __init__(self, reps):
        self.reps = [int(r) for r in reps]

    def make_node(self, x):
        if len(self.reps) < x.ndim:
            raise ValueError("tile: %d reps for a %d-d tensor" % (len(self.reps), x.ndim))
        if any(r < 0 for r in self.reps):
            raise ValueError("tile: reps must be >= 0, got %s" % (self.reps,))
        lead = len(self.reps) - x.ndim
        bcast = [r == 1 and (d < lead or x.broadcastable[d - lead])
                 for d, r in enumerate(self.reps)]
        return Apply(self, [x], [TensorType(x.dtype, bcast)()])

    def __str__(self):
        return "Tile{%s}" % (tuple(self.reps),)


def tile(x, reps, ndim=None):
    """x repeated `reps` times along each dim (numpy.tile). Constant reps make one Tile op;
    symbolic scalars in reps are built from alloc, dimshuffle and reshape, as Theano does."""
    x = basic.as_tensor_variable(x)
    if isinstance(reps, TensorVariable) and reps.ndim == 1:
        entries = vector_entries(reps)
        if entries is None:
            raise ValueError("tile: the length of reps %s cannot be determined; pass a list of "
                             "scalars" % (reps,))
        reps = entries
    elif _is_int(reps) or isinstance(reps, Variable):
        reps = [reps]
    if not isinstance(reps, (list, tuple)):
        raise TypeError("tile: reps must be a list of ints or integer scalars, got %r" % (reps,))
    symbolic = any(isinstance(r, Variable) for r in reps)
    reps = list(reps) if symbolic else [int(r) for r in reps]
    if ndim is not None:
        if ndim < x.ndim:
            raise ValueError("ndim should be equal or larger than x.ndim")
        if len(reps) > ndim:
            raise ValueError("len(reps) should be equal or less than ndim")
    ndim = ndim if ndim is not None else max(len(reps), x.ndim)
    reps = [1] * (ndim - len(reps)) + reps
    if symbolic:
        return _tile_symbolic(x, reps)
    return Tile(reps)(x)


def _tile_symbolic(x, reps):
    """Theano's construction for symbolic reps: alloc puts one new leading dim per rep in front
    of x, a dimshuffle interleaves (r0, s0, r1, s1, ...), a reshape merges each pair."""
    ndim = len(reps)
    reps = [_int64_scalar(r) for r in reps]
    x = shape_padleft(x, ndim - x.ndim) if x.ndim < ndim else x
    shape = [x.shape[i] for i in range(ndim)]
    y = basic.alloc(x, *(reps + shape))
    y = y.dimshuffle([k for i in range(ndim) for k in (i, ndim + i)])
    return y.reshape(tuple(s * r for s, r in zip(shape, reps)))


class RepeatOp(_SimpleOp):
    """numpy.repeat(x, repeats, axis); axis None repeats the flattened x."""

    wire_name = "repeat"
    _attr_names = ("axis",)

    def __init__(self, axis=None):
        self.axis = axis

    def make_node(self, x, repeats):
        if repeats.dtype not in _dtypes.INT_DTYPES + _dtypes.UINT_DTYPES:
            raise TypeError("repeats.dtype must be an integer.")
        if repeats.ndim > 1:
            raise ValueError("The dimension of repeats should not exceed 1.")
        if self.axis is None:
            bcast = (False,)
        else:
            # As Theano: only a constant count of 1 keeps the axis broadcastable.
            bcast = list(x.broadcastable)
            if constant_value(repeats) != 1:
                bcast[self.axis] = False
        return Apply(self, [x, repeats], [TensorType(x.dtype, bcast)()])

    def __str__(self):
        return "RepeatOp{axis=%s}" % self.axis


def repeat(x, repeats, axis=None):
    """Each element of x repeated `repeats` times (a scalar, or one count per element along
    axis); axis None works on the flattened x (numpy.repeat)."""
    x = basic.as_tensor_variable(x)
    repeats = basic.as_tensor_variable(repeats)
    if isinstance(repeats, TensorConstant) and repeats.ndim == 1 and repeats.data.size == 1:
        repeats = basic.constant(repeats.data.reshape(()))
    if axis is not None:
        if not -x.ndim <= axis < x.ndim:
            raise ValueError("repeat: axis %d is out of range for a %d-d tensor" % (axis, x.ndim))
        axis = int(axis) % x.ndim
    return RepeatOp(axis)(x, repeats)


class Flatten(_SimpleOp):
    """Keeps the first ndim-1 dims and flattens the rest into one."""

    wire_name = "flatten"
    _attr_names = ("ndim",)

    def __init__(self, ndim=1):
        self.ndim = int(ndim)

    def make_node(self, x):
        if self.ndim < 1 or (self.ndim > 1 and self.ndim > x.ndim):
            raise ValueError("ndim %s out of bound [1, %d)" % (self.ndim, x.ndim + 1))
        bcast = x.broadcastable[:self.ndim - 1] + (all(x.broadcastable[self.ndim - 1:]),)
        return Apply(self, [x], [TensorType(x.dtype, bcast)()])

    def __str__(self):
        return "Flatten{%d}" % self.ndim


def flatten(x, ndim=None, outdim=None):
    """Theano's flatten: the first ndim-1 dims kept, the rest flattened (ndim=1: a vector)."""
    if ndim is None:
        ndim = outdim if outdim is not None else 1
    return Flatten(ndim)(basic.as_tensor_variable(x))
