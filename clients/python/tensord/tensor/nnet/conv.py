"""Theano's older convolution module, `theano.tensor.nnet.conv`: conv2d with image_shape /
filter_shape hints and 'valid' / 'full' borders, as the early LeNet tutorials call it. It is the
same server op as T.nnet.conv2d (a true convolution: filters flipped)."""

from tensord.tensor.nnet.abstract_conv import conv2d as _conv2d

__all__ = ["conv2d"]


def conv2d(input, filters, image_shape=None, filter_shape=None, border_mode="valid",
           subsample=(1, 1), **kargs):
    """Theano's theano.tensor.nnet.conv.conv2d: border_mode 'valid' or 'full' only."""
    if border_mode not in ("valid", "full"):
        raise ValueError("theano.tensor.nnet.conv.conv2d takes border_mode 'valid' or 'full', got "
                         "%r (T.nnet.conv2d takes more)" % (border_mode,))
    unknown = set(kargs) - {"imshp", "kshp", "nkern", "bsize"}  # the old op's layout hints
    if unknown:
        raise TypeError("conv2d got unexpected arguments %s" % sorted(unknown))
    return _conv2d(input, filters, input_shape=image_shape, filter_shape=filter_shape,
                   border_mode=border_mode, subsample=subsample)
