"""Pooling as Theano's `theano.tensor.signal.pool`: pool_2d, pool_3d, max_pool_2d_same_size.

Each is the server op `pool` over the last 2 (or 3) dims of its input, whatever the leading
dims; its gradient (`pool_grad`) and second gradient are the server's. Max mode routes each
window's gradient to the window's first maximum, as cuDNN and oneDNN do; Theano's CPU
MaxPoolGrad gave it to every element equal to the maximum, which differs only where a window
holds ties (all-zero windows after a relu). Window sizes, strides and pads are constants.
"""

import warnings

import numpy as np

from tensord.graph import Apply, Op
from tensord.tensor.type import TensorType

__all__ = ["pool_2d", "pool_3d", "max_pool_2d_same_size", "Pool", "PoolGrad"]

MODES = ("max", "sum", "average_inc_pad", "average_exc_pad")


def _basic():
    from tensord.tensor import basic
    return basic


def _ints(value, nd, what):
    value = tuple(value) if isinstance(value, (tuple, list, np.ndarray)) else (value,) * nd
    if len(value) != nd or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                   for v in value):
        raise ValueError("%s must be %d integers (constants), got %r" % (what, nd, value))
    return tuple(int(v) for v in value)


class _PoolOp(Op):
    _theano_name = "Pool"

    def __init__(self, ws, stride=None, pad=None, ignore_border=False, mode="max"):
        nd = len(ws)
        self.ws = _ints(ws, nd, "ws")
        self.stride = _ints(self.ws if stride is None else stride, nd, "stride")
        self.pad = _ints((0,) * nd if pad is None else pad, nd, "pad")
        if mode not in MODES:
            raise ValueError("mode must be one of %s, got %r" % (", ".join(MODES), mode))
        if min(self.ws) < 1 or min(self.stride) < 1 or min(self.pad) < 0:
            raise ValueError("ws and stride must be >= 1 and pad >= 0, got %r, %r, %r"
                             % (self.ws, self.stride, self.pad))
        if any(self.pad) and not ignore_border:
            raise NotImplementedError("padding works only with ignore_border=True")
        if any(p >= w for p, w in zip(self.pad, self.ws)):
            raise NotImplementedError("pad must be smaller than ws, got %r and %r"
                                      % (self.pad, self.ws))
        self.ignore_border, self.mode = bool(ignore_border), mode

    def attrs(self):
        return {"ws": list(self.ws), "stride": list(self.stride), "pad": list(self.pad),
                "ignore_border": self.ignore_border, "mode": self.mode}

    def _input(self, x):
        x = _basic().as_tensor_variable(x)
        if x.ndim < len(self.ws):
            raise TypeError("%s needs an input of at least %d dims, got %s"
                            % (self._theano_name, len(self.ws), x.type))
        if x.dtype not in ("float32", "float64"):
            raise TypeError("pooling needs a float32 or float64 input, got %s" % x.type)
        return x

    def _pooled_type(self, x):
        nd = len(self.ws)
        return TensorType(x.dtype, x.broadcastable[:x.ndim - nd] + (False,) * nd)()

    def __str__(self):
        return "%s{ignore_border=%s, mode='%s', ndim=%d}" % (
            self._theano_name, self.ignore_border, self.mode, len(self.ws))


class Pool(_PoolOp):
    """Pools the last len(ws) dims of its input (Theano's Pool)."""

    wire_name = "pool"

    def make_node(self, x):
        x = self._input(x)
        return Apply(self, [x], [self._pooled_type(x)])


class PoolGrad(_PoolOp):
    """The input's gradient of Pool from (x, gz) (Theano's MaxPoolGrad / AveragePoolGrad)."""

    wire_name = "pool_grad"

    @property
    def _theano_name(self):
        return "MaxPoolGrad" if self.mode == "max" else "AveragePoolGrad"

    def make_node(self, x, gz):
        x = self._input(x)
        gz = _basic().as_tensor_variable(gz)
        if gz.ndim != x.ndim:
            raise TypeError("PoolGrad: the gradient has rank %d, the input %d" % (gz.ndim, x.ndim))
        return Apply(self, [x, _basic().cast(gz, x.dtype)], [x.type()])


def _ignore_border(ignore_border, name):
    if ignore_border is None:
        warnings.warn("%s() will have the parameter ignore_border default value changed to True "
                      "(currently False). To have consistent behavior with all Theano version, "
                      "explicitly add the parameter ignore_border=True." % name, stacklevel=3)
        return False
    return ignore_border


def _pool(nd, name, input, ws, ignore_border, stride, pad, mode, ds, st, padding):
    # Theano's old names: ds for ws, st for stride, padding for pad.
    ws = ws if ws is not None else ds
    if ws is None:
        raise ValueError("%s() needs ws (the window size)" % name)
    stride = stride if stride is not None else st
    pad = padding if padding is not None else pad
    op = Pool(_ints(ws, nd, "ws"), stride, pad, _ignore_border(ignore_border, name), mode)
    return op(input)


def pool_2d(input, ws=None, ignore_border=None, stride=None, pad=(0, 0), mode="max", ds=None,
            st=None, padding=None):
    """Downscales the last 2 dims of `input` by pooling windows of ws (rows, cols) every stride
    (default ws) after padding `pad` zeros on both sides (ignore_border=True only).

    mode: 'max', 'sum', 'average_inc_pad' (the padding counts in the average) or
    'average_exc_pad'. ignore_border=False keeps the partial windows at the far edges."""
    return _pool(2, "pool_2d", input, ws, ignore_border, stride, pad, mode, ds, st, padding)


def pool_3d(input, ws=None, ignore_border=None, stride=None, pad=(0, 0, 0), mode="max", ds=None,
            st=None, padding=None):
    """pool_2d over the last 3 dims."""
    return _pool(3, "pool_3d", input, ws, ignore_border, stride, pad, mode, ds, st, padding)


def max_pool_2d_same_size(input, patch_size):
    """Keeps the maximum of each non-overlapping patch_size patch of the last 2 dims and sets
    every other element to zero (output shaped as the input)."""
    op = Pool(_ints(patch_size, 2, "patch_size"), ignore_border=True, mode="max")
    pooled = op(input)
    return PoolGrad(op.ws, op.stride, op.pad, True, "max")(input, pooled)
