"""join / concatenate / stack / stacklists and sort / argsort (Theano's names and type rules);
see shape_ops."""

import numpy as np

from tensord import _dtypes
from tensord.graph import Apply
from tensord.tensor import basic
from tensord.tensor.shape_ops import MakeVector, _SimpleOp, _is_int, shape_padaxis
from tensord.tensor.shape_ops_tile import flatten
from tensord.tensor.type import TensorType
from tensord.tensor.var import TensorConstant, TensorVariable

__all__ = ["join", "concatenate", "stack", "stacklists", "sort", "argsort"]


def _const_axis(axis):
    if isinstance(axis, TensorConstant) and axis.ndim == 0 and axis.dtype in (
            _dtypes.INT_DTYPES + _dtypes.UINT_DTYPES):
        return int(axis.data)
    if _is_int(axis):
        return int(axis)
    raise NotImplementedError("the axis must be a Python int or an integer constant (a symbolic "
                              "axis is not supported), got %r" % (axis,))


class Join(_SimpleOp):
    """numpy.concatenate along a constant axis; dtypes promote."""

    wire_name = "join"
    _attr_names = ("axis",)

    def __init__(self, axis):
        self.axis = int(axis)

    def make_node(self, *tensors):
        if not tensors:
            raise ValueError("Cannot join an empty list of tensors")
        ndim = tensors[0].ndim
        if ndim == 0 or not all(t.ndim for t in tensors):
            raise TypeError("Join cannot handle arguments of dimension 0. For joining scalar "
                            "values, see @stack")
        if not all(t.ndim == ndim for t in tensors[1:]):
            raise TypeError("Join() can only join tensors with the same number of dimensions.")
        if not -ndim <= self.axis < ndim:
            raise IndexError("Join axis %d out of bounds [0, %d)" % (self.axis, ndim))
        axis = self.axis % ndim
        if len(tensors) == 1:
            bcast = list(tensors[0].broadcastable)
        else:
            # Theano: broadcastable where any input is, except along the joined axis.
            bcast = [d != axis and any(t.broadcastable[d] for t in tensors) for d in range(ndim)]
        dtype = _dtypes.upcast(*[t.dtype for t in tensors])
        return Apply(self, list(tensors), [TensorType(dtype, bcast)()])

    def __str__(self):
        return "Join"


def join(axis, *tensors_list):
    """Concatenates tensors along `axis` (numpy.concatenate); one tensor is returned as is."""
    tensors = [basic.as_tensor_variable(t) for t in tensors_list]
    if len(tensors) == 1:
        return tensors[0]
    return Join(_const_axis(axis))(*tensors)


def concatenate(tensor_list, axis=0):
    if not isinstance(tensor_list, (tuple, list)):
        raise TypeError("The 'tensors' argument must be either a tuple or a list, make sure you "
                        "did not forget () or [] around arguments of concatenate.", tensor_list)
    return join(axis, *tensor_list)


def _is_scalar(t):
    return (isinstance(t, (np.number, float, int)) and not isinstance(t, np.bool_)) or (
        isinstance(t, TensorVariable) and t.ndim == 0)


def stack(*tensors, **kwargs):
    """Stacks tensors along a new axis: stack(tensors, axis=0) (or Theano's older
    stack(a, b, c)). Scalars become a MakeVector, as in Theano."""
    if not tensors and not kwargs:
        raise Exception("theano.tensor.stack(tensors, axis) must have at least one parameter")
    if not kwargs and not isinstance(tensors[0], (list, tuple)):
        axis = 0
    elif "tensors" in kwargs:
        tensors, axis = kwargs["tensors"], kwargs.get("axis", 0)
    else:
        axis = tensors[1] if len(tensors) == 2 else kwargs.get("axis", 0)
        tensors = tensors[0]
    if len(tensors) == 0:
        raise Exception("tensors is empty. You should at least provide one tensor to "
                        "theano.tensor.stack(tensors, axis).")
    if all(_is_scalar(t) for t in tensors):
        tensors = [basic.as_tensor_variable(t) for t in tensors]
        return MakeVector(_dtypes.upcast(*[t.dtype for t in tensors]))(*tensors)
    axis = _const_axis(axis)
    return join(axis, *[shape_padaxis(t, axis) for t in tensors])


def stacklists(arg):
    """Nested lists of tensors stacked into one tensor (stacklists([[a, b], [c, d]]))."""
    if isinstance(arg, (tuple, list)):
        return stack(list(map(stacklists, arg)))
    return arg


class SortOp(_SimpleOp):
    """sort / argsort along one axis (stable; NaN last, as NumPy)."""

    _attr_names = ("axis",)

    def __init__(self, wire_name, axis):
        self.wire_name = wire_name
        self.axis = int(axis)

    def make_node(self, x):
        if not -x.ndim <= self.axis < x.ndim:
            raise ValueError("%s: axis %d is out of range for a %d-d tensor"
                             % (self.wire_name, self.axis, x.ndim))
        dtype = "int64" if self.wire_name == "argsort" else x.dtype
        return Apply(self, [x], [TensorType(dtype, x.broadcastable)()])

    def __str__(self):
        return "%s{axis=%d}" % ("ArgSortOp" if self.wire_name == "argsort" else "SortOp",
                                self.axis)


def _sort(wire_name, a, axis):
    a = basic.as_tensor_variable(a)
    if axis is None:
        a, axis = flatten(a), 0
    return SortOp(wire_name, _const_axis(axis))(a)


def sort(a, axis=-1, kind="quicksort", order=None):
    """a sorted along `axis` (None: flattened). Always stable; NaN sorts last."""
    if order is not None:
        raise NotImplementedError("sort: `order` (structured arrays) is not supported")
    return _sort("sort", a, axis)


def argsort(a, axis=-1, kind="quicksort", order=None):
    """The int64 indices that sort a along `axis` (None: flattened); stable, NaN last."""
    if order is not None:
        raise NotImplementedError("argsort: `order` (structured arrays) is not supported")
    return _sort("argsort", a, axis)
