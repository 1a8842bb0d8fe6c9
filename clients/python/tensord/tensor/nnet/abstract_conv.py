"""Convolution as Theano's `theano.tensor.nnet.abstract_conv`: conv2d, conv3d and their
gradients. Each is one server op (conv, conv_grad_inputs, conv_grad_weights) carrying the same
attributes, which the server differentiates, runs on oneDNN (float32) or im2col + BLAS
(float64), and types exactly as this module does.

Layouts are Theano's: inputs (batch, channels, *spatial), filters (out_channels,
channels / num_groups, *taps). `filter_flip=True` (the default) flips the filters, a true
convolution; False computes the cross-correlation.
"""

import numpy as np

from tensord import _dtypes
from tensord.graph import Apply, Op, Variable
from tensord.tensor.type import TensorType

__all__ = ["conv2d", "conv3d", "conv2d_grad_wrt_inputs", "conv2d_grad_wrt_weights",
           "conv3d_grad_wrt_inputs", "conv3d_grad_wrt_weights", "get_conv_output_shape",
           "AbstractConv", "AbstractConv_gradInputs", "AbstractConv_gradWeights"]


def _basic():
    from tensord.tensor import basic
    return basic


def _int_tuple(value, nd, what):
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (value,) * nd
    value = tuple(value)
    if len(value) != nd or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                   for v in value):
        raise ValueError("%s must be %d integers, got %r" % (what, nd, value))
    return tuple(int(v) for v in value)


def _border(border_mode, nd):
    """(server border_mode, pad) from Theano's border_mode: a name, an int or a tuple."""
    if isinstance(border_mode, str):
        if border_mode not in ("valid", "full", "half"):
            raise ValueError("border_mode must be 'valid', 'full', 'half', an int or a tuple of "
                             "%d ints, got %r" % (nd, border_mode))
        return border_mode, (0,) * nd
    if isinstance(border_mode, tuple) and any(isinstance(p, tuple) for p in border_mode):
        raise NotImplementedError("asymmetric padding (a tuple of pairs) is not supported; "
                                  "pad symmetrically or pad the input with T.join")
    pad = _int_tuple(border_mode, nd, "border_mode")
    if min(pad) < 0:
        raise ValueError("border_mode pads must be >= 0, got %r" % (pad,))
    return ("valid", pad) if pad == (0,) * nd else ("pad", pad)


class _ConvOp(Op):
    """The attributes the three convolution ops share (Theano's BaseAbstractConv)."""

    _theano_suffix = ""

    def __init__(self, convdim, border_mode="valid", subsample=None, filter_flip=True,
                 filter_dilation=None, num_groups=1, unshared=False):
        if unshared:
            raise NotImplementedError("unshared convolution (a filter per output position) is "
                                      "not supported")
        self.convdim = convdim
        self.border_mode, self.pad = _border(border_mode, convdim)
        self.subsample = _int_tuple(subsample or (1,) * convdim, convdim, "subsample")
        self.filter_dilation = _int_tuple(filter_dilation or (1,) * convdim, convdim,
                                          "filter_dilation")
        if min(self.subsample) < 1 or min(self.filter_dilation) < 1:
            raise ValueError("subsample and filter_dilation must be >= 1, got %r and %r"
                             % (self.subsample, self.filter_dilation))
        if int(num_groups) < 1:
            raise ValueError("num_groups must be >= 1, got %r" % (num_groups,))
        self.num_groups = int(num_groups)
        self.filter_flip = bool(filter_flip)

    def attrs(self):
        return {"border_mode": self.border_mode, "pad": list(self.pad),
                "subsample": list(self.subsample), "filter_dilation": list(self.filter_dilation),
                "num_groups": self.num_groups, "filter_flip": self.filter_flip}

    def _operands(self, a, b, what):
        a, b = _basic().as_tensor_variable(a), _basic().as_tensor_variable(b)
        nd = self.convdim + 2
        if a.ndim != nd or b.ndim != nd:
            raise TypeError("%s needs %s of %d dims, got %s and %s"
                            % (self.__class__.__name__, what, nd, a.type, b.type))
        dtype = _dtypes.upcast(a.dtype, b.dtype)
        if dtype not in ("float32", "float64"):
            raise TypeError("%s needs float32 or float64 operands, got %s and %s"
                            % (self.__class__.__name__, a.type, b.type))
        return a, b, dtype

    def _spatial(self, shape, what):
        """shape[2:] of a full shape (ints / scalars, None only for batch and channels) or of
        a symbolic shape vector, as an int64 vector."""
        from tensord.tensor.shape_ops import shape_vector
        if isinstance(shape, Variable):
            return _basic().cast(shape[2:], "int64")
        shape = tuple(shape)
        if len(shape) != self.convdim + 2 or any(s is None for s in shape[2:]):
            raise ValueError("%s must give all %d dims (batch and channels may be None), got %r"
                             % (what, self.convdim + 2, shape))
        return shape_vector(shape[2:])

    def __str__(self):
        border = ("'%s'" % self.border_mode if self.border_mode != "pad" else str(self.pad))
        return ("AbstractConv%dd%s{border_mode=%s, subsample=%s, filter_flip=%s, "
                "filter_dilation=%s, num_groups=%d}"
                % (self.convdim, self._theano_suffix, border, self.subsample, self.filter_flip,
                   self.filter_dilation, self.num_groups))


class AbstractConv(_ConvOp):
    """conv(input, filters) (Theano's AbstractConv2d / AbstractConv3d)."""

    wire_name = "conv"

    def make_node(self, img, kern):
        img, kern, dtype = self._operands(img, kern, "an input and filters")
        bcast = (img.broadcastable[0], kern.broadcastable[0]) + (False,) * self.convdim
        return Apply(self, [img, kern], [TensorType(dtype, bcast)()])


class AbstractConv_gradInputs(_ConvOp):
    """The input's gradient from (filters, output gradient, input shape): the transposed
    convolution (Theano's AbstractConv2d_gradInputs)."""

    wire_name = "conv_grad_inputs"
    _theano_suffix = "_gradInputs"

    def make_node(self, kern, topgrad, shape):
        kern, topgrad, dtype = self._operands(kern, topgrad, "filters and an output gradient")
        bcast = (topgrad.broadcastable[0],) + (False,) * (self.convdim + 1)
        return Apply(self, [kern, topgrad, self._spatial(shape, "input_shape")],
                     [TensorType(dtype, bcast)()])


class AbstractConv_gradWeights(_ConvOp):
    """The filters' gradient from (input, output gradient, filter shape) (Theano's
    AbstractConv2d_gradWeights)."""

    wire_name = "conv_grad_weights"
    _theano_suffix = "_gradWeights"

    def make_node(self, img, topgrad, shape):
        img, topgrad, dtype = self._operands(img, topgrad, "an input and an output gradient")
        bcast = (topgrad.broadcastable[1],) + (False,) * (self.convdim + 1)
        return Apply(self, [img, topgrad, self._spatial(shape, "filter_shape")],
                     [TensorType(dtype, bcast)()])


def _check_hint(var, shape, what):
    """Theano's input_shape/filter_shape hints: checked against the rank (and constants)."""
    if shape is None:
        return
    shape = tuple(shape)
    if len(shape) != var.ndim:
        raise ValueError("%s has %d dims but the variable has %d" % (what, len(shape), var.ndim))


def _conv(convdim, input, filters, input_shape, filter_shape, border_mode, subsample,
          filter_flip, filter_dilation, num_groups, unshared=False):
    input, filters = _basic().as_tensor_variable(input), _basic().as_tensor_variable(filters)
    _check_hint(input, input_shape, "input_shape")
    _check_hint(filters, filter_shape, "filter_shape")
    op = AbstractConv(convdim, border_mode, subsample, filter_flip, filter_dilation, num_groups,
                      unshared)
    return op(input, filters)


def conv2d(input, filters, input_shape=None, filter_shape=None, border_mode="valid",
           subsample=(1, 1), filter_flip=True, image_shape=None, filter_dilation=(1, 1),
           num_groups=1, unshared=False, **kwargs):
    """2-d convolution of a 4-d input (batch, channels, rows, cols) by 4-d filters
    (out_channels, channels / num_groups, rows, cols) (Theano's T.nnet.conv2d).

    border_mode: 'valid' (no padding), 'full' (pad taps - 1), 'half' (pad taps // 2), an int
    or a pair of ints (that many zeros on both sides). subsample: strides. filter_dilation:
    spacing of the taps. input_shape / filter_shape (image_shape is the old name) are hints."""
    if kwargs:
        raise TypeError("conv2d got unexpected arguments %s" % sorted(kwargs))
    return _conv(2, input, filters, input_shape if input_shape is not None else image_shape,
                 filter_shape, border_mode, subsample, filter_flip, filter_dilation, num_groups,
                 unshared)


def conv3d(input, filters, input_shape=None, filter_shape=None, border_mode="valid",
           subsample=(1, 1, 1), filter_flip=True, filter_dilation=(1, 1, 1), num_groups=1):
    """3-d convolution of a 5-d input (batch, channels, depth, rows, cols) (Theano's
    T.nnet.conv3d); arguments as conv2d's."""
    return _conv(3, input, filters, input_shape, filter_shape, border_mode, subsample,
                 filter_flip, filter_dilation, num_groups)


def _grad_inputs(convdim, output_grad, filters, input_shape, filter_shape, border_mode,
                 subsample, filter_flip, filter_dilation, num_groups, unshared=False):
    op = AbstractConv_gradInputs(convdim, border_mode, subsample, filter_flip, filter_dilation,
                                 num_groups, unshared)
    filters = _basic().as_tensor_variable(filters)
    _check_hint(filters, filter_shape, "filter_shape")
    return op(filters, output_grad, input_shape)


def _grad_weights(convdim, input, output_grad, filter_shape, input_shape, border_mode,
                  subsample, filter_flip, filter_dilation, num_groups, unshared=False):
    op = AbstractConv_gradWeights(convdim, border_mode, subsample, filter_flip, filter_dilation,
                                  num_groups, unshared)
    input = _basic().as_tensor_variable(input)
    _check_hint(input, input_shape, "input_shape")
    return op(input, output_grad, filter_shape)


def conv2d_grad_wrt_inputs(output_grad, filters, input_shape, filter_shape=None,
                           border_mode="valid", subsample=(1, 1), filter_flip=True,
                           filter_dilation=(1, 1), num_groups=1, unshared=False):
    """The gradient of conv2d's input given its output's gradient: the transposed convolution
    ("deconvolution"). input_shape gives the input's 4 dims (batch and channels may be None):
    with strides, several input sizes give the same output size."""
    return _grad_inputs(2, output_grad, filters, input_shape, filter_shape, border_mode,
                        subsample, filter_flip, filter_dilation, num_groups, unshared)


def conv2d_grad_wrt_weights(input, output_grad, filter_shape, input_shape=None,
                            border_mode="valid", subsample=(1, 1), filter_flip=True,
                            filter_dilation=(1, 1), num_groups=1, unshared=False):
    """The gradient of conv2d's filters given its input and output gradient; filter_shape
    gives the filters' 4 dims (the first two may be None)."""
    return _grad_weights(2, input, output_grad, filter_shape, input_shape, border_mode,
                         subsample, filter_flip, filter_dilation, num_groups, unshared)


def conv3d_grad_wrt_inputs(output_grad, filters, input_shape, filter_shape=None,
                           border_mode="valid", subsample=(1, 1, 1), filter_flip=True,
                           filter_dilation=(1, 1, 1), num_groups=1):
    """conv2d_grad_wrt_inputs for conv3d."""
    return _grad_inputs(3, output_grad, filters, input_shape, filter_shape, border_mode,
                        subsample, filter_flip, filter_dilation, num_groups)


def conv3d_grad_wrt_weights(input, output_grad, filter_shape, input_shape=None,
                            border_mode="valid", subsample=(1, 1, 1), filter_flip=True,
                            filter_dilation=(1, 1, 1), num_groups=1):
    """conv2d_grad_wrt_weights for conv3d."""
    return _grad_weights(3, input, output_grad, filter_shape, input_shape, border_mode,
                         subsample, filter_flip, filter_dilation, num_groups)


def get_conv_output_shape(image_shape, kernel_shape, border_mode, subsample,
                          filter_dilation=None):
    """The output shape of a convolution from the input and filter shapes (ints; None stays
    None), as Theano's helper of the same name."""
    nd = len(image_shape) - 2
    mode, pad = _border(border_mode, nd)
    subsample = _int_tuple(subsample, nd, "subsample")
    dilation = _int_tuple(filter_dilation or (1,) * nd, nd, "filter_dilation")
    out = [image_shape[0], kernel_shape[0]]
    for d in range(nd):
        i, k = image_shape[2 + d], kernel_shape[2 + d]
        if i is None or k is None:
            out.append(None)
            continue
        dk = (k - 1) * dilation[d] + 1
        p = {"valid": 0, "full": dk - 1, "half": dk // 2}.get(mode, pad[d])
        out.append((i + 2 * p - dk) // subsample[d] + 1)
    return tuple(out)
