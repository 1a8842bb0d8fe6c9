"""Contractions beyond dot: outer, tensordot, batched_dot, batched_tensordot (Theano's names)."""

import numpy as np

from tensord import _dtypes
from tensord.graph import Apply, Op
from tensord.tensor.type import TensorType

__all__ = ["outer", "tensordot", "batched_dot", "batched_tensordot", "TensorDot", "BatchedDot"]


def _basic():
    from tensord.tensor import basic
    return basic


def _normalize(axes, ndim, what):
    out = []
    for a in axes:
        a = int(a)
        if not -ndim <= a < ndim:
            raise ValueError("tensordot: axis %d is out of range for %s of rank %d"
                             % (a, what, ndim))
        out.append(a % ndim)
    if len(set(out)) != len(out):
        raise ValueError("tensordot: repeated axis in %s" % (list(axes),))
    return out


class TensorDot(Op):
    """Sums a's axes_a against b's axes_b (paired in order); batched: axis 0 of both is a batch."""

    def __init__(self, axes_a, axes_b, batched=False):
        self.axes_a, self.axes_b = [int(a) for a in axes_a], [int(b) for b in axes_b]
        self.batched = batched
        self.wire_name = "batched_tensordot" if batched else "tensordot"

    def attrs(self):
        return {"axes_a": list(self.axes_a), "axes_b": list(self.axes_b)}

    def make_node(self, a, b):
        if self.batched and (a.ndim < 2 or b.ndim < 2):
            raise TypeError("batched_tensordot needs operands of rank >= 2 (axis 0 is the batch)")
        if len(self.axes_a) != len(self.axes_b):
            raise ValueError("tensordot: axes lists differ in length: %s and %s"
                             % (self.axes_a, self.axes_b))
        axes_a = _normalize(self.axes_a, a.ndim, "a")
        axes_b = _normalize(self.axes_b, b.ndim, "b")
        if self.batched and (0 in axes_a or 0 in axes_b):
            raise ValueError("batched_tensordot: axis 0 is the batch axis")
        start = 1 if self.batched else 0
        bcast = (a.broadcastable[0] or b.broadcastable[0],) if self.batched else ()
        bcast += tuple(a.broadcastable[d] for d in range(start, a.ndim) if d not in axes_a)
        bcast += tuple(b.broadcastable[d] for d in range(start, b.ndim) if d not in axes_b)
        return Apply(self, [a, b], [TensorType(_dtypes.upcast(a.dtype, b.dtype), bcast)()])

    def __str__(self):
        return "%s{%s, %s}" % (self.wire_name, self.axes_a, self.axes_b)


class BatchedDot(Op):
    """Theano's BatchedDot: dot per batch item along axis 0."""

    wire_name = "batched_dot"

    def make_node(self, a, b):
        if a.ndim < 2 or b.ndim < 2:
            raise TypeError("batched_dot needs operands of rank >= 2")
        summed_b = max(1, b.ndim - 2)
        bcast = ((a.broadcastable[0] or b.broadcastable[0],) + a.broadcastable[1:-1]
                 + tuple(x for i, x in enumerate(b.broadcastable) if i not in (0, summed_b)))
        return Apply(self, [a, b], [TensorType(_dtypes.upcast(a.dtype, b.dtype), bcast)()])

    def __str__(self):
        return "BatchedDot"


def outer(x, y):
    """The outer product of two vectors (numpy.outer for vectors)."""
    x, y = _basic().as_tensor_variable(x), _basic().as_tensor_variable(y)
    if x.ndim != 1:
        x = x.flatten()
    if y.ndim != 1:
        y = y.flatten()
    return _basic().dot(x.dimshuffle(0, "x"), y.dimshuffle("x", 0))


def _axes_pair(a, b, axes):
    if isinstance(axes, (int, np.integer)):
        axes = int(axes)
        if axes < 0 or axes > min(a.ndim, b.ndim):
            raise ValueError("tensordot: axes=%d is out of range for ranks %d and %d"
                             % (axes, a.ndim, b.ndim))
        return list(range(a.ndim - axes, a.ndim)), list(range(axes))
    axes = list(axes)
    if len(axes) != 2:
        raise ValueError("tensordot: axes must be an int or a pair of axis lists, got %r" % (axes,))
    axes_a, axes_b = axes
    axes_a = [axes_a] if isinstance(axes_a, (int, np.integer)) else list(axes_a)
    axes_b = [axes_b] if isinstance(axes_b, (int, np.integer)) else list(axes_b)
    return axes_a, axes_b


def tensordot(a, b, axes=2):
    """numpy.tensordot: axes=n sums a's last n axes with b's first n; a pair of lists pairs
    a's axes with b's."""
    a, b = _basic().as_tensor_variable(a), _basic().as_tensor_variable(b)
    axes_a, axes_b = _axes_pair(a, b, axes)
    return TensorDot(axes_a, axes_b)(a, b)


def batched_dot(a, b):
    """Theano's batched_dot: axis 0 is the batch; per item a dot (3-D x 3-D: matmuls, 2-D x
    2-D: vector dots); a vector operand scales the other per batch item."""
    a, b = _basic().as_tensor_variable(a), _basic().as_tensor_variable(b)
    if a.ndim == 0 or b.ndim == 0:
        raise TypeError("batched_dot: operands need a batch axis")
    if a.ndim == 1:
        return a.dimshuffle(*([0] + ["x"] * (b.ndim - 1))) * b
    if b.ndim == 1:
        return a * b.dimshuffle(*([0] + ["x"] * (a.ndim - 1)))
    return BatchedDot()(a, b)


def batched_tensordot(x, y, axes=2):
    """tensordot per batch item along axis 0; `axes` as tensordot's, counted on the full
    operands (so never 0)."""
    x, y = _basic().as_tensor_variable(x), _basic().as_tensor_variable(y)
    if isinstance(axes, (int, np.integer)):
        n = int(axes)
        if n < 0 or n > min(x.ndim, y.ndim) - 1:
            raise ValueError("batched_tensordot: axes=%d is out of range" % n)
        axes_x, axes_y = list(range(x.ndim - n, x.ndim)), list(range(1, n + 1))
    else:
        axes_x, axes_y = _axes_pair(x, y, axes)
    return TensorDot(axes_x, axes_y, batched=True)(x, y)
