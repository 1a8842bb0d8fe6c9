"""Indexing, as Theano's tensor.subtensor: x[...] (basic and advanced), set_subtensor,
inc_subtensor and take.

Index lists travel as the attribute `idx_list`: four ints per entry, [0, i, 0, 0] an integer,
[1, start, stop, step] a slice, [2, 0, 0, 0] an index array (the next input). NONE marks an
omitted slice part and SYMBOLIC a part given by the next input (an integer scalar), so constant
parts are attributes and symbolic parts inputs, like Theano's idx_list.
"""

import numpy as np

from tensord import _dtypes
from tensord.graph import Apply, Op
from tensord.tensor.type import TensorType

__all__ = ["getitem", "set_subtensor", "inc_subtensor", "take", "Subtensor", "IncSubtensor",
           "AdvancedSubtensor1", "AdvancedSubtensor", "AdvancedIncSubtensor1",
           "AdvancedIncSubtensor"]

NONE = -2 ** 63
SYMBOLIC = -2 ** 63 + 1
INT, SLICE, ARRAY = 0, 1, 2
_INTEGER = _dtypes.INT_DTYPES + _dtypes.UINT_DTYPES


def _basic():
    from tensord.tensor import basic
    return basic


def _is_variable(x):
    from tensord.tensor.var import TensorVariable
    return isinstance(x, TensorVariable)


def _scalar_part(part, inputs):
    """A slice part or integer index -> its idx_list value; symbolic scalars join `inputs`."""
    from tensord.tensor.var import TensorConstant
    if part is None:
        return NONE
    if isinstance(part, TensorConstant) and part.ndim == 0:
        part = part.data.item()
    if _is_variable(part):
        if part.ndim != 0 or part.dtype not in _INTEGER:
            raise TypeError("Expected an integer scalar as index, got %s" % part.type)
        inputs.append(part)
        return SYMBOLIC
    if isinstance(part, (bool, np.bool_)) or not isinstance(part, (int, np.integer)):
        raise TypeError("Expected an integer index, got %r" % (part,))
    return int(part)


def _entries_type(x, flat, index_inputs):
    """The output type of indexing x by `flat` (the server's rule, kept identical)."""
    before, after, arrays = [], [], []
    d, pos, next_input = 0, [], 0
    for g in range(0, len(flat), 4):
        kind = flat[g]
        if kind == INT:
            next_input += flat[g + 1] == SYMBOLIC
            d += 1
        elif kind == SLICE:
            start, stop = flat[g + 1], flat[g + 2]
            keeps = (start in (NONE, 0)) and (stop == NONE or (stop != SYMBOLIC and stop > 0))
            (before if not arrays else after).append(x.broadcastable[d] and keeps)
            next_input += sum(v == SYMBOLIC for v in flat[g + 1:g + 4])
            d += 1
        else:
            t = index_inputs[next_input]
            next_input += 1
            pos.append(g // 4)
            arrays.append((False,) if t.dtype == "bool" else t.broadcastable)
            d += t.ndim if t.dtype == "bool" else 1
    after.extend(x.broadcastable[d:])
    nd = max([len(a) for a in arrays] or [0])
    index = [all(a[j + len(a) - nd] for a in arrays if j + len(a) >= nd) for j in range(nd)]
    if not pos or pos[-1] - pos[0] + 1 == len(pos):
        return tuple(before + index + after)
    return tuple(index + before + after)


class _Indexed(Op):
    """Shared by the ops that carry an idx_list."""

    def __init__(self, flat):
        self.flat = [int(v) for v in flat]

    def attrs(self):
        return {"idx_list": list(self.flat)}

    def _describe(self):
        parts = []
        for g in range(0, len(self.flat), 4):
            kind, a, b, c = self.flat[g:g + 4]
            show = lambda v: "" if v == NONE else ("int64" if v == SYMBOLIC else str(v))  # noqa
            if kind == INT:
                parts.append(show(a))
            elif kind == SLICE:
                parts.append(":".join([show(a), show(b)] + ([show(c)] if c != NONE else [])))
            else:
                parts.append("array")
        return ", ".join(parts)


class Subtensor(_Indexed):
    """x[i, a:b:c, ...]: integers and slices; the server returns a strided view."""

    wire_name = "subtensor"

    def make_node(self, x, *scalars):
        bcast = _entries_type(x, self.flat, scalars)  # integer entries drop their dim
        return Apply(self, [x] + list(scalars), [TensorType(x.dtype, bcast)()])

    def __str__(self):
        return "Subtensor{%s}" % self._describe()


class IncSubtensor(_Indexed):
    """A copy of x with x[idx] incremented by (or, set_instead_of_inc, set to) y."""

    wire_name = "inc_subtensor"

    def __init__(self, flat, set_instead_of_inc=False):
        super().__init__(flat)
        self.set_instead_of_inc = bool(set_instead_of_inc)

    def attrs(self):
        return {"idx_list": list(self.flat), "set_instead_of_inc": self.set_instead_of_inc}

    def make_node(self, x, y, *indices):
        indexed = len(_entries_type(x, self.flat, indices))
        if y.ndim > indexed:
            raise TypeError("Trying to %s a %d-dimensional subtensor with a %d-dimensional value."
                            % ("set" if self.set_instead_of_inc else "increment", indexed, y.ndim))
        return Apply(self, [x, y] + list(indices), [x.type()])

    def __str__(self):
        kind = "Set" if self.set_instead_of_inc else "Inc"
        return "%s{%s;%s}" % (type(self).__name__, kind, self._describe())


class AdvancedSubtensor(Subtensor):
    """NumPy advanced indexing: integer arrays / boolean masks mixed with slices."""

    wire_name = "advanced_subtensor"

    def __str__(self):
        return "AdvancedSubtensor"


class AdvancedIncSubtensor(IncSubtensor):
    wire_name = "advanced_inc_subtensor"


class AdvancedSubtensor1(Op):
    """x[ilist] along axis 0 for an integer vector ilist."""

    wire_name = "advanced_subtensor1"

    def make_node(self, x, ilist):
        if x.ndim < 1:
            raise TypeError("cannot index a 0-d tensor")
        bcast = ilist.broadcastable[:1] + x.broadcastable[1:]
        return Apply(self, [x, ilist], [TensorType(x.dtype, bcast)()])

    def __str__(self):
        return "AdvancedSubtensor1"


class AdvancedIncSubtensor1(Op):
    wire_name = "advanced_inc_subtensor1"

    def __init__(self, set_instead_of_inc=False):
        self.set_instead_of_inc = bool(set_instead_of_inc)

    def attrs(self):
        return {"set_instead_of_inc": self.set_instead_of_inc}

    def make_node(self, x, y, ilist):
        if y.ndim > x.ndim:
            raise TypeError("Trying to %s a %d-dimensional subtensor with a %d-dimensional value."
                            % ("set" if self.set_instead_of_inc else "increment", x.ndim, y.ndim))
        return Apply(self, [x, y, ilist], [x.type()])

    def __str__(self):
        return "Advanced%sSubtensor1" % ("Set" if self.set_instead_of_inc else "Inc")


def _as_index_array(arg):
    """A list / ndarray / variable index -> an integer or boolean tensor variable."""
    if _is_variable(arg):
        var = arg
    else:
        data = np.asarray(arg)
        if data.dtype.kind not in "biu" and not (data.size == 0 and data.dtype.kind == "f"):
            raise TypeError("index arrays must be integer or boolean, got %s" % data.dtype)
        if data.dtype.kind == "f":
            data = data.astype("int64")
        var = _basic().constant(data)
    if var.dtype not in _INTEGER + ("bool",):
        raise TypeError("index arrays must be integer or boolean, got %s" % var.type)
    return var


def _is_advanced(arg):
    if isinstance(arg, (list, tuple, np.ndarray)):
        return True
    if isinstance(arg, (bool, np.bool_)):
        return True
    return _is_variable(arg) and (arg.ndim > 0 or arg.dtype == "bool")


def _expand(x, args):
    """Resolves Ellipsis and None: None becomes a new broadcastable dim of x taken whole."""
    def dims_of(a):
        if a is None or a is Ellipsis:
            return 0
        if _is_advanced(a) and not _is_variable(a) and np.asarray(a).dtype == bool:
            return np.asarray(a).ndim
        if _is_variable(a) and a.dtype == "bool":
            return a.ndim
        return 1
    used = sum(dims_of(a) for a in args)
    if sum(a is Ellipsis for a in args) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if used > x.ndim:
        raise IndexError("too many indices for a %d-d tensor: %d" % (x.ndim, used))
    out = []
    for a in args:
        out.extend([slice(None)] * (x.ndim - used) if a is Ellipsis else [a])
    if any(a is None for a in out):
        pattern, d = [], 0
        for a in out:
            if a is None:
                pattern.append("x")
            else:
                pattern.extend(range(d, d + dims_of(a)))
                d += dims_of(a)
        pattern.extend(range(d, x.ndim))
        x = x.dimshuffle(pattern)
        out = [slice(None) if a is None else a for a in out]
    return x, out


def _index_parts(x, args):
    """(op kind, flat idx_list, index inputs) for x[args] after _expand."""
    advanced = any(_is_advanced(a) for a in args)
    flat, inputs = [], []
    for a in args:
        if isinstance(a, slice):
            flat += [SLICE] + [_scalar_part(p, inputs) for p in (a.start, a.stop, a.step)]
            if flat[-1] == 0:
                raise ValueError("slice step cannot be zero")
        elif advanced and (_is_advanced(a) or _is_variable(a)):
            flat += [ARRAY, 0, 0, 0]
            inputs.append(_as_index_array(a))
        elif advanced:
            _scalar_part(a, [])  # type check
            flat += [ARRAY, 0, 0, 0]
            inputs.append(_basic().constant(np.asarray(int(a), dtype="int64")))
        else:
            flat += [INT, _scalar_part(a, inputs), 0, 0]
    return advanced, flat, inputs


def getitem(x, idx):
    """x[idx] with NumPy's (and Theano's) semantics."""
    args = list(idx) if isinstance(idx, tuple) else [idx]
    x, args = _expand(x, args)
    advanced, flat, inputs = _index_parts(x, args)
    if not advanced:
        return Subtensor(flat)(x, *inputs)
    rest_full = all(a == slice(None) for a in args[1:])
    if (len(inputs) == 1 and flat[0] == ARRAY and rest_full and inputs[0].ndim == 1
            and inputs[0].dtype != "bool"):
        return AdvancedSubtensor1()(x, inputs[0])
    return AdvancedSubtensor(flat)(x, *inputs)


def _inc(x_sub, y, set_instead_of_inc):
    from tensord.tensor.var import TensorVariable
    if not isinstance(x_sub, TensorVariable) or x_sub.owner is None or not isinstance(
            x_sub.owner.op, (Subtensor, AdvancedSubtensor1)):
        raise TypeError("x must be the result of a subtensor operation")
    y = _basic().as_tensor_variable(y)
    op, inputs = x_sub.owner.op, x_sub.owner.inputs
    if y.ndim > x_sub.ndim:
        raise TypeError("Trying to increment a %d-dimensional subtensor with a %d-dimensional "
                        "value." % (x_sub.ndim, y.ndim))
    if isinstance(op, AdvancedSubtensor1):
        return AdvancedIncSubtensor1(set_instead_of_inc)(inputs[0], y, inputs[1])
    cls = AdvancedIncSubtensor if isinstance(op, AdvancedSubtensor) else IncSubtensor
    return cls(op.flat, set_instead_of_inc)(inputs[0], y, *inputs[1:])


def set_subtensor(x, y, inplace=False, tolerate_inplace_aliasing=False):
    """A new tensor equal to the tensor x indexes, with the indexed part replaced by y
    (NumPy's `z = a.copy(); z[idx] = y`); y broadcasts."""
    return _inc(x, y, True)


def inc_subtensor(x, y, inplace=False, set_instead_of_inc=False,
                  tolerate_inplace_aliasing=False):
    """Like set_subtensor but adds y; repeated advanced indices accumulate (numpy.add.at)."""
    return _inc(x, y, set_instead_of_inc)


def take(a, indices, axis=None, mode="raise"):
    """numpy.take: a's entries at `indices` along `axis` (None: of the flattened a)."""
    if mode != "raise":
        raise NotImplementedError("take: only mode='raise' is supported")
    a = _basic().as_tensor_variable(a)
    indices = _as_index_array(indices)
    if indices.dtype == "bool":
        raise TypeError("take needs integer indices, got %s" % indices.type)
    if axis is None:
        a, axis = a.flatten(), 0
    if not -a.ndim <= axis < a.ndim:
        raise ValueError("axis %d is out of range for a %d-d tensor" % (axis, a.ndim))
    axis %= a.ndim
    if axis == 0 and indices.ndim == 1:
        return AdvancedSubtensor1()(a, indices)
    return getitem(a, tuple([slice(None)] * axis + [indices]))
