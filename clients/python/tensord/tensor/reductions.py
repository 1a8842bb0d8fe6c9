"""Reductions and scans with Theano's signatures: T.prod, T.min, T.all, T.any, T.argmax,
T.argmin, T.max_and_argmax, T.mean, T.var, T.std, T.ptp, T.cumsum, T.cumprod.

Each reduction is one server op over an `axis` attribute (absent: all axes); keepdims is put
back client-side with a DimShuffle, as Theano does. The scans are Theano's CumOp, one wire op
`cumop` with attribute mode 'add' or 'mul'.
"""

import numpy as np

from tensord import _dtypes, _op_schema
from tensord.graph import Apply, Op
from tensord.tensor import basic
from tensord.tensor.ops import normalize_axis
from tensord.tensor.type import TensorType

__all__ = ["prod", "min", "all", "any", "argmax", "argmin", "max_and_argmax", "mean", "var",
           "std", "ptp", "cumsum", "cumprod"]


class Reduction(Op):
    """A reduction over `axis` (a sorted tuple, or None for all axes) whose output dtypes the
    op schema's typing gives; `extra` holds further wire attributes (dtype, ddof ...).
    `dtype_rule` (input dtype -> output dtype) replaces the schema's rule: for building nodes the
    server is meant to refuse, in tests."""

    def __init__(self, wire_name, axis, dtype_rule=None, extra=None, theano_name=None):
        self.wire_name = wire_name
        self.axis = axis
        self.dtype_rule = dtype_rule
        self.extra = dict(extra or {})
        self.theano_name = theano_name or wire_name.capitalize()

    def attrs(self):
        attrs = dict(self.extra)
        if self.axis is not None:
            attrs["axis"] = list(self.axis)
        return attrs

    def _reduced_bcast(self, x):
        axes = range(x.ndim) if self.axis is None else self.axis
        return tuple(b for i, b in enumerate(x.broadcastable) if i not in axes)

    def make_node(self, x):
        dtype_attr = self.extra.get("dtype")
        if self.dtype_rule is not None:
            dtypes = [self.dtype_rule(x.dtype)]
        else:
            dtypes = _op_schema.reduced_dtypes(
                self.wire_name, x.dtype,
                None if dtype_attr is None else np.dtype(dtype_attr).name)
        bcast = self._reduced_bcast(x)
        return Apply(self, [x], [TensorType(d, bcast)() for d in dtypes])

    def __str__(self):
        if self.axis is None:
            return self.theano_name
        return "%s{%s}" % (self.theano_name, ", ".join(map(str, self.axis)))


class MaxAndArgmax(Reduction):
    """Theano's MaxAndArgmax: [max (input dtype), argmax (int64)] from one pass."""

    def __init__(self, axis):
        super().__init__("max_and_argmax", axis, theano_name="MaxAndArgmax")


class CumOp(Op):
    """Theano's CumOp: cumulative sum (mode 'add') or product ('mul') along `axis`, or over the
    flattened input when axis is None. Small ints accumulate in 64 bits, as NumPy."""

    wire_name = "cumop"

    def __init__(self, axis=None, mode="add"):
        if mode not in ("add", "mul"):
            raise ValueError("CumOp mode must be 'add' or 'mul', got %r" % (mode,))
        self.axis = axis
        self.mode = mode

    def attrs(self):
        attrs = {"mode": self.mode}
        if self.axis is not None:
            attrs["axis"] = [self.axis]
        return attrs

    def make_node(self, x):
        bcast = (False,) if self.axis is None else x.broadcastable
        return Apply(self, [x], [TensorType(_dtypes.sum_dtype(x.dtype), bcast)()])

    def __str__(self):
        return "CumOp{%s, %s}" % (self.axis, self.mode)


def _reduce(wire_name, x, axis, keepdims, extra=None, theano_name=None):
    x = basic.as_tensor_variable(x)
    axis = normalize_axis(axis, x.ndim)
    out = Reduction(wire_name, axis, extra=extra, theano_name=theano_name)(x)
    return basic._keepdims(out, x, axis) if keepdims else out


def prod(input, axis=None, dtype=None, keepdims=False, acc_dtype=None,
         no_zeros_in_input=False):
    """Product over `axis` (None: all). Small ints widen to int64/uint64 unless `dtype` is given."""
    extra = {"dtype": np.dtype(_dtypes.normalize(dtype))} if dtype is not None else None
    return _reduce("prod", input, axis, keepdims, extra)


def min(x, axis=None, keepdims=False):  # noqa: A001 - Theano's name
    """Minimum over `axis` (None: all); keeps the dtype; NaN propagates; empty -> error."""
    return _reduce("min", x, axis, keepdims)


def all(x, axis=None, keepdims=False):  # noqa: A001
    """True where every element along `axis` is nonzero (bool output)."""
    return _reduce("all", x, axis, keepdims)


def any(x, axis=None, keepdims=False):  # noqa: A001
    """True where some element along `axis` is nonzero (bool output)."""
    return _reduce("any", x, axis, keepdims)


def argmax(x, axis=None, keepdims=False):
    """int64 index of the maximum along `axis`; None (or several axes): index into those axes
    flattened in C order. Ties give the first index, NaN the first NaN, as NumPy."""
    return _reduce("argmax", x, axis, keepdims, theano_name="Argmax")


def argmin(x, axis=None, keepdims=False):
    """int64 index of the minimum along `axis` (see argmax)."""
    return _reduce("argmin", x, axis, keepdims, theano_name="Argmin")


def max_and_argmax(a, axis=None, keepdims=False):
    """[max, argmax] along `axis`, computed together (Theano's T.max_and_argmax)."""
    a = basic.as_tensor_variable(a)
    axis = normalize_axis(axis, a.ndim)
    outs = MaxAndArgmax(axis)(a)
    if keepdims:
        outs = [basic._keepdims(o, a, axis) for o in outs]
    return outs


def mean(input, axis=None, dtype=None, op=False, keepdims=False, acc_dtype=None):
    """Mean over `axis`: float32 stays float32, ints and bool give float64. The server always
    accumulates in float64, so `acc_dtype` has nothing left to choose."""
    x = basic.as_tensor_variable(input)
    if dtype is not None:
        dtype = _dtypes.normalize(dtype)
        if dtype not in ("float32", "float64"):
            raise NotImplementedError("mean(dtype=%s): only float32/float64 are supported" % dtype)
        x = basic.cast(x, dtype)
    return _reduce("mean", x, axis, keepdims)


def _moment(wire_name, input, axis, ddof, keepdims, corrected):
    ddof = int(ddof)
    if ddof < 0:
        raise ValueError("ddof must be >= 0, got %d" % ddof)
    extra = {"ddof": ddof}
    if corrected:
        extra["corrected"] = True
    return _reduce(wire_name, input, axis, keepdims, extra, theano_name=wire_name.capitalize())


def var(input, axis=None, ddof=0, keepdims=False, corrected=False):
    """Variance over `axis`, dividing by n - ddof (numpy.var). Two-pass in float64 on the
    server; `corrected` also subtracts the rounding error of the mean (Theano's option)."""
    return _moment("var", input, axis, ddof, keepdims, corrected)


def std(input, axis=None, ddof=0, keepdims=False, corrected=False):
    """Standard deviation: sqrt(var(...)) with the same arguments (numpy.std)."""
    return _moment("std", input, axis, ddof, keepdims, corrected)


def ptp(a, axis=None, keepdims=False):
    """max - min along `axis` (numpy.ptp; ints wrap, bool is refused like NumPy's subtract)."""
    return basic.sub(basic.max(a, axis=axis, keepdims=keepdims),
                     min(a, axis=axis, keepdims=keepdims))


def _cum(x, axis, mode):
    x = basic.as_tensor_variable(x)
    if axis is not None:
        if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
            raise TypeError("cumsum/cumprod axis must be an int or None, got %r" % (axis,))
        axis = normalize_axis(int(axis), x.ndim)[0]
    return CumOp(axis, mode)(x)


def cumsum(x, axis=None):
    """Cumulative sum along `axis` (None: over the flattened input, a vector), numpy.cumsum."""
    return _cum(x, axis, "add")


def cumprod(x, axis=None):
    """Cumulative product along `axis` (None: over the flattened input), numpy.cumprod."""
    return _cum(x, axis, "mul")
